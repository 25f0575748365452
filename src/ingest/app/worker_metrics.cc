#include "ingest/app/worker_metrics.h"

#include <httplib.h>

#include "ingest/api/store_gauges.h"
#include "ingest/common/listen_socket.h"
#include "ingest/emulate/common/server_thread.h"

namespace ingest::app {

struct WorkerMetricsServer::Impl {
  Impl(store::Store* s, const Clock* c, obs::Metrics* m)
      : store(s), clock(c), metrics(m), thread(&server) {}
  store::Store* store;
  const Clock* clock;
  obs::Metrics* metrics;
  httplib::Server server;
  // The loopback server runner the emulators use: binds through listen_socket.h (no shared
  // port), serves on its own thread.
  emulate::ServerThread thread;
};

WorkerMetricsServer::WorkerMetricsServer(store::Store* store, const Clock* clock,
                                         obs::Metrics* metrics)
    : impl_(std::make_unique<Impl>(store, clock, metrics)) {
  Impl* impl = impl_.get();
  impl->server.Get("/metrics", [impl](const httplib::Request&, httplib::Response& res) {
    api::RefreshStoreGauges(*impl->store, impl->clock->NowMillis(), *impl->metrics);
    res.status = 200;
    res.set_content(impl->metrics->Serialize(), "text/plain; version=0.0.4; charset=utf-8");
  });
  impl->server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
}

WorkerMetricsServer::~WorkerMetricsServer() { Stop(); }

Status WorkerMetricsServer::Start(const std::string& listen) {
  std::string host;
  int port = 0;
  if (Status st = ParseHostPort(listen, &host, &port); !st.ok()) return st;
  return impl_->thread.Start(host, port);
}

int WorkerMetricsServer::port() const { return impl_->thread.port(); }

void WorkerMetricsServer::Stop() { impl_->thread.Stop(); }

}  // namespace ingest::app
