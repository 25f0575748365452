#include "ingest/store/governor_rules.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace ingest::store {
namespace {

Budget MakeBudget(BudgetScope scope, std::string key, BudgetPeriod period) {
  Budget b;
  b.scope = scope;
  b.scope_key = std::move(key);
  b.period = period;
  b.hard_nanos = 100;
  return b;
}

TEST(GovernorRulesTest, ValidateBudget) {
  EXPECT_TRUE(ValidateBudget(MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kDay)).ok());
  EXPECT_TRUE(ValidateBudget(MakeBudget(BudgetScope::kTenant, "a", BudgetPeriod::kDay)).ok());
  Status st = ValidateBudget(MakeBudget(BudgetScope::kService, "", BudgetPeriod::kDay));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.reason(), "bad_budget");
  Budget nan_ratio = MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kDay);
  nan_ratio.soft_ratio = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(ValidateBudget(nan_ratio).ok());
  nan_ratio.soft_ratio = 1.0;
  EXPECT_TRUE(ValidateBudget(nan_ratio).ok());
}

TEST(GovernorRulesTest, BudgetAppliesByScope) {
  LedgerEntry e;
  e.tenant = "acme";
  e.service = "openai";
  EXPECT_TRUE(BudgetApplies(MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kDay), e));
  EXPECT_TRUE(BudgetApplies(MakeBudget(BudgetScope::kTenant, "acme", BudgetPeriod::kDay), e));
  EXPECT_FALSE(BudgetApplies(MakeBudget(BudgetScope::kTenant, "openai", BudgetPeriod::kDay), e));
  EXPECT_TRUE(BudgetApplies(MakeBudget(BudgetScope::kService, "openai", BudgetPeriod::kDay), e));
  EXPECT_FALSE(BudgetApplies(MakeBudget(BudgetScope::kService, "acme", BudgetPeriod::kDay), e));
}

TEST(GovernorRulesTest, SortBudgetsUsesEnumOrder) {
  std::vector<Budget> v = {MakeBudget(BudgetScope::kService, "a", BudgetPeriod::kHour),
                           MakeBudget(BudgetScope::kTenant, "b", BudgetPeriod::kMonth),
                           MakeBudget(BudgetScope::kTenant, "b", BudgetPeriod::kHour),
                           MakeBudget(BudgetScope::kTenant, "a", BudgetPeriod::kDay),
                           MakeBudget(BudgetScope::kGlobal, "", BudgetPeriod::kMonth)};
  SortBudgets(&v);
  EXPECT_EQ(v[0].scope, BudgetScope::kGlobal);
  EXPECT_EQ(v[1].scope_key, "a");
  EXPECT_EQ(v[2].period, BudgetPeriod::kHour);
  EXPECT_EQ(v[3].period, BudgetPeriod::kMonth);
  EXPECT_EQ(v[4].scope, BudgetScope::kService);
}

TEST(GovernorRulesTest, RefillIsLinearCappedAndNeverBackwards) {
  RateBucket b{"k", "tokens", 100, 10, 5, 0, 1'000};
  RateBucket r = RefillBucket(b, 3'000);
  EXPECT_DOUBLE_EQ(r.available, 20);
  EXPECT_EQ(r.updated_at, 3'000);
  EXPECT_DOUBLE_EQ(RefillBucket(b, 1'000'000).available, 100);
  r = RefillBucket(b, 500);  // behind updated_at: unchanged
  EXPECT_DOUBLE_EQ(r.available, 10);
  EXPECT_EQ(r.updated_at, 1'000);
  // Above capacity (e.g. just reconfigured by hand): left alone, not pulled down.
  RateBucket over{"k", "tokens", 100, 150, 5, 0, 0};
  EXPECT_DOUBLE_EQ(RefillBucket(over, 10'000).available, 150);
}

TEST(GovernorRulesTest, PlanAcquireTakesAllOrNothing) {
  std::vector<RateBucket> buckets = {{"k", "requests", 10, 1, 1, 0, 0},
                                     {"k", "tokens", 100, 100, 10, 0, 0}};
  std::vector<RateDemand> d = {{"requests", 3}, {"tokens", 50}};
  RatePlan refused = PlanAcquire(buckets, d, Duration(1'999), 0);
  EXPECT_FALSE(refused.grant.granted);
  EXPECT_EQ(refused.grant.wait, Duration(2'000));
  EXPECT_TRUE(refused.updated.empty());
  RatePlan ok = PlanAcquire(buckets, d, Duration(2'000), 0);
  EXPECT_TRUE(ok.grant.granted);
  ASSERT_EQ(ok.updated.size(), 2u);
  EXPECT_DOUBLE_EQ(ok.updated[0].available, -2);
  EXPECT_DOUBLE_EQ(ok.updated[1].available, 50);
  // No demands: granted at once, nothing written.
  RatePlan empty = PlanAcquire(buckets, {}, Duration(0), 0);
  EXPECT_TRUE(empty.grant.granted);
  EXPECT_TRUE(empty.updated.empty());
}

TEST(GovernorRulesTest, ObserveLowersAndBlocks) {
  RateBucket b{"k", "requests", 60, 30, 1, 100, 0};
  RateBucket o = ObserveBucket(b, 10.0, 50, 0);
  EXPECT_DOUBLE_EQ(o.available, 10);
  EXPECT_EQ(o.blocked_until, 100);  // never shortened
  o = ObserveBucket(b, std::nullopt, 5'000, 0);
  EXPECT_DOUBLE_EQ(o.available, 30);
  EXPECT_EQ(o.blocked_until, 5'000);
}

}  // namespace
}  // namespace ingest::store
