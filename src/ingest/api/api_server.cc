#include "ingest/api/api_server.h"

#include <httplib.h>

#include <chrono>

#include "ingest/api/http_status.h"
#include "ingest/api/route_env.h"
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
  if (thread_.joinable()) return FailedPrecondition("API server already started");
  INGEST_RETURN_IF_ERROR(pipeline::ValidatePipelineDeps(deps_.pipeline));
  if (deps_.data_dir.empty()) return InvalidArgument("ApiDeps.data_dir is empty");
  if (deps_.max_upload_bytes <= 0) return InvalidArgument("ApiDeps.max_upload_bytes must be > 0");
  auto auth = TokenAuthenticator::Create(deps_.admin_token, deps_.tokens_file);
  if (!auth.ok()) return auth.status();
  auth_ = std::make_unique<TokenAuthenticator>(std::move(*auth));

  if (deps_.alerting.has_value() && alerts_ == nullptr) {
    alerts_ = std::make_unique<AlertMonitor>(
        deps_.pipeline.store, deps_.metrics, deps_.pipeline.clock, *deps_.alerting,
        deps_.alert_post ? deps_.alert_post : HttpWebhookPost());
  }
  env_ = std::make_unique<RouteEnv>();
  env_->alerts = alerts_.get();
  env_->deps = deps_;
  env_->auth = auth_.get();
  env_->metrics = deps_.metrics;
  env_->stopping = &stopping_;

  server_ = std::make_unique<httplib::Server>();
  server_->set_read_timeout(options_.read_timeout_s, 0);
  server_->set_write_timeout(options_.write_timeout_s, 0);
  // Uploads are bounded by ReceiveUpload; this bounds every other body (JSON requests) and
  // leaves room for multipart framing around a maximal file.
  server_->set_payload_max_length(static_cast<size_t>(deps_.max_upload_bytes) + (1 << 20));

  InstallOpsRoutes(*server_, *env_);
  InstallJobRoutes(*server_, *env_);
  InstallDocumentRoutes(*server_, *env_);
  InstallWebhookRoutes(*server_, *env_);

  // httplib calls this for every response >= 400. Handlers fill their own JSON error bodies;
  // only responses httplib produced itself (no route, body over the payload limit, unreadable
  // request) arrive here with an empty body.
  server_->set_error_handler(
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
  server_->set_exception_handler(
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
  server_->set_logger([metrics](const httplib::Request& req, const httplib::Response& res) {
    metrics->CountHttpRequest(RouteTemplate(req.method, req.path), res.status);
  });

  int bound = 0;
  if (port == 0) {
    bound = server_->bind_to_any_port(host.c_str());
    if (bound <= 0) return Unavailable("cannot bind " + host + " to an ephemeral port");
  } else {
    if (!server_->bind_to_port(host.c_str(), port)) {
      return Unavailable("cannot bind " + host + ":" + std::to_string(port));
    }
    bound = port;
  }
  port_ = bound;
  stopping_ = false;
  if (alerts_) alerts_->Start();
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() is a no-op until the accept loop runs; wait for it so Stop() right after Start()
  // cannot leave the thread serving.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status::Ok();
}

void ApiServer::Stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  server_->stop();
  thread_.join();
  if (alerts_) alerts_->Stop();
}

}  // namespace ingest::api
