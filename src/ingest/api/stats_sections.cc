// Sections of GET /v1/stats beyond job counts: stage latencies and provider health (this
// process's metrics), errors by code (the store). The dashboard renders each one as a table.
#include <algorithm>
#include <cmath>
#include <map>

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

}  // namespace ingest::api
