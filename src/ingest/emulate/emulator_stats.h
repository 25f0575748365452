// Counters both emulators expose at GET /_emulator/stats. Tests and load-test harnesses compare
// them with the client's own accounting and with the billing log.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace ingest::emulate {

// A snapshot; plain value type. Fields a given emulator does not use stay zero/empty.
struct EmulatorStats {
  int64_t requests = 0;                       // API requests (not /_emulator/*)
  std::map<int, int64_t> by_status;           // HTTP status -> count
  std::map<std::string, int64_t> by_outcome;  // "ok", "invalid_request", "fault_500", ...
  int64_t rate_limited = 0;                   // 429 responses of any cause
  int64_t faults_injected = 0;                // responses shaped by fault injection
  // OpenAI: billed requests and their summed prompt tokens.
  int64_t billed_requests = 0;
  int64_t billed_tokens = 0;
  // LlamaParse: accepted uploads, jobs by current status, billed pages and credits.
  int64_t uploads = 0;
  std::map<std::string, int64_t> jobs_by_status;
  int64_t billed_jobs = 0;
  int64_t pages_billed = 0;
  double credits_billed = 0;
  // LlamaParse: result pushes to upload webhook_urls delivered (2xx) and given up.
  int64_t webhooks_delivered = 0;
  int64_t webhooks_failed = 0;

  nlohmann::json ToJson() const;
};

}  // namespace ingest::emulate
