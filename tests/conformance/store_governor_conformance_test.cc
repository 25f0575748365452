// Store conformance, governor part (DESIGN §5): reservations against budgets, period windows,
// shared rate buckets, provider state and waking deferred jobs. Like store_conformance_test.cc
// it speaks only the Store interface and runs unchanged on every backend. Times are explicit
// `now` values, never the wall clock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ingest/common/hash.h"
#include "ingest/common/ids.h"
#include "ingest/store/store.h"
#include "store_factories_support.h"

namespace ingest::store {
namespace {

using ::ingest::testing::StoreFactory;
using ::testing::ElementsAre;

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
// 2026-11-29T18:30:00Z; its hour starts at 18:00, its day at 2026-11-29T00:00Z, its month at
// 2026-11-01T00:00Z (values from Python's datetime with timezone.utc).
constexpr UnixMillis kT = 1795977000000;
constexpr UnixMillis kHourStart = 1795975200000;
constexpr UnixMillis kDayStart = 1795910400000;
constexpr UnixMillis kMonthStart = 1793491200000;
constexpr UnixMillis kMonthEnd = 1796083200000;

class StoreGovernorConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(&clock_);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->MigrateTo(store_->KnownMigrations().back().version).ok());
  }

  static LedgerEntry Call(const std::string& id, const std::string& service,
                          const std::string& tenant, int64_t cost_nanos,
                          UnixMillis expires_at = 0) {
    LedgerEntry e;
    e.id = id;
    e.service = service;
    e.operation = service == "llamaparse" ? "parse" : "embed";
    e.tenant = tenant;
    e.document_id = "doc-" + id;
    e.job_id = "job-" + id;
    e.model = "m";
    e.requests = 1;
    e.cost_nanos = cost_nanos;
    e.expires_at = expires_at;
    return e;
  }

  // A settled row written directly (AppendLedger) at `created_at`.
  void Spent(const std::string& id, const std::string& service, const std::string& tenant,
             int64_t cost_nanos, UnixMillis created_at, LedgerState state = LedgerState::kSettled) {
    LedgerEntry e = Call(id, service, tenant, cost_nanos);
    e.state = state;
    e.created_at = created_at;
    ASSERT_TRUE(store_->AppendLedger(e).ok());
  }

  static Budget MakeBudget(BudgetScope scope, const std::string& key, BudgetPeriod period,
                           int64_t hard_nanos) {
    Budget b;
    b.scope = scope;
    b.scope_key = key;
    b.period = period;
    b.hard_nanos = hard_nanos;
    b.soft_ratio = 0.75;
    return b;
  }

  ReserveResult MustReserve(const LedgerEntry& e, UnixMillis now) {
    auto r = store_->Reserve(e, now);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ReserveResult{};
  }

  LedgerEntry Row(const std::string& id) {
    auto all = store_->ListLedger(std::nullopt);
    EXPECT_TRUE(all.ok());
    for (const LedgerEntry& e : *all) {
      if (e.id == id) return e;
    }
    ADD_FAILURE() << "no ledger row " << id;
    return {};
  }

  RateBucket Bucket(const std::string& key, const std::string& kind, UnixMillis now) {
    auto all = store_->ListRateBuckets(now);
    EXPECT_TRUE(all.ok());
    for (const RateBucket& b : *all) {
      if (b.key == key && b.kind == kind) return b;
    }
    ADD_FAILURE() << "no rate bucket " << key << "/" << kind;
    return {};
  }

  // A document + job, leased and then moved to `state` with `reason` and next_attempt_at `due`.
  Job JobIn(const std::string& name, JobState state, const std::string& reason, UnixMillis due) {
    Document d;
    d.sha256 = Sha256Hex(name);
    d.id = DocumentId(d.tenant, d.sha256);
    d.filename = name;
    Job j;
    j.id = JobId(d.id);
    j.next_attempt_at = 0;
    EXPECT_TRUE(store_->SubmitDocument(d, j).ok());
    auto l = store_->LeaseNext("w", Duration(60'000), clock_.NowMillis());
    EXPECT_TRUE(l.ok() && l->has_value());
    if (!l.ok() || !l->has_value()) return {};
    JobUpdate u{};
    u.stage = Stage::kEmbed;
    u.state = state;
    u.attempts = 0;
    u.next_attempt_at = due;
    u.defer_reason = reason;
    auto written = store_->UpdateJob((*l)->job.id, (*l)->job.version, u, clock_.NowMillis());
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    return written.ok() ? *written : Job{};
  }

  FakeClock clock_{kT};
  std::unique_ptr<Store> store_;
};

// --- reservations -----------------------------------------------------------------------------

TEST_P(StoreGovernorConformance, ReserveSettleReleaseLifecycle) {
  LedgerEntry call = Call("r1", "openai", "acme", 1'000, kT + 60'000);
  call.state = LedgerState::kSettled;  // ignored: a reservation is always reserved
  call.estimate_nanos = 5;             // ignored: the estimate is cost_nanos
  call.created_at = 7;                 // ignored: created at `now`
  ReserveResult r = MustReserve(call, kT);
  EXPECT_TRUE(r.reserved);
  EXPECT_FALSE(r.blocked_by.has_value());
  LedgerEntry row = Row("r1");
  EXPECT_EQ(row.state, LedgerState::kReserved);
  EXPECT_EQ(row.cost_nanos, 1'000);
  EXPECT_EQ(row.estimate_nanos, 1'000);
  EXPECT_EQ(row.created_at, kT);
  EXPECT_EQ(row.updated_at, kT);
  EXPECT_EQ(row.expires_at, kT + 60'000);
  EXPECT_EQ(row.tenant, "acme");
  EXPECT_EQ(row.job_id, "job-r1");

  // Settle with the provider's usage: estimate, created_at and expires_at stay.
  LedgerEntry usage = Call("r1", "openai", "acme", 830);
  usage.tokens = 41'500;
  usage.provider_request_id = "req-abc";
  usage.note = "usage from response";
  ASSERT_TRUE(store_->SettleLedger(usage, kT + 250).ok());
  row = Row("r1");
  EXPECT_EQ(row.state, LedgerState::kSettled);
  EXPECT_EQ(row.cost_nanos, 830);
  EXPECT_EQ(row.tokens, 41'500);
  EXPECT_EQ(row.requests, 1);
  EXPECT_EQ(row.provider_request_id, "req-abc");
  EXPECT_EQ(row.note, "usage from response");
  EXPECT_EQ(row.estimate_nanos, 1'000);
  EXPECT_EQ(row.created_at, kT);
  EXPECT_EQ(row.updated_at, kT + 250);
  EXPECT_EQ(row.expires_at, kT + 60'000);

  // Settling again with the same facts is idempotent: one row, same values.
  ASSERT_TRUE(store_->SettleLedger(usage, kT + 250).ok());
  auto all = store_->ListLedger(std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].cost_nanos, 830);
  EXPECT_EQ((*all)[0].tokens, 41'500);
  EXPECT_EQ((*all)[0].updated_at, kT + 250);

  // Identity columns of an existing row are not rewritten by a settle.
  LedgerEntry other_identity = usage;
  other_identity.tenant = "globex";
  other_identity.service = "llamaparse";
  ASSERT_TRUE(store_->SettleLedger(other_identity, kT + 300).ok());
  EXPECT_EQ(Row("r1").tenant, "acme");
  EXPECT_EQ(Row("r1").service, "openai");

  // A settled row cannot be released.
  Status st = store_->ReleaseLedger("r1", "not billed", kT + 400);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.reason(), "not_reserved");
  EXPECT_EQ(Row("r1").state, LedgerState::kSettled);
  EXPECT_EQ(store_->ReleaseLedger("missing", "", kT).code(), StatusCode::kNotFound);

  // Release: cost goes to 0, the estimate and the note stay.
  ASSERT_TRUE(MustReserve(Call("r2", "openai", "acme", 2'000, kT + 60'000), kT).reserved);
  ASSERT_TRUE(store_->ReleaseLedger("r2", "429: not billed", kT + 10).ok());
  row = Row("r2");
  EXPECT_EQ(row.state, LedgerState::kReleased);
  EXPECT_EQ(row.cost_nanos, 0);
  EXPECT_EQ(row.estimate_nanos, 2'000);
  EXPECT_EQ(row.note, "429: not billed");
  EXPECT_EQ(row.updated_at, kT + 10);
  st = store_->ReleaseLedger("r2", "again", kT + 20);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.reason(), "not_reserved");
  EXPECT_EQ(Row("r2").note, "429: not billed");

  // A released call that turns out to have been billed may still be settled.
  LedgerEntry late = Call("r2", "openai", "acme", 1'900);
  late.note = "reconciled: billed after all";
  ASSERT_TRUE(store_->SettleLedger(late, kT + 30).ok());
  row = Row("r2");
  EXPECT_EQ(row.state, LedgerState::kSettled);
  EXPECT_EQ(row.cost_nanos, 1'900);
  EXPECT_EQ(row.estimate_nanos, 2'000);
  EXPECT_EQ(row.note, "reconciled: billed after all");

  // Settling an id never reserved inserts it, created now.
  LedgerEntry fresh = Call("s1", "llamaparse", "acme", 3'000);
  fresh.pages = 2;
  fresh.credits = 6;
  ASSERT_TRUE(store_->SettleLedger(fresh, kT + 40).ok());
  row = Row("s1");
  EXPECT_EQ(row.state, LedgerState::kSettled);
  EXPECT_EQ(row.created_at, kT + 40);
  EXPECT_EQ(row.pages, 2);
  EXPECT_EQ(row.credits, 6);
  EXPECT_EQ(row.operation, "parse");
  EXPECT_EQ(row.expires_at, 0);
}

TEST_P(StoreGovernorConformance, ReserveRejectsBadInputAndDuplicates) {
  EXPECT_EQ(store_->Reserve(Call("", "openai", "a", 1), kT).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Reserve(Call("neg", "openai", "a", -1), kT).status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(MustReserve(Call("dup", "openai", "a", 10), kT).reserved);
  EXPECT_EQ(store_->Reserve(Call("dup", "openai", "a", 20), kT).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(Row("dup").cost_nanos, 10);
  EXPECT_EQ(store_->SettleLedger(Call("", "openai", "a", 1), kT).code(),
            StatusCode::kInvalidArgument);
}

TEST_P(StoreGovernorConformance, ExpiredReservationsAreListedByExpiry) {
  ASSERT_TRUE(MustReserve(Call("late", "openai", "a", 1, kT + 100), kT).reserved);
  ASSERT_TRUE(MustReserve(Call("early", "openai", "a", 1, kT + 50), kT).reserved);
  ASSERT_TRUE(MustReserve(Call("never", "openai", "a", 1, 0), kT).reserved);
  ASSERT_TRUE(MustReserve(Call("settled", "openai", "a", 1, kT + 10), kT).reserved);
  ASSERT_TRUE(MustReserve(Call("released", "openai", "a", 1, kT + 10), kT).reserved);
  ASSERT_TRUE(store_->SettleLedger(Call("settled", "openai", "a", 1), kT + 1).ok());
  ASSERT_TRUE(store_->ReleaseLedger("released", "", kT + 1).ok());

  auto ids = [&](UnixMillis now) {
    std::vector<std::string> out;
    auto r = store_->ListExpiredReservations(now);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) {
      for (const LedgerEntry& e : *r) out.push_back(e.id);
    }
    return out;
  };
  EXPECT_TRUE(ids(kT + 49).empty());
  EXPECT_THAT(ids(kT + 50), ElementsAre("early"));
  EXPECT_THAT(ids(kT + 1'000'000), ElementsAre("early", "late"));
  auto rows = store_->ListExpiredReservations(kT + 100);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[1].expires_at, kT + 100);
  EXPECT_EQ((*rows)[1].state, LedgerState::kReserved);
  EXPECT_EQ((*rows)[1].estimate_nanos, 1);
}

TEST_P(StoreGovernorConformance, AppendLedgerRoundTripsGovernorColumns) {
  LedgerEntry e = Call("a1", "openai", "acme", 700, kT + 5);
  e.state = LedgerState::kReserved;
  e.estimate_nanos = 900;
  e.note = "imported";
  e.created_at = kT;
  ASSERT_TRUE(store_->AppendLedger(e).ok());
  LedgerEntry row = Row("a1");
  EXPECT_EQ(row.estimate_nanos, 900);
  EXPECT_EQ(row.expires_at, kT + 5);
  EXPECT_EQ(row.note, "imported");
  EXPECT_EQ(row.created_at, kT);
  EXPECT_EQ(row.updated_at, kT);
}

// --- budgets ----------------------------------------------------------------------------------

TEST_P(StoreGovernorConformance, PutBudgetValidatesUpsertsAndDeletes) {
  EXPECT_EQ(store_->PutBudget(MakeBudget(BudgetScope::kGlobal, "x", BudgetPeriod::kDay, 1)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->PutBudget(MakeBudget(BudgetScope::kTenant, "", BudgetPeriod::kDay, 1)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->PutBudget(MakeBudget(BudgetScope::kService, "", BudgetPeriod::kDay, 1)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->PutBudget(MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kDay, -1)).code(),
            StatusCode::kInvalidArgument);
  Budget ratio = MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kDay, 1);
  ratio.soft_ratio = 0;
  EXPECT_EQ(store_->PutBudget(ratio).code(), StatusCode::kInvalidArgument);
  ratio.soft_ratio = 1.5;
  EXPECT_EQ(store_->PutBudget(ratio).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->ListBudgetStatus(kT)->empty());

  // Inserted in scrambled order; listed by scope, key, period in enum order.
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kService, "openai", BudgetPeriod::kMonth, 9)).ok());
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kTenant, "zeta", BudgetPeriod::kDay, 8)).ok());
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kTenant, "acme", BudgetPeriod::kMonth, 7)).ok());
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kTenant, "acme", BudgetPeriod::kHour, 6)).ok());
  ASSERT_TRUE(store_->PutBudget(MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kDay, 5)).ok());
  Budget explicit_time = MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kHour, 4);
  explicit_time.updated_at = 1234;
  ASSERT_TRUE(store_->PutBudget(explicit_time).ok());

  auto list = store_->ListBudgetStatus(kT);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> order;
  for (const BudgetStatus& s : *list) {
    order.push_back(std::string(BudgetScopeName(s.budget.scope)) + ":" + s.budget.scope_key + ":" +
                    std::string(BudgetPeriodName(s.budget.period)));
  }
  EXPECT_THAT(order, ElementsAre("global::hour", "global::day", "tenant:acme:hour",
                                 "tenant:acme:month", "tenant:zeta:day", "service:openai:month"));
  EXPECT_EQ((*list)[0].budget.updated_at, 1234);
  EXPECT_EQ((*list)[1].budget.updated_at, kT);  // the store clock when not given
  EXPECT_EQ((*list)[1].budget.hard_nanos, 5);
  EXPECT_DOUBLE_EQ((*list)[1].budget.soft_ratio, 0.75);

  // Upsert on (scope, key, period).
  Budget raised = MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kDay, 50);
  raised.soft_ratio = 1.0;
  ASSERT_TRUE(store_->PutBudget(raised).ok());
  list = store_->ListBudgetStatus(kT);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 6u);
  EXPECT_EQ((*list)[1].budget.hard_nanos, 50);
  EXPECT_DOUBLE_EQ((*list)[1].budget.soft_ratio, 1.0);

  ASSERT_TRUE(store_->DeleteBudget(BudgetScope::kTenant, "acme", BudgetPeriod::kHour).ok());
  EXPECT_EQ(store_->DeleteBudget(BudgetScope::kTenant, "acme", BudgetPeriod::kHour).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteBudget(BudgetScope::kTenant, "acme", BudgetPeriod::kDay).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->ListBudgetStatus(kT)->size(), 5u);
}

