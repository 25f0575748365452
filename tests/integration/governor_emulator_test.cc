// The governor against the emulators over loopback (docs/costs.md): budgets cap spend and
// deferred jobs resume when the cap is raised; the ledger equals the emulator's bill through
// injected faults and retries; a 503 storm opens the breaker and it recovers; quota exhaustion
// stops calls after the first refusal; LlamaParse reservations settle to the billed credits.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "ingest/embed/openai/openai_embedder.h"
#include "ingest/emulate/llamaparse/llamaparse_emulator.h"
#include "ingest/emulate/openai/openai_emulator.h"
#include "ingest/governor/governor.h"
#include "ingest/parse/llamaparse/llamaparse_parser.h"
#include "ingest/parse/local/local_parser.h"
#include "ingest/pipeline/submit.h"
#include "ingest/pipeline/worker_pool.h"
#include "local_pipeline_fixture.h"

namespace ingest::pipeline {
namespace {

// The value of a Result, by value (a range-for over a temporary Result's contents would dangle).
template <typename T>
T Get(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : T{};
}

using namespace std::chrono_literals;

class GovernorEmulatorTest : public LocalPipelineTest {
 protected:
  void SetUp() override {
    LocalPipelineTest::SetUp();
    if (HasFatalFailure()) return;
    // $20 per 1M tokens (1,000x the list price) so a few thousand tokens are worth budgeting.
    prices_.embedding_per_token["text-embedding-3-small"] = 20'000;
    deps_.prices = &prices_;
    deps_.parser = &local_parser_;
    deps_.embed_batch_size = 4;
    deps_.retry.max_attempts = 50;  // faults must not kill jobs; throttling never counts
    deps_.retry.throttle_delay = 200ms;
    deps_.retry.configuration_delay = 200ms;
    governor_ = std::make_unique<governor::Governor>(store_.get(), &clock_, &prices_,
                                                     governor::GovernorOptions{});
    deps_.governor = governor_.get();
  }
  void TearDown() override {
    pool_.reset();
    embedder_openai_.reset();
    parser_lp_.reset();
    governor_.reset();
    if (openai_) openai_->Stop();
    if (llama_) llama_->Stop();
    LocalPipelineTest::TearDown();
  }

  void StartOpenAi(emulate::OpenAiEmulatorOptions o, int port = 0) {
    o.clock = &clock_;
    openai_ = std::make_unique<emulate::OpenAiEmulator>(std::move(o), deps_.tokens);
    ASSERT_TRUE(openai_->Start("127.0.0.1", port).ok());
  }

  void UseOpenAi(governor::ProviderOptions p = {}) {
    p.name = "openai";
    auto gate = governor_->AddProvider(p);
    ASSERT_TRUE(gate.ok()) << gate.status().ToString();
    embed::OpenAiEmbedderOptions e;
    e.base_url = "http://127.0.0.1:" + std::to_string(openai_->port()) + "/v1";
    e.api_key = "test-" + std::string(8, 'k');
    e.token_counter = deps_.tokens;
    e.gate = *gate;
    e.max_retries = 1;
    e.initial_backoff = 1ms;
    e.max_backoff = 2ms;
    e.http.total_timeout = 5s;
    auto emb = embed::OpenAiEmbedder::Create(e);
    ASSERT_TRUE(emb.ok()) << emb.status().ToString();
    embedder_openai_ = std::move(*emb);
    deps_.embedder = embedder_openai_.get();
  }

  // `n` documents of distinct text, about `words` words each.
  std::vector<std::string> Submit(int n, int words = 120) {
    std::vector<std::string> jobs;
    for (int i = 0; i < n; ++i) {
      const std::string path = dir_ + "/in/doc" + std::to_string(i) + ".md";
      std::string body = "# Document " + std::to_string(i) + "\n\n";
      for (int w = 0; w < words; ++w) {
        body += "word" + std::to_string((i * 7919 + w * 104729) % 100003) + " ";
        if (w % 40 == 39) body += "\n\n";
      }
      std::ofstream(path, std::ios::binary) << body;
      auto s = SubmitFile(deps_, path, "tenant-a");
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      if (s.ok()) jobs.push_back(s->job.id);
    }
    return jobs;
  }

