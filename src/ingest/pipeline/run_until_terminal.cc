#include "ingest/pipeline/run_until_terminal.h"

#include <chrono>
#include <thread>

namespace ingest::pipeline {

Result<std::vector<store::Job>> RunUntilTerminal(WorkerPool& pool, store::Store& store,
                                                 std::span<const std::string> job_ids,
                                                 const RunUntilTerminalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<store::Job> jobs(job_ids.size());
  std::vector<bool> done(job_ids.size(), false);
  pool.Wake();
  while (true) {
    IngestProgress p;
    p.total = job_ids.size();
    for (size_t i = 0; i < job_ids.size(); ++i) {
      if (!done[i]) {
        INGEST_ASSIGN_OR_RETURN(jobs[i], store.GetJob(job_ids[i]));
        done[i] = store::IsTerminal(jobs[i].state);
      }
      switch (jobs[i].state) {
        case store::JobState::kComplete:
          ++p.complete;
          break;
        case store::JobState::kFailed:
          ++p.failed;
          break;
        case store::JobState::kDead:
          ++p.dead;
          break;
        case store::JobState::kCancelled:
          ++p.cancelled;
          break;
        case store::JobState::kDeferred:
          ++p.deferred;
          break;
        case store::JobState::kWaiting:
          ++p.waiting;
          break;
        default:
          break;
      }
    }
    p.counters = pool.counters().Snapshot();
    p.elapsed = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
    if (options.on_progress) options.on_progress(p);
    if (p.terminal() == p.total) return jobs;
    if (options.interrupted && options.interrupted()) {
      return Cancelled(
          "interrupted with " + std::to_string(p.total - p.terminal()) + " jobs unfinished",
          "interrupted");
    }
    if (options.timeout.count() > 0 && p.elapsed >= options.timeout) {
      return DeadlineExceeded("gave up waiting after " + std::to_string(p.elapsed.count()) +
                                  " ms with " + std::to_string(p.total - p.terminal()) +
                                  " jobs unfinished",
                              "ingest_timeout");
    }
    std::this_thread::sleep_for(options.poll_interval);
  }
}

}  // namespace ingest::pipeline
