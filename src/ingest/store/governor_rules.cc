#include "ingest/store/governor_rules.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>

namespace ingest::store {

Status ValidateBudget(const Budget& b) {
  if (b.hard_nanos < 0) return InvalidArgument("budget hard limit must be >= 0", "bad_budget");
  if (!(b.soft_ratio > 0 && b.soft_ratio <= 1)) {
    return InvalidArgument("budget soft_ratio must be in (0, 1]", "bad_budget");
  }
  const bool global = b.scope == BudgetScope::kGlobal;
  if (global != b.scope_key.empty()) {
    return InvalidArgument(global ? "a global budget has no scope key"
                                  : "a tenant or service budget needs a scope key",
                           "bad_budget");
  }
  return Status::Ok();
}

bool BudgetApplies(const Budget& b, const LedgerEntry& e) {
  switch (b.scope) {
    case BudgetScope::kGlobal:
      return true;
    case BudgetScope::kTenant:
      return e.tenant == b.scope_key;
    case BudgetScope::kService:
      return e.service == b.scope_key;
  }
  return false;
}

void SortBudgets(std::vector<Budget>* budgets) {
  std::sort(budgets->begin(), budgets->end(), [](const Budget& a, const Budget& b) {
    return std::tie(a.scope, a.scope_key, a.period) < std::tie(b.scope, b.scope_key, b.period);
  });
}

RateBucket RefillBucket(RateBucket b, UnixMillis now) {
  if (now <= b.updated_at) return b;
  if (b.available < b.capacity && b.refill_per_sec > 0) {
    const double elapsed_sec = static_cast<double>(now - b.updated_at) / 1000.0;
    b.available = std::min(b.capacity, b.available + elapsed_sec * b.refill_per_sec);
  }
  b.updated_at = now;
  return b;
}

namespace {

// Milliseconds until `b` (already refilled to `now`) can pay `amount`; Duration::max() when it
// never can (a deficit on a bucket that does not refill).
Duration WaitFor(const RateBucket& b, double amount, UnixMillis now) {
  int64_t ms = std::max<int64_t>(0, b.blocked_until - now);
  const double deficit = amount - b.available;
  if (deficit > 0) {
    if (b.refill_per_sec <= 0) return Duration::max();
    // The epsilon keeps float noise (0.1 + 0.2) from adding a whole millisecond.
    const double wait_ms = std::ceil(deficit * 1000.0 / b.refill_per_sec - 1e-6);
    if (!(wait_ms < 1e15)) return Duration::max();
    ms = std::max(ms, static_cast<int64_t>(wait_ms));
  }
  return Duration(ms);
}

}  // namespace

RatePlan PlanAcquire(std::span<const RateBucket> buckets, std::span<const RateDemand> demands,
                     Duration max_wait, UnixMillis now) {
  std::map<std::string, double> want;  // kind -> total amount
  for (const RateDemand& d : demands) want[d.kind] += d.amount;
  RatePlan plan;
  plan.grant.granted = true;
  std::vector<RateBucket> touched;
  for (const RateBucket& stored : buckets) {
    auto it = want.find(stored.kind);
    if (it == want.end()) continue;
    RateBucket b = RefillBucket(stored, now);
    plan.grant.wait = std::max(plan.grant.wait, WaitFor(b, it->second, now));
    b.available -= it->second;
    touched.push_back(std::move(b));
  }
  if (plan.grant.wait > max_wait) {
    plan.grant.granted = false;
    return plan;
  }
  plan.updated = std::move(touched);
  return plan;
}

RateBucket ObserveBucket(RateBucket b, std::optional<double> remaining, UnixMillis blocked_until,
                         UnixMillis now) {
  b = RefillBucket(std::move(b), now);
  if (remaining) b.available = std::min(b.available, *remaining);
  b.blocked_until = std::max(b.blocked_until, blocked_until);
  return b;
}

RateBucket ReconfigureBucket(RateBucket b, double capacity, double refill_per_sec, UnixMillis now) {
  b = RefillBucket(std::move(b), now);
  b.capacity = capacity;
  b.refill_per_sec = refill_per_sec;
  b.available = std::min(b.available, capacity);
  return b;
}

}  // namespace ingest::store
