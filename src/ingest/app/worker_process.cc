#include "ingest/app/worker_process.h"

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "ingest/obs/log.h"

namespace ingest::app {

pipeline::WorkerOptions WorkerOptionsFor(const config::Config& config, int threads_override) {
  pipeline::WorkerOptions wo;
  wo.threads = threads_override >= 0 ? threads_override : config.pipeline.workers;
  wo.lease_ttl = std::chrono::seconds(config.pipeline.lease_ttl_s);
  return wo;
}

StopSignals::StopSignals(bool reload) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  if (reload) sigaddset(&set_, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

int StopSignals::Wait() {
  int sig = 0;
  sigwait(&set_, &sig);
  return sig;
}

void StopSignals::ExitOnNextSignal() {
  sigset_t stop = set_;
  sigdelset(&stop, SIGHUP);  // a reload request during shutdown is not a second stop signal
  std::thread([set = stop] {
    int sig = 0;
    sigwait(&set, &sig);
    static const char kMsg[] = "ingestd: second signal, exiting now\n";
    ssize_t ignored = write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    (void)ignored;
    _exit(130);
  }).detach();
}

void WorkerLogObserver::OnStageFinished(const store::Job& before, const store::Job& after,
                                        const Status& status, const pipeline::StageStats& stats,
                                        Duration elapsed) {
  (void)before, (void)status, (void)stats, (void)elapsed;
  if (!store::IsTerminal(after.state)) return;
  const bool ok = after.state == store::JobState::kComplete;
  obs::Log(ok ? obs::LogLevel::kInfo : obs::LogLevel::kWarn,
           ok ? "document complete" : "document not completed",
           {{"state", std::string(store::JobStateName(after.state))},
            {"code", after.last_error_code},
            {"attempts", after.attempts}});
}

void WorkerLogObserver::OnAbandoned(const store::Job& job, const Status& why) {
  obs::LogWarn("attempt abandoned", {{"job_id", job.id},
                                     {"stage", std::string(store::StageName(job.stage))},
                                     {"code", why.reason()},
                                     {"error", why.message()}});
}

void WorkerLogObserver::OnWorkerError(const Status& status) {
  obs::LogWarn("store error", {{"code", status.reason()}, {"error", status.message()}});
}

}  // namespace ingest::app
