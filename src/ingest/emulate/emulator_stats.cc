#include "ingest/emulate/emulator_stats.h"

namespace ingest::emulate {

nlohmann::json EmulatorStats::ToJson() const {
  nlohmann::json statuses = nlohmann::json::object();
  for (const auto& [status, n] : by_status) statuses[std::to_string(status)] = n;
  return {
      {"requests", requests},
      {"by_status", statuses},
      {"by_outcome", by_outcome},
      {"rate_limited", rate_limited},
      {"faults_injected", faults_injected},
      {"billed_requests", billed_requests},
      {"billed_tokens", billed_tokens},
      {"uploads", uploads},
      {"jobs_by_status", jobs_by_status},
      {"billed_jobs", billed_jobs},
      {"pages_billed", pages_billed},
      {"credits_billed", credits_billed},
      {"webhooks_delivered", webhooks_delivered},
      {"webhooks_failed", webhooks_failed},
  };
}

}  // namespace ingest::emulate
