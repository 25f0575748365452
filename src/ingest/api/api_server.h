// `ingestd serve`'s HTTP server (DESIGN §7): the REST API, /healthz, /readyz, /metrics,
// /openapi.json and the dashboard at /. docs/api.md describes every endpoint; docs/openapi.json
// is the machine-readable contract (embedded in the binary). Connections are owned by an
// epoll-driven EventServer (event_server.h); cpp-httplib parses and routes each request.
//
// Thread-safety: Start, Stop and ReloadTls are called by the owner thread; requests are served
// by the EventServer's threads, and every handler only touches thread-safe objects (Store,
// BlobStore, Embedder, Metrics, WorkerPool counters) or immutable state.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "ingest/api/alert_monitor.h"
#include "ingest/api/event_server.h"
#include "ingest/api/tls_context.h"
#include "ingest/common/rate_spec.h"
#include "ingest/common/status.h"
#include "ingest/obs/metrics.h"
#include "ingest/pipeline/pipeline_deps.h"
#include "ingest/pipeline/worker_pool.h"

namespace httplib {
class Server;
}

namespace ingest::api {

class Authenticator;
class RequestLimiter;
struct RouteEnv;

// Non-owning; every pointee must outlive the ApiServer.
struct ApiDeps {
  pipeline::PipelineDeps pipeline;  // store, blobs, embedder, clock, limits used by SubmitFile
  pipeline::WorkerPool* workers = nullptr;  // may be null (then /readyz reports no workers)
  obs::Metrics* metrics = nullptr;          // null: the server keeps its own registry
  std::string admin_token;                  // "" = no admin access
  std::string tokens_file;                  // "" = no tenant tokens (INGESTD_API_TOKENS_FILE)
  // Request rate limits (docs/security.md): per key or token (a key's own limit wins) and per
  // tenant; nullopt = none. Enforced by this process alone (request_limiter.h).
  std::optional<RateSpec> rate_limit_per_key;
  std::optional<RateSpec> rate_limit_per_tenant;
  std::string data_dir;  // uploads are streamed to <data_dir>/uploads
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
  ServerLimits limits;      // threads, connections, keep-alive and timeouts (event_server.h)
  int backlog = 1024;       // listen queue
  bool reuse_port = false;  // SO_REUSEPORT: share the port with other processes on purpose
  // TLS: both files set = HTTPS only on the port; client_ca_file adds mutual TLS.
  TlsFiles tls;
};

class ApiServer {
 public:
  ApiServer(ApiDeps deps, ApiOptions options = {});
  ~ApiServer();  // Stop()
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Loads the tokens (and TLS files), binds synchronously (port 0 = an ephemeral port; port()
  // then tells which) and serves on background threads. kInvalidArgument for missing deps, a
  // bad tokens file or bad TLS files, kAlreadyExists ("address in use") when another socket
  // listens on the address, kUnavailable when it cannot be bound otherwise,
  // kFailedPrecondition when already started.
  Status Start(const std::string& host, int port);
  int port() const { return port_; }
  bool tls() const { return tls_ != nullptr; }
  // Re-reads the TLS certificate and key (SIGHUP): new connections use them, open ones are
  // not disturbed. On error the previous ones stay in use. Ok (nothing to do) without TLS.
  Status ReloadTls();
  // Re-reads the admin token and the tenant tokens file (SIGHUP), as Start loaded them from
  // ApiDeps; `admin_token` is the newly loaded configuration's. On error (a malformed tokens
  // file, or an admin token that became empty while one was in use) the previous tokens stay
  // in use and the error says why. Returns how many tenant tokens are in use.
  Result<size_t> ReloadTokens(const std::string& admin_token);
  // The alert monitor when ApiDeps.alerting was set (after Start), else null.
  AlertMonitor* alerts() { return alerts_.get(); }
  // Stops accepting, finishes in-flight requests, joins the thread. Idempotent.
  void Stop();

 private:
  ApiDeps deps_;
  ApiOptions options_;
  std::unique_ptr<obs::Metrics> own_metrics_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<RequestLimiter> limiter_;
  std::unique_ptr<AlertMonitor> alerts_;
  std::unique_ptr<RouteEnv> env_;
  std::unique_ptr<TlsContext> tls_;
  std::unique_ptr<httplib::Server> router_;
  std::unique_ptr<EventServer> server_;
  std::atomic<bool> stopping_{false};
  int port_ = 0;
};

}  // namespace ingest::api
