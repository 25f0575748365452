// Sections of GET /v1/stats beyond job counts: stage latencies and provider health (this
// process's metrics), errors by code (the store). The dashboard renders each one as a table.
#include <algorithm>
#include <cmath>
#include <map>

#include "ingest/api/governor_view.h"
#include "ingest/api/route_env.h"
#include "ingest/obs/alert_sample.h"

namespace ingest::api {
namespace {

double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

nlohmann::json Quantile(double q, const obs::HistogramSample& h) {
  const double v = obs::QuantileOfIncrease(q, h, obs::HistogramSample{});
  return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(Round3(v));
}

}  // namespace

nlohmann::json MetricsSectionsJson(const obs::Metrics& metrics) {
  obs::AlertSample s;
  obs::AddMetricsToSample(metrics, &s);
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& [stage, h] : s.stage_latency) {
    stages.push_back({{"stage", stage},
                      {"count", static_cast<int64_t>(h.count)},
                      {"p50_seconds", Quantile(0.5, h)},
                      {"p95_seconds", Quantile(0.95, h)}});
  }
  nlohmann::json providers = nlohmann::json::array();
  for (const auto& [name, p] : s.providers) {
    nlohmann::json requests = nlohmann::json::object();
    for (const auto& [outcome, n] : p.requests) requests[outcome] = static_cast<int64_t>(n);
    providers.push_back({{"provider", name},
                         {"circuit_state", p.circuit_state},
                         {"requests", requests},
                         {"p95_latency_seconds", Quantile(0.95, p.latency)}});
  }
  return {{"stages", stages}, {"providers", providers}};
}

nlohmann::json BudgetsJson(const GovernorView& gov, const Principal& p) {
  nlohmann::json out = nlohmann::json::array();
  for (const obs::BudgetGauge& b : gov.budgets) {
    if (!p.admin && !(b.scope == "tenant" && b.key == p.tenant)) continue;
    out.push_back({{"scope", b.scope},
                   {"key", b.key},
                   {"period", b.period},
                   {"spent_usd", b.spent_usd},
                   {"limit_usd", b.limit_usd},
                   {"remaining_usd", std::max(0.0, b.limit_usd - b.spent_usd)},
                   {"soft_ratio", b.soft_ratio},
                   {"stopped", b.stopped}});
  }
  return out;
}

nlohmann::json ProvidersJson(const nlohmann::json& from_metrics, const GovernorView& gov) {
  std::map<std::string, nlohmann::json> by_name;
  auto entry = [&](const std::string& name) -> nlohmann::json& {
    auto [it, fresh] = by_name.try_emplace(name);
    if (fresh) {
      it->second = {{"provider", name},
                    {"circuit_state", 0},
                    {"requests", nlohmann::json::object()},
                    {"p95_latency_seconds", nullptr},
                    {"stopped", false},
                    {"stop_reason", ""},
                    {"rate_limits", nlohmann::json::array()}};
    }
    return it->second;
  };
  for (const nlohmann::json& m : from_metrics) {
    nlohmann::json& e = entry(m["provider"].get<std::string>());
    for (const auto& [k, v] : m.items()) e[k] = v;
  }
  for (const StoppedProvider& s : gov.providers) {
    nlohmann::json& e = entry(s.provider);
    e["stopped"] = s.stopped;
    e["stop_reason"] = s.stopped ? s.reason : "";
  }
  for (const obs::RateLimitGauge& r : gov.rate_limits) {
    entry(r.provider)["rate_limits"].push_back(
        {{"kind", r.kind}, {"remaining", r.remaining}, {"capacity", r.capacity}});
  }
  nlohmann::json out = nlohmann::json::array();
  for (auto& [name, e] : by_name) out.push_back(std::move(e));
  return out;
}

Result<nlohmann::json> ErrorsByCodeJson(const RouteEnv& env, const Principal& p) {
  std::map<std::string, int64_t> counts;
  for (store::JobState s : {store::JobState::kFailed, store::JobState::kDead}) {
    store::JobFilter filter;
    filter.state = s;
    filter.limit = 1000;  // the most recent; enough to rank causes without scanning history
    if (!p.admin) filter.tenant = p.tenant;
    auto jobs = env.deps.pipeline.store->ListJobs(filter);
    if (!jobs.ok()) return jobs.status();
    for (const auto& v : *jobs) {
      ++counts[v.job.last_error_code.empty() ? "unknown" : v.job.last_error_code];
    }
  }
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [code, n] : sorted) out.push_back({{"code", code}, {"jobs", n}});
  return out;
}

Result<nlohmann::json> ThroughputJson(const RouteEnv& env, const Principal& p, UnixMillis now) {
  constexpr int64_t kWindow = 30;  // minutes in the series
  constexpr int64_t kRate = 5;     // minutes behind docs_per_minute
  const int64_t last = now / 60'000;
  const int64_t first = last - kWindow + 1;
  auto rows = env.deps.pipeline.store->FinishedPerMinute(
      first * 60'000, p.admin ? std::nullopt : std::optional<std::string_view>(p.tenant));
  if (!rows.ok()) return rows.status();
  std::map<int64_t, store::FinishedMinute> by_minute;
  for (const store::FinishedMinute& f : *rows) by_minute[f.minute] = f;
  nlohmann::json series = nlohmann::json::array();
  int64_t recent = 0;
  for (int64_t m = first; m <= last; ++m) {
    auto it = by_minute.find(m);
    const int64_t completed = it == by_minute.end() ? 0 : it->second.completed;
    const int64_t failed = it == by_minute.end() ? 0 : it->second.failed;
    if (m > last - kRate) recent += completed + failed;
    series.push_back({{"minute", Iso(m * 60'000)}, {"completed", completed}, {"failed", failed}});
  }
  // The current minute counts for the part of it that has passed.
  const double elapsed = static_cast<double>(kRate - 1) + static_cast<double>(now % 60'000) / 6e4;
  return nlohmann::json{{"window_minutes", kWindow},
                        {"rate_minutes", kRate},
                        {"per_minute", series},
                        {"docs_per_minute", elapsed > 0 ? recent / elapsed : 0.0}};
}

Result<nlohmann::json> DeferredJson(const RouteEnv& env, const Principal& p) {
  store::JobFilter filter;
  filter.state = store::JobState::kDeferred;
  filter.limit = 1000;
  if (!p.admin) filter.tenant = p.tenant;
  auto jobs = env.deps.pipeline.store->ListJobs(filter);
  if (!jobs.ok()) return jobs.status();
  std::map<std::string, int64_t> by_reason;
  int64_t budget = 0;
  nlohmann::json listed = nlohmann::json::array();
  for (const store::JobView& v : *jobs) {
    const std::string& reason = v.job.defer_reason.empty() ? "unknown" : v.job.defer_reason;
    ++by_reason[reason];
    if (reason == "budget_exceeded" || reason == "budget_stopped") ++budget;
    if (listed.size() < 20) listed.push_back(JobJson(v));
  }
  return nlohmann::json{
      {"listed_of", jobs->size()}, {"by_reason", by_reason}, {"budget", budget}, {"jobs", listed}};
}

}  // namespace ingest::api
