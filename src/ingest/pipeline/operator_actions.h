// Operator actions on jobs (`ingestd jobs retry|cancel|requeue --from STAGE`, and the API).
// Each reads the job, asks the state machine, writes the update with compare-and-set (re-reading
// and deciding again once on a version conflict, e.g. a heartbeat in between), and appends an
// event "job.<action>". Thread-safe.
#pragma once

#include <string_view>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/governor/retry_policy.h"
#include "ingest/store/store.h"

namespace ingest::pipeline {

// failed/dead/deferred/cancelled -> queued at the same stage, attempts 0, due now.
// kFailedPrecondition ("illegal_transition") for other states; kNotFound for an unknown id.
Result<store::Job> RetryJob(store::Store& store, Clock& clock, std::string_view job_id);

// Any state but complete/cancelled -> cancelled. A running job's worker loses its CAS and
// writes nothing more.
Result<store::Job> CancelJob(store::Store& store, Clock& clock, std::string_view job_id);

// Any state but running-with-a-live-lease -> queued at `from`, attempts 0 (from receive:
// kInvalidArgument). kFailedPrecondition "stage_output_missing" when a stage before `from`
// (after receive) never completed for the job: `from` would run without its input. Stages are
// idempotent, so re-running from an earlier stage rewrites the same rows; the parse cache still
// applies (requeue from parse does not re-bill a parse).
Result<store::Job> RequeueJob(store::Store& store, Clock& clock, std::string_view job_id,
                              store::Stage from);

// A waiting job (remote work pending) becomes due now: next_attempt_at = now, nothing else
// changes (not even the state, so this is no transition). For the LlamaParse webhook, which
// says the remote job has finished. Returns false, writing nothing, when the job is not
// waiting (already polled, or never submitted); kNotFound for an unknown id. Compare-and-set,
// re-read once on a version conflict.
Result<bool> WakeWaitingJob(store::Store& store, Clock& clock, std::string_view job_id);

}  // namespace ingest::pipeline
