#include "ingest/pipeline/operator_actions.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ingest/pipeline/state_machine.h"

namespace ingest::pipeline {
namespace {

Result<store::Job> Apply(store::Store& store, Clock& clock, std::string_view job_id,
                         const JobEvent& event, std::string_view action) {
  // Two tries: a concurrent heartbeat or stage write bumps the version between our read and
  // write; deciding again on the fresh row is correct (the state machine re-checks legality).
  for (int attempt = 0;; ++attempt) {
    INGEST_ASSIGN_OR_RETURN(store::Job job, store.GetJob(job_id));
    const UnixMillis now = clock.NowMillis();
    INGEST_ASSIGN_OR_RETURN(auto update,
                            DecideTransition(job, event, now, 0, governor::RetryPolicy{}));
    if (!update) return job;  // not reached for operator events
    auto written = store.UpdateJob(job.id, job.version, *update, now);
    if (!written.ok()) {
      if (written.status().code() == StatusCode::kFailedPrecondition && attempt == 0) continue;
      return written.status();
    }
    store::Event e;
    e.at = now;
    e.kind = "job." + std::string(action);
    e.job_id = job.id;
    e.document_id = job.document_id;
    e.correlation_id = job.correlation_id;
    e.detail_json = nlohmann::json{{"from_state", store::JobStateName(job.state)},
                                   {"from_stage", store::StageName(job.stage)},
                                   {"to_state", store::JobStateName(written->state)},
                                   {"to_stage", store::StageName(written->stage)}}
                        .dump();
    INGEST_RETURN_IF_ERROR(store.AppendEvent(e));
    return written;
  }
}

}  // namespace

Result<store::Job> RetryJob(store::Store& store, Clock& clock, std::string_view job_id) {
  return Apply(store, clock, job_id, OperatorRetry{}, "retry");
}

Result<store::Job> CancelJob(store::Store& store, Clock& clock, std::string_view job_id) {
  return Apply(store, clock, job_id, OperatorCancel{}, "cancel");
}

Result<store::Job> RequeueJob(store::Store& store, Clock& clock, std::string_view job_id,
                              store::Stage from) {
  // A stage reads what the stages before it wrote: from `from`, every earlier stage (after
  // receive) must have completed once for this job, or `from` would run on nothing (e.g. a
  // finalize on a never-parsed document would mark it complete with no chunks).
  if (from != store::Stage::kReceive) {
    INGEST_ASSIGN_OR_RETURN(std::vector<store::StageTiming> timings,
                            store.ListStageTimings(job_id));
    for (store::Stage earlier : store::kAllStages) {
      if (earlier == store::Stage::kReceive) continue;
      if (earlier >= from) break;
      const bool done = std::any_of(timings.begin(), timings.end(), [&](const auto& t) {
        return t.stage == earlier && t.outcome == "ok";
      });
      if (!done) {
        return FailedPrecondition(
            "cannot requeue job " + std::string(job_id) + " from " +
                std::string(store::StageName(from)) + ": stage " +
                std::string(store::StageName(earlier)) +
                " never completed for it, so its output is missing; requeue from " +
                std::string(store::StageName(earlier)) + " instead",
            "stage_output_missing");
      }
    }
  }
  return Apply(store, clock, job_id, OperatorRequeue{from}, "requeue");
}

Result<bool> WakeWaitingJob(store::Store& store, Clock& clock, std::string_view job_id) {
  for (int attempt = 0;; ++attempt) {
    INGEST_ASSIGN_OR_RETURN(store::Job job, store.GetJob(job_id));
    const UnixMillis now = clock.NowMillis();
    if (job.state != store::JobState::kWaiting) return false;
    if (job.next_attempt_at <= now) return true;  // already due
    store::JobUpdate u;
    u.stage = job.stage;
    u.state = job.state;
    u.attempts = job.attempts;
    u.next_attempt_at = now;
    u.defer_reason = job.defer_reason;
    u.last_error_code = job.last_error_code;
    u.last_error_message = job.last_error_message;
    u.last_error_stage = job.last_error_stage;
    auto written = store.UpdateJob(job.id, job.version, u, now);
    if (written.ok()) return true;
    if (written.status().code() != StatusCode::kFailedPrecondition || attempt > 0) {
      return written.status();
    }
  }
}

}  // namespace ingest::pipeline
