#include "ingest/pipeline/worker_pool.h"

#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ingest/common/ids.h"
#include "ingest/obs/log.h"
#include "ingest/pipeline/state_machine.h"

namespace ingest::pipeline {
namespace {

std::string DefaultWorkerId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "localhost") + ":" + std::to_string(getpid()) + ":" +
         UuidV4().substr(0, 8);
}

std::string Outcome(const Result<StageResult>& r) {
  if (!r.ok()) return r.status().reason();
  return r->kind == StageResult::Kind::kWaiting ? "waiting" : "ok";
}

std::string TransitionDetail(const store::Job& before, const store::Job& after,
                             const Status& status, std::string_view event) {
  nlohmann::json j{{"event", event},
                   {"from_state", store::JobStateName(before.state)},
                   {"from_stage", store::StageName(before.stage)},
                   {"to_state", store::JobStateName(after.state)},
                   {"to_stage", store::StageName(after.stage)},
                   {"attempts", after.attempts}};
  if (!status.ok()) {
    j["error_code"] = status.reason();
    j["error_message"] = status.message();
  }
  if (after.state == store::JobState::kDeferred) j["defer_reason"] = after.defer_reason;
  return j.dump();
}

}  // namespace

WorkerPool::WorkerPool(PipelineDeps deps, WorkerOptions options, PipelineObserver* observer)
    : deps_(std::move(deps)),
      options_(std::move(options)),
      observer_(observer),
      stages_(MakeStages(deps_)),
      worker_id_(options_.worker_id.empty() ? DefaultWorkerId() : options_.worker_id) {
  thread_count_ = options_.threads > 0
                      ? options_.threads
                      : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

WorkerPool::~WorkerPool() {
  RequestStop();
  Join();
}

Status WorkerPool::Start() {
  std::lock_guard<std::mutex> lk(lifecycle_mu_);
  if (started_) return FailedPrecondition("worker pool already started", "already_started");
  INGEST_RETURN_IF_ERROR(ValidatePipelineDeps(deps_));
  if (options_.lease_ttl.count() <= 0) {
    return InvalidArgument("worker lease_ttl must be positive", "bad_option");
  }
  started_at_ = deps_.clock->NowMillis();
  ReportWorker(0);
  for (int i = 0; i < thread_count_; ++i) slots_.push_back(std::make_unique<Slot>());
  for (int i = 0; i < thread_count_; ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
  heartbeat_ = std::thread([this] { HeartbeatLoop(); });
  started_ = true;
  return Status::Ok();
}

void WorkerPool::Wake() {
  {
    std::lock_guard<std::mutex> lk(wake_mu_);
    ++wake_seq_;
  }
  wake_cv_.notify_all();
}

void WorkerPool::RequestStop() {
  stop_requested_.store(true);
  Wake();
}

void WorkerPool::StopNow() {
  stop_now_.store(true);
  stop_requested_.store(true);
  for (auto& slot : slots_) {
    std::lock_guard<std::mutex> lk(slot->mu);
    if (slot->ctx != nullptr) slot->ctx->cancelled.store(true);
  }
  Wake();
}

void WorkerPool::Join() {
  std::lock_guard<std::mutex> lk(lifecycle_mu_);
  if (!started_ || joined_) return;
  for (auto& t : threads_) t.join();
  {
    std::lock_guard<std::mutex> hb(hb_mu_);
    hb_stop_ = true;
  }
  hb_cv_.notify_all();
  heartbeat_.join();
  ReportWorker(0);
  joined_ = true;
}

void WorkerPool::ReportWorker(int in_flight) {
  store::WorkerInfo w;
  w.id = worker_id_;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  w.host = host;
  w.pid = getpid();
  w.version = options_.version;
  w.started_at = started_at_;
  w.last_seen = deps_.clock->NowMillis();
  w.in_flight = in_flight;
  Status s = deps_.store->UpsertWorker(w);
  if (!s.ok() && observer_ != nullptr) observer_->OnWorkerError(s);
}

void WorkerPool::WorkerLoop(int index) {
  std::mt19937_64 rng((options_.seed != 0 ? options_.seed : std::random_device{}()) +
                      static_cast<uint64_t>(index));
  const std::string owner = worker_id_ + "/" + std::to_string(index);
  while (!Stopping()) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lk(wake_mu_);
      seen = wake_seq_;
    }
    auto leased = deps_.store->LeaseNext(owner, options_.lease_ttl, deps_.clock->NowMillis());
    if (leased.ok() && leased->has_value()) {
      RunJob(index, std::move(**leased), rng);
      continue;
    }
    if (!leased.ok() && observer_ != nullptr) observer_->OnWorkerError(leased.status());
    std::unique_lock<std::mutex> lk(wake_mu_);
    wake_cv_.wait_for(lk, options_.poll_interval, [&] { return wake_seq_ != seen || Stopping(); });
  }
}

