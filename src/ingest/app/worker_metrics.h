// `ingestd worker --metrics-listen HOST:PORT`: a headless worker's Prometheus endpoint, so a
// scraper sees every ingestd process, not only the API replicas (deploy/staging/ scrapes both).
// GET /metrics serves the process's own counters (documents, stages, provider calls, tokens,
// cost) and the store-mirroring gauges (api/store_gauges.h); GET /healthz answers 200 while the
// process runs. Nothing else is served: no API, no tokens, no tenant data.
#pragma once

#include <memory>
#include <string>

#include "ingest/common/clock.h"
#include "ingest/common/status.h"
#include "ingest/obs/metrics.h"
#include "ingest/store/store.h"

namespace ingest::app {

// Not thread-safe: Start and Stop are called by the owning command's main thread; the
// handlers run on the server's own thread.
class WorkerMetricsServer {
 public:
  // `store`, `clock` and `metrics` must outlive this object.
  WorkerMetricsServer(store::Store* store, const Clock* clock, obs::Metrics* metrics);
  ~WorkerMetricsServer();
  WorkerMetricsServer(const WorkerMetricsServer&) = delete;
  WorkerMetricsServer& operator=(const WorkerMetricsServer&) = delete;

  // Binds `listen` (HOST:PORT; port 0 picks a free one) and serves on a background thread.
  // kInvalidArgument for a malformed address, kUnavailable when it cannot be bound.
  Status Start(const std::string& listen);
  // The bound port (0 before Start).
  int port() const;
  // Stops serving; idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ingest::app
