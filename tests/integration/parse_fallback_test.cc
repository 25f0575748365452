// Hybrid mode's parse fallback (parse/fallback_parser.h) in the real pipeline: LlamaParse
// emulator over loopback, SQLite store, WorkerPool, FakeClock. Checks when a document falls
// back to the local parser (unavailable after the configured attempts; out of credits at once),
// when it does not (documents the local parser cannot read; before the attempts are used up),
// that the note reaches the document row, that nothing is billed or written to the ledger for a
// fallback, and that a fallback parse is not reused from the parse cache.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "ingest/emulate/llamaparse/llamaparse_emulator.h"
#include "ingest/http/http_client.h"
#include "ingest/parse/fallback_parser.h"
#include "ingest/parse/llamaparse/llamaparse_parser.h"
#include "ingest/parse/local/local_parser.h"
#include "ingest/pipeline/submit.h"
#include "ingest/pipeline/worker_pool.h"
#include "local_pipeline_fixture.h"

namespace ingest::pipeline {
namespace {

using namespace std::chrono_literals;

class ParseFallbackTest : public LocalPipelineTest {
 protected:
  void TearDown() override {
    parser_.reset();
    if (emulator_) emulator_->Stop();
    LocalPipelineTest::TearDown();
  }

  // LlamaParse emulator with `options` (latency in fake time), and the hybrid parser over it:
  // FallbackParser(LlamaParseParser, LocalParser), falling back on attempt `after_attempts`.
  void Start(emulate::LlamaParseEmulatorOptions options, int after_attempts) {
    options.api_keys = {key_};
    options.latency_base_ms = 2000;
    options.latency_per_page_ms = 0;
    options.clock = &clock_;
    emulator_ = std::make_unique<emulate::LlamaParseEmulator>(std::move(options));
    ASSERT_TRUE(emulator_->Start("127.0.0.1", 0).ok());
    parse::LlamaParseParserOptions po;
    po.client.base_url = "http://127.0.0.1:" + std::to_string(emulator_->port());
    po.client.api_key = key_;
    parse::ParseFallbackOptions fo;
    fo.after_attempts = after_attempts;
    parser_ = std::make_unique<parse::FallbackParser>(
        std::make_unique<parse::LlamaParseParser>(std::move(po)),
        std::make_unique<parse::LocalParser>(), fo);
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
    o.worker_id = "fallback-it";
    o.seed = 7;
    return o;
  }

  store::Job Job(const std::string& id) { return store_->GetJob(id).value(); }
  bool Terminal(const std::string& id) {
    const auto s = Job(id).state;
    return s == store::JobState::kComplete || s == store::JobState::kFailed ||
           s == store::JobState::kDead;
  }
  // Runs the pool, advancing fake time, until the job is terminal (20 s real time at most).
  store::Job RunToEnd(const std::string& id) {
    WorkerPool pool(deps_, Options());
    EXPECT_TRUE(pool.Start().ok());
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (!Terminal(id) && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(3ms);
      clock_.Advance(200ms);
      pool.Wake();
    }
    pool.RequestStop();
    pool.Join();
    return Job(id);
  }
  // Ledger rows of paid services (the lexical embedder writes free "local" rows too).
  int64_t PaidLedgerRows(const std::string& document_id) {
    int64_t n = 0;
    for (const auto& e : store_->ListLedger(document_id).value()) n += e.service != "local";
    return n;
  }

  static std::string Body() {
    std::string s = "# Fallback\n\n";
    for (int p = 0; p < 4; ++p) {
      s += "Paragraph " + std::to_string(p) +
           " is parsed by LlamaParse when it is up, and locally when it is down.\n\n";
    }
    return s;
  }

