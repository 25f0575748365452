// `ingestd serve`'s HTTP server (DESIGN §7): the REST API, /healthz, /readyz, /metrics,
// /openapi.json and the dashboard at /, on cpp-httplib. docs/api.md describes every endpoint;
// docs/openapi.json is the machine-readable contract (embedded in the binary).
//
// Thread-safety: Start and Stop are called by the owner thread; requests are served by
// httplib's thread pool, and every handler only touches thread-safe objects (Store, BlobStore,
// Embedder, Metrics, WorkerPool counters) or immutable state.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "ingest/api/alert_monitor.h"
#include "ingest/common/status.h"
#include "ingest/obs/metrics.h"
#include "ingest/pipeline/pipeline_deps.h"
#include "ingest/pipeline/worker_pool.h"

namespace httplib {
class Server;
}

namespace ingest::api {

class TokenAuthenticator;
struct RouteEnv;

// Non-owning; every pointee must outlive the ApiServer.
struct ApiDeps {
  pipeline::PipelineDeps pipeline;  // store, blobs, embedder, clock, limits used by SubmitFile
  pipeline::WorkerPool* workers = nullptr;  // may be null (then /readyz reports no workers)
  obs::Metrics* metrics = nullptr;          // null: the server keeps its own registry
  std::string admin_token;                  // "" = no admin access
  std::string tokens_file;                  // "" = no tenant tokens (INGESTD_API_TOKENS_FILE)
  std::string data_dir;                     // uploads are streamed to <data_dir>/uploads
  int64_t max_upload_bytes = 256ll << 20;
  std::string default_tenant = "default";  // tenant of admin requests without X-Tenant
  // In-process alerting (alert_monitor.h); nullopt = none (GET /v1/alerts then reports
  // "disabled"). `alert_post` delivers webhook bodies; empty = HttpWebhookPost().
  std::optional<AlertMonitorOptions> alerting;
  obs::WebhookPost alert_post;
  // Signs LlamaParse's per-job webhook URLs (config llamaparse.webhook_secret); "" = the
  // webhook route answers 404 to everything.
  std::string llamaparse_webhook_secret;
};

struct ApiOptions {
  // Requests whose handling takes longer than this are still served; these bound idle reads.
  int read_timeout_s = 60;
  int write_timeout_s = 60;
};

class ApiServer {
 public:
  ApiServer(ApiDeps deps, ApiOptions options = {});
  ~ApiServer();  // Stop()
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Loads the tokens, binds synchronously (port 0 = an ephemeral port; port() then tells which)
  // and serves on a background thread. kInvalidArgument for missing deps or a bad tokens file,
  // kUnavailable when the address cannot be bound, kFailedPrecondition when already started.
  Status Start(const std::string& host, int port);
  int port() const { return port_; }
  // The alert monitor when ApiDeps.alerting was set (after Start), else null.
  AlertMonitor* alerts() { return alerts_.get(); }
  // Stops accepting, finishes in-flight requests, joins the thread. Idempotent.
  void Stop();

 private:
  ApiDeps deps_;
  ApiOptions options_;
  std::unique_ptr<obs::Metrics> own_metrics_;
  std::unique_ptr<TokenAuthenticator> auth_;
  std::unique_ptr<AlertMonitor> alerts_;
  std::unique_ptr<RouteEnv> env_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  int port_ = 0;
};

}  // namespace ingest::api
