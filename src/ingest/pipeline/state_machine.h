// The job state machine (DESIGN §1): the one function that decides every job transition.
//
// Pure: no I/O, no clock reads, no randomness of its own. `now` and `random` are inputs, so
// every decision is reproducible in a test. Callers apply the returned JobUpdate with
// Store::UpdateJob (compare-and-set on the job's version); no other code writes `state`.
// Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/common/status.h"
#include "ingest/governor/retry_policy.h"
#include "ingest/store/types.h"

namespace ingest::pipeline {

// The stage the job is at finished. `keep_lease`: the worker continues with the next stage
// itself (state stays running, the lease is kept); otherwise the job is queued for any worker.
struct StageSucceeded {
  bool keep_lease = true;
};
// The stage failed with `status` (classified by governor::Classify).
struct StageFailed {
  Status status;
};
// The stage handed work to a remote service; look again at `retry_at`. `remote_job_id` is
// persisted with the transition, before anyone waits on it.
struct StageWaiting {
  std::string remote_job_id;
  UnixMillis retry_at = 0;
};
// The worker's lease was lost (heartbeat or CAS failed): someone else owns the row now.
struct LeaseLost {};
// The process holding the job's lease is known to be dead (same host, its pid is gone), so the
// lease will never be renewed: the job need not wait for it to expire (pipeline/reclaim.h).
struct OwnerDead {};
// Operator actions (`ingestd jobs retry|cancel|requeue`).
struct OperatorRetry {};
struct OperatorCancel {};
struct OperatorRequeue {
  store::Stage from = store::Stage::kParse;
};

using JobEvent = std::variant<StageSucceeded, StageFailed, StageWaiting, LeaseLost, OwnerDead,
                              OperatorRetry, OperatorCancel, OperatorRequeue>;

// "stage_succeeded", "stage_failed", ... for events and test names.
std::string_view JobEventName(const JobEvent& event);

// Decides what `event` does to `job` at time `now`. `random` feeds the backoff jitter.
//
// Returns the update to apply, nullopt when nothing must be written (LeaseLost), or
// kFailedPrecondition (reason "illegal_transition") when the event is not allowed in the job's
// state, e.g. a stage event for a job that is not running, cancelling a complete job, retrying a
// queued one, requeueing a job whose lease is live. Requeue from kReceive is kInvalidArgument:
// receive happens at submission and cannot be re-run.
//
// Transitions (attempts = attempts made at the current stage):
//   running  + succeeded  -> next stage, attempts 0, running (keep_lease) or queued;
//                            at finalize -> complete (completed_at = now). Errors are cleared:
//                            history lives in stage timings and events.
//   running  + failed     -> transient: attempts+1; queued at now + BackoffDelay(attempts), or
//                              dead when attempts+1 >= job.max_attempts;
//                            throttled: deferred(defer_reason = reason) at now + throttle_delay,
//                              attempts unchanged (not the job's fault);
//                            configuration: deferred at now + configuration_delay;
//                            permanent: failed, attempts+1.
//                            Every failure records last_error_{code,message,stage}.
//   running  + waiting    -> waiting, remote_job_id, next_attempt_at = retry_at.
//   running  + lease lost -> no update.
//   running  + owner dead -> queued at the same stage, attempts unchanged (the dead process's
//                            attempt is not the job's fault), due now, lease cleared.
//   failed|dead|deferred|cancelled + retry -> queued at the same stage, attempts 0, due now.
//   any state except complete|cancelled + cancel -> cancelled (a running job's worker then
//                            loses its CAS and abandons its result).
//   any state except running-with-live-lease + requeue(from) -> queued at `from`, attempts 0;
//                            from <= parse also clears remote_job_id (a fresh parse).
// No event moves a job out of a terminal state except retry and requeue.
Result<std::optional<store::JobUpdate>> DecideTransition(const store::Job& job,
                                                         const JobEvent& event, UnixMillis now,
                                                         uint64_t random,
                                                         const governor::RetryPolicy& policy);

// The stage after `s` (kFinalize has none: returns kFinalize).
store::Stage NextStage(store::Stage s);

}  // namespace ingest::pipeline