  const std::string key_ = "fallback-test-key";
  std::unique_ptr<emulate::LlamaParseEmulator> emulator_;
  std::unique_ptr<parse::FallbackParser> parser_;
};

TEST_F(ParseFallbackTest, UnavailableServiceFallsBackOnTheConfiguredAttemptWithANote) {
  emulate::LlamaParseEmulatorOptions o;
  o.faults.every_n[emulate::FaultKind::kUnavailable503] = 1;  // every request: 503
  Start(o, /*after_attempts=*/2);
  auto out = SubmitFile(deps_, Write("down.md", Body()), "default");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const store::Job done = RunToEnd(out->job.id);
  ASSERT_EQ(done.state, store::JobState::kComplete) << done.last_error_message;
  const store::Document doc = store_->GetDocument(done.document_id).value();
  EXPECT_EQ(doc.parser, "local:markdown");
  EXPECT_EQ(doc.parse_note.rfind("fell back to local parser: llamaparse unavailable "
                                 "(unavailable[server_error], attempt 2: ",
                                 0),
            0u)
      << doc.parse_note;
  EXPECT_FALSE(store_->ListChunks(done.document_id).value().empty());
  // Two upload attempts (the first retried by the state machine), both refused, nothing billed.
  const auto stats = emulator_->Stats();
  EXPECT_EQ(stats.requests, 2);
  EXPECT_EQ(stats.by_status.at(503), 2);
  EXPECT_EQ(stats.uploads, 0);
  EXPECT_EQ(stats.billed_jobs, 0);
  EXPECT_EQ(PaidLedgerRows(done.document_id), 0);
}

TEST_F(ParseFallbackTest, OutOfCreditsFallsBackAtOnce) {
  emulate::LlamaParseEmulatorOptions o;
  o.credits_cap = 1;  // a 1-page document in the default mode costs 3: 402
  Start(o, /*after_attempts=*/3);
  auto out = SubmitFile(deps_, Write("broke.md", Body()), "default");
  ASSERT_TRUE(out.ok());
  const store::Job done = RunToEnd(out->job.id);
  ASSERT_EQ(done.state, store::JobState::kComplete) << done.last_error_message;
  const store::Document doc = store_->GetDocument(done.document_id).value();
  EXPECT_EQ(doc.parse_note.rfind("fell back to local parser: llamaparse out of credits "
                                 "(resource_exhausted[insufficient_quota]: ",
                                 0),
            0u)
      << doc.parse_note;
  EXPECT_EQ(emulator_->Stats().by_status.at(402), 1);  // asked once, not retried
}

TEST_F(ParseFallbackTest, NoFallbackBeforeTheAttemptsAreUsedOrForWhatOnlyTheRemoteReads) {
  // The emulator refuses every request; with after_attempts 3 and max_attempts 3 the third
  // attempt falls back, so the job completes after exactly three uploads were refused.
  emulate::LlamaParseEmulatorOptions o;
  o.faults.every_n[emulate::FaultKind::kServerError500] = 1;
  Start(o, /*after_attempts=*/3);
  auto md = SubmitFile(deps_, Write("three.md", Body()), "default");
  ASSERT_TRUE(md.ok());
  const store::Job done = RunToEnd(md->job.id);
  ASSERT_EQ(done.state, store::JobState::kComplete) << done.last_error_message;
  EXPECT_EQ(emulator_->Stats().by_status.at(500), 3);
  EXPECT_NE(store_->GetDocument(done.document_id).value().parse_note.find("attempt 3"),
            std::string::npos);

  // A file only the remote parser could read (the local parser calls it unsupported): no
  // fallback; the remote error stands and the job goes dead after its attempts.
  std::string binary(4096, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>((i * 131 + 7) & 0xff);
  auto img = SubmitFile(deps_, Write("scan.png", binary), "default");
  ASSERT_TRUE(img.ok());
  const store::Job dead = RunToEnd(img->job.id);
  EXPECT_EQ(dead.state, store::JobState::kDead);
  EXPECT_EQ(dead.last_error_code, "server_error");
  EXPECT_EQ(store_->GetDocument(dead.document_id).value().parse_note, "");
}

TEST_F(ParseFallbackTest, FallbackParseIsNotReusedFromTheCache) {
  emulate::LlamaParseEmulatorOptions o;
  o.faults.every_n[emulate::FaultKind::kUnavailable503] = 1;
  Start(o, /*after_attempts=*/1);
  const std::string path = Write("again.md", Body());
  auto a = SubmitFile(deps_, path, "tenant-a");
  ASSERT_TRUE(a.ok());
  const store::Job ja = RunToEnd(a->job.id);
  ASSERT_EQ(ja.state, store::JobState::kComplete) << ja.last_error_message;
  ASSERT_FALSE(store_->GetDocument(ja.document_id).value().parse_note.empty());

  // LlamaParse is back: the same bytes for another tenant are parsed remotely and billed,
  // not served the fallback parse from the cache.
  parser_.reset();  // closes its keep-alive connection first, so Stop() does not wait on it
  emulator_->Stop();
  emulator_.reset();
  Start(emulate::LlamaParseEmulatorOptions{}, /*after_attempts=*/1);
  auto b = SubmitFile(deps_, path, "tenant-b");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->created);
  const store::Job jb = RunToEnd(b->job.id);
  ASSERT_EQ(jb.state, store::JobState::kComplete) << jb.last_error_message;
  const store::Document db = store_->GetDocument(jb.document_id).value();
  EXPECT_EQ(db.parser, "llamaparse");
  EXPECT_EQ(db.parse_note, "");
  EXPECT_EQ(emulator_->Stats().billed_jobs, 1);
  EXPECT_EQ(PaidLedgerRows(jb.document_id), 1);  // the parse row
}

TEST(FallbackRuleTest, ClassifiesRemoteErrors) {
  using parse::FallbackRule;
  using parse::FallbackRuleFor;
  EXPECT_EQ(FallbackRuleFor(ResourceExhausted("402", "insufficient_quota")), FallbackRule::kNow);
  EXPECT_EQ(FallbackRuleFor(Unavailable("open", "circuit_open")), FallbackRule::kNow);
  EXPECT_EQ(FallbackRuleFor(ResourceExhausted("cap", "budget_exceeded")), FallbackRule::kNow);
  EXPECT_EQ(FallbackRuleFor(Unavailable("503", "server_error")), FallbackRule::kAfterRetries);
  EXPECT_EQ(FallbackRuleFor(DeadlineExceeded("late", "remote_deadline")),
            FallbackRule::kAfterRetries);
  EXPECT_EQ(FallbackRuleFor(Status(StatusCode::kCancelled, "c", "remote_job_cancelled")),
            FallbackRule::kAfterRetries);
  EXPECT_EQ(FallbackRuleFor(Status(StatusCode::kCancelled, "stop", "abandoned")),
            FallbackRule::kNever);
  EXPECT_EQ(FallbackRuleFor(Status(StatusCode::kUnauthenticated, "401", "unauthenticated")),
            FallbackRule::kNever);
  EXPECT_EQ(FallbackRuleFor(InvalidArgument("x", "pdf_protected")), FallbackRule::kNever);
  EXPECT_EQ(FallbackRuleFor(ResourceExhausted("big", "file_too_large")), FallbackRule::kNever);
}

}  // namespace
}  // namespace ingest::pipeline
