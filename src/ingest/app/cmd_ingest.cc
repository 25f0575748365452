// `ingestd ingest PATH... [--json] [--include GLOB] [--exclude GLOB]`: submit every file, run
// the pipeline until each submitted job is terminal, print a summary. Exit status 1 when any
// document failed or a named path does not exist; files found in folders that are not documents
// (ingest_files.h) are skipped, counted and listed, and do not change the exit status.
//
// `ingestd ingest --no-wait PATH...`: submit only (the receive stage) and print one JSON object
// with each file's document and job ids; `ingestd worker` processes do the rest. Exit status 1
// when a file could not be submitted.
//
// Signals: the first SIGINT/SIGTERM stops taking work; running stages finish and release their
// jobs, which the next run resumes. A second signal exits at once (leases then expire and the
// next run takes the jobs over).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/app/ingest_files.h"
#include "ingest/app/progress.h"
#include "ingest/app/worker_process.h"
#include "ingest/common/ids.h"
#include "ingest/governor/governor.h"
#include "ingest/governor/retry_policy.h"
#include "ingest/obs/log.h"
#include "ingest/pipeline/operator_actions.h"
#include "ingest/pipeline/reclaim.h"
#include "ingest/pipeline/submit.h"
#include "ingest/pipeline/worker_pool.h"
#include "ingest/store/metadata.h"

namespace ingest::app {
namespace {

std::atomic<int> g_signals{0};

void OnSignal(int) {
  if (g_signals.fetch_add(1) >= 1) {
    static const char kMsg[] = "\ningestd: second signal, exiting now\n";
    ssize_t ignored = write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
    (void)ignored;
    _exit(130);
  }
}

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

struct IngestArgs {
  std::vector<std::string> paths;
  bool json = false;
  int workers = -1;
  std::string tenant;
  bool no_progress = false;
  bool no_wait = false;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::vector<std::string> meta;  // --meta KEY=VALUE (repeatable)
  std::string meta_json;          // --meta-json FILE
  std::string external_id;        // --external-id ID (one file only)
};

// The metadata object of --meta-json FILE then --meta KEY=VALUE (later wins), normalised;
// "" when neither was given (a re-ingest then keeps what the store holds).
Result<std::string> MetadataFromArgs(const IngestArgs& args) {
  if (args.meta_json.empty() && args.meta.empty()) return std::string();
  std::string out = "{}";
  if (!args.meta_json.empty()) {
    std::ifstream in(args.meta_json, std::ios::binary);
    if (!in) return NotFound("cannot read --meta-json " + args.meta_json, "file_unreadable");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INGEST_ASSIGN_OR_RETURN(out, store::NormalizeMetadata(text));
  }
  for (const std::string& kv : args.meta) {
    INGEST_ASSIGN_OR_RETURN(store::MetadataEquals m, store::ParseMetadataEquals(kv));
    INGEST_ASSIGN_OR_RETURN(out, store::SetMetadataValue(out, m.key, m.value_json));
  }
  return out;
}

struct Tracked {
  std::string path;
  std::string job_id;
  std::string document_id;
  bool created = false;
  store::JobState state = store::JobState::kQueued;
  std::string error_code;
  std::string error_message;
  std::string defer_reason;
  UnixMillis next_attempt_at = 0;
};

// A deferred job due later than this is reported instead of waited for.
constexpr int64_t kParkedAfterMs = 60'000;

bool Terminal(store::JobState s) { return store::IsTerminal(s); }

// A job held back by a provider setting (wrong URL, key or model; unreachable server): a person
// fixes the setting, nothing else will.
bool WaitsOnProviderSetting(store::JobState state, const std::string& defer_reason) {
  return state == store::JobState::kDeferred && (defer_reason == governor::kProviderStopped ||
                                                 governor::IsConfigurationReason(defer_reason));
}

// The stopped providers' causes, one line each: "openai: connection_failed: POST http://...".
std::vector<std::string> StoppedProviderCauses(store::Store& store) {
  std::vector<std::string> out;
  auto states = store.ListProviderStates();
  if (!states.ok()) return out;
  for (const store::ProviderState& s : *states) {
    if (s.stopped) out.push_back(s.provider + ": " + s.reason + ": " + s.message);
  }
  return out;
}

// Prints one line per finished document when the output is not a terminal.
class LineObserver : public pipeline::PipelineObserver {
 public:
  LineObserver(const std::map<std::string, std::string>* paths, bool enabled)
      : paths_(paths), enabled_(enabled) {}
  void OnStageFinished(const store::Job& before, const store::Job& after, const Status& status,
                       const pipeline::StageStats&, Duration) override {
    (void)before;
    if (!enabled_ || !Terminal(after.state)) return;
    auto it = paths_->find(after.id);
    std::string path = it == paths_->end() ? after.document_id : it->second;
    if (after.state == store::JobState::kComplete) {
      std::fprintf(stderr, "complete  %s\n", path.c_str());
    } else {
      std::fprintf(stderr, "%-9s %s: %s: %s\n",
                   std::string(store::JobStateName(after.state)).c_str(), path.c_str(),
                   after.last_error_code.c_str(),
                   status.ok() ? after.last_error_message.c_str() : status.message().c_str());
    }
  }

