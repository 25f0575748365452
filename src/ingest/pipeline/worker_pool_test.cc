#include "ingest/pipeline/worker_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "ingest/pipeline/operator_actions.h"
#include "ingest/pipeline/run_until_terminal.h"
#include "ingest/pipeline/submit.h"
#include "ingest/pipeline/testing/pipeline_fixture.h"

namespace ingest::pipeline {
namespace {

using namespace std::chrono_literals;
using store::JobState;
using store::Stage;

class WorkerPoolTest : public testing::PipelineFixture {
 protected:
  WorkerOptions Options(int threads = 2) {
    WorkerOptions o;
    o.threads = threads;
    o.poll_interval = 10ms;
    o.lease_ttl = 30s;
    o.heartbeat_interval = 1h;  // tests that need heartbeats set it
    o.worker_id = "test-worker";
    o.seed = 7;
    return o;
  }

  std::string SubmitText(const std::string& name, const std::string& content) {
    auto out = SubmitFile(deps_, WriteFile(name, content), "t1");
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? out->job.id : "";
  }

  // Runs until the jobs are terminal, advancing the fake clock 10 ms per poll so backoffs
  // (1-4 ms here) come due without ever approaching the 30 s lease.
  std::vector<store::Job> RunAll(WorkerPool& pool, const std::vector<std::string>& ids) {
    RunUntilTerminalOptions o;
    o.poll_interval = 5ms;
    o.timeout = 30s;
    o.on_progress = [&](const IngestProgress&) { clock_.Advance(10ms); };
    auto jobs = RunUntilTerminal(pool, *store_, ids, o);
    EXPECT_TRUE(jobs.ok()) << jobs.status().ToString();
    return jobs.ok() ? *jobs : std::vector<store::Job>{};
  }

  static void WaitFor(const std::function<bool()>& cond) {
    for (int i = 0; i < 2000 && !cond(); ++i) std::this_thread::sleep_for(5ms);
    ASSERT_TRUE(cond());
  }
};

TEST_F(WorkerPoolTest, CompletesManyDocumentsWithFourThreads) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(SubmitText("doc" + std::to_string(i) + ".md",
                             "# Document " + std::to_string(i) + "\n\nBody of document " +
                                 std::to_string(i) +
                                 " with some shared words.\n\n"
                                 "A paragraph every document has in common.\n"));
  }
  WorkerPool pool(deps_, Options(4));
  ASSERT_TRUE(pool.Start().ok());
  auto jobs = RunAll(pool, ids);
  ASSERT_EQ(jobs.size(), 20u);
  // Rows turn terminal before the worker writes the last timing and bumps counters: join first.
  pool.RequestStop();
  pool.Join();
  std::set<std::string> chunk_ids, distinct_texts;
  size_t chunks = 0;
  for (const auto& j : jobs) {
    EXPECT_EQ(j.state, JobState::kComplete) << j.id << " " << j.last_error_message;
    EXPECT_EQ(j.stage, Stage::kFinalize);
    EXPECT_GT(j.completed_at, 0);
    EXPECT_TRUE(j.lease_owner.empty());
    auto cs = store_->ListChunks(j.document_id).value();
    EXPECT_FALSE(cs.empty());
    for (const auto& c : cs) {
      EXPECT_TRUE(chunk_ids.insert(c.id).second) << "chunk stored twice: " << c.id;
      distinct_texts.insert(c.text_sha256);
      EXPECT_TRUE(store_->GetVector(embedder_.Space(), c.text_sha256).value().has_value());
      ++chunks;
    }
    // Receive (at submission) plus the seven stages, one attempt each.
    EXPECT_EQ(store_->ListStageTimings(j.id).value().size(), 8u);
  }
  pool.RequestStop();
  pool.Join();
  const auto c = pool.counters().Snapshot();
  EXPECT_EQ(c.documents_completed, 20);
  EXPECT_EQ(c.stages_run, 20 * 7);
  EXPECT_EQ(c.pages, 20);
  EXPECT_EQ(c.chunks, static_cast<int64_t>(chunks));
  EXPECT_EQ(c.leases_lost, 0);
  EXPECT_EQ(parser_.calls.load(), 20);
  // Every distinct chunk text has a vector, computed at least once (two workers may race to
  // embed the same missing text; the store keeps the first).
  EXPECT_EQ(embedder_.texts_embedded.load(), c.vectors_added);
  EXPECT_GE(c.vectors_added, static_cast<int64_t>(distinct_texts.size()));
  auto workers = store_->ListWorkers().value();
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0].id, "test-worker");
  EXPECT_EQ(workers[0].in_flight, 0);
}

