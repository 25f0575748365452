// Rules both Store backends apply to governor rows (DESIGN §5): budget validation, which budgets
// a ledger row counts against, their listing order, and token-bucket arithmetic. Pure functions,
// so SQLite and PostgreSQL cannot drift apart on the maths; the backends only add locking and
// persistence. Internal to store/.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/common/status.h"
#include "ingest/store/types.h"

namespace ingest::store {

// kInvalidArgument (reason "bad_budget") unless hard_nanos >= 0, 0 < soft_ratio <= 1, and
// scope_key is empty exactly for the global scope.
Status ValidateBudget(const Budget& budget);

// Whether ledger rows like `entry` count against `budget` (scope match only; the period window
// is checked on created_at by the caller).
bool BudgetApplies(const Budget& budget, const LedgerEntry& entry);

// Store::ListBudgetStatus order: scope, key, period, each enum in declaration order.
void SortBudgets(std::vector<Budget>* budgets);

// `bucket` refilled to `now` at refill_per_sec, capped at capacity (a bucket above capacity is
// left as is). updated_at becomes `now` only when `now` is later: a caller whose clock lags
// gets no refill and never moves updated_at back, so no interval is credited twice.
RateBucket RefillBucket(RateBucket bucket, UnixMillis now);

// Outcome of AcquireRate's decision: the grant, and the buckets to write back (refilled and
// debited; empty when the grant is refused, since a refusal takes nothing).
struct RatePlan {
  RateGrant grant;
  std::vector<RateBucket> updated;
};

// Decides Store::AcquireRate over the current `buckets` of one key (any order; kinds without a
// bucket are ignored; several demands of one kind add up).
RatePlan PlanAcquire(std::span<const RateBucket> buckets, std::span<const RateDemand> demands,
                     Duration max_wait, UnixMillis now);

// Store::ObserveRate on one bucket: refill, then lower available to `remaining` when given, and
// raise blocked_until.
RateBucket ObserveBucket(RateBucket bucket, std::optional<double> remaining,
                         UnixMillis blocked_until, UnixMillis now);

// Store::ConfigureRateBucket on an existing bucket: refill at the old rate, then apply the new
// capacity and rate (available clamped to the capacity).
RateBucket ReconfigureBucket(RateBucket bucket, double capacity, double refill_per_sec,
                             UnixMillis now);

}  // namespace ingest::store