 private:
  const std::map<std::string, std::string>* paths_;
  bool enabled_;
};

// --no-wait: what was submitted, as one JSON object. `new` is false when the tenant already had
// the file (same bytes); `state` is then that job's current state. Exit status 1 when any file
// could not be submitted (listed under "errors" with its code).
// `path_errors` are FindFiles' "PATH: reason" lines for paths that could not be read.
int PrintSubmitted(const std::vector<Tracked>& tracked,
                   const std::vector<std::string>& path_errors) {
  nlohmann::json submitted = nlohmann::json::array();
  nlohmann::json errors = nlohmann::json::array();
  for (const std::string& e : path_errors) {
    const size_t colon = e.rfind(": ");
    errors.push_back({{"path", e.substr(0, colon)},
                      {"code", "path_unreadable"},
                      {"message", colon == std::string::npos ? e : e.substr(colon + 2)}});
  }
  int64_t new_count = 0;
  for (const Tracked& t : tracked) {
    if (t.job_id.empty()) {
      errors.push_back({{"path", t.path}, {"code", t.error_code}, {"message", t.error_message}});
      continue;
    }
    new_count += t.created ? 1 : 0;
    submitted.push_back({{"path", t.path},
                         {"document_id", t.document_id},
                         {"job_id", t.job_id},
                         {"new", t.created},
                         {"state", std::string(store::JobStateName(t.state))}});
  }
  nlohmann::json out = {{"submitted", submitted},
                        {"new", new_count},
                        {"existing", static_cast<int64_t>(submitted.size()) - new_count},
                        {"errors", errors}};
  std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return errors.empty() ? 0 : 1;
}

// A FindFiles error "PATH: reason" as a summary failure.
nlohmann::json PathFailure(const std::string& e) {
  const size_t colon = e.rfind(": ");
  return {{"path", e.substr(0, colon)},
          {"state", "failed"},
          {"code", "path_not_found"},
          {"message", colon == std::string::npos ? e : e.substr(colon + 2)}};
}

nlohmann::json SkippedJson(const std::vector<SkippedFile>& skipped) {
  nlohmann::json out = nlohmann::json::array();
  for (const SkippedFile& s : skipped) out.push_back({{"path", s.path}, {"reason", s.reason}});
  return out;
}

// Human summary of the files found in folders and left out (all of them: they are few in a
// document folder, and a person deciding whether to add --include wants the list).
void PrintSkipped(const std::vector<SkippedFile>& skipped) {
  if (skipped.empty()) return;
  std::printf("skipped %zu file%s found in folders:\n", skipped.size(),
              skipped.size() == 1 ? "" : "s");
  for (const SkippedFile& s : skipped) std::printf("  %s: %s\n", s.path.c_str(), s.reason.c_str());
}

int RunIngest(const GlobalOptions& global, const IngestArgs& args) {
  auto started = std::chrono::steady_clock::now();
  auto config = LoadConfigFor(global);
  if (!config.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", config.status().message().c_str());
    return 2;
  }
  // The summary reports every failure; per-stage info lines would only interleave with the
  // progress bar. An explicit log.level (INGESTD_LOG_LEVEL) still wins.
  if (config->origins["log.level"] == "default") obs::InitLogging("warn", config->log.format);
  auto metadata = MetadataFromArgs(args);
  if (!metadata.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", metadata.status().message().c_str());
    return 2;
  }
  FindOptions find;
  find.include = args.include;
  find.exclude = args.exclude;
  FoundFiles found = FindFiles(args.paths, find);
  if (!args.external_id.empty() && found.files.size() > 1) {
    std::fprintf(stderr,
                 "ingestd: --external-id names one document; %zu files were found (use "
                 "`ingestd sync DIR` to key a folder's files by path)\n",
                 found.files.size());
    return 2;
  }
  for (const auto& e : found.errors) std::fprintf(stderr, "ingestd: %s\n", e.c_str());
  if (found.files.empty()) {
    // Nothing to submit: a missing path is still an error (exit 1), a folder holding nothing
    // ingestd reads is not (exit 0); either way the summary says what was left out.
    const int rc = found.errors.empty() ? 0 : 1;
    if (args.json) {
      nlohmann::json failures = nlohmann::json::array();
      for (const std::string& e : found.errors) failures.push_back(PathFailure(e));
      nlohmann::json s = {{"documents", 0},
                          {"completed", 0},
                          {"failed", static_cast<int64_t>(found.errors.size())},
                          {"unfinished", 0},
                          {"skipped", static_cast<int64_t>(found.skipped.size())},
                          {"failures", failures},
                          {"skipped_files", SkippedJson(found.skipped)}};
      std::puts(s.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      PrintSkipped(found.skipped);
      std::fprintf(stderr, "ingestd: no files to ingest\n");
    }
    return rc;
  }
  auto app_or = App::Open(*config);
  if (!app_or.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", app_or.status().ToString().c_str());
    return 2;
  }
  App& app = **app_or;
  pipeline::PipelineDeps deps = app.Deps();
  std::string tenant = args.tenant.empty() ? config->pipeline.tenant : args.tenant;
  InstallSignalHandlers();

  // Receive: every file becomes (or is found to be) a document with a job.
  std::vector<Tracked> tracked;
  std::map<std::string, std::string> path_by_job;
  std::string correlation_id = UuidV4();
  // Stopped providers get one probe call now: the setting may have been fixed since the stop.
  if (auto probed = app.governor().ProbeStoppedProviders(); !probed.ok()) {
    obs::LogWarn("cannot arm provider probes", {{"error", probed.status().ToString()}});
  }
  int64_t rerun_count = 0;
  for (const std::string& path : found.files) {
    if (g_signals.load() > 0) break;
    Tracked t;
    t.path = path;
    pipeline::SubmitOptions options;
    options.correlation_id = correlation_id;
    options.metadata_json = *metadata;
    options.external_id = args.external_id;
    auto outcome = pipeline::SubmitFile(deps, path, tenant, options);
    if (!outcome.ok()) {
      t.state = store::JobState::kFailed;
      t.error_code = outcome.status().reason();
      t.error_message = outcome.status().message();
      tracked.push_back(std::move(t));
      continue;
    }
    t.job_id = outcome->job.id;
    t.document_id = outcome->document.id;
    t.created = outcome->created;
    t.state = outcome->job.state;
    t.error_code = outcome->job.last_error_code;
    t.error_message = outcome->job.last_error_message;
    t.defer_reason = outcome->job.defer_reason;
    // A document an earlier run could not finish because of a provider setting (failed with a
    // configuration error by an older version, or waiting on a stopped provider) runs again:
    // re-running `ingestd ingest` is how a user says "I fixed it".
    const bool failed_on_setting =
        (t.state == store::JobState::kFailed || t.state == store::JobState::kDead) &&
        governor::IsConfigurationReason(t.error_code);
    if (!t.created && (failed_on_setting || WaitsOnProviderSetting(t.state, t.defer_reason))) {
      auto retried = pipeline::RetryJob(app.store(), *app.clock(), t.job_id);
      if (retried.ok()) {
        t.state = retried->state;
        t.defer_reason.clear();
        ++rerun_count;
      }
    }
    path_by_job[t.job_id] = path;
    tracked.push_back(std::move(t));
  }

  if (args.no_wait) return PrintSubmitted(tracked, found.errors);
  if (rerun_count > 0 && !args.json) {
    std::fprintf(stderr,
                 "ingestd: re-running %lld document(s) held back by a provider setting before\n",
                 static_cast<long long>(rerun_count));
  }

  int64_t new_count = 0, already = 0;
  std::vector<size_t> pending;
  for (size_t i = 0; i < tracked.size(); ++i) {
    if (tracked[i].created) ++new_count;
    if (tracked[i].job_id.empty()) continue;
    if (Terminal(tracked[i].state)) {
      if (!tracked[i].created && tracked[i].state == store::JobState::kComplete) ++already;
    } else {
      pending.push_back(i);
    }
  }

  bool tty = isatty(STDERR_FILENO) && !args.no_progress && !args.json;
  LineObserver observer(&path_by_job, !tty && !args.json);
  int64_t tokens_embedded = 0;
  int64_t pages_parsed = 0;
  bool interrupted = false;
  bool gave_up_on_providers = false;
  if (!pending.empty()) {
    // A run killed earlier (kill -9, a crash) left leases behind: when their process is gone
    // from this host its jobs resume now, not after the lease expires; others are reported.
    if (auto reclaim = pipeline::ReclaimDeadLocalLeases(app.store(), *app.clock()); reclaim.ok()) {
      if (reclaim->reclaimed > 0) {
        std::string pids;
        for (int64_t pid : reclaim->dead_pids)
          pids += (pids.empty() ? "" : ", ") + std::to_string(pid);
        std::fprintf(stderr,
                     "ingestd: resuming %lld job(s) left running by a process that is gone "
                     "(pid %s)\n",
                     static_cast<long long>(reclaim->reclaimed), pids.c_str());
      }
      if (reclaim->held > 0) {
        std::fprintf(stderr,
                     "ingestd: %lld job(s) are leased by other live processes (or other hosts); "
                     "if their owner has stopped, this run takes them over when the leases "
                     "expire, by %s\n",
                     static_cast<long long>(reclaim->held),
                     FormatIso8601(reclaim->held_until).c_str());
      }
    } else {
      obs::LogWarn("cannot check for leases of dead processes",
                   {{"error", reclaim.status().ToString()}});
    }
    pipeline::WorkerPool pool(deps, WorkerOptionsFor(*config, args.workers), &observer);
    Status started_st = pool.Start();
    if (!started_st.ok()) {
      std::fprintf(stderr, "ingestd: cannot start workers: %s\n", started_st.ToString().c_str());
      return 2;
    }
    Progress progress(tty, static_cast<int64_t>(pending.size()));
    std::vector<size_t> open = pending;
    const auto stopped_wait = std::chrono::seconds(config->pipeline.stopped_provider_wait_s);
    bool all_stopped =
        false;  // since all_stopped_since, every open job waits on a stopped provider
    auto all_stopped_since = std::chrono::steady_clock::now();
    while (!open.empty()) {
      if (g_signals.load() > 0) {
        interrupted = true;
        progress.Interrupt();
        std::fprintf(stderr,
                     "ingestd: stopping: finishing running stages (signal again to exit now)\n");
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(tty ? 100 : 250));
      std::vector<size_t> still;
      for (size_t i : open) {
        auto job = app.store().GetJob(tracked[i].job_id);
        if (!job.ok()) {
          still.push_back(i);
          continue;
        }
        tracked[i].state = job->state;
        tracked[i].error_code = job->last_error_code;
        tracked[i].error_message = job->last_error_message;
        tracked[i].defer_reason = job->defer_reason;
        tracked[i].next_attempt_at = job->next_attempt_at;
        if (!Terminal(job->state)) still.push_back(i);
      }
      open.swap(still);
      // Jobs deferred far into the future (a bad key, exhausted quota or budget) need a person,
      // not patience: stop waiting once nothing else is left and report them.
      UnixMillis now = app.clock()->NowMillis();
      bool all_parked = !open.empty();
      bool all_on_stopped_provider = !open.empty();
      for (size_t i : open) {
        // Over budget or a stopped provider: waiting in this process does not help (the job
        // resumes with the next period, a raised limit, a fixed setting or `providers resume`).
        const std::string& why = tracked[i].defer_reason;
        const bool on_stop = WaitsOnProviderSetting(tracked[i].state, why);
        const bool needs_person =
            why == governor::kBudgetExceeded || why == governor::kBudgetStopped || on_stop;
        all_parked = all_parked && tracked[i].state == store::JobState::kDeferred &&
                     (needs_person || tracked[i].next_attempt_at - now > kParkedAfterMs);
        all_on_stopped_provider = all_on_stopped_provider && on_stop;
      }
      if (all_on_stopped_provider && StoppedProviderCauses(app.store()).empty()) {
        // The provider was resumed (a probe succeeded) after these jobs read it as stopped:
        // wake them now rather than wait out their deferral.
        (void)app.store().WakeDeferred(governor::Governor::StopReasons(), now);
        all_parked = false;
        all_on_stopped_provider = false;
      }
      if (all_parked && all_on_stopped_provider) {
        // Every document waits on a stopped provider: say why at once, then wait a bounded
        // time for a fix made elsewhere (`providers resume`, a probe) before giving up.
        const auto steady = std::chrono::steady_clock::now();
        if (!all_stopped) {
          all_stopped = true;
          all_stopped_since = steady;
          progress.Interrupt();
          std::fprintf(stderr, "ingestd: every remaining document waits on a stopped provider:\n");
          for (const std::string& cause : StoppedProviderCauses(app.store())) {
            std::fprintf(stderr, "  %s\n", cause.c_str());
          }
          std::fprintf(stderr,
                       "ingestd: waiting up to %d s for it to resume "
                       "(pipeline.stopped_provider_wait_s)\n",
                       config->pipeline.stopped_provider_wait_s);
        }
        if (steady - all_stopped_since >= stopped_wait) {
          gave_up_on_providers = true;
          break;
        }
      } else {
        all_stopped = false;
        if (all_parked) break;
      }
      auto snap = pool.counters().Snapshot();
      progress.Update(static_cast<int64_t>(pending.size() - open.size()), snap.pages, snap.chunks);
    }
    pool.RequestStop();
    pool.Join();
    progress.Finish();
    auto snap = pool.counters().Snapshot();
    tokens_embedded = snap.tokens_embedded;
    pages_parsed = snap.pages;
  }

  // Summary over every document of this invocation, read back from the store.
  int64_t completed = 0, failed = 0, chunks = 0, tokens = 0, cost_nanos = 0, unfinished = 0;
  nlohmann::json failures = nlohmann::json::array();
  // Paths that do not exist are failures of this invocation: listed, and exit status 1.
  for (const std::string& e : found.errors) {
    ++failed;
    failures.push_back(PathFailure(e));
  }
  nlohmann::json deferred = nlohmann::json::array();
  nlohmann::json cancelled = nlohmann::json::array();
  for (const Tracked& t : tracked) {
    if (t.state == store::JobState::kComplete) {
      ++completed;
      auto cs = app.store().ListChunks(t.document_id);
      if (cs.ok()) {
        chunks += static_cast<int64_t>(cs->size());
        for (const auto& c : *cs) tokens += c.token_count;
      }
    } else if (t.state == store::JobState::kCancelled) {
      // An operator's decision, not a failure of the document: listed apart, exit status unchanged.
      cancelled.push_back({{"path", t.path}, {"job_id", t.job_id}});
    } else if (Terminal(t.state)) {
      ++failed;
      failures.push_back({{"path", t.path},
                          {"state", std::string(store::JobStateName(t.state))},
                          {"code", t.error_code.empty() ? "unknown" : t.error_code},
                          {"message", t.error_message}});
    } else {
      ++unfinished;
      if (t.state == store::JobState::kDeferred) {
        deferred.push_back({{"path", t.path},
                            {"reason", t.defer_reason},
                            {"code", t.error_code},
                            {"message", t.error_message},
                            {"next_attempt_at", FormatIso8601(t.next_attempt_at)}});
      }
    }
    if (!t.document_id.empty()) {
      auto ledger = app.store().ListLedger(std::string_view(t.document_id));
      if (ledger.ok()) {
        for (const auto& e : *ledger) {
          if (e.state != store::LedgerState::kReleased) cost_nanos += e.cost_nanos;
        }
      }
    }
  }
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // 1: a document failed; 75 (EX_TEMPFAIL): some are deferred or unfinished and the next run
  // (or `ingestd jobs retry`) will pick them up; 130: interrupted by a signal.
  int exit_code = failed > 0 ? 1 : interrupted ? 130 : unfinished > 0 ? 75 : 0;

  // Documents held back by a stopped provider: the cause (URL, error, hint) and one next step,
  // on stderr whatever the output format.
  bool held_by_provider = false;
  for (const Tracked& t : tracked) {
    held_by_provider = held_by_provider || WaitsOnProviderSetting(t.state, t.defer_reason);
  }
  nlohmann::json stopped_providers = nlohmann::json::array();
  if (held_by_provider) {
    const std::vector<std::string> causes = StoppedProviderCauses(app.store());
    for (const std::string& cause : causes) stopped_providers.push_back(cause);
    std::fprintf(
        stderr, "ingestd: %s on a stopped provider%s:\n",
        gave_up_on_providers ? "gave up waiting" : "documents wait",
        gave_up_on_providers
            ? (" after " + std::to_string(config->pipeline.stopped_provider_wait_s) + " s").c_str()
            : "");
    for (const std::string& cause : causes) std::fprintf(stderr, "  %s\n", cause.c_str());
    std::fprintf(stderr,
                 "next step: fix the provider setting named above (e.g. OPENAI_BASE_URL / "
                 "openai.base_url, the API key or embed.model), then run `ingestd ingest` again: "
                 "it re-runs these documents\n");
  }

  if (args.json) {
    nlohmann::json s = {{"documents", static_cast<int64_t>(tracked.size())},
                        {"completed", completed},
                        {"failed", failed},
                        {"unfinished", unfinished},
                        {"new", new_count},
                        {"already_done", already},
                        {"pages_parsed", pages_parsed},
                        {"chunks", chunks},
                        {"tokens", tokens},
                        {"tokens_embedded", tokens_embedded},
                        {"cost_usd", static_cast<double>(cost_nanos) / 1e9},
                        {"cost_nanos", cost_nanos},
                        {"elapsed_s", elapsed},
                        {"interrupted", interrupted},
                        {"embedder", app.embedder().Describe()},
                        {"skipped", static_cast<int64_t>(found.skipped.size())},
                        {"failures", failures},
                        {"skipped_files", SkippedJson(found.skipped)},
                        {"deferred", deferred},
                        {"cancelled", cancelled},
                        {"stopped_providers", stopped_providers}};
    std::puts(s.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return exit_code;
  }
  PrintSkipped(found.skipped);
  if (pending.empty() && failed == 0 && cancelled.empty()) {
    std::printf("nothing to do: all %zu documents are already ingested (%lld chunks)\n",
                tracked.size(), static_cast<long long>(chunks));
    return exit_code;
  }
  std::printf(
      "%zu documents: %lld complete, %lld failed%s (%lld new, %lld already done)\n"
      "%lld chunks, %lld tokens, %lld pages parsed, cost $%.6f, %.1f s\n",
      tracked.size(), static_cast<long long>(completed), static_cast<long long>(failed),
      unfinished > 0 ? (", " + std::to_string(unfinished) + " unfinished").c_str() : "",
      static_cast<long long>(new_count), static_cast<long long>(already),
      static_cast<long long>(chunks), static_cast<long long>(tokens),
      static_cast<long long>(pages_parsed), static_cast<double>(cost_nanos) / 1e9, elapsed);
  if (!failures.empty()) {
    std::printf("failed:\n");
    for (const auto& f : failures) {
      std::printf("  %s: %s: %s\n", f["path"].get<std::string>().c_str(),
                  f["code"].get<std::string>().c_str(), f["message"].get<std::string>().c_str());
    }
  }
  if (!cancelled.empty()) {
    std::printf("cancelled (by an operator; `ingestd jobs retry JOB_ID` runs one again):\n");
    for (const auto& c : cancelled) {
      std::printf("  %s (job %s)\n", c["path"].get<std::string>().c_str(),
                  c["job_id"].get<std::string>().c_str());
    }
  }
  if (!deferred.empty()) {
    std::printf("deferred (held back; they resume by themselves or with `ingestd jobs retry`):\n");
    for (const auto& d : deferred) {
      std::printf("  %s: %s %s\n", d["path"].get<std::string>().c_str(),
                  d["reason"].get<std::string>().c_str(), d["message"].get<std::string>().c_str());
    }
  }
  if (unfinished > 0)
    std::printf("run `ingestd ingest` again to resume the unfinished documents\n");
  return exit_code;
}

}  // namespace

void AddIngestCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<IngestArgs>();
  CLI::App* cmd = app.add_subcommand("ingest", "Ingest files and folders to completion");
  cmd->add_option("paths", args->paths, "Files or folders (recursive)")->required();
  cmd->add_flag("--json", args->json, "Print the summary as one JSON object");
  cmd->add_option("--workers", args->workers, "Worker threads (default: pipeline.workers)");
  cmd->add_option("--tenant", args->tenant, "Tenant (default: pipeline.tenant)");
  cmd->add_flag("--no-progress", args->no_progress, "No progress bar even on a terminal");
  cmd->add_option("--include", args->include,
                  "Only files in folders matching this glob (path or name; repeatable), e.g. "
                  "'*.pdf'");
  cmd->add_option("--exclude", args->exclude,
                  "Leave out files in folders matching this glob (repeatable)");
  cmd->add_flag("--no-wait", args->no_wait,
                "Submit only and print the document/job ids as JSON; `ingestd worker` processes "
                "run the jobs");
  cmd->add_option("--meta", args->meta,
                  "Metadata KEY=VALUE for every file (repeatable; VALUE is a number, true, false "
                  "or null when it reads as one, a JSON string when quoted, else a string)")
      ->allow_extra_args(false);
  cmd->add_option("--meta-json", args->meta_json,
                  "Metadata from a file holding a JSON object (--meta entries override its keys)");
  cmd->add_option("--external-id", args->external_id,
                  "Your stable key for the one file given: a new file under a known key becomes "
                  "the next version of that document");
  cmd->callback([&global, exit_code, args] { *exit_code = RunIngest(global, *args); });
}

}  // namespace ingest::app