TEST_F(WorkerPoolTest, TransientFailuresAreRetriedAndRecorded) {
  parser_.hook = [](const parse::ParseInput&, int call) {
    return call <= 2 ? Unavailable("upstream 503", "http_503") : Status::Ok();
  };
  const std::string id = SubmitText("a.md", "# A\n\nSome text to ingest.\n");
  WorkerPool pool(deps_, Options());
  ASSERT_TRUE(pool.Start().ok());
  auto jobs = RunAll(pool, {id});
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::kComplete);
  EXPECT_EQ(parser_.calls.load(), 3);
  std::vector<std::string> parse_outcomes;
  for (const auto& t : store_->ListStageTimings(id).value()) {
    if (t.stage == Stage::kParse)
      parse_outcomes.push_back(std::to_string(t.attempt) + ":" + t.outcome);
  }
  EXPECT_EQ(parse_outcomes, (std::vector<std::string>{"1:http_503", "2:http_503", "3:ok"}));
  pool.RequestStop();
  pool.Join();
  EXPECT_EQ(pool.counters().Snapshot().stage_retries, 2);
}

TEST_F(WorkerPoolTest, PermanentFailureFailsTheJobWithItsCode) {
  parser_.hook = [](const parse::ParseInput&, int) {
    return InvalidArgument("not a PDF after all", "pdf_corrupt");
  };
  const std::string id = SubmitText("b.md", "whatever");
  WorkerPool pool(deps_, Options());
  ASSERT_TRUE(pool.Start().ok());
  auto jobs = RunAll(pool, {id});
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::kFailed);
  EXPECT_EQ(jobs[0].stage, Stage::kParse);
  EXPECT_EQ(jobs[0].last_error_code, "pdf_corrupt");
  EXPECT_EQ(jobs[0].last_error_stage, "parse");
  EXPECT_EQ(jobs[0].last_error_message, "not a PDF after all");
  EXPECT_EQ(parser_.calls.load(), 1);
  pool.RequestStop();
  pool.Join();
  EXPECT_EQ(pool.counters().Snapshot().documents_failed, 1);
}

TEST_F(WorkerPoolTest, AlwaysTransientGoesDeadAfterMaxAttempts) {
  parser_.hook = [](const parse::ParseInput&, int) { return DeadlineExceeded("timeout"); };
  const std::string id = SubmitText("c.md", "text");
  WorkerPool pool(deps_, Options());
  ASSERT_TRUE(pool.Start().ok());
  auto jobs = RunAll(pool, {id});
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::kDead);
  EXPECT_EQ(jobs[0].attempts, 3);
  EXPECT_EQ(jobs[0].last_error_code, "deadline_exceeded");
  EXPECT_EQ(parser_.calls.load(), 3);

  // An operator retry gives it a fresh set of attempts.
  parser_.hook = nullptr;
  ASSERT_TRUE(RetryJob(*store_, clock_, id).ok());
  jobs = RunAll(pool, {id});
  EXPECT_EQ(jobs[0].state, JobState::kComplete);
}

TEST_F(WorkerPoolTest, ThrottledStageIsDeferredNotCounted) {
  embedder_.hook = [](std::span<const std::string>, int) {
    return ResourceExhausted("daily budget reached", "budget_exhausted");
  };
  const std::string id = SubmitText("d.md", "# D\n\nText.\n");
  WorkerPool pool(deps_, Options());
  ASSERT_TRUE(pool.Start().ok());
  WaitFor([&] { return store_->GetJob(id).value().state == JobState::kDeferred; });
  const auto job = store_->GetJob(id).value();
  EXPECT_EQ(job.stage, Stage::kEmbed);
  EXPECT_EQ(job.defer_reason, "budget_exhausted");
  EXPECT_EQ(job.attempts, 0);
  EXPECT_EQ(job.next_attempt_at, clock_.NowMillis() + deps_.retry.throttle_delay.count());
}

TEST_F(WorkerPoolTest, ExpiredLeaseOfACrashedWorkerIsTakenOver) {
  const std::string id = SubmitText("e.md", "# E\n\nCrash me.\n");
  // Worker A leases the job and "crashes": it never writes again.
  auto a = store_->LeaseNext("crashed-A", 30s, clock_.NowMillis());
  ASSERT_TRUE(a.ok() && a->has_value());
  WorkerPool pool(deps_, Options());
  ASSERT_TRUE(pool.Start().ok());
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(store_->GetJob(id).value().lease_owner, "crashed-A");  // live lease: untouched
  clock_.Advance(31s);
  auto jobs = RunAll(pool, {id});
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::kComplete);
  // A's stale version can no longer write.
  store::JobUpdate u{};
  u.stage = Stage::kParse;
  u.state = JobState::kFailed;
  auto stale = store_->UpdateJob(id, (*a)->job.version, u, clock_.NowMillis());
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(WorkerPoolTest, LeaseLostMidStageDoesNotOverwrite) {
  std::atomic<bool> release{false};
  parser_.hook = [&](const parse::ParseInput&, int) {
    while (!release.load()) std::this_thread::sleep_for(1ms);
    return Status::Ok();
  };
  const std::string id = SubmitText("f.md", "# F\n\nSlow parse.\n");
  WorkerPool pool(deps_, Options(1));
  ASSERT_TRUE(pool.Start().ok());
  WaitFor([&] { return parser_.calls.load() == 1; });
  clock_.Advance(31s);  // the pool's lease expired (no heartbeat in this test)
  auto thief = store_->LeaseNext("thief", 30s, clock_.NowMillis());
  ASSERT_TRUE(thief.ok() && thief->has_value());
  release = true;
  WaitFor([&] { return pool.counters().Snapshot().leases_lost == 1; });
  pool.RequestStop();
  pool.Join();
  const auto job = store_->GetJob(id).value();
  EXPECT_EQ(job.lease_owner, "thief");
  EXPECT_EQ(job.state, JobState::kRunning);
  EXPECT_EQ(job.stage, Stage::kParse);
  EXPECT_EQ(job.version, (*thief)->job.version);  // nothing written after the theft
  EXPECT_EQ(pool.counters().Snapshot().stages_run, 0);
}

