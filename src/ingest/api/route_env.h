// Internal to api/: what route handlers share, and the helpers every handler uses (auth, JSON
// bodies, tenant-checked reads). Not part of the module's interface.
#pragma once

#include <httplib.h>

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/api/api_server.h"
#include "ingest/api/auth.h"
#include "ingest/api/request_limiter.h"
#include "ingest/api/scopes.h"
#include "ingest/common/result.h"
#include "ingest/store/types.h"

namespace ingest::api {

struct GovernorView;

// Immutable after ApiServer::Start; shared by all handler threads.
struct RouteEnv {
  ApiDeps deps;
  Authenticator* auth = nullptr;                  // thread-safe
  RequestLimiter* limiter = nullptr;              // thread-safe
  std::optional<RateSpec> rate_limit_per_key;     // keys without their own limit; tokens
  std::optional<RateSpec> rate_limit_per_tenant;  // every tenant-bound caller of one tenant
  obs::Metrics* metrics = nullptr;
  AlertMonitor* alerts = nullptr;  // null: alerting not configured
  const std::atomic<bool>* stopping = nullptr;
};

void SendJson(httplib::Response& res, int http_status, const nlohmann::json& body);
void SendError(httplib::Response& res, const Status& status);

// How an authenticated route is guarded: the one scope it needs, and the audit action it
// records (empty: not audited; reads, searches and uploads are not).
struct RoutePolicy {
  Scope scope = Scope::kAdmin;
  std::string_view audit_action = {};
};
using GuardedHandler =
    std::function<void(const Principal&, const httplib::Request&, httplib::Response&)>;
using GuardedReaderHandler = std::function<void(const Principal&, const httplib::Request&,
                                                httplib::Response&, const httplib::ContentReader&)>;
// Wraps a handler in the API's one access check, in this order: authentication (401 unless a
// key, the admin token or a tokens-file token is presented and live), the route's scope (403
// "missing_scope" naming it), the per-key and per-tenant rate limits (429 "rate_limited" with
// Retry-After in whole seconds >= 1). Then runs `handler` and, for an audited route, appends
// one audit row (actor, action, the id in the path, the client's address, "ok" or the error
// code); a request refused for its scope is audited too, an unauthenticated one is not.
httplib::Server::Handler Guard(const RouteEnv& env, RoutePolicy policy, GuardedHandler handler);
httplib::Server::HandlerWithContentReader GuardUpload(const RouteEnv& env, RoutePolicy policy,
                                                      GuardedReaderHandler handler);

// The tenant a request acts as: the credential's, or for admin X-Tenant, else the admin key's
// tenant, else the default tenant.
std::string EffectiveTenant(const RouteEnv& env, const Principal& p, const httplib::Request& req);

// The body as a JSON object (kInvalidArgument "malformed_json" / "expected_object").
Result<nlohmann::json> ParseJsonObject(const httplib::Request& req);

// Reads a document / job the principal may see. Another tenant's id is kNotFound, exactly as
// an unknown id, so ids cannot be probed.
Result<store::Document> GetVisibleDocument(const RouteEnv& env, const Principal& p,
                                           std::string_view document_id);
Result<store::Job> GetVisibleJob(const RouteEnv& env, const Principal& p, std::string_view job_id);

// The JSON shape of `ingestd jobs list --json`, for one job.
nlohmann::json JobJson(const store::JobView& v);
// The alerts the principal may see (tenants: none about another tenant's budget), as in
// GET /v1/alerts.
nlohmann::json AlertsJson(const RouteEnv& env, const Principal& p);
// /v1/stats sections from this process's metrics: {"stages": [...], "providers": [...]}.
nlohmann::json MetricsSectionsJson(const obs::Metrics& metrics);
// The budgets the principal may see (admin: all; tenant: its own tenant budgets) with spend.
nlohmann::json BudgetsJson(const GovernorView& gov, const Principal& p);
// Provider health: the metrics section's providers joined with the store's stop state and
// rate-limit headroom (a provider known to either appears).
nlohmann::json ProvidersJson(const nlohmann::json& from_metrics, const GovernorView& gov);
// [{"code", "jobs"}] over the most recent failed and dead jobs the principal may see, most
// frequent first.
Result<nlohmann::json> ErrorsByCodeJson(const RouteEnv& env, const Principal& p);
// Documents finished per minute over the last 30 minutes, read from the store (so it covers
// every worker process and does not depend on when a dashboard tab was opened):
// {"window_minutes", "per_minute": [{"minute", "completed", "failed"}] oldest first, one entry
// per minute including empty ones, "docs_per_minute": finished in the last 5 minutes / their
// elapsed time}.
Result<nlohmann::json> ThroughputJson(const RouteEnv& env, const Principal& p, UnixMillis now);
// Jobs waiting in state deferred that the principal may see, the 1000 most recent of them:
// {"listed_of" (how many were read), "by_reason", "budget" (how many of them wait for a budget:
// budget_exceeded or budget_stopped), "jobs": the 20 most recent, as JobJson}.
Result<nlohmann::json> DeferredJson(const RouteEnv& env, const Principal& p);
std::string Iso(UnixMillis t);

void InstallOpsRoutes(httplib::Server& server, const RouteEnv& env);
void InstallJobRoutes(httplib::Server& server, const RouteEnv& env);
void InstallDocumentRoutes(httplib::Server& server, const RouteEnv& env);
void InstallWebhookRoutes(httplib::Server& server, const RouteEnv& env);
// GET /v1/audit (admin).
void InstallAuditRoutes(httplib::Server& server, const RouteEnv& env);

// "/v1/jobs/{id}" for "/v1/jobs/0b1c...": the route template used as a metrics label.
std::string RouteTemplate(std::string_view method, std::string_view path);

}  // namespace ingest::api
