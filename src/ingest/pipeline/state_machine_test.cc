#include "ingest/pipeline/state_machine.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ingest::pipeline {
namespace {

using store::Job;
using store::JobState;
using store::Stage;

constexpr UnixMillis kNow = 1'000'000;

governor::RetryPolicy Policy() {
  governor::RetryPolicy p;
  p.base = Duration(100);
  p.cap = Duration(10'000);
  p.throttle_delay = Duration(60'000);
  p.configuration_delay = Duration(1'800'000);
  return p;
}

// Events with names for the table.
struct NamedEvent {
  std::string name;
  JobEvent event;
};

NamedEvent Succeeded() { return {"succeeded", StageSucceeded{true}}; }
NamedEvent SucceededRelease() { return {"succeeded_release", StageSucceeded{false}}; }
NamedEvent Transient() { return {"transient", StageFailed{Unavailable("503", "http_503")}}; }
NamedEvent Throttled() {
  return {"throttled", StageFailed{ResourceExhausted("budget", "budget_exhausted")}};
}
NamedEvent Configuration() {
  return {"configuration", StageFailed{ResourceExhausted("402", "insufficient_quota")}};
}
NamedEvent Permanent() {
  return {"permanent", StageFailed{InvalidArgument("bad pdf", "pdf_corrupt")}};
}
NamedEvent Waiting() { return {"waiting", StageWaiting{"remote-1", kNow + 5000}}; }
NamedEvent Lost() { return {"lease_lost", LeaseLost{}}; }
NamedEvent Retry() { return {"retry", OperatorRetry{}}; }
NamedEvent Cancel() { return {"cancel", OperatorCancel{}}; }
NamedEvent Requeue(Stage s) {
  return {"requeue_" + std::string(store::StageName(s)), OperatorRequeue{s}};
}

std::vector<NamedEvent> AllEvents() {
  std::vector<NamedEvent> v = {
      Succeeded(), SucceededRelease(), Transient(), Throttled(), Configuration(),
      Permanent(), Waiting(),          Lost(),      Retry(),     Cancel()};
  for (Stage s : store::kAllStages) v.push_back(Requeue(s));
  return v;
}

constexpr JobState kAllStates[] = {JobState::kQueued,   JobState::kRunning,  JobState::kWaiting,
                                   JobState::kDeferred, JobState::kComplete, JobState::kFailed,
                                   JobState::kDead,     JobState::kCancelled};

enum class Lease { kLive, kExpired };

Job MakeJob(JobState state, Stage stage, int attempts, Lease lease = Lease::kLive) {
  Job j;
  j.id = "job-1";
  j.document_id = "doc-1";
  j.state = state;
  j.stage = stage;
  j.attempts = attempts;
  j.max_attempts = 3;
  j.remote_job_id = "old-remote";
  j.last_error_code = "old_error";
  j.next_attempt_at = 5;
  if (state == JobState::kRunning) {
    j.lease_owner = "w";
    j.lease_expires_at = lease == Lease::kLive ? kNow + 10'000 : kNow - 1;
  }
  return j;
}

// Expected outcome of one row. `ok` false: kFailedPrecondition (or kInvalidArgument for
// requeue from receive). `write` false: ok with no update.
struct Row {
  JobState from;
  Stage stage;
  int attempts;
  Lease lease;
  NamedEvent event;
  bool ok;
  bool write;
  JobState to;
  Stage to_stage;
  int to_attempts;
};

std::string RowName(const Row& r) {
  return std::string(store::JobStateName(r.from)) + "@" + std::string(store::StageName(r.stage)) +
         "/a" + std::to_string(r.attempts) + (r.lease == Lease::kExpired ? "/expired" : "") +
         " + " + r.event.name;
}

Row Ok(JobState from, Stage stage, int attempts, NamedEvent ev, JobState to, Stage to_stage,
       int to_attempts, Lease lease = Lease::kLive) {
  return {from, stage, attempts, lease, std::move(ev), true, true, to, to_stage, to_attempts};
}
Row NoWrite(JobState from, Stage stage, NamedEvent ev) {
  return {from, stage, 0, Lease::kLive, std::move(ev), true, false, from, stage, 0};
}
Row Bad(JobState from, Stage stage, NamedEvent ev, Lease lease = Lease::kLive) {
  return {from, stage, 0, lease, std::move(ev), false, false, from, stage, 0};
}

std::vector<Row> Table() {
  using S = JobState;
  using St = Stage;
  std::vector<Row> t = {
      // running: stage events.
      Ok(S::kRunning, St::kParse, 2, Succeeded(), S::kRunning, St::kValidate, 0),
      Ok(S::kRunning, St::kEmbed, 0, SucceededRelease(), S::kQueued, St::kIndex, 0),
      Ok(S::kRunning, St::kAccount, 0, Succeeded(), S::kRunning, St::kFinalize, 0),
      Ok(S::kRunning, St::kFinalize, 0, Succeeded(), S::kComplete, St::kFinalize, 0),
      Ok(S::kRunning, St::kEmbed, 0, Transient(), S::kQueued, St::kEmbed, 1),
      Ok(S::kRunning, St::kEmbed, 1, Transient(), S::kQueued, St::kEmbed, 2),
      Ok(S::kRunning, St::kEmbed, 2, Transient(), S::kDead, St::kEmbed, 3),  // max_attempts 3
      Ok(S::kRunning, St::kEmbed, 1, Throttled(), S::kDeferred, St::kEmbed, 1),
      Ok(S::kRunning, St::kEmbed, 1, Configuration(), S::kDeferred, St::kEmbed, 1),
      Ok(S::kRunning, St::kParse, 0, Permanent(), S::kFailed, St::kParse, 1),
      Ok(S::kRunning, St::kParse, 1, Waiting(), S::kWaiting, St::kParse, 1),
      NoWrite(S::kRunning, St::kChunk, Lost()),
      // running: operator events.
      Bad(S::kRunning, St::kChunk, Retry()),
      Ok(S::kRunning, St::kChunk, 0, Cancel(), S::kCancelled, St::kChunk, 0),
      Bad(S::kRunning, St::kChunk, Requeue(St::kParse)),  // live lease
      Ok(S::kRunning, St::kChunk, 1, Requeue(St::kParse), S::kQueued, St::kParse, 0,
         Lease::kExpired),
      Bad(S::kRunning, St::kChunk, Requeue(St::kReceive), Lease::kExpired),
  };
  // Stage events (other than lease lost, which never writes) are illegal unless running.
  for (S s : kAllStates) {
    if (s == S::kRunning) continue;
    for (NamedEvent ev : {Succeeded(), SucceededRelease(), Transient(), Throttled(),
                          Configuration(), Permanent(), Waiting()}) {
      t.push_back(Bad(s, St::kEmbed, ev));
    }
    t.push_back(NoWrite(s, St::kEmbed, Lost()));
  }
  // Operator retry.
  t.push_back(Bad(S::kQueued, St::kEmbed, Retry()));
  t.push_back(Bad(S::kWaiting, St::kParse, Retry()));
  t.push_back(Bad(S::kComplete, St::kFinalize, Retry()));
  for (S s : {S::kFailed, S::kDead, S::kDeferred, S::kCancelled}) {
    t.push_back(Ok(s, St::kEmbed, 3, Retry(), S::kQueued, St::kEmbed, 0));
  }
  // Operator cancel.
  for (S s : {S::kQueued, S::kWaiting, S::kDeferred, S::kFailed, S::kDead}) {
    t.push_back(Ok(s, St::kIndex, 2, Cancel(), S::kCancelled, St::kIndex, 2));
  }
  t.push_back(Bad(S::kComplete, St::kFinalize, Cancel()));
  t.push_back(Bad(S::kCancelled, St::kIndex, Cancel()));
  // Operator requeue from every stage but receive, from every non-running state.
  for (S s : kAllStates) {
    if (s == S::kRunning) continue;
    for (Stage from : store::kAllStages) {
      if (from == St::kReceive) {
        t.push_back(Bad(s, St::kFinalize, Requeue(from)));
      } else {
        t.push_back(Ok(s, St::kFinalize, 2, Requeue(from), S::kQueued, from, 0));
      }
    }
  }
  return t;
}

TEST(StateMachineTest, Table) {
  const auto policy = Policy();
  for (const Row& r : Table()) {
    SCOPED_TRACE(RowName(r));
    const Job job = MakeJob(r.from, r.stage, r.attempts, r.lease);
    auto got = DecideTransition(job, r.event.event, kNow, 12345, policy);
    if (!r.ok) {
      ASSERT_FALSE(got.ok());
      const bool receive = std::holds_alternative<OperatorRequeue>(r.event.event) &&
                           std::get<OperatorRequeue>(r.event.event).from == Stage::kReceive;
      EXPECT_EQ(got.status().code(),
                receive ? StatusCode::kInvalidArgument : StatusCode::kFailedPrecondition);
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->has_value(), r.write);
    if (!r.write) continue;
    const store::JobUpdate& u = **got;
    EXPECT_EQ(store::JobStateName(u.state), store::JobStateName(r.to));
    EXPECT_EQ(store::StageName(u.stage), store::StageName(r.to_stage));
    EXPECT_EQ(u.attempts, r.to_attempts);
    EXPECT_EQ(u.keep_lease, u.state == JobState::kRunning);
  }
}

TEST(StateMachineTest, NothingLeavesATerminalStateExceptRetryAndRequeue) {
  const auto policy = Policy();
  int checked = 0;
  for (JobState s : kAllStates) {
    if (!store::IsTerminal(s)) continue;
    for (Stage stage : store::kAllStages) {
      for (const NamedEvent& ev : AllEvents()) {
        auto got = DecideTransition(MakeJob(s, stage, 1), ev.event, kNow, 7, policy);
        ++checked;
        if (!got.ok() || !got->has_value()) continue;
        if (store::IsTerminal((*got)->state)) continue;
        const bool operator_reopen = std::holds_alternative<OperatorRetry>(ev.event) ||
                                     std::holds_alternative<OperatorRequeue>(ev.event);
        EXPECT_TRUE(operator_reopen) << store::JobStateName(s) << " + " << ev.name;
      }
    }
  }
  EXPECT_EQ(checked, 4 * 8 * static_cast<int>(AllEvents().size()));
}

TEST(StateMachineTest, StageEventsOnlyApplyToRunningJobs) {
  for (JobState s : kAllStates) {
    for (const NamedEvent& ev : {Succeeded(), Transient(), Permanent(), Waiting()}) {
      auto got = DecideTransition(MakeJob(s, Stage::kChunk, 0), ev.event, kNow, 1, Policy());
      EXPECT_EQ(got.ok(), s == JobState::kRunning) << store::JobStateName(s) << " " << ev.name;
    }
  }
}

TEST(StateMachineTest, TransientBackoffUsesFullJitterFromNow) {
  const auto policy = Policy();
  // attempts 0 -> 1: delay uniform in [0, base] = [0, 100].
  auto u = DecideTransition(MakeJob(JobState::kRunning, Stage::kEmbed, 0), Transient().event, kNow,
                            100, policy);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ((*u)->next_attempt_at, kNow + 100);
  // attempts 1 -> 2: [0, 200]; random 201 wraps to 0.
  u = DecideTransition(MakeJob(JobState::kRunning, Stage::kEmbed, 1), Transient().event, kNow, 201,
                       policy);
  EXPECT_EQ((*u)->next_attempt_at, kNow);
  EXPECT_EQ((*u)->last_error_code, "http_503");
  EXPECT_EQ((*u)->last_error_message, "503");
  EXPECT_EQ((*u)->last_error_stage, "embed");
  EXPECT_FALSE((*u)->keep_lease);
}

TEST(StateMachineTest, FailuresRecordErrorAndDeferralReason) {
  const auto policy = Policy();
  auto u = DecideTransition(MakeJob(JobState::kRunning, Stage::kParse, 0), Permanent().event, kNow,
                            0, policy);
  EXPECT_EQ((*u)->last_error_code, "pdf_corrupt");
  EXPECT_EQ((*u)->last_error_stage, "parse");
  EXPECT_EQ((*u)->completed_at, 0);

  u = DecideTransition(MakeJob(JobState::kRunning, Stage::kEmbed, 0), Throttled().event, kNow, 0,
                       policy);
  EXPECT_EQ((*u)->defer_reason, "budget_exhausted");
  EXPECT_EQ((*u)->next_attempt_at, kNow + 60'000);

  u = DecideTransition(MakeJob(JobState::kRunning, Stage::kEmbed, 0), Configuration().event, kNow,
                       0, policy);
  EXPECT_EQ((*u)->defer_reason, "insufficient_quota");
  EXPECT_EQ((*u)->next_attempt_at, kNow + 1'800'000);

  u = DecideTransition(MakeJob(JobState::kRunning, Stage::kEmbed, 2), Transient().event, kNow, 0,
                       policy);
  EXPECT_EQ((*u)->state, JobState::kDead);
  EXPECT_EQ((*u)->last_error_code, "http_503");
}

TEST(StateMachineTest, SuccessClearsErrorsAndCompletionIsStamped) {
  auto u = DecideTransition(MakeJob(JobState::kRunning, Stage::kFinalize, 1), StageSucceeded{true},
                            kNow, 0, Policy());
  EXPECT_EQ((*u)->state, JobState::kComplete);
  EXPECT_EQ((*u)->completed_at, kNow);
  EXPECT_FALSE((*u)->keep_lease);
  EXPECT_EQ((*u)->last_error_code, "");
  EXPECT_EQ((*u)->defer_reason, "");
}

TEST(StateMachineTest, WaitingPersistsRemoteJobIdAndRequeueFromParseClearsIt) {
  auto u = DecideTransition(MakeJob(JobState::kRunning, Stage::kParse, 0), Waiting().event, kNow, 0,
                            Policy());
  EXPECT_EQ((*u)->remote_job_id, std::optional<std::string>("remote-1"));
  EXPECT_EQ((*u)->next_attempt_at, kNow + 5000);

  u = DecideTransition(MakeJob(JobState::kFailed, Stage::kEmbed, 0), OperatorRequeue{Stage::kParse},
                       kNow, 0, Policy());
  EXPECT_EQ((*u)->remote_job_id, std::optional<std::string>(""));
  u = DecideTransition(MakeJob(JobState::kFailed, Stage::kEmbed, 0), OperatorRequeue{Stage::kChunk},
                       kNow, 0, Policy());
  EXPECT_EQ((*u)->remote_job_id, std::nullopt);  // unchanged
  EXPECT_EQ((*u)->next_attempt_at, kNow);
}

TEST(StateMachineTest, CancelKeepsTheLastErrorForTheRecord) {
  auto u = DecideTransition(MakeJob(JobState::kFailed, Stage::kParse, 1), OperatorCancel{}, kNow, 0,
                            Policy());
  EXPECT_EQ((*u)->state, JobState::kCancelled);
  EXPECT_EQ((*u)->last_error_code, "old_error");
}

TEST(StateMachineTest, OwnerDeadRequeuesARunningJobAtOnceWithoutCountingAnAttempt) {
  for (JobState s : kAllStates) {
    auto got = DecideTransition(MakeJob(s, Stage::kEmbed, 2), OwnerDead{}, kNow, 1, Policy());
    if (s != JobState::kRunning) {
      EXPECT_EQ(got.status().reason(), "illegal_transition") << store::JobStateName(s);
      continue;
    }
    ASSERT_TRUE(got.ok() && got->has_value());
    const store::JobUpdate& u = **got;
    EXPECT_EQ(u.state, JobState::kQueued);
    EXPECT_EQ(u.stage, Stage::kEmbed);
    EXPECT_EQ(u.attempts, 2);
    EXPECT_EQ(u.next_attempt_at, kNow);
    EXPECT_FALSE(u.keep_lease);
  }
  EXPECT_EQ(JobEventName(OwnerDead{}), "owner_dead");
}

TEST(StateMachineTest, NextStageWalksThePipelineInOrder) {
  Stage s = Stage::kReceive;
  std::vector<std::string> seen;
  for (int i = 0; i < 8; ++i) {
    seen.emplace_back(store::StageName(s));
    s = NextStage(s);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"receive", "parse", "validate", "chunk", "embed",
                                            "index", "account", "finalize"}));
  EXPECT_EQ(NextStage(Stage::kFinalize), Stage::kFinalize);
}

}  // namespace
}  // namespace ingest::pipeline
