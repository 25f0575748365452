// The governor over a real (SQLite) Store with an injected clock: reservations, settlement,
// budgets, provider stops, reconciliation and the gate's rate limiting and breaker.
#include "ingest/governor/governor.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include "ingest/store/sqlite/sqlite_store.h"

namespace ingest::governor {
namespace {

// The value of a Result, by value (a range-for over a temporary Result's contents would dangle).
template <typename T>
T Get(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : T{};
}

Usage U(int64_t tokens, int64_t requests, std::string request_id = "") {
  Usage u;
  u.tokens = tokens;
  u.requests = requests;
  u.provider_request_id = std::move(request_id);
  return u;
}

class GovernorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ingest-governor-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto s = store::OpenSqliteStore(dir_ + "/g.db", &clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->MigrateTo(static_cast<int>(store_->KnownMigrations().size())).ok());
    // $1 per 1,000,000 tokens makes small numbers easy to read: 1 token = 1,000 nanos.
    prices_.embedding_per_token["m"] = 1'000;
    gov_ = std::make_unique<Governor>(store_.get(), &clock_, &prices_, GovernorOptions{});
  }
  void TearDown() override {
    gov_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  CallSpec Embed(int64_t tokens, std::string tenant = "t1", std::string job = "job-1") {
    CallSpec s;
    s.service = "openai";
    s.operation = "embed";
    s.model = "m";
    s.tenant = std::move(tenant);
    s.document_id = "doc-" + job;
    s.job_id = std::move(job);
    s.tokens = tokens;
    return s;
  }

  void SetBudget(store::BudgetScope scope, std::string key, int64_t hard) {
    store::Budget b;
    b.scope = scope;
    b.scope_key = std::move(key);
    b.period = store::BudgetPeriod::kDay;
    b.hard_nanos = hard;
    ASSERT_TRUE(store_->PutBudget(b).ok());
  }

  int64_t Settled() {
    int64_t sum = 0;
    for (const auto& e : Get(store_->ListLedger(std::nullopt))) {
      if (e.state == store::LedgerState::kSettled) sum += e.cost_nanos;
    }
    return sum;
  }

  std::string dir_;
  FakeClock clock_{1'767'225'600'000};  // 2026-01-01T00:00:00Z
  std::unique_ptr<store::Store> store_;
  PriceTable prices_;
  std::unique_ptr<Governor> gov_;
};

TEST_F(GovernorTest, ReserveThenSettleRecordsTheProvidersUsage) {
  auto r = gov_->Reserve(Embed(100));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->estimate_nanos, 100'000);
  auto rows = *store_->ListLedger(std::nullopt);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, store::LedgerState::kReserved);
  EXPECT_GT(rows[0].expires_at, clock_.NowMillis());

  ASSERT_TRUE(gov_->Settle(*r, U(97, 1, "req_1")).ok());
  rows = *store_->ListLedger(std::nullopt);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, store::LedgerState::kSettled);
  EXPECT_EQ(rows[0].tokens, 97);
  EXPECT_EQ(rows[0].cost_nanos, 97'000);
  EXPECT_EQ(rows[0].estimate_nanos, 100'000);
  EXPECT_EQ(rows[0].provider_request_id, "req_1");
}

TEST_F(GovernorTest, A_CallThatBilledNothingIsReleased) {
  auto r = gov_->Reserve(Embed(50));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(gov_->Settle(*r, Usage{}).ok());
  auto rows = *store_->ListLedger(std::nullopt);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, store::LedgerState::kReleased);
  EXPECT_EQ(rows[0].cost_nanos, 0);
}

TEST_F(GovernorTest, UnpricedModelIsRefusedNotGuessed) {
  CallSpec s = Embed(10);
  s.model = "no-such-model";
  auto r = gov_->Reserve(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "no_price");
  EXPECT_TRUE(store_->ListLedger(std::nullopt)->empty());
}