  void StartPool(int threads = 4) {
    WorkerOptions o;
    o.threads = threads;
    o.poll_interval = 5ms;
    o.heartbeat_interval = 50ms;
    o.worker_id = "gov-it";
    o.seed = 7;
    pool_ = std::make_unique<WorkerPool>(deps_, o);
    ASSERT_TRUE(pool_->Start().ok());
  }

  // Advances the fake clock in small steps until `done` or the real-time limit.
  bool RunUntil(const std::function<bool()>& done, std::chrono::seconds limit = 30s) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < give_up) {
      if (done()) return true;
      std::this_thread::sleep_for(5ms);
      clock_.Advance(Duration(20));
      pool_->Wake();
    }
    return done();
  }

  int Count(store::JobState s, std::string_view defer_reason = "") {
    int n = 0;
    for (const auto& v : Get(store_->ListJobs({}))) {
      if (v.job.state == s && (defer_reason.empty() || v.job.defer_reason == defer_reason)) ++n;
    }
    return n;
  }
  // The jobs that are not complete, with state and last error, for failure messages.
  std::string Unfinished() {
    std::string out;
    for (const auto& v : Get(store_->ListJobs({}))) {
      if (v.job.state == store::JobState::kComplete) continue;
      out += std::string(store::JobStateName(v.job.state)) + "@" +
             std::string(store::StageName(v.job.stage)) + " " + v.job.last_error_code + ": " +
             v.job.last_error_message + "\n";
    }
    return out;
  }
  bool AllComplete(size_t n) { return Count(store::JobState::kComplete) == static_cast<int>(n); }

  struct LedgerSum {
    int64_t settled_nanos = 0, tokens = 0, requests = 0, reserved = 0, credits = 0, pages = 0,
            parse_jobs = 0;
  };
  LedgerSum Ledger(std::string_view service) {
    LedgerSum s;
    for (const auto& e : Get(store_->ListLedger(std::nullopt))) {
      if (e.service != service) continue;
      if (e.state == store::LedgerState::kReserved) ++s.reserved;
      if (e.state != store::LedgerState::kSettled) continue;
      s.settled_nanos += e.cost_nanos;
      s.tokens += e.tokens;
      s.requests += e.requests;
      s.credits += e.credits;
      s.pages += e.pages;
      ++s.parse_jobs;
    }
    return s;
  }

  void UseLlamaParse(emulate::LlamaParseEmulatorOptions o) {
    o.latency_base_ms = 500;
    o.latency_per_page_ms = 0;
    o.clock = &clock_;
    llama_ = std::make_unique<emulate::LlamaParseEmulator>(std::move(o));
    ASSERT_TRUE(llama_->Start("127.0.0.1", 0).ok());
    governor::ProviderOptions p;
    p.name = "llamaparse";
    auto gate = governor_->AddProvider(p);
    ASSERT_TRUE(gate.ok());
    parse::LlamaParseParserOptions po;
    po.client.base_url = "http://127.0.0.1:" + std::to_string(llama_->port());
    po.client.api_key = "test-key";
    po.client.gate = *gate;
    parser_lp_ = std::make_unique<parse::LlamaParseParser>(po);
    deps_.parser = parser_lp_.get();
  }

  void ExpectLedgerEqualsLlamaParseBill() {
    const auto bill = llama_->Stats();
    const LedgerSum l = Ledger("llamaparse");
    EXPECT_EQ(l.reserved, 0);
    EXPECT_EQ(l.parse_jobs, bill.billed_jobs);
    EXPECT_EQ(l.pages, bill.pages_billed);
    EXPECT_EQ(static_cast<double>(l.credits), bill.credits_billed);
  }

  void ExpectLedgerEqualsOpenAiBill() {
    const auto bill = openai_->Stats();
    const LedgerSum l = Ledger("openai");
    EXPECT_EQ(l.reserved, 0);
    EXPECT_EQ(l.tokens, bill.billed_tokens);
    EXPECT_EQ(l.requests, bill.billed_requests);
    // Rows are exact (nano-dollars per token), so the sum of rows is the bill's tokens priced
    // once: no per-row rounding.
    EXPECT_EQ(l.settled_nanos,
              *governor::EmbeddingCostNanos(prices_, "text-embedding-3-small", bill.billed_tokens));
  }

