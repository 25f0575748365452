// The interface of one pipeline stage (DESIGN §1) and the per-job context it runs in.
//
// Stages are immutable objects shared by every worker thread (thread-safe by construction: all
// members are const). Everything about one job lives in JobContext or in the Store: each stage
// reads its input from the Store, never from a previous stage's memory, so after a crash any
// worker can resume the job at the stage it was at.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/store/types.h"

namespace ingest::pipeline {

// Facts a stage reports for progress displays and counters (zero when not applicable).
struct StageStats {
  int64_t pages = 0;            // parse: pages of the document
  int64_t chunks = 0;           // chunk: chunks stored
  int64_t chunk_tokens = 0;     // chunk: tokens in the stored chunks
  int64_t embedded_tokens = 0;  // embed: tokens sent to the embedder (provider usage)
  int64_t vectors_added = 0;    // embed: vectors computed (cache misses)
  int64_t vectors_reused = 0;   // embed: chunk texts already in the vector cache
  bool parse_cache_hit = false;
  int64_t ocr_pages = 0;   // parse: pages recognised by local OCR (not on a cache hit)
  double ocr_seconds = 0;  // parse: their render + recognition time
};

// Owned by the worker running the job; not shared between threads except `cancelled`, which
// the heartbeat thread or a shutdown sets.
struct JobContext {
  store::Job job;            // the leased row (state running)
  store::Document document;  // the job's document as read when the job was leased
  // Cooperative cancellation: set when the lease is lost or the pool stops now. Long stages
  // check it between units of work and return kCancelled; the worker then writes nothing.
  std::atomic<bool> cancelled{false};
  // Wall-clock deadline for the current stage (0 = none). For stages that wait on remote work.
  // The WorkerPool leaves it 0 for now: no stage waits yet (Parser and Embedder are
  // synchronous), so there is nothing to bound.
  UnixMillis deadline = 0;
  StageStats stats;  // reset by the worker before each stage
  // Text hashes whose vectors the current stage stored (reset before each stage): when the
  // document turns out deleted meanwhile, the worker removes the ones no chunk holds.
  std::vector<std::string> texts_written;

  bool Cancelled() const { return cancelled.load(std::memory_order_relaxed); }
};

// What a stage that did not fail achieved.
struct StageResult {
  enum class Kind { kDone, kWaiting };
  Kind kind = Kind::kDone;
  std::string remote_job_id;  // kWaiting: the remote job to look at again
  UnixMillis retry_at = 0;    // kWaiting: when

  static StageResult Done() { return StageResult{}; }
  static StageResult Waiting(std::string remote_job_id, UnixMillis retry_at) {
    return StageResult{Kind::kWaiting, std::move(remote_job_id), retry_at};
  }
};

// One stage. Named StageRunner so it does not clash with the store::Stage enum.
class StageRunner {
 public:
  virtual ~StageRunner() = default;
  virtual store::Stage stage() const = 0;
  // Runs the stage for ctx.job. Idempotent: running it twice stores the same result. Errors
  // are classified by governor::Classify (retry, defer, fail).
  virtual Result<StageResult> Run(JobContext& ctx) const = 0;
};

}  // namespace ingest::pipeline
