// Progress reporting out of the worker pool: lock-free counters the CLI progress bar and
// summary poll, and an optional observer called on every stage attempt.
#pragma once

#include <atomic>
#include <cstdint>

#include "ingest/common/clock.h"
#include "ingest/common/status.h"
#include "ingest/pipeline/stages/stage_runner.h"
#include "ingest/store/types.h"

namespace ingest::pipeline {

// A consistent-enough copy of PipelineCounters (each field read atomically, not all at once).
struct CountersSnapshot {
  int64_t documents_completed = 0;
  int64_t documents_failed = 0;  // permanent errors
  int64_t documents_dead = 0;    // retries exhausted
  int64_t stages_run = 0;        // stage attempts whose result was written
  int64_t stage_retries = 0;     // transient failures that were scheduled again
  int64_t stage_deferrals = 0;   // throttled / configuration deferrals
  int64_t leases_lost = 0;       // attempts abandoned (lease lost, shutdown, write failure)
  int64_t pages = 0;             // pages parsed (or found in the parse cache)
  int64_t parse_cache_hits = 0;
  int64_t chunks = 0;           // chunks stored
  int64_t tokens_embedded = 0;  // tokens sent to the embedder
  int64_t vectors_added = 0;
  int64_t vectors_reused = 0;  // chunk texts found in the vector cache
};

// Thread-safe: updated by every worker thread, read by anyone.
class PipelineCounters {
 public:
  CountersSnapshot Snapshot() const;

  std::atomic<int64_t> documents_completed{0};
  std::atomic<int64_t> documents_failed{0};
  std::atomic<int64_t> documents_dead{0};
  std::atomic<int64_t> stages_run{0};
  std::atomic<int64_t> stage_retries{0};
  std::atomic<int64_t> stage_deferrals{0};
  std::atomic<int64_t> leases_lost{0};
  std::atomic<int64_t> pages{0};
  std::atomic<int64_t> parse_cache_hits{0};
  std::atomic<int64_t> chunks{0};
  std::atomic<int64_t> tokens_embedded{0};
  std::atomic<int64_t> vectors_added{0};
  std::atomic<int64_t> vectors_reused{0};
};

// Optional hooks (metrics, logs, live dashboards). Called on worker threads, concurrently:
// implementations must be thread-safe and quick (they run while the worker holds a lease).
class PipelineObserver {
 public:
  virtual ~PipelineObserver() = default;
  // After a stage attempt's transition was written. `before` is the job as leased for the
  // stage, `after` the row as written; `status` is the stage's result (ok for done/waiting).
  virtual void OnStageFinished(const store::Job& before, const store::Job& after,
                               const Status& status, const StageStats& stats, Duration elapsed) {
    (void)before, (void)after, (void)status, (void)stats, (void)elapsed;
  }
  // A stage attempt whose result was dropped: lease lost, shutdown, or the store failed.
  virtual void OnAbandoned(const store::Job& job, const Status& why) { (void)job, (void)why; }
  // Store errors outside a job (LeaseNext, UpsertWorker). The worker keeps going.
  virtual void OnWorkerError(const Status& status) { (void)status; }
};

}  // namespace ingest::pipeline
