// The pipeline with LlamaParse as its parser, against the in-process LlamaParse emulator: real
// SQLite store, filesystem blobs, cl100k tokenizer, lexical embedder, WorkerPool. One FakeClock
// drives the store, the workers' schedule and the emulator's job latency, so "waiting" is
// observable and nothing depends on wall-clock speed.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "ingest/app/app.h"
#include "ingest/embed/local/lexical_embedder.h"
#include "ingest/emulate/llamaparse/llamaparse_emulator.h"
#include "ingest/http/http_client.h"
#include "ingest/parse/llamaparse/llamaparse_parser.h"
#include "ingest/pipeline/submit.h"
#include "ingest/pipeline/worker_pool.h"
#include "ingest/store/fs_blob_store.h"
#include "ingest/store/sqlite/sqlite_store.h"
#include "ingest/text/tokenizer.h"
#include "local_pipeline_fixture.h"

namespace ingest::pipeline {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class LlamaParsePipelineTest : public LocalPipelineTest {
 protected:
  void SetUp() override {
    LocalPipelineTest::SetUp();
    if (HasFatalFailure()) return;
  }
  void TearDown() override {
    parser_.reset();
    http_.reset();  // closes keep-alive connections, which would hold Stop() for 5 s
    if (emulator_) emulator_->Stop();
    LocalPipelineTest::TearDown();
  }

  // Starts the emulator (latency in fake time) and the parser pointed at it.
  void StartLlamaParse(int64_t latency_ms, std::chrono::milliseconds poll_deadline = 30min) {
    emulate::LlamaParseEmulatorOptions o;
    o.api_keys = {"llx-test"};
    o.latency_base_ms = latency_ms;
    o.latency_per_page_ms = 0;
    o.clock = &clock_;
    emulator_ = std::make_unique<emulate::LlamaParseEmulator>(std::move(o));
    ASSERT_TRUE(emulator_->Start("127.0.0.1", 0).ok());
    parse::LlamaParseParserOptions po;
    po.client.base_url = "http://127.0.0.1:" + std::to_string(emulator_->port());
    po.client.api_key = "llx-test";
    po.poll_deadline = poll_deadline;
    parser_ = std::make_unique<parse::LlamaParseParser>(http_.get(), po);
    deps_.parser = parser_.get();
  }

  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/in/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  WorkerOptions Options() {
    WorkerOptions o;
    o.threads = 2;
    o.poll_interval = 5ms;
    o.lease_ttl = 30s;
    o.worker_id = "lp-it";
    o.seed = 1;
    return o;
  }

  store::Job Job(const std::string& id) { return store_->GetJob(id).value(); }

  // Advances fake time by `step` every few real milliseconds until `done` or 20 s real time.
  bool AdvanceUntil(WorkerPool* pool, Duration step, const std::function<bool()>& done) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < give_up) {
      if (done()) return true;
      std::this_thread::sleep_for(3ms);
      clock_.Advance(step);
      if (pool != nullptr) pool->Wake();
    }
    return done();
  }
  bool Terminal(const std::string& id) {
    const auto s = Job(id).state;
    return s == store::JobState::kComplete || s == store::JobState::kFailed ||
           s == store::JobState::kDead;
  }
  int SubmitEvents(const std::string& job_id) {
    int n = 0;
    for (const auto& e : store_->ListEvents(job_id, 0).value()) {
      n += e.kind == "parse.remote_submitted" ? 1 : 0;
    }
    return n;
  }

  static std::string Body() {
    std::string s = "# Remote parsing\n\n";
    for (int p = 0; p < 5; ++p) {
      s += "Paragraph " + std::to_string(p) +
           " explains how a document waits for LlamaParse and is uploaded exactly once.\n\n";
    }
    return s;
  }

  std::unique_ptr<http::HttpClient> http_ = std::make_unique<http::HttpClient>();
  std::unique_ptr<emulate::LlamaParseEmulator> emulator_;
  std::unique_ptr<parse::LlamaParseParser> parser_;
};

