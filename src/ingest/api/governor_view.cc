#include "ingest/api/governor_view.h"

#include <map>
#include <utility>

namespace ingest::api {

std::string ProviderOfRateKey(const std::string& key) { return key.substr(0, key.find(':')); }

Result<GovernorView> ReadGovernorView(store::Store& store, UnixMillis now) {
  GovernorView view;
  auto budgets = store.ListBudgetStatus(now);
  if (!budgets.ok()) return budgets.status();
  for (const store::BudgetStatus& b : *budgets) {
    obs::BudgetGauge g;
    g.scope = std::string(store::BudgetScopeName(b.budget.scope));
    g.key = b.budget.scope_key;
    g.period = std::string(store::BudgetPeriodName(b.budget.period));
    g.spent_usd = static_cast<double>(b.settled_nanos + b.reserved_nanos) / 1e9;
    g.limit_usd = static_cast<double>(b.budget.hard_nanos) / 1e9;
    g.soft_ratio = b.budget.soft_ratio;
    g.stopped = b.budget.stopped_at > 0;
    view.budgets.push_back(std::move(g));
  }
  auto buckets = store.ListRateBuckets(now);
  if (!buckets.ok()) return buckets.status();
  std::map<std::pair<std::string, std::string>, obs::RateLimitGauge> sums;
  for (const store::RateBucket& b : *buckets) {
    const std::string provider = ProviderOfRateKey(b.key);
    obs::RateLimitGauge& g = sums[{provider, b.kind}];
    g.provider = provider;
    g.kind = b.kind;
    g.remaining += b.available;
    g.capacity += b.capacity;
  }
  for (auto& [k, g] : sums) view.rate_limits.push_back(std::move(g));
  auto states = store.ListProviderStates();
  if (!states.ok()) return states.status();
  for (const store::ProviderState& s : *states) {
    view.providers.push_back({s.provider, s.stopped, s.reason, s.since});
  }
  return view;
}

}  // namespace ingest::api
