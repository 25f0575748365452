#include "ingest/api/api_server.h"

#include <httplib.h>

#include <algorithm>

#include "ingest/api/http_status.h"
#include "ingest/api/route_env.h"
#include "ingest/api/security_headers.h"
#include "ingest/common/listen_socket.h"
#include "ingest/obs/log.h"

namespace ingest::api {

ApiServer::ApiServer(ApiDeps deps, ApiOptions options) : deps_(std::move(deps)), options_(options) {
  if (deps_.metrics == nullptr) {
    own_metrics_ = std::make_unique<obs::Metrics>();
    deps_.metrics = own_metrics_.get();
  }
}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Start(const std::string& host, int port) {
  if (server_ != nullptr) return FailedPrecondition("API server already started");
  INGEST_RETURN_IF_ERROR(pipeline::ValidatePipelineDeps(deps_.pipeline));
  if (deps_.data_dir.empty()) return InvalidArgument("ApiDeps.data_dir is empty");
  if (deps_.max_upload_bytes <= 0) return InvalidArgument("ApiDeps.max_upload_bytes must be > 0");
  auto auth = TokenAuthenticator::Create(deps_.admin_token, deps_.tokens_file);
  if (!auth.ok()) return auth.status();
  auth_ =
      std::make_unique<Authenticator>(std::move(*auth), deps_.pipeline.store, deps_.pipeline.clock);
  limiter_ = std::make_unique<RequestLimiter>();

  if (deps_.alerting.has_value() && alerts_ == nullptr) {
    alerts_ = std::make_unique<AlertMonitor>(
        deps_.pipeline.store, deps_.metrics, deps_.pipeline.clock, *deps_.alerting,
        deps_.alert_post ? deps_.alert_post : HttpWebhookPost());
  }
  env_ = std::make_unique<RouteEnv>();
  env_->alerts = alerts_.get();
  env_->deps = deps_;
  env_->auth = auth_.get();
  env_->limiter = limiter_.get();
  env_->rate_limit_per_key = deps_.rate_limit_per_key;
  env_->rate_limit_per_tenant = deps_.rate_limit_per_tenant;
  env_->metrics = deps_.metrics;
  env_->stopping = &stopping_;

  if (!options_.tls.cert_file.empty() || !options_.tls.key_file.empty()) {
    auto tls = TlsContext::Load(options_.tls);
    if (!tls.ok()) return tls.status();
    tls_ = std::move(*tls);
  }

  // The router parses and dispatches requests handed to it by the EventServer; it never
  // listens. Its keep-alive settings only shape the Keep-Alive response header.
  router_ = std::make_unique<httplib::Server>();
  router_->set_keep_alive_timeout(options_.limits.keep_alive_timeout_s);
  router_->set_keep_alive_max_count(
      static_cast<size_t>(std::max(1, options_.limits.keep_alive_max_requests)));
  // Uploads are bounded by ReceiveUpload; this bounds every other body (JSON requests) and
  // leaves room for multipart framing around a maximal file.
  router_->set_payload_max_length(static_cast<size_t>(deps_.max_upload_bytes) + (1 << 20));
  InstallSecurityHeaders(*router_);

  InstallOpsRoutes(*router_, *env_);
  InstallJobRoutes(*router_, *env_);
  InstallDocumentRoutes(*router_, *env_);
  InstallWebhookRoutes(*router_, *env_);
  InstallAuditRoutes(*router_, *env_);

  // httplib calls this for every response >= 400. Handlers fill their own JSON error bodies;
  // only responses httplib produced itself (no route, body over the payload limit, unreadable
  // request) arrive here with an empty body.
  router_->set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const std::string_view reason = ReasonForHttpStatus(res.status);
        std::string message = res.status == 404
                                  ? "no route " + req.method + " " + req.path
                                  : "request rejected (HTTP " + std::to_string(res.status) + ")";
        res.set_content(nlohmann::json{{"error", {{"code", reason}, {"message", message}}}}.dump(
                            -1, ' ', false, nlohmann::json::error_handler_t::replace),
                        "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  // Handlers do not throw (library exceptions are caught where they are called); this is the
  // last line of defence so a bug answers 500 instead of killing the connection silently.
  router_->set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        obs::LogError("http handler threw", {{"path", req.path}, {"error", what}});
        SendError(res, Internal("internal error"));
      });
  obs::Metrics* metrics = deps_.metrics;
  router_->set_logger([metrics](const httplib::Request& req, const httplib::Response& res) {
    metrics->CountHttpRequest(RouteTemplate(req.method, req.path), res.status);
  });

  ListenSocketOptions listen;
  listen.backlog = options_.backlog;
  listen.reuse_port = options_.reuse_port;
  auto fd = OpenListenSocket(host, port, listen);
  if (!fd.ok()) return fd.status();
  port_ = LocalPort(*fd);
  stopping_ = false;
  server_ = std::make_unique<EventServer>(router_.get(), options_.limits, tls_.get());
  if (Status st = server_->Start(*fd); !st.ok()) {
    server_.reset();
    return st;
  }
  if (alerts_) alerts_->Start();
  return Status::Ok();
}

Result<size_t> ApiServer::ReloadTokens(const std::string& admin_token) {
  if (auth_ == nullptr) return FailedPrecondition("API server not started");
  if (admin_token.empty() && !deps_.admin_token.empty()) {
    return FailedPrecondition(
        "the admin token is now empty or missing; the previous one stays in use", "secret_missing");
  }
  INGEST_ASSIGN_OR_RETURN(TokenAuthenticator fresh,
                          TokenAuthenticator::Create(admin_token, deps_.tokens_file));
  const size_t tenants = fresh.tenant_token_count();
  auth_->ReplaceTokens(std::move(fresh));
  deps_.admin_token = admin_token;
  return tenants;
}

Status ApiServer::ReloadTls() {
  if (tls_ == nullptr) return Status::Ok();
  return tls_->Reload();
}

void ApiServer::Stop() {
  if (server_ == nullptr) return;
  stopping_ = true;
  server_->Stop();
  server_.reset();
  if (alerts_) alerts_->Stop();
}

}  // namespace ingest::api
