// The JSON shape of a job as operators see it: `ingestd jobs list|show --json` and the HTTP
// API's /v1/jobs share it, so both interfaces always agree on keys and formats.
#pragma once

#include <nlohmann/json.hpp>

#include "ingest/store/types.h"

namespace ingest::pipeline {

// Keys: job_id, document_id, filename, tenant, stage, state, defer_reason, attempts,
// max_attempts, last_error_code, last_error_message, last_error_stage, lane, next_attempt_at,
// lease_owner, remote_job_id, cost_usd, created_at, updated_at, completed_at. Times are ISO-8601
// UTC ("" when unset); cost_usd is the job's ledger cost (display only; cost_nanos are exact).
nlohmann::json JobViewJson(const store::JobView& view);

}  // namespace ingest::pipeline
