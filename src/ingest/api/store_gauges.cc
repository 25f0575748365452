#include "ingest/api/store_gauges.h"

#include <string>
#include <utility>
#include <vector>

#include "ingest/api/governor_view.h"
#include "ingest/store/types.h"

namespace ingest::api {
namespace {

constexpr store::JobState kAllStates[] = {store::JobState::kQueued,   store::JobState::kRunning,
                                          store::JobState::kWaiting,  store::JobState::kDeferred,
                                          store::JobState::kComplete, store::JobState::kFailed,
                                          store::JobState::kDead,     store::JobState::kCancelled};

}  // namespace

void RefreshStoreGauges(store::Store& store, UnixMillis now, obs::Metrics& metrics) {
  if (auto counts = store.CountJobsByState(); counts.ok()) {
    std::vector<std::pair<std::string, int64_t>> by_state;
    int64_t dead = 0;
    for (store::JobState s : kAllStates) {
      int64_t n = 0;
      for (const auto& [state, count] : *counts) {
        if (state == s) n = count;
      }
      if (s == store::JobState::kDead) dead = n;
      by_state.emplace_back(std::string(store::JobStateName(s)), n);
    }
    metrics.SetJobs(by_state);
    metrics.SetDeadJobs(dead);
  }
  if (auto oldest = store.OldestQueuedAt(now); oldest.ok()) {
    metrics.SetQueueOldestAge(oldest->has_value() ? (now - **oldest) / 1000.0 : 0.0);
  }
  if (auto gov = ReadGovernorView(store, now); gov.ok()) {
    metrics.SetBudgets(gov->budgets);
    metrics.SetRateLimits(gov->rate_limits);
    std::vector<std::pair<std::string, bool>> stopped;
    for (const StoppedProvider& p : gov->providers) stopped.emplace_back(p.provider, p.stopped);
    metrics.SetProvidersStopped(stopped);
  }
}

}  // namespace ingest::api
