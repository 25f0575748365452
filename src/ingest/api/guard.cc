// The API's one access check (route_env.h Guard): authentication, scope, rate limits, audit.
#include <algorithm>
#include <chrono>
#include <string>

#include "ingest/api/http_status.h"
#include "ingest/api/route_env.h"
#include "ingest/obs/log.h"
#include "ingest/store/store.h"

namespace ingest::api {
namespace {

int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SendTooManyRequests(httplib::Response& res, int64_t wait_ms, const std::string& what,
                         const RateSpec& spec) {
  const int64_t seconds = std::max<int64_t>(1, (wait_ms + 999) / 1000);
  res.set_header("Retry-After", std::to_string(seconds));
  SendJson(res, 429,
           {{"error",
             {{"code", "rate_limited"},
              {"message", what + " is limited to " + spec.ToString() + "; retry in " +
                              std::to_string(seconds) + " s"},
              {"retry_after_seconds", seconds}}}});
}

// The error code of a response the handler filled (its JSON error body), for the audit row.
std::string ResultOf(const httplib::Response& res) {
  if (res.status < 400) return "ok";
  auto body = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_object() &&
      body["error"].contains("code") && body["error"]["code"].is_string() &&
      !body["error"]["code"].get<std::string>().empty()) {
    return body["error"]["code"].get<std::string>();
  }
  return "http_" + std::to_string(res.status);
}

void Audit(const RouteEnv& env, const RoutePolicy& policy, const Principal& p,
           const httplib::Request& req, const httplib::Response& res) {
  if (policy.audit_action.empty()) return;
  store::AuditEntry e;
  e.at = env.deps.pipeline.clock->NowMillis();
  e.actor = p.actor;
  e.action = std::string(policy.audit_action);
  e.target = req.matches.size() > 1 ? req.matches[1].str() : "";
  e.detail_json = nlohmann::json{
      {"method", req.method},
      {"path", req.path},
      {"http_status", res.status},
      {"tenant",
       p.tenant}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  e.source = req.remote_addr.empty() ? "unknown" : req.remote_addr;
  e.result = ResultOf(res);
  if (Status st = env.deps.pipeline.store->AppendAudit(e); !st.ok()) {
    // The change already happened; the operator must learn that its record is missing.
    obs::LogError("audit row not written",
                  {{"action", e.action}, {"actor", e.actor}, {"error", st.ToString()}});
  }
}

// Authenticates and checks the scope and the rate limits. Sends the refusal and returns
// nullopt when the request may not proceed.
std::optional<Principal> Admit(const RouteEnv& env, const RoutePolicy& policy,
                               const httplib::Request& req, httplib::Response& res) {
  auto p = env.auth->Authenticate(req.get_header_value("Authorization"));
  if (!p.ok()) {
    SendError(res, p.status());
    return std::nullopt;
  }
  if (!p->scopes.Has(policy.scope)) {
    const std::string scope(ScopeName(policy.scope));
    SendJson(res, 403,
             {{"error",
               {{"code", "missing_scope"},
                {"message", "this route needs the scope \"" + scope + "\"; the credential has \"" +
                                p->scopes.ToString() + "\""},
                {"required_scope", scope}}}});
    Audit(env, policy, *p, req, res);
    return std::nullopt;
  }
  const int64_t now = MonotonicMs();
  const std::optional<RateSpec> per_key = p->rate_limit ? p->rate_limit : env.rate_limit_per_key;
  if (per_key) {
    if (int64_t wait = env.limiter->Take("key:" + p->actor, *per_key, now); wait > 0) {
      SendTooManyRequests(res, wait, "this credential", *per_key);
      return std::nullopt;
    }
  }
  if (env.rate_limit_per_tenant && !p->admin && !p->tenant.empty()) {
    if (int64_t wait = env.limiter->Take("tenant:" + p->tenant, *env.rate_limit_per_tenant, now);
        wait > 0) {
      SendTooManyRequests(res, wait, "tenant " + p->tenant, *env.rate_limit_per_tenant);
      return std::nullopt;
    }
  }
  return std::move(*p);
}

}  // namespace

httplib::Server::Handler Guard(const RouteEnv& env, RoutePolicy policy, GuardedHandler handler) {
  return [&env, policy, handler = std::move(handler)](const httplib::Request& req,
                                                      httplib::Response& res) {
    std::optional<Principal> p = Admit(env, policy, req, res);
    if (!p) return;
    handler(*p, req, res);
    Audit(env, policy, *p, req, res);
  };
}

httplib::Server::HandlerWithContentReader GuardUpload(const RouteEnv& env, RoutePolicy policy,
                                                      GuardedReaderHandler handler) {
  return [&env, policy, handler = std::move(handler)](const httplib::Request& req,
                                                      httplib::Response& res,
                                                      const httplib::ContentReader& reader) {
    std::optional<Principal> p = Admit(env, policy, req, res);
    if (!p) {
      // Refused before the body was read: read (and drop) a bounded part of it first. Closing a
      // connection with unread bytes in its receive buffer makes the kernel send a reset, which
      // can destroy the 401/403/429 on its way, so the client sees "connection reset" instead
      // of the answer. Past the bound the connection is closed anyway (a large unauthenticated
      // body is not worth reading).
      constexpr size_t kDrainBytes = 256 << 10;
      size_t drained = 0;
      reader([&drained](const char*, size_t n) {
        drained += n;
        return drained <= kDrainBytes;
      });
      return;
    }
    handler(*p, req, res, reader);
    Audit(env, policy, *p, req, res);
  };
}

}  // namespace ingest::api
