// The worker loop (DESIGN §1): lease a job, run its stage, let the state machine decide the
// transition, write it with compare-and-set, and carry on with the next stage of the same job.
//
// Thread-safe: every public method may be called from any thread. A WorkerPool owns its
// threads; PipelineDeps' pointees must outlive it.
//
// Leasing and continuation: a worker leases a job (LeaseNext), runs its stage, and on success
// writes the next stage with state running and keep_lease = true, so it keeps the job and runs
// the next stage at once (no re-lease round trip, no other worker can take it in between).
// The lease is renewed by the pool's heartbeat thread every heartbeat_interval while the job is
// held. Any other outcome (retry later, waiting, deferred, failed, complete) releases the job.
//
// Crash safety: if the process dies, the lease expires and LeaseNext in another process takes
// the job over at the stage it was at; stages are idempotent and read their input from the
// Store. If the heartbeat finds the lease lost (kFailedPrecondition), the job's JobContext is
// cancelled and its result is never written (the CAS would fail anyway).
//
// Shutdown: RequestStop() stops leasing; running stages finish and their jobs are released
// (queued at the next stage). StopNow() additionally cancels running stages cooperatively and
// writes nothing for them: their leases expire and another run takes them over.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ingest/common/status.h"
#include "ingest/pipeline/pipeline_deps.h"
#include "ingest/pipeline/pipeline_observer.h"
#include "ingest/pipeline/stages/stages.h"

namespace ingest::pipeline {

struct WorkerOptions {
  int threads = 0;  // 0 = std::thread::hardware_concurrency() (at least 1)
  Duration lease_ttl = std::chrono::seconds(30);
  Duration heartbeat_interval = Duration(0);  // 0 = lease_ttl / 3
  // How long an idle worker sleeps before asking for work again (Wake() ends the sleep early).
  Duration poll_interval = std::chrono::milliseconds(200);
  std::string worker_id;  // "" = "<host>:<pid>:<random>"; lease owners are "<worker_id>/<n>"
  std::string version = "0.1.0";
  uint64_t seed = 0;  // backoff jitter seed; 0 = from std::random_device
};

class WorkerPool {
 public:
  // `observer` may be null; if not, it must outlive the pool.
  WorkerPool(PipelineDeps deps, WorkerOptions options, PipelineObserver* observer = nullptr);
  // RequestStop() and Join().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Validates deps, registers the worker row and starts the threads. Once only
  // (kFailedPrecondition after the first call).
  Status Start();
  // Ends idle waits now (call after submitting work).
  void Wake();
  // Stop leasing; running stages finish and release their jobs. Does not block.
  void RequestStop();
  // Stop leasing and cancel running stages; nothing more is written. Does not block. Call
  // after Start() has returned (not concurrently with it).
  void StopNow();
  // Waits for every thread to exit (after RequestStop/StopNow). Idempotent.
  void Join();

  const PipelineCounters& counters() const { return counters_; }
  const std::string& worker_id() const { return worker_id_; }
  int thread_count() const { return thread_count_; }

 private:
  // One worker thread's current job, shared with the heartbeat thread.
  struct Slot {
    std::mutex mu;
    std::optional<store::Lease> lease;  // GUARDED_BY(mu); set while a job is held
    JobContext* ctx = nullptr;          // GUARDED_BY(mu)
    bool lost = false;                  // GUARDED_BY(mu): heartbeat found the lease lost
  };

  void WorkerLoop(int index);
  // Runs stages of the leased job until it is released, lost or the pool stops.
  void RunJob(int index, store::Lease lease, std::mt19937_64& rng);
  // Drops the current attempt's result (nothing is written) and counts it.
  void Abandon(const store::Job& job, const Status& why);
  void HeartbeatLoop();
  void ReportWorker(int in_flight);
  bool Stopping() const { return stop_requested_.load(); }

  const PipelineDeps deps_;
  const WorkerOptions options_;
  PipelineObserver* const observer_;
  const StageSet stages_;
  std::string worker_id_;
  int thread_count_ = 1;
  UnixMillis started_at_ = 0;
  PipelineCounters counters_;

  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> stop_now_{false};
  std::atomic<int> in_flight_{0};
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  uint64_t wake_seq_ = 0;  // GUARDED_BY(wake_mu_)

  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::thread> threads_;
  std::thread heartbeat_;
  std::mutex hb_mu_;
  std::condition_variable hb_cv_;
  bool hb_stop_ = false;  // GUARDED_BY(hb_mu_)
  std::mutex lifecycle_mu_;
  bool started_ = false;  // GUARDED_BY(lifecycle_mu_)
  bool joined_ = false;   // GUARDED_BY(lifecycle_mu_)
};

}  // namespace ingest::pipeline