void WorkerPool::Abandon(const store::Job& job, const Status& why) {
  counters_.leases_lost.fetch_add(1);
  if (observer_ != nullptr) observer_->OnAbandoned(job, why);
}

void WorkerPool::RunJob(int index, store::Lease lease, std::mt19937_64& rng) {
  Slot& slot = *slots_[index];
  JobContext ctx;
  ctx.job = lease.job;
  {
    std::lock_guard<std::mutex> lk(slot.mu);
    slot.lease = std::move(lease);
    slot.ctx = &ctx;
    slot.lost = false;
  }
  in_flight_.fetch_add(1);
  if (stop_now_.load()) ctx.cancelled.store(true);

  // A missing document is a permanent failure of the job; other read errors (database busy)
  // abandon the attempt: the lease expires and the job is picked up again.
  Status doc_status;
  if (auto doc = deps_.store->GetDocument(ctx.job.document_id); doc.ok()) {
    ctx.document = std::move(doc).value();
  } else {
    doc_status = doc.status();
  }
  if (!doc_status.ok() && doc_status.code() != StatusCode::kNotFound) {
    Abandon(ctx.job, doc_status);
  } else {
    while (true) {
      const store::Job before = ctx.job;
      // Everything logged while this stage runs (by the stage, the parser, the embedder) carries
      // the job's correlation fields.
      obs::ScopedLogContext log_scope({before.correlation_id, before.id, before.document_id,
                                       std::string(store::StageName(before.stage))});
      ctx.stats = StageStats{};
      ctx.texts_written.clear();
      const int64_t t0 = deps_.clock->MonotonicMillis();
      const UnixMillis started = deps_.clock->NowMillis();
      Result<StageResult> result =
          !doc_status.ok() ? Result<StageResult>(doc_status)
          : ctx.document.deleted_at != 0 && before.stage < store::Stage::kIndex
              ? Result<StageResult>(FailedPrecondition(
                    "document " + ctx.document.id + " was " + ctx.document.deleted_reason,
                    "document_deleted"))
              : stages_[static_cast<size_t>(before.stage)]->Run(ctx);
      // A document deleted or superseded while the stage ran: what the stage wrote after the
      // deletion (a parse, vectors) is removed unless something else holds it, and a job before
      // its index stage stops here, at the stage boundary, before spending more on it
      // (docs/guide/documents.md). From index on nothing is spent: a version superseded by a
      // newer one at its own index stage still settles its ledger and completes.
      if (doc_status.ok() && ctx.document.deleted_at == 0) {
        if (auto doc = deps_.store->GetDocument(before.document_id);
            doc.ok() && doc->deleted_at != 0) {
          ctx.document = std::move(doc).value();
        }
      }
      if (doc_status.ok() && ctx.document.deleted_at != 0) {
        deps_.store->PurgeUnheldContent(ctx.document.sha256, ctx.texts_written)
            .status()
            .IgnoreError();
        if (result.ok() && before.stage < store::Stage::kIndex) {
          result = FailedPrecondition(
              "document " + ctx.document.id + " was " + ctx.document.deleted_reason,
              "document_deleted");
        }
      }
      const UnixMillis finished = deps_.clock->NowMillis();
      const Duration elapsed(deps_.clock->MonotonicMillis() - t0);
      if (ctx.Cancelled()) {
        Abandon(before, Cancelled("lease lost or pool stopped while the stage ran", "abandoned"));
        break;
      }
      Status stage_status;
      JobEvent event = StageSucceeded{!Stopping()};
      if (!result.ok()) {
        stage_status = result.status();
        event = StageFailed{stage_status};
        // The store refuses writes for a tombstone: the job is over, not failed.
        if (stage_status.reason() == "document_deleted") event = OperatorCancel{};
      } else if (result->kind == StageResult::Kind::kWaiting) {
        event = StageWaiting{result->remote_job_id, result->retry_at};
      }
      auto decided = DecideTransition(before, event, finished, rng(), deps_.retry);
      if (!decided.ok()) {  // a leased job is running: only a bug gets here
        Abandon(before, decided.status());
        break;
      }
      if (!decided->has_value()) break;
      Result<store::Job> written = [&]() -> Result<store::Job> {
        std::lock_guard<std::mutex> lk(slot.mu);
        if (slot.lost) {
          return FailedPrecondition("lease lost (heartbeat)",
                                    std::string(governor::kLeaseLostReason));
        }
        auto r = deps_.store->UpdateJob(before.id, slot.lease->job.version, **decided, finished);
        if (r.ok()) {
          // A released job must not be heartbeated any more (the store would report the lease
          // lost, which is noise, not news).
          if (r->state == store::JobState::kRunning) {
            slot.lease->job = *r;
          } else {
            slot.lease.reset();
          }
        }
        return r;
      }();
      if (!written.ok()) {
        Abandon(before, written.status());
        break;
      }
      ctx.job = *written;
      const store::Job& after = ctx.job;

      // Bookkeeping after the transition is durable; its failures do not undo the transition.
      Status s = deps_.store->RecordStageTiming(
          before.id, store::StageTiming{before.stage, before.attempts + 1, started, finished,
                                        Outcome(result)});
      if (s.ok()) {
        store::Event e;
        e.at = finished;
        e.kind = "job.transition";
        e.job_id = before.id;
        e.document_id = before.document_id;
        e.correlation_id = before.correlation_id;
        e.detail_json = TransitionDetail(before, after, stage_status, JobEventName(event));
        s = deps_.store->AppendEvent(e);
      }
      if (!s.ok() && observer_ != nullptr) observer_->OnWorkerError(s);

      counters_.stages_run.fetch_add(1);
      if (result.ok()) {
        counters_.pages.fetch_add(ctx.stats.pages);
        counters_.parse_cache_hits.fetch_add(ctx.stats.parse_cache_hit ? 1 : 0);
        counters_.chunks.fetch_add(ctx.stats.chunks);
        counters_.tokens_embedded.fetch_add(ctx.stats.embedded_tokens);
        counters_.vectors_added.fetch_add(ctx.stats.vectors_added);
        counters_.vectors_reused.fetch_add(ctx.stats.vectors_reused);
      }
      switch (after.state) {
        case store::JobState::kComplete:
          counters_.documents_completed.fetch_add(1);
          break;
        case store::JobState::kFailed:
          counters_.documents_failed.fetch_add(1);
          break;
        case store::JobState::kDead:
          counters_.documents_dead.fetch_add(1);
          break;
        case store::JobState::kDeferred:
          counters_.stage_deferrals.fetch_add(1);
          break;
        case store::JobState::kQueued:
          if (!result.ok()) counters_.stage_retries.fetch_add(1);
          break;
        default:
          break;
      }
      if (!stage_status.ok()) {
        // Bad input failing is an expected outcome (info); a job that needs a person is not.
        obs::Log(after.state == store::JobState::kDead || after.state == store::JobState::kDeferred
                     ? obs::LogLevel::kWarn
                     : obs::LogLevel::kInfo,
                 "stage failed",
                 {{"code", stage_status.reason()},
                  {"error", stage_status.message()},
                  {"attempt", before.attempts + 1},
                  {"next_state", std::string(store::JobStateName(after.state))},
                  {"elapsed_ms", elapsed.count()}});
      } else if (obs::LogEnabled(obs::LogLevel::kDebug)) {
        obs::LogDebug("stage done", {{"next_state", std::string(store::JobStateName(after.state))},
                                     {"elapsed_ms", elapsed.count()}});
      }
      if (observer_ != nullptr) {
        observer_->OnStageFinished(before, after, stage_status, ctx.stats, elapsed);
      }
      if (after.state != store::JobState::kRunning) break;
    }
  }
  {
    std::lock_guard<std::mutex> lk(slot.mu);
    slot.lease.reset();
    slot.ctx = nullptr;
    slot.lost = false;
  }
  in_flight_.fetch_sub(1);
}