TEST_F(GovernorTest, HardBudgetRefusesWithAReasonNamingIt) {
  SetBudget(store::BudgetScope::kGlobal, "", 250'000);  // 250 tokens
  auto a = gov_->Reserve(Embed(200));
  ASSERT_TRUE(a.ok());
  auto b = gov_->Reserve(Embed(100));  // 200 reserved + 100 > 250
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(b.status().reason(), "budget_exceeded");
  EXPECT_NE(b.status().message().find("global day budget"), std::string::npos)
      << b.status().message();
  EXPECT_NE(b.status().message().find("resumes at 2026-01-02"), std::string::npos)
      << b.status().message();
  // Settling below the estimate frees room.
  ASSERT_TRUE(gov_->Settle(*a, U(150, 1)).ok());
  EXPECT_TRUE(gov_->Reserve(Embed(100)).ok());
}

TEST_F(GovernorTest, TenantAndServiceBudgetsApplyOnlyToTheirCalls) {
  SetBudget(store::BudgetScope::kTenant, "t1", 100'000);
  SetBudget(store::BudgetScope::kService, "llamaparse", 1'000);
  EXPECT_FALSE(gov_->Reserve(Embed(150, "t1")).ok());
  EXPECT_TRUE(gov_->Reserve(Embed(150, "t2")).ok());  // other tenant, openai: uncapped
}

TEST_F(GovernorTest, ThePeriodRollingOverMakesRoomAgain) {
  SetBudget(store::BudgetScope::kGlobal, "", 100'000);
  auto a = gov_->Reserve(Embed(100));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(gov_->Settle(*a, U(100, 1)).ok());
  EXPECT_FALSE(gov_->Reserve(Embed(1)).ok());
  clock_.Advance(std::chrono::hours(24));
  EXPECT_TRUE(gov_->Reserve(Embed(100)).ok());
}

TEST_F(GovernorTest, ManyThreadsNeverReserveBeyondTheHardLimit) {
  constexpr int64_t kHard = 5'000'000;  // 5,000 tokens
  SetBudget(store::BudgetScope::kGlobal, "", kHard);
  std::atomic<int64_t> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 40; ++i) {
        const int64_t tokens = 20 + static_cast<int64_t>(rng() % 60);
        auto r = gov_->Reserve(Embed(tokens, "t1", "job-" + std::to_string(t)));
        if (r.ok()) {
          granted += r->estimate_nanos;
          ASSERT_TRUE(gov_->Settle(*r, U(tokens, 1)).ok());
        } else {
          ASSERT_EQ(r.status().reason(), "budget_exceeded") << r.status().ToString();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(granted.load(), kHard);
  EXPECT_EQ(Settled(), granted.load());
  EXPECT_GT(granted.load(), kHard - 80'000);  // filled to within one largest call
}

TEST_F(GovernorTest, OrphanedReservationsOfAJobAreSettledAtTheirEstimate) {
  auto dead = gov_->Reserve(Embed(40, "t1", "job-x"));  // its caller "crashed" after sending
  ASSERT_TRUE(dead.ok());
  ASSERT_TRUE(gov_->MarkSent(*dead).ok());
  auto other = gov_->Reserve(Embed(10, "t1", "job-y"));
  ASSERT_TRUE(other.ok());
  auto n = gov_->ReconcileJob("doc-job-x", "job-x");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->settled, 1);
  EXPECT_EQ(n->released, 0);
  for (const auto& e : Get(store_->ListLedger(std::nullopt))) {
    if (e.job_id == "job-x") {
      EXPECT_EQ(e.state, store::LedgerState::kSettled);
      EXPECT_EQ(e.cost_nanos, 40'000);
      EXPECT_EQ(e.note.rfind("reconciled:", 0), 0u) << e.note;  // presumed billed
    } else {
      EXPECT_EQ(e.state, store::LedgerState::kReserved);  // another job's call in flight
    }
  }
  // A late settle by the "dead" caller (it was only slow) overwrites with the real usage.
  ASSERT_TRUE(gov_->Settle(*dead, U(38, 1)).ok());
  for (const auto& e : Get(store_->ListLedger(std::nullopt))) {
    if (e.job_id == "job-x") {
      EXPECT_EQ(e.cost_nanos, 38'000);
    }
  }
}

// Issue 12: a provider billing more than was reserved is an incident. The row is settled as
// billed (the ledger equals the bill), every budget the call counts against stops admitting
// work, others do not, and an operator's acknowledgement lets work in again.
TEST_F(GovernorTest, OverrunIsSettledAsBilledAndStopsItsBudgetsUntilAcknowledged) {
  SetBudget(store::BudgetScope::kGlobal, "", 10'000'000);
  SetBudget(store::BudgetScope::kTenant, "t1", 10'000'000);
  SetBudget(store::BudgetScope::kTenant, "t2", 10'000'000);
  auto r = gov_->Reserve(Embed(100, "t1"));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(gov_->Settle(*r, U(130, 1, "req_over")).ok());
  const auto row = store_->ListLedger(std::nullopt)->at(0);
  EXPECT_EQ(row.state, store::LedgerState::kSettled);
  EXPECT_EQ(row.cost_nanos, 130'000);  // as billed
  EXPECT_EQ(row.estimate_nanos, 100'000);

  auto statuses = Get(store_->ListBudgetStatus(clock_.NowMillis()));
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_GT(statuses[0].budget.stopped_at, 0);  // global
  EXPECT_EQ(statuses[0].budget.overrun_nanos, 30'000);
  EXPECT_NE(statuses[0].budget.stop_reason.find("req_over"), std::string::npos);
  EXPECT_GT(statuses[1].budget.stopped_at, 0);  // tenant t1
  EXPECT_EQ(statuses[2].budget.stopped_at, 0);  // tenant t2: not charged
  bool event = false;
  for (const auto& e : Get(store_->ListEvents("job-1", 0))) event |= e.kind == "budget.overrun";
  EXPECT_TRUE(event);

  // Nothing new is admitted, however small, with the stop's reason.
  auto refused = gov_->Reserve(Embed(1, "t1"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), "budget_stopped");
  EXPECT_NE(refused.status().message().find("ingestd budget ack"), std::string::npos);
  // Acknowledging the tenant budget alone is not enough: the global one is stopped too.
  ASSERT_EQ(*store_->AckBudgets(store::BudgetScope::kTenant, "t1", store::BudgetPeriod::kDay,
                                clock_.NowMillis()),
            1);
  EXPECT_EQ(gov_->Reserve(Embed(1, "t1")).status().reason(), "budget_stopped");
  ASSERT_EQ(*store_->AckBudgets(std::nullopt, "", store::BudgetPeriod::kDay, clock_.NowMillis()),
            1);
  EXPECT_TRUE(gov_->Reserve(Embed(1, "t1")).ok());
  EXPECT_EQ(store_
                ->AckBudgets(store::BudgetScope::kTenant, "nobody", store::BudgetPeriod::kDay,
                             clock_.NowMillis())
                .status()
                .code(),
            StatusCode::kNotFound);
}

// Issue 12: an orphan whose request never left is released (the provider never saw it), one
// whose request left is settled at its estimate, and one written by a version that did not
// record sends (sent_at unknown) is presumed sent, as before.
TEST_F(GovernorTest, OrphansNeverSentAreReleasedAndSentOnesPresumedBilled) {
  SetBudget(store::BudgetScope::kGlobal, "", 100'000);
  auto unsent = gov_->Reserve(Embed(40, "t1", "job-x"));
  ASSERT_TRUE(unsent.ok());
  auto sent = gov_->Reserve(Embed(30, "t1", "job-x"));
  ASSERT_TRUE(sent.ok());
  ASSERT_TRUE(gov_->MarkSent(*sent).ok());
  store::LedgerEntry legacy = LedgerRow(Embed(20, "t1", "job-x"), U(20, 1), 20'000);
  legacy.id = "legacy";
  legacy.state = store::LedgerState::kReserved;
  legacy.estimate_nanos = 20'000;
  legacy.sent_at = store::kSentUnknown;
  ASSERT_TRUE(store_->AppendLedger(legacy).ok());
  // 90 of 100 held: a call of 20 does not fit.
  EXPECT_FALSE(gov_->Reserve(Embed(20, "t1", "job-z")).ok());

  auto n = gov_->ReconcileJob("doc-job-x", "job-x");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->released, 1);
  EXPECT_EQ(n->settled, 2);
  for (const auto& e : Get(store_->ListLedger(std::nullopt))) {
    if (e.id == unsent->ledger_id) {
      EXPECT_EQ(e.state, store::LedgerState::kReleased);
      EXPECT_EQ(e.cost_nanos, 0);
      EXPECT_EQ(e.estimate_nanos, 40'000);
      EXPECT_EQ(e.note.rfind("released: never sent", 0), 0u) << e.note;
    } else {
      EXPECT_EQ(e.state, store::LedgerState::kSettled) << e.id;
      EXPECT_EQ(e.cost_nanos, e.id == "legacy" ? 20'000 : 30'000);
      EXPECT_EQ(e.note.rfind("reconciled:", 0), 0u) << e.note;
      if (e.id != "legacy") {
        EXPECT_GT(e.sent_at, 0);
      }
    }
  }
  // The released 40 went back to the budget: 50 of 100 spent.
  EXPECT_TRUE(gov_->Reserve(Embed(20, "t1", "job-z")).ok());
}

TEST_F(GovernorTest, MaintainReconcilesExpiredReservations) {
  auto sent = gov_->Reserve(Embed(30));
  ASSERT_TRUE(sent.ok());
  ASSERT_TRUE(gov_->MarkSent(*sent).ok());
  auto unsent = gov_->Reserve(Embed(25));
  ASSERT_TRUE(unsent.ok());
  ASSERT_TRUE(gov_->Maintain().ok());
  for (const auto& e : Get(store_->ListLedger(std::nullopt))) {
    EXPECT_EQ(e.state, store::LedgerState::kReserved);
  }
  clock_.Advance(GovernorOptions{}.reservation_ttl + std::chrono::seconds(1));
  ASSERT_TRUE(gov_->Maintain().ok());
  for (const auto& e : Get(store_->ListLedger(std::nullopt))) {
    if (e.id == sent->ledger_id) {
      EXPECT_EQ(e.state, store::LedgerState::kSettled);
      EXPECT_EQ(e.cost_nanos, 30'000);
      EXPECT_NE(e.note.find("reservation expired"), std::string::npos) << e.note;
    } else {
      EXPECT_EQ(e.state, store::LedgerState::kReleased);
      EXPECT_EQ(e.cost_nanos, 0);
      EXPECT_EQ(e.note.rfind("released: never sent", 0), 0u) << e.note;
    }
  }
}

TEST_F(GovernorTest, QuotaRefusalStopsTheProviderUntilResumed) {
  ProviderOptions p;
  p.name = "openai";
  auto gate = gov_->AddProvider(p);
  ASSERT_TRUE(gate.ok());
  ASSERT_TRUE((*gate)->Admit(10).ok());
  http::HttpResponse res;
  res.status = 429;
  (*gate)->Observe(http::CallOutcome{
      .response = &res,
      .status = ResourceExhausted("You exceeded your current quota", "insufficient_quota")});
  Status refused = (*gate)->Admit(10);
  EXPECT_EQ(refused.reason(), "provider_stopped") << refused.ToString();
  EXPECT_EQ(gov_->Reserve(Embed(5)).status().reason(), "provider_stopped");
  auto states = *store_->ListProviderStates();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_TRUE(states[0].stopped);
  EXPECT_EQ(states[0].reason, "insufficient_quota");
  auto events = *store_->ListEvents(std::nullopt, 10);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].kind, "provider.stopped");

  ASSERT_TRUE(gov_->ResumeProvider("openai").ok());
  EXPECT_TRUE((*gate)->Admit(10).ok());
  EXPECT_TRUE(gov_->Reserve(Embed(5)).ok());
}

TEST_F(GovernorTest, AConfiguredProbeLetsOneCallThroughAndItsSuccessResumes) {
  ProviderOptions p;
  p.name = "openai";
  p.stop_probe_after = std::chrono::seconds(60);
  auto gate = gov_->AddProvider(p);
  ASSERT_TRUE(gate.ok());
  http::HttpResponse refused;
  refused.status = 429;
  (*gate)->Observe(http::CallOutcome{.response = &refused,
                                     .status = ResourceExhausted("quota", "insufficient_quota")});
  EXPECT_EQ((*gate)->Admit(1).reason(), "provider_stopped");
  clock_.Advance(std::chrono::seconds(61));
  EXPECT_TRUE((*gate)->Admit(1).ok());                        // the probe
  EXPECT_EQ((*gate)->Admit(1).reason(), "provider_stopped");  // only one
  http::HttpResponse ok;
  ok.status = 200;
  (*gate)->Observe(http::CallOutcome{.response = &ok, .status = Status::Ok()});
  EXPECT_TRUE((*gate)->Admit(1).ok());
  EXPECT_FALSE(Get(store_->ListProviderStates()).at(0).stopped);
}

TEST_F(GovernorTest, TheGateReservesTheCallScopeOnceRightBeforeTheFirstRequest) {
  ProviderOptions p;
  p.name = "openai";
  auto gate = gov_->AddProvider(p);
  ASSERT_TRUE(gate.ok());
  ASSERT_TRUE((*gate)->Admit(10).ok());  // no scope: nothing to reserve
  EXPECT_TRUE(Get(store_->ListLedger(std::nullopt)).empty());
  {
    CallScope scope(gov_.get(), Embed(60));
    EXPECT_FALSE(scope.reservation());
    ASSERT_TRUE((*gate)->Admit(30).ok());
    ASSERT_TRUE(scope.reservation());
    EXPECT_EQ(scope.reservation()->estimate_nanos, 60'000);
    EXPECT_TRUE(scope.sent());
    const UnixMillis sent_at = Get(store_->ListLedger(std::nullopt)).at(0).sent_at;
    EXPECT_EQ(sent_at, clock_.NowMillis());  // marked sent as the first request left
    clock_.Advance(std::chrono::seconds(1));
    ASSERT_TRUE((*gate)->Admit(30).ok());  // a second request of the same call
    EXPECT_EQ(Get(store_->ListLedger(std::nullopt)).size(), 1u);
    EXPECT_EQ(Get(store_->ListLedger(std::nullopt)).at(0).sent_at, sent_at);
    ASSERT_TRUE(gov_->Settle(*scope.reservation(), U(60, 2)).ok());
  }
  SetBudget(store::BudgetScope::kGlobal, "", 100'000);
  {
    CallScope scope(gov_.get(), Embed(50));  // 60 settled + 50 > 100
    Status refused = (*gate)->Admit(50);
    EXPECT_EQ(refused.reason(), "budget_exceeded") << refused.ToString();
    EXPECT_FALSE(scope.reservation());
  }
  EXPECT_EQ(Get(store_->ListLedger(std::nullopt)).size(), 1u);
}

// A reservation made beforehand (a LlamaParse upload) is adopted by a scope: the gate only marks
// it sent. One a reconciler already released (its caller took too long) must not be sent.
TEST_F(GovernorTest, TheGateMarksAnAdoptedReservationSentAndRefusesAReleasedOne) {
  ProviderOptions p;
  p.name = "openai";
  auto gate = gov_->AddProvider(p);
  ASSERT_TRUE(gate.ok());
  auto r = gov_->Reserve(Embed(10));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Get(store_->ListLedger(std::nullopt)).at(0).sent_at, 0);
  {
    CallScope scope(gov_.get(), *r);
    ASSERT_TRUE((*gate)->Admit(0).ok());
    EXPECT_TRUE(scope.sent());
  }
  EXPECT_EQ(Get(store_->ListLedger(std::nullopt)).size(), 1u);
  EXPECT_EQ(Get(store_->ListLedger(std::nullopt)).at(0).sent_at, clock_.NowMillis());

  auto late = gov_->Reserve(Embed(10, "t1", "job-late"));
  ASSERT_TRUE(late.ok());
  ASSERT_TRUE(gov_->Release(*late, "reconciled away").ok());
  CallScope scope(gov_.get(), *late);
  Status refused = (*gate)->Admit(0);
  EXPECT_EQ(refused.reason(), "not_reserved") << refused.ToString();
  EXPECT_FALSE(scope.sent());
}

TEST_F(GovernorTest, AuthFailureStopsTheProviderToo) {
  ProviderOptions p;
  p.name = "llamaparse";
  auto gate = gov_->AddProvider(p);
  ASSERT_TRUE(gate.ok());
  http::HttpResponse res;
  res.status = 401;
  (*gate)->Observe(
      http::CallOutcome{.response = &res, .status = Unauthenticated("bad key", "invalid_api_key")});
  EXPECT_EQ((*gate)->Admit(0).reason(), "provider_stopped");
}

TEST_F(GovernorTest, ServerErrorsOpenTheBreakerAndRefuseCalls) {
  ProviderOptions p;
  p.name = "openai";
  p.breaker.min_calls = 3;
  p.breaker.open_for = std::chrono::seconds(5);
  auto gate = gov_->AddProvider(p);
  ASSERT_TRUE(gate.ok());
  http::HttpResponse res;
  res.status = 503;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*gate)->Admit(1).ok());
    (*gate)->Observe(http::CallOutcome{.response = &res, .status = Unavailable("503", "http_503")});
  }
  EXPECT_EQ((*gate)->Admit(1).reason(), "circuit_open");
  EXPECT_EQ(gov_->Health().at(0).circuit, CircuitState::kOpen);
  clock_.Advance(std::chrono::seconds(6));
  ASSERT_TRUE((*gate)->Admit(1).ok());  // the half-open probe
  res.status = 200;
  (*gate)->Observe(http::CallOutcome{.response = &res, .status = Status::Ok()});
  EXPECT_EQ(gov_->Health().at(0).circuit, CircuitState::kClosed);
}

TEST_F(GovernorTest, SharedBucketsPaceCallersAndRefuseLongWaits) {
  ProviderOptions p;
  p.name = "openai";
  p.rate.tokens_per_minute = 6000;  // 100 tokens/s at target 1.0
  p.rate.target_ratio = 1.0;
  p.rate.max_wait = std::chrono::milliseconds(50);
  auto gate = gov_->AddProvider(p);
  ASSERT_TRUE(gate.ok());
  // The bucket starts full: a minute's allowance goes at once, then a caller needing 5 more
  // tokens would wait 50 ms (allowed), and one needing 100 more 1 s (refused, nothing taken).
  ASSERT_TRUE((*gate)->Admit(6000).ok());
  EXPECT_TRUE((*gate)->Admit(5).ok());
  Status late = (*gate)->Admit(100);
  EXPECT_EQ(late.reason(), "rate_limited") << late.ToString();
  auto buckets = *store_->ListRateBuckets(clock_.NowMillis());
  ASSERT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets[0].kind, "tokens");
  EXPECT_NEAR(buckets[0].available, -5, 1e-6);
}

TEST_F(GovernorTest, RateLimitHeadersTeachTheAllowanceAndRetryAfterBlocksEveryone) {
  ProviderOptions p;
  p.name = "openai";
  auto gate = gov_->AddProvider(p);
  ASSERT_TRUE(gate.ok());
  http::HttpResponse res;
  res.status = 200;
  res.headers.emplace("x-ratelimit-limit-requests", "600");
  res.headers.emplace("x-ratelimit-limit-tokens", "60000");
  res.headers.emplace("x-ratelimit-remaining-requests", "599");
  res.headers.emplace("x-ratelimit-remaining-tokens", "1000");
  ASSERT_TRUE((*gate)->Admit(10).ok());
  (*gate)->Observe(http::CallOutcome{.response = &res, .status = Status::Ok()});
  auto buckets = *store_->ListRateBuckets(clock_.NowMillis());
  ASSERT_EQ(buckets.size(), 2u);
  for (const auto& b : buckets) {
    if (b.kind == "tokens") {
      EXPECT_NEAR(b.capacity, 60000 * 0.97, 1);
      EXPECT_NEAR(b.available, 1000, 1e-6);  // what the provider says is left
    } else {
      EXPECT_NEAR(b.capacity, 600 * 0.97, 1);
    }
  }
  http::HttpResponse limited;
  limited.status = 429;
  limited.headers.emplace("retry-after-ms", "800");
  (*gate)->Observe(
      http::CallOutcome{.response = &limited, .status = Unavailable("slow down", "rate_limited")});
  for (const auto& b : Get(store_->ListRateBuckets(clock_.NowMillis()))) {
    EXPECT_EQ(b.blocked_until, clock_.NowMillis() + 800);
  }
}

}  // namespace
}  // namespace ingest::governor