  governor::PriceTable prices_;
  parse::LocalParser local_parser_{parse::LocalParserOptions{}};
  std::unique_ptr<governor::Governor> governor_;
  std::unique_ptr<emulate::OpenAiEmulator> openai_;
  std::unique_ptr<emulate::LlamaParseEmulator> llama_;
  std::unique_ptr<embed::OpenAiEmbedder> embedder_openai_;
  std::unique_ptr<parse::LlamaParseParser> parser_lp_;
  std::unique_ptr<WorkerPool> pool_;
};

TEST_F(GovernorEmulatorTest, HardBudgetCapsSpendAndRaisingItResumesDeferredJobs) {
  StartOpenAi({});
  UseOpenAi();
  store::Budget b;
  b.scope = store::BudgetScope::kGlobal;
  b.period = store::BudgetPeriod::kDay;
  b.hard_nanos = 40'000'000;  // $0.04 = 2,000 tokens at the test price
  ASSERT_TRUE(store_->PutBudget(b).ok());
  const auto jobs = Submit(16);  // ~16 x 300 tokens: far over the cap
  StartPool();
  // Runs until every job is complete or deferred by the budget.
  ASSERT_TRUE(RunUntil([&] {
    return Count(store::JobState::kComplete) +
               Count(store::JobState::kDeferred, "budget_exceeded") ==
           static_cast<int>(jobs.size());
  }));
  const LedgerSum capped = Ledger("openai");
  EXPECT_LE(capped.settled_nanos, b.hard_nanos);
  EXPECT_GT(Count(store::JobState::kDeferred, "budget_exceeded"), 0);
  EXPECT_GT(capped.settled_nanos, 0);
  // The deferral says why, in the job row the operator sees.
  for (const auto& v : Get(store_->ListJobs({}))) {
    if (v.job.state == store::JobState::kDeferred) {
      EXPECT_NE(v.job.last_error_message.find("global day budget"), std::string::npos)
          << v.job.last_error_message;
    }
  }
  ExpectLedgerEqualsOpenAiBill();

  b.hard_nanos = 10'000'000'000;
  ASSERT_TRUE(store_->PutBudget(b).ok());
  const std::vector<std::string> reasons = {"budget_exceeded"};
  ASSERT_TRUE(store_->WakeDeferred(reasons, clock_.NowMillis()).ok());
  ASSERT_TRUE(RunUntil([&] { return AllComplete(jobs.size()); }));
  ExpectLedgerEqualsOpenAiBill();
  EXPECT_LE(Ledger("openai").settled_nanos, b.hard_nanos);
}

TEST_F(GovernorEmulatorTest, LedgerEqualsTheBillThroughInjectedFaultsAndRetries) {
  emulate::OpenAiEmulatorOptions o;
  o.faults.seed = 42;
  o.faults.rates = {
      {emulate::FaultKind::kRateLimit429, 0.08},   {emulate::FaultKind::kServerError500, 0.08},
      {emulate::FaultKind::kUnavailable503, 0.05}, {emulate::FaultKind::kMalformedJson, 0.05},
      {emulate::FaultKind::kMissingItem, 0.05},    {emulate::FaultKind::kDropConnection, 0.05}};
  StartOpenAi(o);
  governor::ProviderOptions p;
  p.breaker.min_calls = 1000;  // this test is about accounting, not the breaker
  UseOpenAi(p);
  const auto jobs = Submit(24);
  StartPool();
  // 429, 5xx, malformed JSON and dropped connections are retried until they succeed; a
  // response missing an embedding is a wrong answer, not retried blindly: that job fails with
  // bad_response (never a placeholder vector). Nothing else may be left unfinished.
  ASSERT_TRUE(RunUntil(
      [&] {
        return Count(store::JobState::kComplete) + Count(store::JobState::kFailed) ==
               static_cast<int>(jobs.size());
      },
      60s))
      << Unfinished();
  for (const auto& v : Get(store_->ListJobs({}))) {
    if (v.job.state == store::JobState::kFailed) {
      EXPECT_EQ(v.job.last_error_code, "bad_response") << Unfinished();
      EXPECT_EQ(v.job.stage, store::Stage::kEmbed);
    }
  }
  EXPECT_GT(Count(store::JobState::kComplete), 18) << Unfinished();
  const auto stats = openai_->Stats();
  EXPECT_GT(stats.faults_injected, 0);
  EXPECT_GT(stats.requests, stats.billed_requests);  // retries happened
  ExpectLedgerEqualsOpenAiBill();
}

