// Operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document, the
// dashboard page, the stats it polls, alerts and budgets. /healthz, /readyz, /metrics,
// /openapi.json and / are unauthenticated (probes and scrapers carry no tokens, and none of them
// returns tenant data); /v1/stats, /v1/alerts and /v1/budgets need the read scope and are
// tenant-scoped.
#include <algorithm>
#include <chrono>

#include "ingest/api/embedded_assets.h"
#include "ingest/api/governor_view.h"
#include "ingest/api/route_env.h"
#include "ingest/api/security_headers.h"
#include "ingest/api/store_gauges.h"
#include "ingest/store/types.h"

namespace ingest::api {
namespace {

constexpr store::JobState kAllStates[] = {store::JobState::kQueued,   store::JobState::kRunning,
                                          store::JobState::kWaiting,  store::JobState::kDeferred,
                                          store::JobState::kComplete, store::JobState::kFailed,
                                          store::JobState::kDead,     store::JobState::kCancelled};

void Readyz(const RouteEnv& env, httplib::Response& res) {
  nlohmann::json checks = nlohmann::json::object();
  std::string failed;
  auto note = [&](const char* name, const Status& st) {
    checks[name] = st.ok() ? "ok" : st.message();
    if (!st.ok() && failed.empty()) failed = std::string(name) + ": " + st.message();
  };
  store::Store& store = *env.deps.pipeline.store;
  auto version = store.SchemaVersion();
  note("store", version.ok() ? Status::Ok() : version.status());
  note("migrations", version.ok() ? store.CheckSchemaCurrent() : Unavailable("store unreachable"));
  Status workers = Status::Ok();
  if (env.deps.workers == nullptr) {
    workers = Unavailable("no worker pool in this process");
  } else if (env.stopping->load()) {
    workers = Unavailable("shutting down");
  }
  note("workers", workers);
  if (failed.empty()) {
    SendJson(res, 200, {{"ready", true}, {"checks", checks}});
    return;
  }
  SendJson(res, 503,
           {{"ready", false},
            {"checks", checks},
            {"error", {{"code", "not_ready"}, {"message", failed}}}});
}

// Refreshes the store-mirroring gauges, then serialises the registry.
void Metrics(const RouteEnv& env, httplib::Response& res) {
  RefreshStoreGauges(*env.deps.pipeline.store, env.deps.pipeline.clock->NowMillis(), *env.metrics);
  res.status = 200;
  res.set_content(env.metrics->Serialize(), "text/plain; version=0.0.4; charset=utf-8");
}

// Jobs by state for the caller (admin: all tenants), process counters and queue age (admin),
// and the most recent failed or dead jobs.
void Stats(const RouteEnv& env, const Principal& p, const httplib::Request& /*req*/,
           httplib::Response& res) {
  store::Store& store = *env.deps.pipeline.store;
  nlohmann::json jobs = nlohmann::json::object();
  for (store::JobState s : kAllStates) jobs[std::string(store::JobStateName(s))] = 0;
  if (p.admin) {
    auto counts = store.CountJobsByState();
    if (!counts.ok()) return SendError(res, counts.status());
    for (const auto& [s, n] : *counts) jobs[std::string(store::JobStateName(s))] = n;
  } else {
    store::JobFilter filter;
    filter.tenant = p.tenant;
    filter.limit = 0;
    auto all = store.ListJobs(filter);
    if (!all.ok()) return SendError(res, all.status());
    for (const auto& v : *all) {
      auto& slot = jobs[std::string(store::JobStateName(v.job.state))];
      slot = slot.get<int64_t>() + 1;
    }
  }
  const UnixMillis now = env.deps.pipeline.clock->NowMillis();
  nlohmann::json out = {{"jobs", jobs}, {"admin", p.admin}, {"generated_at", Iso(now)}};
  auto errors = ErrorsByCodeJson(env, p);
  if (!errors.ok()) return SendError(res, errors.status());
  out["errors_by_code"] = *errors;
  if (p.admin) {
    auto oldest = store.OldestQueuedAt(now);
    if (!oldest.ok()) return SendError(res, oldest.status());
    out["queue_oldest_age_seconds"] = oldest->has_value() ? (now - **oldest) / 1000.0 : 0.0;
    if (env.deps.workers != nullptr) {
      const pipeline::CountersSnapshot c = env.deps.workers->counters().Snapshot();
      out["counters"] = {{"documents_completed", c.documents_completed},
                         {"documents_failed", c.documents_failed},
                         {"documents_dead", c.documents_dead},
                         {"pages", c.pages},
                         {"chunks", c.chunks},
                         {"tokens_embedded", c.tokens_embedded},
                         {"parse_cache_hits", c.parse_cache_hits},
                         {"vectors_reused", c.vectors_reused},
                         {"stage_retries", c.stage_retries}};
      out["workers"] = env.deps.workers->thread_count();
    } else {
      out["counters"] = nullptr;
      out["workers"] = 0;
    }
  }
  auto gov = ReadGovernorView(store, now);
  if (!gov.ok()) return SendError(res, gov.status());
  out["budgets"] = BudgetsJson(*gov, p);
  // Ledger spend (settled + reserved), ingestion and search queries apart; a tenant sees its own.
  auto spend =
      store.SpendByOperation(p.admin ? std::nullopt : std::optional<std::string_view>(p.tenant));
  if (!spend.ok()) return SendError(res, spend.status());
  int64_t ingestion = 0;
  for (const auto& [operation, nanos] : *spend) {
    if (operation != "query") ingestion += nanos;
  }
  const int64_t query = spend->contains("query") ? spend->at("query") : 0;
  out["spend"] = {{"ingestion_usd", static_cast<double>(ingestion) / 1e9},
                  {"ingestion_nanos", ingestion},
                  {"query_usd", static_cast<double>(query) / 1e9},
                  {"query_nanos", query}};
  if (p.admin) {
    nlohmann::json sections = MetricsSectionsJson(*env.metrics);
    out["stages"] = sections["stages"];
    out["providers"] = ProvidersJson(sections["providers"], *gov);
  }
  std::vector<store::JobView> failures;
  for (store::JobState s : {store::JobState::kFailed, store::JobState::kDead}) {
    store::JobFilter filter;
    filter.state = s;
    filter.limit = 10;
    if (!p.admin) filter.tenant = p.tenant;
    auto some = store.ListJobs(filter);
    if (!some.ok()) return SendError(res, some.status());
    failures.insert(failures.end(), some->begin(), some->end());
  }
  std::sort(failures.begin(), failures.end(),
            [](const auto& a, const auto& b) { return a.job.updated_at > b.job.updated_at; });
  if (failures.size() > 10) failures.resize(10);
  nlohmann::json recent = nlohmann::json::array();
  for (const auto& v : failures) recent.push_back(JobJson(v));
  out["recent_failures"] = recent;
  auto throughput = ThroughputJson(env, p, now);
  if (!throughput.ok()) return SendError(res, throughput.status());
  out["throughput"] = std::move(*throughput);
  auto deferred = DeferredJson(env, p);
  if (!deferred.ok()) return SendError(res, deferred.status());
  (*deferred)["total"] = jobs["deferred"];
  out["deferred"] = std::move(*deferred);
  out["alerts"] = AlertsJson(env, p);
  SendJson(res, 200, out);
}

}  // namespace

void InstallOpsRoutes(httplib::Server& server, const RouteEnv& env) {
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, {{"status", "ok"}});
  });
  server.Get("/readyz",
             [&env](const httplib::Request&, httplib::Response& res) { Readyz(env, res); });
  server.Get("/metrics",
             [&env](const httplib::Request&, httplib::Response& res) { Metrics(env, res); });
  server.Get("/openapi.json", [](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content(std::string(OpenApiDocument()), "application/json");
  });
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    static const std::string kPolicy = DashboardContentSecurityPolicy(DashboardHtml());
    res.status = 200;
    res.set_header("Content-Security-Policy", kPolicy);
    res.set_header("Cache-Control", "no-store");
    res.set_content(std::string(DashboardHtml()), "text/html; charset=utf-8");
  });
  server.Get("/v1/alerts",
             Guard(env, {Scope::kRead},
                   [&env](const Principal& p, const httplib::Request&, httplib::Response& res) {
                     SendJson(res, 200, AlertsJson(env, p));
                   }));
  server.Get("/v1/budgets",
             Guard(env, {Scope::kRead},
                   [&env](const Principal& p, const httplib::Request&, httplib::Response& res) {
                     auto gov = ReadGovernorView(*env.deps.pipeline.store,
                                                 env.deps.pipeline.clock->NowMillis());
                     if (!gov.ok()) return SendError(res, gov.status());
                     SendJson(res, 200, {{"budgets", BudgetsJson(*gov, p)}});
                   }));
  server.Get("/v1/stats", Guard(env, {Scope::kRead},
                                [&env](const Principal& p, const httplib::Request& req,
                                       httplib::Response& res) { Stats(env, p, req, res); }));
}

}  // namespace ingest::api
