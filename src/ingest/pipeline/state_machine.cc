#include "ingest/pipeline/state_machine.h"

#include <string>

namespace ingest::pipeline {
namespace {

using store::Job;
using store::JobState;
using store::JobUpdate;
using store::Stage;

Status Illegal(const Job& job, std::string_view what) {
  return FailedPrecondition("job " + job.id + " is " + std::string(store::JobStateName(job.state)) +
                                " at " + std::string(store::StageName(job.stage)) + ": cannot " +
                                std::string(what),
                            "illegal_transition");
}

// An update that keeps everything of `job` the update carries; callers then change what the
// transition changes. Errors and deferral are cleared by default: only failures set them.
JobUpdate Base(const Job& job) {
  JobUpdate u{};
  u.stage = job.stage;
  u.state = job.state;
  u.attempts = job.attempts;
  u.next_attempt_at = job.next_attempt_at;
  return u;
}

void RecordError(const Job& job, const Status& status, JobUpdate* u) {
  u->last_error_code = status.reason();
  u->last_error_message = status.message();
  u->last_error_stage = std::string(store::StageName(job.stage));
}

JobUpdate Succeeded(const Job& job, const StageSucceeded& e, UnixMillis now) {
  JobUpdate u = Base(job);
  u.attempts = 0;
  u.next_attempt_at = now;
  if (job.stage == Stage::kFinalize) {
    u.state = JobState::kComplete;
    u.completed_at = now;
    return u;
  }
  u.stage = NextStage(job.stage);
  u.state = e.keep_lease ? JobState::kRunning : JobState::kQueued;
  u.keep_lease = e.keep_lease;
  return u;
}

JobUpdate Failed(const Job& job, const Status& status, UnixMillis now, uint64_t random,
                 const governor::RetryPolicy& policy) {
  JobUpdate u = Base(job);
  RecordError(job, status, &u);
  switch (governor::Classify(status)) {
    case governor::ErrorClass::kTransient:
      u.attempts = job.attempts + 1;
      if (u.attempts >= job.max_attempts) {
        u.state = JobState::kDead;
      } else {
        u.state = JobState::kQueued;
        // attempts - 1: the first retry waits up to `base`, the next up to 2 * base, ...
        u.next_attempt_at = now + governor::BackoffDelay(policy, u.attempts - 1, random).count();
      }
      return u;
    case governor::ErrorClass::kThrottled:
      u.state = JobState::kDeferred;
      u.defer_reason = status.reason();
      u.next_attempt_at = now + policy.throttle_delay.count();
      return u;
    case governor::ErrorClass::kConfiguration:
      u.state = JobState::kDeferred;
      u.defer_reason = status.reason();
      u.next_attempt_at = now + policy.configuration_delay.count();
      return u;
    case governor::ErrorClass::kPermanent:
      u.attempts = job.attempts + 1;
      u.state = JobState::kFailed;
      return u;
  }
  u.state = JobState::kFailed;
  return u;
}

bool LeaseLive(const Job& job, UnixMillis now) {
  return job.state == JobState::kRunning && job.lease_expires_at >= now;
}

}  // namespace

std::string_view JobEventName(const JobEvent& event) {
  struct Namer {
    std::string_view operator()(const StageSucceeded&) const { return "stage_succeeded"; }
    std::string_view operator()(const StageFailed&) const { return "stage_failed"; }
    std::string_view operator()(const StageWaiting&) const { return "stage_waiting"; }
    std::string_view operator()(const LeaseLost&) const { return "lease_lost"; }
    std::string_view operator()(const OwnerDead&) const { return "owner_dead"; }
    std::string_view operator()(const OperatorRetry&) const { return "operator_retry"; }
    std::string_view operator()(const OperatorCancel&) const { return "operator_cancel"; }
    std::string_view operator()(const OperatorRequeue&) const { return "operator_requeue"; }
  };
  return std::visit(Namer{}, event);
}

Stage NextStage(Stage s) {
  switch (s) {
    case Stage::kReceive:
      return Stage::kParse;
    case Stage::kParse:
      return Stage::kValidate;
    case Stage::kValidate:
      return Stage::kChunk;
    case Stage::kChunk:
      return Stage::kEmbed;
    case Stage::kEmbed:
      return Stage::kIndex;
    case Stage::kIndex:
      return Stage::kAccount;
    case Stage::kAccount:
    case Stage::kFinalize:
      return Stage::kFinalize;
  }
  return Stage::kFinalize;
}

Result<std::optional<JobUpdate>> DecideTransition(const Job& job, const JobEvent& event,
                                                  UnixMillis now, uint64_t random,
                                                  const governor::RetryPolicy& policy) {
  using Out = std::optional<JobUpdate>;
  const bool running = job.state == JobState::kRunning;

  if (std::holds_alternative<LeaseLost>(event)) return Out();
  if (std::holds_alternative<OwnerDead>(event)) {
    if (!running) return Illegal(job, "reclaim the lease of a job that is not running");
    JobUpdate u = Base(job);
    u.state = JobState::kQueued;
    u.next_attempt_at = now;
    return Out(u);
  }

  if (const auto* e = std::get_if<StageSucceeded>(&event)) {
    if (!running) return Illegal(job, "finish a stage of a job that is not running");
    return Out(Succeeded(job, *e, now));
  }
  if (const auto* e = std::get_if<StageFailed>(&event)) {
    if (!running) return Illegal(job, "fail a stage of a job that is not running");
    if (e->status.ok()) return Internal("StageFailed carries an ok status", "internal");
    return Out(Failed(job, e->status, now, random, policy));
  }
  if (const auto* e = std::get_if<StageWaiting>(&event)) {
    if (!running) return Illegal(job, "wait on remote work for a job that is not running");
    JobUpdate u = Base(job);
    u.state = JobState::kWaiting;
    u.remote_job_id = e->remote_job_id;
    u.next_attempt_at = e->retry_at;
    return Out(u);
  }
  if (std::holds_alternative<OperatorRetry>(event)) {
    switch (job.state) {
      case JobState::kFailed:
      case JobState::kDead:
      case JobState::kDeferred:
      case JobState::kCancelled:
        break;
      default:
        return Illegal(job, "retry (only failed, dead, deferred or cancelled jobs are retried)");
    }
    JobUpdate u = Base(job);
    u.state = JobState::kQueued;
    u.attempts = 0;
    u.next_attempt_at = now;
    return Out(u);
  }
  if (std::holds_alternative<OperatorCancel>(event)) {
    if (job.state == JobState::kComplete) return Illegal(job, "cancel a complete job");
    if (job.state == JobState::kCancelled) return Illegal(job, "cancel it again");
    JobUpdate u = Base(job);
    u.state = JobState::kCancelled;
    u.last_error_code = job.last_error_code;
    u.last_error_message = job.last_error_message;
    u.last_error_stage = job.last_error_stage;
    u.defer_reason = job.defer_reason;
    return Out(u);
  }
  const auto& requeue = std::get<OperatorRequeue>(event);
  if (requeue.from == Stage::kReceive) {
    return Status(InvalidArgument(
        "receive happens at submission and cannot be re-run; requeue from parse instead",
        "bad_stage"));
  }
  if (LeaseLive(job, now)) return Illegal(job, "requeue a job while a worker holds its lease");
  JobUpdate u = Base(job);
  u.stage = requeue.from;
  u.state = JobState::kQueued;
  u.attempts = 0;
  u.next_attempt_at = now;
  if (requeue.from <= Stage::kParse) u.remote_job_id = std::string();
  return Out(u);
}

}  // namespace ingest::pipeline