TEST_F(GovernorEmulatorTest, ServerErrorStormOpensTheBreakerAndItRecovers) {
  emulate::OpenAiEmulatorOptions storm;
  storm.faults.rates = {{emulate::FaultKind::kUnavailable503, 1.0}};
  StartOpenAi(storm);
  const int port = openai_->port();
  governor::ProviderOptions p;
  p.breaker.min_calls = 4;
  p.breaker.window = 30s;
  p.breaker.open_for = 2s;  // fake time
  UseOpenAi(p);
  const auto jobs = Submit(6);
  StartPool(2);
  ASSERT_TRUE(
      RunUntil([&] { return governor_->Health().at(0).circuit == governor::CircuitState::kOpen; }));
  // While open, calls are refused locally: the emulator sees (almost) nothing more.
  const int64_t seen = openai_->Stats().requests;
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(5ms);
    clock_.Advance(Duration(20));  // 400 ms of fake time: still inside open_for
    pool_->Wake();
  }
  EXPECT_LE(openai_->Stats().requests, seen + 2);
  EXPECT_GT(Count(store::JobState::kDeferred, "circuit_open") + Count(store::JobState::kQueued), 0);

  // The provider recovers: a healthy server on the same port; the half-open probe closes it.
  openai_->Stop();
  openai_.reset();
  StartOpenAi({}, port);
  ASSERT_TRUE(RunUntil([&] { return AllComplete(jobs.size()); }, 60s)) << Unfinished();
  EXPECT_EQ(governor_->Health().at(0).circuit, governor::CircuitState::kClosed);
  ExpectLedgerEqualsOpenAiBill();
}

TEST_F(GovernorEmulatorTest, QuotaExhaustionStopsCallsAfterTheFirstRefusal) {
  emulate::OpenAiEmulatorOptions o;
  o.quota_tokens = 900;  // about three documents
  StartOpenAi(o);
  UseOpenAi();
  const auto jobs = Submit(12);
  StartPool(4);
  ASSERT_TRUE(RunUntil([&] {
    auto states = *store_->ListProviderStates();
    return !states.empty() && states[0].stopped;
  }));
  // Let the pool run on: no call reaches the provider once it is stopped. Calls already in
  // flight when the first refusal came back (at most one per worker thread) may be refused too.
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(5ms);
    clock_.Advance(Duration(50));
    pool_->Wake();
  }
  const auto stats = openai_->Stats();
  EXPECT_GE(stats.rate_limited, 1);
  EXPECT_LE(stats.rate_limited, 4);
  const int64_t after_stop = stats.requests;
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(5ms);
    clock_.Advance(Duration(50));
    pool_->Wake();
  }
  EXPECT_EQ(openai_->Stats().requests, after_stop);
  // Nothing failed for it: the unfinished jobs are held back (deferred, or briefly re-leased
  // to find the provider still stopped), and they say why.
  EXPECT_EQ(Count(store::JobState::kFailed) + Count(store::JobState::kDead), 0) << Unfinished();
  int held = 0;
  for (const auto& v : Get(store_->ListJobs({}))) {
    if (v.job.state == store::JobState::kComplete) continue;
    EXPECT_TRUE(v.job.last_error_code == "provider_stopped" ||
                v.job.last_error_code == "insufficient_quota")
        << Unfinished();
    ++held;
  }
  EXPECT_GT(held, 0);
  bool alerted = false;
  for (const auto& e : Get(store_->ListEvents(std::nullopt, 0)))
    alerted |= e.kind == "provider.stopped";
  EXPECT_TRUE(alerted);
  ExpectLedgerEqualsOpenAiBill();

  // An operator tops the account up (a fresh quota) and resumes: the jobs finish.
  openai_->Reset();
  ASSERT_TRUE(governor_->ResumeProvider("openai").ok());
  ASSERT_TRUE(RunUntil([&] {
    auto states = *store_->ListProviderStates();
    return AllComplete(jobs.size()) || (!states.empty() && states[0].stopped);
  }));
}