void WorkerPool::HeartbeatLoop() {
  const Duration interval = options_.heartbeat_interval.count() > 0
                                ? options_.heartbeat_interval
                                : std::max(Duration(1), options_.lease_ttl / 3);
  while (true) {
    {
      std::unique_lock<std::mutex> lk(hb_mu_);
      if (hb_cv_.wait_for(lk, interval, [&] { return hb_stop_; })) return;
    }
    for (auto& slot : slots_) {
      std::lock_guard<std::mutex> lk(slot->mu);
      if (!slot->lease || slot->lost) continue;
      Status s =
          deps_.store->Heartbeat(&*slot->lease, options_.lease_ttl, deps_.clock->NowMillis());
      if (s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kNotFound) {
        slot->lost = true;
        if (slot->ctx != nullptr) slot->ctx->cancelled.store(true);
      } else if (!s.ok() && observer_ != nullptr) {
        observer_->OnWorkerError(s);
      }
    }
    ReportWorker(in_flight_.load());
    // Governor upkeep (expired reservations, circuit metrics) rides on the heartbeat: every
    // worker process does it, so it happens as long as any worker runs.
    if (deps_.governor != nullptr) {
      if (Status g = deps_.governor->Maintain(); !g.ok() && observer_ != nullptr) {
        observer_->OnWorkerError(g);
      }
    }
  }
}

}  // namespace ingest::pipeline