TEST_F(WorkerPoolTest, HeartbeatKeepsTheLeaseAlive) {
  std::atomic<bool> release{false};
  parser_.hook = [&](const parse::ParseInput&, int) {
    while (!release.load()) std::this_thread::sleep_for(1ms);
    return Status::Ok();
  };
  const std::string id = SubmitText("g.md", "# G\n\nLong parse.\n");
  auto opts = Options(1);
  opts.heartbeat_interval = 5ms;
  WorkerPool pool(deps_, opts);
  ASSERT_TRUE(pool.Start().ok());
  WaitFor([&] { return parser_.calls.load() == 1; });
  for (int i = 0; i < 5; ++i) {  // 100 s of fake time, 20 s at a time, ttl 30 s
    clock_.Advance(20s);
    const UnixMillis now = clock_.NowMillis();
    WaitFor([&] { return store_->GetJob(id).value().lease_expires_at > now + 20'000; });
  }
  auto thief = store_->LeaseNext("thief", 30s, clock_.NowMillis());
  ASSERT_TRUE(thief.ok());
  EXPECT_FALSE(thief->has_value());
  release = true;
  auto jobs = RunAll(pool, {id});
  EXPECT_EQ(jobs[0].state, JobState::kComplete);
  EXPECT_EQ(pool.counters().Snapshot().leases_lost, 0);
}

TEST_F(WorkerPoolTest, OperatorCancelOfARunningJobWins) {
  std::atomic<bool> release{false};
  parser_.hook = [&](const parse::ParseInput&, int) {
    while (!release.load()) std::this_thread::sleep_for(1ms);
    return Status::Ok();
  };
  const std::string id = SubmitText("h.md", "# H\n\nCancel me.\n");
  WorkerPool pool(deps_, Options(1));
  ASSERT_TRUE(pool.Start().ok());
  WaitFor([&] { return parser_.calls.load() == 1; });
  auto cancelled = CancelJob(*store_, clock_, id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  release = true;
  auto jobs = RunAll(pool, {id});
  EXPECT_EQ(jobs[0].state, JobState::kCancelled);
  WaitFor([&] { return pool.counters().Snapshot().leases_lost == 1; });
  EXPECT_EQ(store_->GetJob(id).value().state, JobState::kCancelled);
}

TEST_F(WorkerPoolTest, StopNowAbandonsRunningStagesAndRequestStopFinishesThem) {
  std::atomic<bool> release{false};
  parser_.hook = [&](const parse::ParseInput&, int) {
    while (!release.load()) std::this_thread::sleep_for(1ms);
    return Status::Ok();
  };
  const std::string id = SubmitText("i.md", "# I\n\nStop.\n");
  {
    WorkerPool pool(deps_, Options(1));
    ASSERT_TRUE(pool.Start().ok());
    WaitFor([&] { return parser_.calls.load() == 1; });
    pool.StopNow();
    release = true;
    pool.Join();
    EXPECT_EQ(pool.counters().Snapshot().leases_lost, 1);
  }
  EXPECT_EQ(store_->GetJob(id).value().state, JobState::kRunning);  // lease will expire
  EXPECT_EQ(store_->GetJob(id).value().stage, Stage::kParse);

  // A graceful stop lets the running stage finish and releases the job at the next stage.
  release = false;
  clock_.Advance(31s);
  {
    WorkerPool pool(deps_, Options(1));
    ASSERT_TRUE(pool.Start().ok());
    WaitFor([&] { return parser_.calls.load() == 2; });
    pool.RequestStop();
    release = true;
    pool.Join();
  }
  const auto job = store_->GetJob(id).value();
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_EQ(job.stage, Stage::kValidate);
  EXPECT_TRUE(job.lease_owner.empty());
}

TEST_F(WorkerPoolTest, StartValidatesDependenciesAndRunsOnce) {
  PipelineDeps bad = deps_;
  bad.embedder = nullptr;
  WorkerPool broken(bad, Options());
  EXPECT_EQ(broken.Start().code(), StatusCode::kInvalidArgument);
  WorkerPool pool(deps_, Options());
  ASSERT_TRUE(pool.Start().ok());
  EXPECT_EQ(pool.Start().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ingest::pipeline