TEST_F(GovernorEmulatorTest, LlamaParseReservationSettlesToTheBilledCredits) {
  UseLlamaParse({});
  const auto jobs = Submit(5, 60);
  StartPool(2);
  ASSERT_TRUE(RunUntil([&] { return AllComplete(jobs.size()); })) << Unfinished();
  ExpectLedgerEqualsLlamaParseBill();
  for (const auto& e : Get(store_->ListLedger(std::nullopt))) {
    if (e.service != "llamaparse") continue;
    EXPECT_GT(e.estimate_nanos, 0) << "reserved before the upload";
    EXPECT_EQ(e.cost_nanos, *governor::ParseCostNanos(prices_, e.credits));
    EXPECT_FALSE(e.provider_request_id.empty());
  }
}

// Issue 12: a hard cap that the provider cannot exceed. Text documents whose page count only the
// service knows are reserved at a bound and uploaded with max_pages = the reservation; a longer
// document goes on in further bounded uploads (target_pages), pages merged in order; when the
// budget is spent the rest is deferred with the reason, and completes once the cap is raised.
class LlamaParseCapTest : public GovernorEmulatorTest {
 protected:
  // `n` text documents of `bytes` bytes each (lines of distinct words).
  std::vector<std::string> SubmitText(int n, int bytes, int first = 0) {
    std::vector<std::string> docs;
    for (int i = first; i < first + n; ++i) {
      const std::string path = dir_ + "/in/cap" + std::to_string(i) + ".txt";
      std::string body;
      for (int w = 0; static_cast<int>(body.size()) < bytes; ++w) {
        body +=
            "doc" + std::to_string(i) + "word" + std::to_string(w) + (w % 12 == 11 ? "\n" : " ");
      }
      body.resize(static_cast<size_t>(bytes));
      std::ofstream(path, std::ios::binary) << body;
      auto s = SubmitFile(deps_, path, "tenant-a");
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      if (s.ok()) docs.push_back(s->document.id);
    }
    return docs;
  }
  void SetGlobalBudget(int64_t hard_nanos) {
    store::Budget b;
    b.scope = store::BudgetScope::kGlobal;
    b.period = store::BudgetPeriod::kDay;
    b.hard_nanos = hard_nanos;
    ASSERT_TRUE(store_->PutBudget(b).ok());
    const std::vector<std::string> reasons = {std::string(governor::kBudgetExceeded),
                                              std::string(governor::kBudgetStopped)};
    ASSERT_TRUE(store_->WakeDeferred(reasons, clock_.NowMillis()).ok());
  }
  // Every job complete or deferred for `reason`, and no reservation open.
  bool Settled(size_t n, std::string_view reason) {
    return Count(store::JobState::kComplete) + Count(store::JobState::kDeferred, reason) ==
               static_cast<int>(n) &&
           Ledger("llamaparse").reserved == 0;
  }
  // The emulator's bill in nano-dollars ($1.25 per 1,000 credits).
  int64_t BilledNanos() {
    return static_cast<int64_t>(llama_->Stats().credits_billed) * prices_.llamaparse_per_credit;
  }
  void ExpectLedgerIsTheBillToTheNano() {
    ExpectLedgerEqualsLlamaParseBill();
    EXPECT_EQ(Ledger("llamaparse").settled_nanos, BilledNanos());
  }
};

