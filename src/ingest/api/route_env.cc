#include "ingest/api/route_env.h"

#include "ingest/api/http_status.h"
#include "ingest/pipeline/job_view_json.h"

namespace ingest::api {

void SendJson(httplib::Response& res, int http_status, const nlohmann::json& body) {
  res.status = http_status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void SendError(httplib::Response& res, const Status& status) {
  SendJson(res, HttpStatusFor(status), ErrorBody(status));
  if (status.code() == StatusCode::kUnauthenticated) {
    res.set_header("WWW-Authenticate", "Bearer");
  }
}

std::string EffectiveTenant(const RouteEnv& env, const Principal& p, const httplib::Request& req) {
  if (!p.admin) return p.tenant;
  std::string t = req.get_header_value("X-Tenant");
  if (!t.empty()) return t;
  return p.tenant.empty() ? env.deps.default_tenant : p.tenant;
}

Result<nlohmann::json> ParseJsonObject(const httplib::Request& req) {
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    return InvalidArgument("request body is not valid JSON", "malformed_json");
  if (!body.is_object())
    return InvalidArgument("request body must be a JSON object", "expected_object");
  return body;
}

Result<store::Document> GetVisibleDocument(const RouteEnv& env, const Principal& p,
                                           std::string_view document_id) {
  auto doc = env.deps.pipeline.store->GetDocument(document_id);
  if (!doc.ok()) {
    if (doc.status().code() == StatusCode::kNotFound) {
      return NotFound("no document " + std::string(document_id), "document_not_found");
    }
    return doc.status();
  }
  if (!p.admin && doc->tenant != p.tenant) {
    return NotFound("no document " + std::string(document_id), "document_not_found");
  }
  return doc;
}

Result<store::Job> GetVisibleJob(const RouteEnv& env, const Principal& p, std::string_view job_id) {
  auto job = env.deps.pipeline.store->GetJob(job_id);
  if (!job.ok()) {
    if (job.status().code() == StatusCode::kNotFound) {
      return NotFound("no job " + std::string(job_id), "job_not_found");
    }
    return job.status();
  }
  if (!p.admin) {
    auto doc = GetVisibleDocument(env, p, job->document_id);
    if (!doc.ok()) {
      if (doc.status().code() == StatusCode::kNotFound) {
        return NotFound("no job " + std::string(job_id), "job_not_found");
      }
      return doc.status();
    }
  }
  return job;
}

std::string Iso(UnixMillis t) { return t > 0 ? FormatIso8601(t) : ""; }

nlohmann::json JobJson(const store::JobView& v) { return pipeline::JobViewJson(v); }

std::string RouteTemplate(std::string_view method, std::string_view path) {
  (void)method;
  static constexpr std::string_view kExact[] = {
      "/",          "/healthz",    "/readyz",       "/metrics",   "/openapi.json",
      "/v1/jobs",   "/v1/stats",   "/v1/documents", "/v1/search", "/v1/costs",
      "/v1/alerts", "/v1/budgets", "/v1/audit"};
  for (std::string_view e : kExact) {
    if (path == e) return std::string(e);
  }
  auto id_route = [&](std::string_view prefix, std::string_view name) -> std::string {
    std::string_view rest = path.substr(prefix.size());
    const size_t slash = rest.find('/');
    if (rest.empty() || slash == 0) return "";
    if (slash == std::string_view::npos) return std::string(name) + "/{id}";
    std::string_view action = rest.substr(slash + 1);
    if (action == "retry" || action == "cancel" || action == "requeue" || action == "chunks") {
      return std::string(name) + "/{id}/" + std::string(action);
    }
    return "";
  };
  std::string t;
  if (path.starts_with("/v1/jobs/")) t = id_route("/v1/jobs/", "/v1/jobs");
  if (path.starts_with("/v1/documents/")) t = id_route("/v1/documents/", "/v1/documents");
  return t.empty() ? "unmatched" : t;
}

}  // namespace ingest::api