TEST_P(StoreGovernorConformance, BudgetScopesDecideWhatCountsAndWhatBlocks) {
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kDay, 10'000)).ok());
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kTenant, "acme", BudgetPeriod::kDay, 3'000)).ok());
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kService, "openai", BudgetPeriod::kHour, 2'000))
          .ok());

  // Earlier today, outside the current hour: counts for the day budgets, not the hour one.
  Spent("old-openai", "openai", "globex", 500, kHourStart - 1);
  // Released rows never count.
  Spent("released", "openai", "acme", 0, kT - 10, LedgerState::kReleased);

  ReserveResult a = MustReserve(Call("a", "openai", "acme", 1'500), kT);
  EXPECT_TRUE(a.reserved);

  // acme: 1'500 + 1'600 > 3'000 → the tenant budget refuses (global has room; it is checked
  // first and passes).
  ReserveResult b = MustReserve(Call("b", "llamaparse", "acme", 1'600), kT);
  EXPECT_FALSE(b.reserved);
  ASSERT_TRUE(b.blocked_by.has_value());
  EXPECT_EQ(b.blocked_by->budget.scope, BudgetScope::kTenant);
  EXPECT_EQ(b.blocked_by->budget.scope_key, "acme");
  EXPECT_EQ(b.blocked_by->reserved_nanos, 1'500);
  EXPECT_EQ(b.blocked_by->settled_nanos, 0);
  EXPECT_EQ(b.blocked_by->window.start, kDayStart);
  EXPECT_EQ(b.blocked_by->window.end, kDayStart + kDay);
  auto rows = store_->ListLedger(std::nullopt);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 3u);  // nothing written for "b"

  // Exactly at the limit is allowed.
  EXPECT_TRUE(MustReserve(Call("c", "llamaparse", "acme", 1'500), kT).reserved);

  // openai this hour: 1'500 + 600 > 2'000 → the service budget refuses; the 500 spent before
  // this hour does not count for it.
  ReserveResult d = MustReserve(Call("d", "openai", "globex", 600), kT);
  EXPECT_FALSE(d.reserved);
  ASSERT_TRUE(d.blocked_by.has_value());
  EXPECT_EQ(d.blocked_by->budget.scope, BudgetScope::kService);
  EXPECT_EQ(d.blocked_by->budget.period, BudgetPeriod::kHour);
  EXPECT_EQ(d.blocked_by->reserved_nanos, 1'500);
  EXPECT_EQ(d.blocked_by->window.start, kHourStart);
  EXPECT_TRUE(MustReserve(Call("e", "openai", "globex", 500), kT).reserved);

  // Settled spend counts too: global day = 500 + 1'500 + 1'500 + 500 = 4'000 so far.
  Spent("f", "llamaparse", "globex", 5'000, kT - 1);
  ReserveResult g = MustReserve(Call("g", "llamaparse", "globex", 1'001), kT);
  EXPECT_FALSE(g.reserved);
  ASSERT_TRUE(g.blocked_by.has_value());
  EXPECT_EQ(g.blocked_by->budget.scope, BudgetScope::kGlobal);
  EXPECT_EQ(g.blocked_by->settled_nanos, 5'500);
  EXPECT_EQ(g.blocked_by->reserved_nanos, 3'500);
  EXPECT_TRUE(MustReserve(Call("h", "llamaparse", "globex", 1'000), kT).reserved);

  auto status = store_->ListBudgetStatus(kT);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->size(), 3u);
  EXPECT_EQ((*status)[0].budget.scope, BudgetScope::kGlobal);
  EXPECT_EQ((*status)[0].settled_nanos, 5'500);
  EXPECT_EQ((*status)[0].reserved_nanos, 4'500);
  EXPECT_EQ((*status)[1].budget.scope, BudgetScope::kTenant);
  EXPECT_EQ((*status)[1].reserved_nanos, 3'000);
  EXPECT_EQ((*status)[1].settled_nanos, 0);
  EXPECT_EQ((*status)[2].budget.scope, BudgetScope::kService);
  EXPECT_EQ((*status)[2].reserved_nanos, 2'000);
  EXPECT_EQ((*status)[2].window.start, kHourStart);
  EXPECT_EQ((*status)[2].window.end, kHourStart + kHour);

  // Settling below the estimate and releasing free room.
  ASSERT_TRUE(store_->SettleLedger(Call("a", "openai", "acme", 1'000), kT + 1).ok());
  ASSERT_TRUE(store_->ReleaseLedger("c", "refused before sending", kT + 1).ok());
  status = store_->ListBudgetStatus(kT + 1);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)[1].settled_nanos, 1'000);
  EXPECT_EQ((*status)[1].reserved_nanos, 0);
  EXPECT_TRUE(MustReserve(Call("i", "llamaparse", "acme", 2'000), kT + 1).reserved);

  // Rows without a matching budget are never blocked by other scopes' budgets.
  ASSERT_TRUE(store_->DeleteBudget(BudgetScope::kGlobal, "", BudgetPeriod::kDay).ok());
  EXPECT_TRUE(MustReserve(Call("j", "local", "globex", 1'000'000), kT + 1).reserved);
}

// Issue 12: an overrun stops every budget the overbilled row counts against (any period), a
// stopped budget refuses every reservation, PutBudget keeps the stop, and an ack clears it.
TEST_P(StoreGovernorConformance, StoppedBudgetsRefuseUntilAcknowledged) {
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kDay, 10'000)).ok());
  ASSERT_TRUE(
      store_
          ->PutBudget(MakeBudget(BudgetScope::kService, "llamaparse", BudgetPeriod::kMonth, 10'000))
          .ok());
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kService, "openai", BudgetPeriod::kDay, 10'000))
          .ok());
  LedgerEntry over = Call("over", "llamaparse", "acme", 500);
  auto stopped = store_->StopBudgets(over, 125, "billed 625 against 500", kT);
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(*stopped, 2);  // global day + llamaparse month; not openai
  ASSERT_TRUE(store_->StopBudgets(over, 75, "again", kT + 5).ok());
  auto list = store_->ListBudgetStatus(kT + 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].budget.stopped_at, kT);  // the first stop's time is kept
  EXPECT_EQ((*list)[0].budget.overrun_nanos, 200);
  EXPECT_EQ((*list)[0].budget.stop_reason, "again");
  EXPECT_EQ((*list)[2].budget.scope_key, "openai");
  EXPECT_EQ((*list)[2].budget.stopped_at, 0);

  // Every reservation charged to a stopped budget is refused, even a free one.
  ReserveResult r = MustReserve(Call("free", "openai", "acme", 0), kT + 10);
  EXPECT_FALSE(r.reserved);
  ASSERT_TRUE(r.blocked_by.has_value());
  EXPECT_GT(r.blocked_by->budget.stopped_at, 0);
  // Raising the limit does not clear the stop.
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kDay, 20'000)).ok());
  EXPECT_FALSE(MustReserve(Call("free2", "openai", "acme", 0), kT + 10).reserved);

  auto acked = store_->AckBudgets(BudgetScope::kGlobal, "", BudgetPeriod::kDay, kT + 20);
  ASSERT_TRUE(acked.ok()) << acked.status().ToString();
  EXPECT_EQ(*acked, 1);
  EXPECT_TRUE(MustReserve(Call("ok", "openai", "acme", 100), kT + 20).reserved);
  EXPECT_FALSE(MustReserve(Call("lp", "llamaparse", "acme", 100), kT + 20).reserved);
  EXPECT_EQ(*store_->AckBudgets(std::nullopt, "", BudgetPeriod::kDay, kT + 30), 1);
  EXPECT_TRUE(MustReserve(Call("lp2", "llamaparse", "acme", 100), kT + 30).reserved);
  EXPECT_EQ(*store_->AckBudgets(std::nullopt, "", BudgetPeriod::kDay, kT + 40), 0);
  EXPECT_EQ(
      store_->AckBudgets(BudgetScope::kTenant, "nobody", BudgetPeriod::kDay, kT).status().code(),
      StatusCode::kNotFound);
  list = store_->ListBudgetStatus(kT + 40);
  ASSERT_TRUE(list.ok());
  for (const BudgetStatus& b : *list) {
    EXPECT_EQ(b.budget.stopped_at, 0);
    EXPECT_EQ(b.budget.overrun_nanos, 0);
    EXPECT_EQ(b.budget.stop_reason, "");
  }
}

TEST_P(StoreGovernorConformance, PeriodWindowsRollOver) {
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kMonth, 1'000)).ok());
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kTenant, "acme", BudgetPeriod::kDay, 400)).ok());
  // Last millisecond of October and first of December: outside November's window.
  Spent("oct", "openai", "acme", 900, kMonthStart - 1);
  Spent("dec", "openai", "acme", 900, kMonthEnd);
  // Yesterday: inside the month, outside today.
  Spent("yesterday", "openai", "acme", 300, kDayStart - 1);

  auto status = store_->ListBudgetStatus(kT);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->size(), 2u);
  EXPECT_EQ((*status)[0].window.start, kMonthStart);
  EXPECT_EQ((*status)[0].window.end, kMonthEnd);
  EXPECT_EQ((*status)[0].settled_nanos, 300);
  EXPECT_EQ((*status)[1].window.start, kDayStart);
  EXPECT_EQ((*status)[1].settled_nanos, 0);

  EXPECT_TRUE(MustReserve(Call("r1", "openai", "acme", 400), kT).reserved);
  EXPECT_FALSE(MustReserve(Call("r2", "openai", "acme", 1), kT).reserved);  // day is full
  // The next day the tenant budget has room again; the month still holds 700.
  const UnixMillis tomorrow = kT + kDay;
  EXPECT_TRUE(MustReserve(Call("r3", "openai", "acme", 300), tomorrow).reserved);
  ReserveResult month_full = MustReserve(Call("r4", "openai", "globex", 1), tomorrow);
  EXPECT_FALSE(month_full.reserved);
  ASSERT_TRUE(month_full.blocked_by.has_value());
  EXPECT_EQ(month_full.blocked_by->budget.period, BudgetPeriod::kMonth);
  EXPECT_EQ(month_full.blocked_by->settled_nanos + month_full.blocked_by->reserved_nanos, 1'000);
  // In December only the "dec" row counts for the month.
  status = store_->ListBudgetStatus(kMonthEnd + kHour);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)[0].window.start, kMonthEnd);
  EXPECT_EQ((*status)[0].settled_nanos, 900);
  EXPECT_EQ((*status)[0].reserved_nanos, 0);
  EXPECT_TRUE(MustReserve(Call("r5", "openai", "globex", 100), kMonthEnd + kHour).reserved);
  EXPECT_FALSE(MustReserve(Call("r6", "openai", "globex", 1), kMonthEnd + kHour).reserved);
}

TEST_P(StoreGovernorConformance, ZeroBudgetAllowsOnlyFreeCalls) {
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kService, "openai", BudgetPeriod::kDay, 0)).ok());
  EXPECT_TRUE(MustReserve(Call("free", "openai", "a", 0), kT).reserved);
  EXPECT_FALSE(MustReserve(Call("paid", "openai", "a", 1), kT).reserved);
  EXPECT_TRUE(MustReserve(Call("other", "llamaparse", "a", 1), kT).reserved);
}

// The safety property of DESIGN §5: many workers reserving at once never take a budget past its
// hard limit, and the check does not refuse early either (the budget fills up).
TEST_P(StoreGovernorConformance, ConcurrentReservationsNeverExceedTheBudget) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  constexpr int64_t kHard = 1'000'000;
  constexpr int64_t kMaxCost = 20'000;
  ASSERT_TRUE(
      store_->PutBudget(MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kDay, kHard)).ok());
  std::atomic<int64_t> granted{0};
  std::atomic<int> refused{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1000 + t);
      std::uniform_int_distribution<int64_t> cost(1, kMaxCost);
      for (int i = 0; i < kPerThread;) {
        LedgerEntry e = Call("t" + std::to_string(t) + "-" + std::to_string(i), "openai",
                             t % 2 == 0 ? "acme" : "globex", cost(rng));
        auto r = store_->Reserve(e, kT);
        if (!r.ok()) {
          if (r.status().code() != StatusCode::kUnavailable) ++errors;
          continue;  // busy: retry the same reservation
        }
        if (r->reserved) {
          granted += e.cost_nanos;
        } else {
          ++refused;
        }
        ++i;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  auto status = store_->ListBudgetStatus(kT);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->size(), 1u);
  EXPECT_EQ((*status)[0].reserved_nanos, granted.load());
  EXPECT_LE(granted.load(), kHard);
  // Demand (~400 × 10'000) far exceeds the budget, so refusals happened; each one saw less room
  // than its cost, and room only shrinks.
  EXPECT_GT(refused.load(), 0);
  EXPECT_GT(granted.load(), kHard - kMaxCost);
}

// The same property across processes: four processes × two threads, each with its own Store on
// one database, so the database's lock (not an in-process mutex) is what serialises them.
TEST_P(StoreGovernorConformance, ReservationsAcrossProcessesNeverExceedTheBudget) {
  constexpr int kProcs = 4;
  constexpr int kPerThread = 40;
  constexpr int64_t kHard = 600'000;
  constexpr int64_t kMaxCost = 15'000;
  testing::StoreOpener open = GetParam().fresh_database();
  {
    FakeClock clock(kT);
    std::unique_ptr<Store> setup = open(&clock);
    ASSERT_NE(setup, nullptr);
    ASSERT_TRUE(setup->MigrateTo(setup->KnownMigrations().back().version).ok());
    ASSERT_TRUE(
        setup->PutBudget(MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kDay, kHard)).ok());
  }  // closed before fork: children must not inherit its connections

  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      FakeClock clock(kT);
      std::unique_ptr<Store> store = open(&clock);
      if (store == nullptr) ::_exit(2);
      std::atomic<int> failures{0};
      auto work = [&](int t) {
        std::mt19937 rng(100 * p + t);
        std::uniform_int_distribution<int64_t> cost(1, kMaxCost);
        for (int i = 0; i < kPerThread;) {
          LedgerEntry e =
              Call("p" + std::to_string(p) + "t" + std::to_string(t) + "-" + std::to_string(i),
                   "openai", "acme", cost(rng));
          auto r = store->Reserve(e, kT);
          if (!r.ok()) {
            if (r.status().code() != StatusCode::kUnavailable) ++failures;
            continue;
          }
          ++i;
        }
      };
      std::thread a(work, 0), b(work, 1);
      a.join();
      b.join();
      ::_exit(failures == 0 ? 0 : 3);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  FakeClock clock(kT);
  std::unique_ptr<Store> check = open(&clock);
  ASSERT_NE(check, nullptr);
  auto rows = check->ListLedger(std::nullopt);
  ASSERT_TRUE(rows.ok());
  int64_t total = 0;
  for (const LedgerEntry& e : *rows) {
    EXPECT_EQ(e.state, LedgerState::kReserved);
    total += e.cost_nanos;
  }
  // 320 reservations of ~7'500 on average: the budget fills and then refuses.
  EXPECT_LT(rows->size(), static_cast<size_t>(kProcs * 2 * kPerThread));
  EXPECT_LE(total, kHard);
  EXPECT_GT(total, kHard - kMaxCost);
  auto status = check->ListBudgetStatus(kT);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(status->size(), 1u);
  EXPECT_EQ((*status)[0].reserved_nanos, total);
}

// --- rate buckets -----------------------------------------------------------------------------

TEST_P(StoreGovernorConformance, RateBucketRefillDebtAndRefusal) {
  const std::string key = "openai:test";
  ASSERT_TRUE(store_->ConfigureRateBucket(key, "requests", 10, 1, kT).ok());
  RateBucket b = Bucket(key, "requests", kT);
  EXPECT_DOUBLE_EQ(b.capacity, 10);
  EXPECT_DOUBLE_EQ(b.available, 10);  // created full
  EXPECT_DOUBLE_EQ(b.refill_per_sec, 1);
  EXPECT_EQ(b.blocked_until, 0);

  std::vector<RateDemand> four = {{"requests", 4}};
  auto g = store_->AcquireRate(key, four, Duration(0), kT);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(g->granted);
  EXPECT_EQ(g->wait, Duration(0));
  std::vector<RateDemand> six = {{"requests", 6}};
  g = store_->AcquireRate(key, six, Duration(0), kT);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->granted);
  EXPECT_EQ(g->wait, Duration(0));
  EXPECT_DOUBLE_EQ(Bucket(key, "requests", kT).available, 0);

  // Empty bucket: 2 more would take 2 s to refill. Over max_wait: refused, nothing taken.
  std::vector<RateDemand> two = {{"requests", 2}};
  g = store_->AcquireRate(key, two, Duration(1'999), kT);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->granted);
  EXPECT_EQ(g->wait, Duration(2'000));
  EXPECT_DOUBLE_EQ(Bucket(key, "requests", kT).available, 0);
  // Within max_wait: taken as debt, and the caller waits it off.
  g = store_->AcquireRate(key, two, Duration(2'000), kT);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->granted);
  EXPECT_EQ(g->wait, Duration(2'000));
  EXPECT_DOUBLE_EQ(Bucket(key, "requests", kT).available, -2);
  // The next caller queues behind the debt: 1 s later the bucket is at -1, so one more request
  // waits 2 s.
  std::vector<RateDemand> one = {{"requests", 1}};
  g = store_->AcquireRate(key, one, Duration(10'000), kT + 1'000);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->granted);
  EXPECT_EQ(g->wait, Duration(2'000));
  EXPECT_DOUBLE_EQ(Bucket(key, "requests", kT + 1'000).available, -2);
  // Refill is linear and capped at capacity; listing does not write.
  EXPECT_DOUBLE_EQ(Bucket(key, "requests", kT + 1'500).available, -1.5);
  EXPECT_DOUBLE_EQ(Bucket(key, "requests", kT + 1'000'000).available, 10);
  EXPECT_DOUBLE_EQ(Bucket(key, "requests", kT + 1'000).available, -2);
  // Fractional waits round up to the next millisecond: at +3 s the bucket is back at 0, and
  // 0.0005 requests take half a millisecond to refill.
  std::vector<RateDemand> tiny = {{"requests", 0.0005}};
  g = store_->AcquireRate(key, tiny, Duration(10'000), kT + 3'000);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->wait, Duration(1));

  // A caller whose clock lags the bucket gets no refill and does not move it back in time.
  g = store_->AcquireRate(key, one, Duration(0), kT + 100'000);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->granted);
  EXPECT_EQ(Bucket(key, "requests", kT + 100'000).updated_at, kT + 100'000);
  g = store_->AcquireRate(key, one, Duration(0), kT + 90'000);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->granted);
  RateBucket after = Bucket(key, "requests", kT + 100'000);
  EXPECT_EQ(after.updated_at, kT + 100'000);
  EXPECT_DOUBLE_EQ(after.available, 8);
}

TEST_P(StoreGovernorConformance, RateDemandsAreAllOrNothingAcrossKinds) {
  const std::string key = "openai:multi";
  ASSERT_TRUE(store_->ConfigureRateBucket(key, "requests", 100, 10, kT).ok());
  ASSERT_TRUE(store_->ConfigureRateBucket(key, "tokens", 1'000, 100, kT).ok());
  ASSERT_TRUE(store_->ConfigureRateBucket("other", "tokens", 5, 1, kT).ok());

  // Several demands of one kind add up; a kind without a bucket is ignored.
  std::vector<RateDemand> d = {
      {"requests", 1}, {"tokens", 600}, {"tokens", 200}, {"images", 1'000'000}};
  auto g = store_->AcquireRate(key, d, Duration(0), kT);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(g->granted);
  EXPECT_DOUBLE_EQ(Bucket(key, "requests", kT).available, 99);
  EXPECT_DOUBLE_EQ(Bucket(key, "tokens", kT).available, 200);

  // Tokens would need 5 s (700 short at 100/s); requests are fine. Refused as a whole.
  std::vector<RateDemand> big = {{"requests", 1}, {"tokens", 700}};
  g = store_->AcquireRate(key, big, Duration(4'999), kT);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->granted);
  EXPECT_EQ(g->wait, Duration(5'000));
  EXPECT_DOUBLE_EQ(Bucket(key, "requests", kT).available, 99);
  EXPECT_DOUBLE_EQ(Bucket(key, "tokens", kT).available, 200);
  g = store_->AcquireRate(key, big, Duration(5'000), kT);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->granted);
  EXPECT_EQ(g->wait, Duration(5'000));
  EXPECT_DOUBLE_EQ(Bucket(key, "requests", kT).available, 98);
  EXPECT_DOUBLE_EQ(Bucket(key, "tokens", kT).available, -500);
  // Other keys are separate.
  EXPECT_DOUBLE_EQ(Bucket("other", "tokens", kT).available, 5);

  // An unknown key has no buckets: nothing limits it.
  g = store_->AcquireRate("nobody", big, Duration(0), kT);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->granted);
  EXPECT_EQ(g->wait, Duration(0));

  auto all = store_->ListRateBuckets(kT);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].key, key);
  EXPECT_EQ((*all)[0].kind, "requests");
  EXPECT_EQ((*all)[1].kind, "tokens");
  EXPECT_EQ((*all)[2].key, "other");
}

TEST_P(StoreGovernorConformance, ObservedLimitsLowerAndBlock) {
  const std::string key = "openai:obs";
  ASSERT_TRUE(store_->ConfigureRateBucket(key, "requests", 60, 1, kT).ok());
  ASSERT_TRUE(store_->ConfigureRateBucket(key, "tokens", 10'000, 1'000, kT).ok());

  // The provider says fewer tokens remain than we think: available drops to its figure.
  ASSERT_TRUE(store_->ObserveRate(key, "tokens", 2'500, 0, kT).ok());
  EXPECT_DOUBLE_EQ(Bucket(key, "tokens", kT).available, 2'500);
  // A higher figure never raises it.
  ASSERT_TRUE(store_->ObserveRate(key, "tokens", 9'000, 0, kT).ok());
  EXPECT_DOUBLE_EQ(Bucket(key, "tokens", kT).available, 2'500);
  // Refill applies before the comparison.
  ASSERT_TRUE(store_->ObserveRate(key, "tokens", 4'000, 0, kT + 1'000).ok());
  EXPECT_DOUBLE_EQ(Bucket(key, "tokens", kT + 1'000).available, 3'500);

  // Retry-After: nobody sends before blocked_until, whatever is available.
  ASSERT_TRUE(store_->ObserveRate(key, "requests", std::nullopt, kT + 6'000, kT + 1'000).ok());
  RateBucket r = Bucket(key, "requests", kT + 1'000);
  EXPECT_EQ(r.blocked_until, kT + 6'000);
  EXPECT_DOUBLE_EQ(r.available, 60);
  // An earlier blocked_until does not shorten the block.
  ASSERT_TRUE(store_->ObserveRate(key, "requests", std::nullopt, kT + 2'000, kT + 1'000).ok());
  EXPECT_EQ(Bucket(key, "requests", kT + 1'000).blocked_until, kT + 6'000);

  std::vector<RateDemand> d = {{"requests", 1}, {"tokens", 100}};
  auto g = store_->AcquireRate(key, d, Duration(4'999), kT + 1'000);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->granted);
  EXPECT_EQ(g->wait, Duration(5'000));
  EXPECT_DOUBLE_EQ(Bucket(key, "requests", kT + 1'000).available, 60);  // nothing taken
  g = store_->AcquireRate(key, d, Duration(5'000), kT + 1'000);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->granted);
  EXPECT_EQ(g->wait, Duration(5'000));
  g = store_->AcquireRate(key, d, Duration(0), kT + 6'000);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->granted);
  EXPECT_EQ(g->wait, Duration(0));

  // Unknown buckets are ignored, not created.
  ASSERT_TRUE(store_->ObserveRate("nobody", "tokens", 1, kT + 9'000, kT).ok());
  EXPECT_EQ(store_->ListRateBuckets(kT)->size(), 2u);
}

TEST_P(StoreGovernorConformance, ReconfiguringABucketKeepsItsState) {
  const std::string key = "llamaparse:k";
  EXPECT_EQ(store_->ConfigureRateBucket(key, "requests", -1, 1, kT).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ConfigureRateBucket(key, "requests", 1, -1, kT).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->ConfigureRateBucket(key, "requests", 100, 10, kT).ok());
  std::vector<RateDemand> d = {{"requests", 30}};
  ASSERT_TRUE(store_->AcquireRate(key, d, Duration(0), kT)->granted);
  ASSERT_TRUE(store_->ObserveRate(key, "requests", std::nullopt, kT + 50'000, kT).ok());
  // Raising the capacity does not fill the bucket; refill up to now happens at the old rate.
  ASSERT_TRUE(store_->ConfigureRateBucket(key, "requests", 200, 20, kT + 1'000).ok());
  RateBucket b = Bucket(key, "requests", kT + 1'000);
  EXPECT_DOUBLE_EQ(b.capacity, 200);
  EXPECT_DOUBLE_EQ(b.refill_per_sec, 20);
  EXPECT_DOUBLE_EQ(b.available, 80);
  EXPECT_EQ(b.blocked_until, kT + 50'000);
  EXPECT_DOUBLE_EQ(Bucket(key, "requests", kT + 2'000).available, 100);  // new rate from here
  // Lowering it clamps what is available.
  ASSERT_TRUE(store_->ConfigureRateBucket(key, "requests", 50, 20, kT + 2'000).ok());
  EXPECT_DOUBLE_EQ(Bucket(key, "requests", kT + 2'000).available, 50);

  // A bucket that never refills cannot be waited on.
  ASSERT_TRUE(store_->ConfigureRateBucket(key, "credits", 5, 0, kT).ok());
  std::vector<RateDemand> six = {{"credits", 6}};
  auto g = store_->AcquireRate(key, six, Duration(3'600'000), kT);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->granted);
  EXPECT_EQ(g->wait, Duration::max());
  EXPECT_DOUBLE_EQ(Bucket(key, "credits", kT).available, 5);
}

// --- provider state and deferred jobs ---------------------------------------------------------

TEST_P(StoreGovernorConformance, ProviderStateUpsertAndList) {
  EXPECT_TRUE(store_->ListProviderStates()->empty());
  EXPECT_EQ(store_->PutProviderState(ProviderState{}).code(), StatusCode::kInvalidArgument);
  ProviderState openai{
      "openai", true, "insufficient_quota", "You exceeded your current quota", kT, kT + kHour, 0};
  ASSERT_TRUE(store_->PutProviderState(openai).ok());
  ProviderState llama{"llamaparse", false, "", "", 0, 0, 777};
  ASSERT_TRUE(store_->PutProviderState(llama).ok());

  auto list = store_->ListProviderStates();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].provider, "llamaparse");
  EXPECT_FALSE((*list)[0].stopped);
  EXPECT_EQ((*list)[0].updated_at, 777);
  const ProviderState& o = (*list)[1];
  EXPECT_EQ(o.provider, "openai");
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.reason, "insufficient_quota");
  EXPECT_EQ(o.message, "You exceeded your current quota");
  EXPECT_EQ(o.since, kT);
  EXPECT_EQ(o.probe_at, kT + kHour);
  EXPECT_EQ(o.updated_at, kT);  // the store clock when not given

  // An operator resumes the provider.
  ProviderState resumed{"openai", false, "", "", 0, 0, kT + 10};
  ASSERT_TRUE(store_->PutProviderState(resumed).ok());
  list = store_->ListProviderStates();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_FALSE((*list)[1].stopped);
  EXPECT_EQ((*list)[1].reason, "");
  EXPECT_EQ((*list)[1].probe_at, 0);
  EXPECT_EQ((*list)[1].updated_at, kT + 10);
}

TEST_P(StoreGovernorConformance, WakeDeferredTouchesOnlyMatchingDeferredJobs) {
  const UnixMillis later = kT + kDay;
  Job budget = JobIn("budget.txt", JobState::kDeferred, "budget_exhausted", later);
  Job rate = JobIn("rate.txt", JobState::kDeferred, "rate_limited", later);
  Job circuit = JobIn("circuit.txt", JobState::kDeferred, "circuit_open", later);
  Job due = JobIn("due.txt", JobState::kDeferred, "budget_exhausted", kT - 5);
  Job queued = JobIn("queued.txt", JobState::kQueued, "", later);
  Job waiting = JobIn("waiting.txt", JobState::kWaiting, "budget_exhausted", later);
  auto read = [&](const Job& j) {
    auto r = store_->GetJob(j.id);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : Job{};
  };

  const UnixMillis now = kT + 100;
  std::vector<std::string> reasons = {"budget_exhausted", "rate_limited"};
  auto woken = store_->WakeDeferred(reasons, now);
  ASSERT_TRUE(woken.ok()) << woken.status().ToString();
  EXPECT_EQ(*woken, 2);
  for (const Job* j : {&budget, &rate}) {
    Job r = read(*j);
    EXPECT_EQ(r.state, JobState::kDeferred);
    EXPECT_EQ(r.next_attempt_at, now);
    EXPECT_EQ(r.updated_at, now);
    EXPECT_EQ(r.version, j->version + 1);
    EXPECT_EQ(r.defer_reason, j->defer_reason);
  }
  // Other reasons, jobs already due and jobs in other states are untouched.
  for (const Job* j : {&circuit, &due, &queued, &waiting}) {
    Job r = read(*j);
    EXPECT_EQ(r.version, j->version) << j->id;
    EXPECT_EQ(r.next_attempt_at, j->next_attempt_at) << j->id;
  }
  // A woken job's old version is stale: compare-and-set protects against a racing writer.
  JobUpdate u{};
  u.stage = Stage::kEmbed;
  u.state = JobState::kQueued;
  EXPECT_EQ(store_->UpdateJob(budget.id, budget.version, u, now).status().code(),
            StatusCode::kFailedPrecondition);

  // Waking again finds nothing new; an empty list wakes every deferred job that is not due.
  EXPECT_EQ(*store_->WakeDeferred(reasons, now), 0);
  std::vector<std::string> none;
  EXPECT_EQ(*store_->WakeDeferred(none, now), 1);
  EXPECT_EQ(read(circuit).next_attempt_at, now);
  EXPECT_EQ(read(circuit).version, circuit.version + 1);
  EXPECT_EQ(read(queued).version, queued.version);
  EXPECT_EQ(read(waiting).version, waiting.version);

  // Woken jobs are leasable at `now`.
  auto l = store_->LeaseNext("w2", Duration(1'000), now);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->has_value());
}

// Embedding claims: a text is held by one owner at a time while the claim lives.
TEST_P(StoreGovernorConformance, EmbeddingClaimsGoToOneOwnerUntilTheyExpire) {
  const VectorSpace space{"text-embedding-3-small", 8};
  const std::vector<std::string> a = {"t1", "t2", "t3", "t2"};
  auto first = store_->ClaimTexts(space, a, "job-a", Duration(10'000), kT);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, (std::vector<std::string>{"t1", "t2", "t3"}));  // input order, no dups
  const std::vector<std::string> b = {"t3", "t4"};
  auto second = store_->ClaimTexts(space, b, "job-b", Duration(10'000), kT + 1);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, (std::vector<std::string>{"t4"}));  // t3 is job-a's
  // The owner gets its own claims again (a retried job), renewed.
  auto again = store_->ClaimTexts(space, b, "job-a", Duration(10'000), kT + 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, (std::vector<std::string>{"t3"}));
  // Another space is another text.
  const VectorSpace other{"text-embedding-3-large", 8};
  EXPECT_EQ(*store_->ClaimTexts(other, b, "job-b", Duration(10'000), kT + 3),
            (std::vector<std::string>{"t3", "t4"}));
  // Expired claims are taken over.
  auto late = store_->ClaimTexts(space, a, "job-c", Duration(10'000), kT + 20'000);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(*late, (std::vector<std::string>{"t1", "t2", "t3"}));
  EXPECT_FALSE(store_->ClaimTexts(space, a, "", Duration(1), kT).ok());
}

TEST_P(StoreGovernorConformance, ConcurrentClaimsNeverGiveATextToTwoOwners) {
  const VectorSpace space{"text-embedding-3-small", 8};
  std::vector<std::string> texts;
  for (int i = 0; i < 60; ++i) texts.push_back("text-" + std::to_string(i));
  std::vector<std::vector<std::string>> got(6);
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::string> mine = texts;
      std::rotate(mine.begin(), mine.begin() + t * 10, mine.end());
      auto r = store_->ClaimTexts(space, mine, "owner-" + std::to_string(t), Duration(60'000), kT);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      got[t] = *r;
    });
  }
  for (auto& th : threads) th.join();
  std::map<std::string, int> owners;
  for (const auto& g : got) {
    for (const auto& h : g) ++owners[h];
  }
  EXPECT_EQ(owners.size(), texts.size());
  for (const auto& [h, n] : owners) EXPECT_EQ(n, 1) << h;
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreGovernorConformance,
                         ::testing::ValuesIn(ingest::testing::StoreFactories()),
                         [](const ::testing::TestParamInfo<StoreFactory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace ingest::store
