// Waiting for a set of jobs to finish, for `ingestd ingest`: the pool runs, this polls the
// Store and reports progress until every job is terminal.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/pipeline/pipeline_observer.h"
#include "ingest/pipeline/worker_pool.h"
#include "ingest/store/store.h"

namespace ingest::pipeline {

struct IngestProgress {
  size_t total = 0;
  size_t complete = 0;
  size_t failed = 0;
  size_t dead = 0;
  size_t cancelled = 0;
  size_t deferred = 0;        // not terminal: held back by the governor (budget, quota, breaker)
  size_t waiting = 0;         // not terminal: remote work pending
  CountersSnapshot counters;  // the pool's counters (pages, chunks, tokens) for rate and ETA
  Duration elapsed{0};        // real time since RunUntilTerminal started

  size_t terminal() const { return complete + failed + dead + cancelled; }
};

struct RunUntilTerminalOptions {
  Duration poll_interval = std::chrono::milliseconds(250);
  // Called after every poll (on the calling thread).
  std::function<void(const IngestProgress&)> on_progress;
  // Polled every interval; true ends the wait with kCancelled (Ctrl-C).
  std::function<bool()> interrupted;
  // 0 = no limit; otherwise kDeadlineExceeded after this much real time (jobs deferred for a
  // long time, e.g. over budget, would otherwise keep `ingest` waiting).
  Duration timeout{0};
};

// Blocks until every job in `job_ids` is complete, failed, dead or cancelled, and returns their
// final rows in the order given. `pool` must be started; it is woken once at the beginning and
// left running. The rows turn terminal just before the worker records the last stage timing
// and bumps its counters: read final counters after pool.RequestStop() and Join(). Errors:
// kNotFound for an unknown job id, store errors as they come, kCancelled / kDeadlineExceeded as
// above. Measures time with the real clock (it sleeps).
Result<std::vector<store::Job>> RunUntilTerminal(WorkerPool& pool, store::Store& store,
                                                 std::span<const std::string> job_ids,
                                                 const RunUntilTerminalOptions& options = {});

}  // namespace ingest::pipeline
