// What the commands that run pipeline workers share (`ingestd serve`, `ingestd worker`,
// `ingestd ingest`): the worker pool's options as the configuration gives them, an orderly stop
// on SIGINT/SIGTERM, and the JSON log lines a worker process writes about its jobs.
#pragma once

#include <signal.h>

#include "ingest/config/config.h"
#include "ingest/pipeline/pipeline_observer.h"
#include "ingest/pipeline/worker_pool.h"

namespace ingest::app {

// Pool options from `config`: pipeline.workers threads (or `threads_override` when >= 0) and
// pipeline.lease_ttl_s; heartbeats then run every lease_ttl / 3 (WorkerOptions).
pipeline::WorkerOptions WorkerOptionsFor(const config::Config& config, int threads_override);

// SIGINT and SIGTERM taken synchronously. The constructor blocks both in the calling thread,
// so construct it before starting any thread: every thread inherits the mask and the signals
// are only ever taken by Wait(), never by an asynchronous handler in the middle of a stage.
// Not thread-safe; owned by the command's main thread.
class StopSignals {
 public:
  // `reload`: SIGHUP is blocked too and returned by Wait() (the caller reloads and waits again).
  explicit StopSignals(bool reload = false);
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Blocks until SIGINT or SIGTERM (or SIGHUP, see above) arrives; returns the signal number.
  int Wait();
  // For the orderly stop that follows Wait(): a further SIGINT/SIGTERM ends the process at
  // once (exit status 130), for an operator who will not wait for running stages. Their leases
  // then expire and another worker takes the jobs over. Call once.
  void ExitOnNextSignal();

 private:
  sigset_t set_;
};

// Logs what an operator of a headless worker wants to see, as JSON lines: a document reaching a
// terminal state (info; failed/dead at warn), an abandoned attempt (warn) and store errors
// outside a job (warn; the worker keeps going). Thread-safe.
class WorkerLogObserver : public pipeline::PipelineObserver {
 public:
  void OnStageFinished(const store::Job& before, const store::Job& after, const Status& status,
                       const pipeline::StageStats& stats, Duration elapsed) override;
  void OnAbandoned(const store::Job& job, const Status& why) override;
  void OnWorkerError(const Status& status) override;
};

}  // namespace ingest::app
