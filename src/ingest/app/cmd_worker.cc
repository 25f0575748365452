// `ingestd worker [--workers N]`: pipeline workers only, no API and no submission (DESIGN §7,
// §9). Run any number of these processes, on any number of machines, against one PostgreSQL
// store (docs/scaling.md); each leases jobs from the shared queue, registers a row in the
// `workers` table and heartbeats it (and its leases) every lease_ttl / 3.
//
// Shutdown on SIGINT/SIGTERM: stop leasing, let running stages finish and release their jobs
// (queued at their next stage for any worker), then exit 0. A second signal exits at once;
// the jobs it held are taken over when their leases expire. kill -9 is the same as that second
// signal as far as the store is concerned. SIGHUP re-reads the provider API keys (*_FILE
// secrets) without stopping (App::ReloadSecrets).
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "ingest/api/metrics_observer.h"
#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/app/config_budgets.h"
#include "ingest/app/doctor.h"
#include "ingest/app/worker_metrics.h"
#include "ingest/app/worker_process.h"
#include "ingest/common/listen_socket.h"
#include "ingest/embed/embedder.h"
#include "ingest/obs/log.h"
#include "ingest/obs/metrics.h"
#include "ingest/parse/parser.h"

namespace ingest::app {
namespace {

struct WorkerArgs {
  int workers = -1;            // -1 = pipeline.workers from config
  std::string metrics_listen;  // "" = no metrics endpoint
};

// Log lines and metrics both see every stage of a worker that serves /metrics.
class TeeObserver final : public pipeline::PipelineObserver {
 public:
  TeeObserver(pipeline::PipelineObserver* a, pipeline::PipelineObserver* b) : a_(a), b_(b) {}
  void OnStageFinished(const store::Job& before, const store::Job& after, const Status& status,
                       const pipeline::StageStats& stats, Duration elapsed) override {
    a_->OnStageFinished(before, after, status, stats, elapsed);
    b_->OnStageFinished(before, after, status, stats, elapsed);
  }
  void OnAbandoned(const store::Job& job, const Status& why) override {
    a_->OnAbandoned(job, why);
    b_->OnAbandoned(job, why);
  }
  void OnWorkerError(const Status& status) override {
    a_->OnWorkerError(status);
    b_->OnWorkerError(status);
  }

 private:
  pipeline::PipelineObserver* const a_;
  pipeline::PipelineObserver* const b_;
};

int RunWorker(const GlobalOptions& global, const WorkerArgs& args) {
  auto config = LoadConfigFor(global);
  if (!config.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", config.status().message().c_str());
    return 2;
  }
  DoctorOptions preflight;  // the offline doctor checks; a failure stops the start
  preflight.check_listen = false;
  preflight.check_api_tokens = false;
  if (!RunPreflight(*config, preflight)) return 2;
  StopSignals signals(/*reload=*/true);  // before any thread starts; SIGHUP: reload secrets
  auto app_or = App::Open(*config);
  if (!app_or.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", app_or.status().ToString().c_str());
    return 2;
  }
  App& app = **app_or;
  // [[budget]] tables: written at every start; the file wins over `budget set` (config_budgets.h).
  if (Status st = ApplyConfiguredBudgets(global, *config, app.store(), app.clock()); !st.ok()) {
    std::fprintf(stderr, "ingestd: budgets from the configuration: %s\n", st.ToString().c_str());
    return 2;
  }
  WorkerLogObserver log_observer;
  obs::Metrics metrics;
  api::MetricsObserver metrics_observer(&metrics, std::string(app.parser().Name()),
                                        std::string(app.embedder().Provider()),
                                        app.embedder().Space().model);
  TeeObserver observer(&log_observer, &metrics_observer);
  WorkerMetricsServer metrics_server(&app.store(), app.clock(), &metrics);
  if (!args.metrics_listen.empty()) {
    app.governor().SetMetrics(&metrics);
    if (Status st = metrics_server.Start(args.metrics_listen); !st.ok()) {
      std::fprintf(stderr, "ingestd: --metrics-listen %s: %s\n", args.metrics_listen.c_str(),
                   st.message().c_str());
      return 2;
    }
    std::string host;
    int unused = 0;
    (void)ParseHostPort(args.metrics_listen, &host, &unused);
    std::printf("metrics on http://%s:%d\n", host.c_str(), metrics_server.port());
    std::fflush(stdout);
  }
  const pipeline::WorkerOptions options = WorkerOptionsFor(*config, args.workers);
  pipeline::WorkerPool pool(app.Deps(), options,
                            args.metrics_listen.empty()
                                ? static_cast<pipeline::PipelineObserver*>(&log_observer)
                                : &observer);
  if (Status st = pool.Start(); !st.ok()) {
    std::fprintf(stderr, "ingestd: cannot start workers: %s\n", st.ToString().c_str());
    return 2;
  }
  obs::LogInfo("worker started", {{"worker_id", pool.worker_id()},
                                  {"threads", pool.thread_count()},
                                  {"lease_ttl_s", config->pipeline.lease_ttl_s},
                                  {"parser", std::string(app.parser().Name())},
                                  {"embedder", app.embedder().Describe()}});

  int sig = 0;
  for (;;) {
    sig = signals.Wait();
    if (sig != SIGHUP) break;
    obs::LogInfo("SIGHUP: reloading secrets");
    ReloadSecretsFromConfig(global, app);
  }
  obs::LogInfo("worker stopping: finishing running stages", {{"signal", sig}});
  signals.ExitOnNextSignal();
  pool.RequestStop();
  pool.Join();
  // Served until the pool has finished, so a last scrape during the drain sees its counters.
  metrics_server.Stop();
  const pipeline::CountersSnapshot c = pool.counters().Snapshot();
  obs::LogInfo("worker stopped", {{"worker_id", pool.worker_id()},
                                  {"documents_completed", c.documents_completed},
                                  {"documents_failed", c.documents_failed + c.documents_dead},
                                  {"stages_run", c.stages_run},
                                  {"attempts_abandoned", c.leases_lost}});
  return 0;
}

}  // namespace

void AddWorkerCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<WorkerArgs>();
  CLI::App* cmd =
      app.add_subcommand("worker", "Pipeline workers only, for scale-out (no API, no submit)");
  cmd->add_option("--workers", args->workers,
                  "Worker threads (default pipeline.workers; 0 = one per core)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--metrics-listen", args->metrics_listen,
                  "HOST:PORT for GET /metrics and /healthz (port 0 picks a free one); default: "
                  "none");
  cmd->callback([&global, exit_code, args] { *exit_code = RunWorker(global, *args); });
}

}  // namespace ingest::app