TEST_F(LlamaParsePipelineTest, DocumentWaitsWithItsRemoteIdThenCompletesBilledOnce) {
  StartLlamaParse(/*latency_ms=*/4000);
  auto out = SubmitFile(deps_, Write("remote.md", Body()), "default");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const std::string id = out->job.id;
  WorkerPool pool(deps_, Options());
  ASSERT_TRUE(pool.Start().ok());

  // Without the clock moving the job stays waiting on its persisted remote id.
  ASSERT_TRUE(
      AdvanceUntil(&pool, Duration(0), [&] { return Job(id).state == store::JobState::kWaiting; }));
  const store::Job waiting = Job(id);
  EXPECT_FALSE(waiting.remote_job_id.empty());
  EXPECT_EQ(waiting.stage, store::Stage::kParse);
  EXPECT_EQ(waiting.next_attempt_at, clock_.NowMillis() + 1000);  // first look after 1 s
  EXPECT_EQ(emulator_->Stats().uploads, 1);
  EXPECT_EQ(emulator_->Stats().jobs_by_status.at("PENDING"), 1);

  ASSERT_TRUE(AdvanceUntil(&pool, 100ms, [&] { return Terminal(id); }));
  const store::Job done = Job(id);
  ASSERT_EQ(done.state, store::JobState::kComplete)
      << done.last_error_code << ": " << done.last_error_message;
  const auto doc = store_->GetDocument(done.document_id).value();
  EXPECT_EQ(doc.parser, "llamaparse");
  EXPECT_EQ(doc.page_count, 1);
  EXPECT_FALSE(store_->ListChunks(done.document_id).value().empty());
  const auto stats = emulator_->Stats();
  EXPECT_EQ(stats.uploads, 1);
  EXPECT_EQ(stats.billed_jobs, 1);
  EXPECT_EQ(SubmitEvents(id), 1);
  auto rec = store_->GetParse(doc.sha256, "llamaparse", parser_->ConfigHash()).value();
  ASSERT_TRUE(rec.has_value());
  EXPECT_NE(rec->detail_json.find(waiting.remote_job_id), std::string::npos);
}

TEST_F(LlamaParsePipelineTest, SameFileForASecondTenantIsServedFromTheParseCache) {
  StartLlamaParse(/*latency_ms=*/1000);
  const std::string path = Write("shared.md", Body());
  auto a = SubmitFile(deps_, path, "tenant-a");
  ASSERT_TRUE(a.ok());
  WorkerPool pool(deps_, Options());
  ASSERT_TRUE(pool.Start().ok());
  ASSERT_TRUE(AdvanceUntil(&pool, 100ms, [&] { return Terminal(a->job.id); }));
  ASSERT_EQ(Job(a->job.id).state, store::JobState::kComplete);

  auto b = SubmitFile(deps_, path, "tenant-b");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->created);
  pool.Wake();
  ASSERT_TRUE(AdvanceUntil(&pool, 100ms, [&] { return Terminal(b->job.id); }));
  const store::Job jb = Job(b->job.id);
  ASSERT_EQ(jb.state, store::JobState::kComplete) << jb.last_error_message;
  EXPECT_TRUE(jb.remote_job_id.empty());  // never submitted
  EXPECT_EQ(emulator_->Stats().uploads, 1);
  EXPECT_EQ(SubmitEvents(b->job.id), 0);
  EXPECT_EQ(pool.counters().Snapshot().parse_cache_hits, 1);
}

