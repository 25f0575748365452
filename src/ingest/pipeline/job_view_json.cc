#include "ingest/pipeline/job_view_json.h"

#include <string>

#include "ingest/common/clock.h"

namespace ingest::pipeline {
namespace {

std::string Iso(UnixMillis t) { return t > 0 ? FormatIso8601(t) : ""; }

}  // namespace

nlohmann::json JobViewJson(const store::JobView& v) {
  const store::Job& j = v.job;
  return {{"job_id", j.id},
          {"document_id", j.document_id},
          {"filename", v.filename},
          {"tenant", v.tenant},
          {"stage", std::string(store::StageName(j.stage))},
          {"state", std::string(store::JobStateName(j.state))},
          {"defer_reason", j.defer_reason},
          {"attempts", j.attempts},
          {"max_attempts", j.max_attempts},
          {"last_error_code", j.last_error_code},
          {"last_error_message", j.last_error_message},
          {"last_error_stage", j.last_error_stage},
          {"lane", std::string(store::LaneName(j.lane))},
          {"next_attempt_at", Iso(j.next_attempt_at)},
          {"lease_owner", j.lease_owner},
          {"remote_job_id", j.remote_job_id},
          {"cost_usd", static_cast<double>(v.cost_nanos) / 1e9},
          {"cost_nanos", v.cost_nanos},
          {"created_at", Iso(j.created_at)},
          {"updated_at", Iso(j.updated_at)},
          {"completed_at", Iso(j.completed_at)}};
}

}  // namespace ingest::pipeline