TEST_F(LlamaParseCapTest, ServiceCountingMorePagesNeverPassesTheCap) {
  emulate::LlamaParseEmulatorOptions o;
  o.non_pdf_page_bytes = 300;  // 3000 bytes = 10 pages; ingestd's bound is 4
  UseLlamaParse(o);
  constexpr int64_t kPage = 3 * 1'250'000;  // default mode: 3 credits = $0.00375 a page
  SetGlobalBudget(13 * kPage + kPage / 2);  // room for 13 pages of the 40
  const auto docs = SubmitText(4, 3000);
  StartPool(2);
  ASSERT_TRUE(RunUntil([&] { return Settled(docs.size(), governor::kBudgetExceeded); }))
      << Unfinished();
  EXPECT_GT(Count(store::JobState::kDeferred, governor::kBudgetExceeded), 0) << Unfinished();
  EXPECT_LE(BilledNanos(), 13 * kPage + kPage / 2);
  EXPECT_GE(llama_->Stats().pages_billed, 12) << "the cap's room was used";
  ExpectLedgerIsTheBillToTheNano();
  for (const auto& v : Get(store_->ListJobs({}))) {
    if (v.job.state != store::JobState::kDeferred) continue;
    EXPECT_NE(v.job.last_error_message.find("hard limit"), std::string::npos) << Unfinished();
  }

  SetGlobalBudget(1'000'000'000);  // raised: the rest completes
  ASSERT_TRUE(RunUntil([&] { return AllComplete(docs.size()); })) << Unfinished();
  ExpectLedgerIsTheBillToTheNano();
  EXPECT_EQ(llama_->Stats().pages_billed, 40) << "no page was billed twice";
  for (const std::string& id : docs) {
    const store::Document d = Get(store_->GetDocument(id));
    EXPECT_EQ(d.page_count, 10) << d.filename;
  }
}

TEST_F(LlamaParseCapTest, ServiceCountingFewerPagesIsOneUpload) {
  emulate::LlamaParseEmulatorOptions o;
  o.non_pdf_page_bytes = 100'000;  // every document one page; ingestd's bound is 5
  UseLlamaParse(o);
  SetGlobalBudget(1'000'000'000);
  const auto docs = SubmitText(3, 4000);
  StartPool(2);
  ASSERT_TRUE(RunUntil([&] { return AllComplete(docs.size()); })) << Unfinished();
  EXPECT_EQ(llama_->Stats().uploads, 3);
  EXPECT_EQ(llama_->Stats().pages_billed, 3);
  ExpectLedgerIsTheBillToTheNano();
  for (const auto& e : Get(store_->ListLedger(std::nullopt))) {
    if (e.service != "llamaparse") continue;
    EXPECT_EQ(e.estimate_nanos, 5 * 3 * 1'250'000) << "reserved at the bound";
    EXPECT_EQ(e.cost_nanos, 3 * 1'250'000) << "settled as billed";
  }
}

// A service that bills past max_pages (ignores it, or overbills) is an incident: settled as
// billed (the ledger still equals the bill), the budget stops admitting work with the reason,
// and an operator's acknowledgement lets the deferred work go on.
class LlamaParseOverbillTest : public LlamaParseCapTest {
 protected:
  void Run(emulate::LlamaParseEmulatorOptions o) {
    o.non_pdf_page_bytes = 300;
    UseLlamaParse(o);
    SetGlobalBudget(1'000'000'000);
    const auto docs = SubmitText(3, 1500);  // 5 pages each; ingestd's bound is 3
    StartPool(1);
    auto stopped = [&] {
      auto b = Get(store_->ListBudgetStatus(clock_.NowMillis()));
      return !b.empty() && b[0].budget.stopped_at > 0;
    };
    // Uploads already in flight when the first overrun is seen are settled as billed too.
    ASSERT_TRUE(RunUntil([&] {
      return stopped() && Ledger("llamaparse").reserved == 0 &&
             Count(store::JobState::kComplete) +
                     Count(store::JobState::kDeferred, governor::kBudgetStopped) ==
                 static_cast<int>(docs.size());
    })) << Unfinished();
    // Nothing new is admitted: another document waits for an operator.
    SubmitText(1, 1500, 10);
    pool_->Wake();
    ASSERT_TRUE(RunUntil([&] {
      return Count(store::JobState::kDeferred, governor::kBudgetStopped) > 0;
    })) << Unfinished();
    auto budgets = Get(store_->ListBudgetStatus(clock_.NowMillis()));
    ASSERT_EQ(budgets.size(), 1u);
    EXPECT_GT(budgets[0].budget.stopped_at, 0);
    EXPECT_GT(budgets[0].budget.overrun_nanos, 0);
    ExpectLedgerIsTheBillToTheNano();  // settled as billed
    bool overrun_event = false;
    for (const auto& e : Get(store_->ListEvents(std::nullopt, 0))) {
      overrun_event |= e.kind == "budget.overrun";
    }
    EXPECT_TRUE(overrun_event);
    for (const auto& v : Get(store_->ListJobs({}))) {
      if (v.job.state != store::JobState::kDeferred) continue;
      EXPECT_EQ(v.job.defer_reason, governor::kBudgetStopped);
      EXPECT_NE(v.job.last_error_message.find("ingestd budget ack"), std::string::npos);
    }
    // Acknowledged: work is admitted again (and stops again at the next overrun).
    const int64_t uploads = llama_->Stats().uploads;
    ASSERT_EQ(*store_->AckBudgets(std::nullopt, "", store::BudgetPeriod::kDay, clock_.NowMillis()),
              1);
    SetGlobalBudget(1'000'000'000);
    ASSERT_TRUE(RunUntil([&] { return llama_->Stats().uploads > uploads; })) << Unfinished();
  }
};

TEST_F(LlamaParseOverbillTest, ServiceIgnoringMaxPages) {
  emulate::LlamaParseEmulatorOptions o;
  o.ignore_max_pages = true;
  Run(o);
}

TEST_F(LlamaParseOverbillTest, ServiceBillingPagesItDidNotParse) {
  emulate::LlamaParseEmulatorOptions o;
  o.overbill_pages = 2;
  Run(o);
}

TEST_F(GovernorEmulatorTest, FailedRemoteJobsAreReleasedAndSubmittedAgain) {
  emulate::LlamaParseEmulatorOptions o;
  o.faults.seed = 3;
  o.faults.rates = {{emulate::FaultKind::kJobError, 0.4}};
  UseLlamaParse(o);
  const auto jobs = Submit(6, 60);
  StartPool(2);
  ASSERT_TRUE(RunUntil([&] {
    return Count(store::JobState::kComplete) + Count(store::JobState::kFailed) +
               Count(store::JobState::kDead) ==
           static_cast<int>(jobs.size());
  })) << Unfinished();
  // Failed remote jobs are not billed: their reservations are released, and the document is
  // uploaded again (at most three uploads per document).
  int released = 0;
  for (const auto& e : Get(store_->ListLedger(std::nullopt))) {
    if (e.service == "llamaparse" && e.state == store::LedgerState::kReleased) ++released;
  }
  EXPECT_GT(released, 0);
  EXPECT_GT(llama_->Stats().uploads, static_cast<int64_t>(jobs.size()));
  EXPECT_LE(llama_->Stats().uploads, static_cast<int64_t>(jobs.size()) * 3);
  EXPECT_GE(Count(store::JobState::kComplete), 5) << Unfinished();
  ExpectLedgerEqualsLlamaParseBill();
}

TEST_F(GovernorEmulatorTest, SharedTextsInConcurrentDocumentsAreEmbeddedOnce) {
  emulate::OpenAiEmulatorOptions o;
  o.latency_ms = 60;  // long enough for the workers to overlap
  StartOpenAi(o);
  UseOpenAi();
  // Eight documents sharing most of their paragraphs, embedded by four workers at once.
  std::vector<std::string> jobs;
  for (int d = 0; d < 8; ++d) {
    const std::string path = dir_ + "/in/shared" + std::to_string(d) + ".txt";
    std::string body;
    for (int p = 0; p < 12; ++p) {
      for (int w = 0; w < 50; ++w) body += "shared" + std::to_string(p * 50 + w) + " ";
      body += "\n\n";
    }
    body += "unique paragraph of document " + std::to_string(d) + "\n";
    std::ofstream(path, std::ios::binary) << body;
    auto s = SubmitFile(deps_, path, "tenant-a");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    jobs.push_back(s->job.id);
  }
  StartPool(4);
  ASSERT_TRUE(RunUntil([&] { return AllComplete(jobs.size()); }, 60s)) << Unfinished();
  // Each distinct chunk text was billed exactly once: the emulator's tokens equal the tokens
  // of the distinct texts.
  std::map<std::string, int64_t> distinct;
  for (const auto& v : Get(store_->ListJobs({}))) {
    for (const auto& c : Get(store_->ListChunks(v.job.document_id))) {
      distinct[c.text_sha256] = static_cast<int64_t>(deps_.tokens->Count(c.text));
    }
  }
  int64_t tokens = 0;
  for (const auto& [h, n] : distinct) tokens += n;
  EXPECT_GT(distinct.size(), 8u);
  EXPECT_EQ(openai_->Stats().billed_tokens, tokens);
  ExpectLedgerEqualsOpenAiBill();
}

}  // namespace
}  // namespace ingest::pipeline