TEST_F(LlamaParsePipelineTest, WorkerCrashWhilePendingResumesPollingTheSameRemoteJob) {
  StartLlamaParse(/*latency_ms=*/60'000);
  auto out = SubmitFile(deps_, Write("crash.md", Body()), "default");
  ASSERT_TRUE(out.ok());
  const std::string id = out->job.id;
  std::string remote_id;
  {
    WorkerPool first(deps_, Options());
    ASSERT_TRUE(first.Start().ok());
    ASSERT_TRUE(AdvanceUntil(&first, Duration(0),
                             [&] { return Job(id).state == store::JobState::kWaiting; }));
    remote_id = Job(id).remote_job_id;
    first.StopNow();
  }
  ASSERT_FALSE(remote_id.empty());
  // A worker leases the job to poll it and dies without writing anything.
  clock_.Advance(2s);
  auto dead = store_->LeaseNext("dead-worker", 30s, clock_.NowMillis());
  ASSERT_TRUE(dead.ok() && dead->has_value());
  ASSERT_EQ((*dead)->job.id, id);
  EXPECT_EQ((*dead)->job.remote_job_id, remote_id);
  clock_.Advance(31s);

  WorkerPool second(deps_, Options());
  ASSERT_TRUE(second.Start().ok());
  ASSERT_TRUE(AdvanceUntil(&second, 500ms, [&] { return Terminal(id); }));
  const store::Job done = Job(id);
  ASSERT_EQ(done.state, store::JobState::kComplete) << done.last_error_message;
  EXPECT_EQ(done.remote_job_id, remote_id);
  EXPECT_EQ(emulator_->Stats().uploads, 1);
  EXPECT_EQ(emulator_->Stats().billed_jobs, 1);
  EXPECT_EQ(SubmitEvents(id), 1);
}

TEST_F(LlamaParsePipelineTest, RemoteJobPastTheDeadlineIsRetriedThenDeadWithoutReupload) {
  StartLlamaParse(/*latency_ms=*/3'600'000, /*poll_deadline=*/10s);
  auto out = SubmitFile(deps_, Write("slow.md", Body()), "default");
  ASSERT_TRUE(out.ok());
  const std::string id = out->job.id;
  WorkerPool pool(deps_, Options());
  ASSERT_TRUE(pool.Start().ok());
  ASSERT_TRUE(AdvanceUntil(&pool, 250ms, [&] { return Terminal(id); }));
  const store::Job dead = Job(id);
  EXPECT_EQ(dead.state, store::JobState::kDead);
  EXPECT_EQ(dead.last_error_stage, "parse");
  EXPECT_EQ(dead.last_error_code, "remote_deadline");
  EXPECT_EQ(dead.attempts, 3);
  // Retries polled the same remote job: it was still alive, so it was never uploaded again.
  EXPECT_EQ(emulator_->Stats().uploads, 1);
  EXPECT_EQ(SubmitEvents(id), 1);
}

// App::Open's parser selection: the key never switches LlamaParse on by itself, and "auto"
// without a key parses locally.
TEST_F(LlamaParsePipelineTest, AppPicksTheParserFromConfigAndKey) {
  config::Config c;
  c.store.data_dir = dir_ + "/app";
  c.store.url = "sqlite:" + dir_ + "/app/ingestd.db";
  fs::create_directories(c.store.data_dir);
  c.parse.parser = "llamaparse";
  auto no_key = app::App::Open(c);
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.status().reason(), "missing_api_key");
  EXPECT_NE(no_key.status().message().find("LLAMA_CLOUD_API_KEY"), std::string::npos);

  c.parse.parser = "auto";
  auto local_only = app::App::Open(c);
  ASSERT_TRUE(local_only.ok()) << local_only.status().ToString();
  EXPECT_EQ((*local_only)->parser().Name(), "local");
  local_only->reset();

  c.llamaparse.api_key = "llx-test";
  auto routed = app::App::Open(c);
  ASSERT_TRUE(routed.ok()) << routed.status().ToString();
  EXPECT_EQ((*routed)->parser().Name(), "auto");
  routed->reset();

  c.parse.parser = "llamaparse";
  auto remote = app::App::Open(c);
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  EXPECT_EQ((*remote)->parser().Name(), "llamaparse");
  EXPECT_NE(dynamic_cast<const parse::RemoteParser*>(&(*remote)->parser()), nullptr);
  const std::string default_mode_hash = (*remote)->parser().ConfigHash();
  remote->reset();

  // llamaparse.parse_mode changes the output, so it is part of the parse-cache key.
  c.parse.llamaparse_mode = "parse_page_without_llm";
  auto fast = app::App::Open(c);
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_NE((*fast)->parser().ConfigHash(), default_mode_hash);
}

}  // namespace
}  // namespace ingest::pipeline
