// The governor's state as monitoring shows it (budgets with their spend, rate-limit headroom,
// stopped providers), read from the Store in one place for /metrics, /v1/stats and the alert
// monitor, so all three agree. Rate buckets are keyed per API key ("openai:<key hash>"); they
// are summed per provider and kind, so no key-derived label ever reaches a metric or a page.
#pragma once

#include <string>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/obs/alert_rules.h"
#include "ingest/obs/metrics.h"
#include "ingest/store/store.h"

namespace ingest::api {

struct StoppedProvider {
  std::string provider;
  bool stopped = false;
  std::string reason;
  UnixMillis since = 0;
};

struct GovernorView {
  std::vector<obs::BudgetGauge> budgets;         // ordered as the store lists them
  std::vector<obs::RateLimitGauge> rate_limits;  // by provider, then kind
  std::vector<StoppedProvider> providers;        // every provider row (stopped or resumed)
};

// Reads budgets (spend in the window containing `now`), rate buckets (refilled to `now`) and
// provider states.
Result<GovernorView> ReadGovernorView(store::Store& store, UnixMillis now);

// "openai:3fa2..." -> "openai"; a key without ':' is its own provider.
std::string ProviderOfRateKey(const std::string& key);

}  // namespace ingest::api
