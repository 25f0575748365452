// `ingestd jobs list|show|retry|cancel|requeue`: inspect jobs and act on them, one by id or, for
// retry and cancel, every job in a state (`--state S [--code C] [--since T] [--dry-run]`). Actions
// go through the state machine (pipeline/operator_actions.h); nothing here writes `state`.
#include <time.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/app/cli_audit.h"
#include "ingest/common/time_text.h"
#include "ingest/pipeline/job_view_json.h"
#include "ingest/pipeline/operator_actions.h"

namespace ingest::app {
namespace {

struct JobsArgs {
  std::string state;
  std::string job_id;
  std::string from;
  bool json = false;
  int limit = 1000;
  // Bulk retry/cancel: every job in `state` (and with error or defer code `code`, updated since
  // `since`); `dry_run` lists them without acting.
  std::string code;
  std::string since;
  bool dry_run = false;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "ingestd: %s\n", s.ToString().c_str());
  return 1;
}

std::string Time(UnixMillis t) { return t > 0 ? FormatIso8601(t) : ""; }

// Opens just the store: job commands need no parser or embedder.
Result<std::unique_ptr<store::Store>> OpenForJobs(const GlobalOptions& global) {
  INGEST_ASSIGN_OR_RETURN(config::Config config, LoadConfigFor(global));
  return OpenExistingStore(config, Clock::Real());
}

int List(const GlobalOptions& global, const JobsArgs& args) {
  auto store = OpenForJobs(global);
  if (!store.ok()) return Fail(store.status());
  store::JobFilter filter;
  filter.limit = args.limit;
  if (!args.state.empty()) {
    auto s = store::ParseJobState(args.state);
    if (!s.ok()) return Fail(s.status());
    filter.state = *s;
  }
  auto jobs = (*store)->ListJobs(filter);
  if (!jobs.ok()) return Fail(jobs.status());
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : *jobs) out.push_back(pipeline::JobViewJson(v));
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("%-36s  %-9s  %-9s  %3s  %-22s  %s\n", "JOB", "STAGE", "STATE", "TRY", "ERROR/REASON",
              "FILE");
  for (const auto& v : *jobs) {
    const store::Job& j = v.job;
    std::string why = j.state == store::JobState::kDeferred ? j.defer_reason : j.last_error_code;
    std::printf("%-36s  %-9s  %-9s  %3d  %-22s  %s\n", j.id.c_str(),
                std::string(store::StageName(j.stage)).c_str(),
                std::string(store::JobStateName(j.state)).c_str(), j.attempts, why.c_str(),
                v.filename.c_str());
  }
  return 0;
}

// One GetJobDetail: everything shown comes from one snapshot of the job.
int Show(const GlobalOptions& global, const JobsArgs& args) {
  auto store = OpenForJobs(global);
  if (!store.ok()) return Fail(store.status());
  auto detail = (*store)->GetJobDetail(args.job_id, 50);
  if (!detail.ok()) return Fail(detail.status());
  const store::Job* job = &detail->view.job;
  const store::Document& doc = detail->document;
  nlohmann::json out = pipeline::JobViewJson(detail->view);
  out["document"] = {{"filename", doc.filename},    {"mime", doc.mime},
                     {"bytes", doc.bytes},          {"sha256", doc.sha256},
                     {"pages", doc.page_count},     {"parser", doc.parser},
                     {"parse_note", doc.parse_note}};
  nlohmann::json timings = nlohmann::json::array();
  for (const auto& t : detail->timings) {
    timings.push_back({{"stage", std::string(store::StageName(t.stage))},
                       {"attempt", t.attempt},
                       {"started_at", Time(t.started_at)},
                       {"duration_ms", t.finished_at - t.started_at},
                       {"outcome", t.outcome}});
  }
  out["stage_timings"] = timings;
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : detail->events) {
    events.push_back({{"at", Time(e.at)},
                      {"kind", e.kind},
                      {"detail", nlohmann::json::parse(e.detail_json, nullptr, false)}});
    if (events.back()["detail"].is_discarded()) events.back()["detail"] = nullptr;
  }
  out["events"] = events;
  // Which parser produced which pages (the parse stage's newest "parse.pages" event).
  for (const auto& e : events) {
    if (e["kind"] == "parse.pages" && e["detail"].is_object()) {
      out["page_parsers"] = e["detail"].value("parsers", nlohmann::json::object());
      out["ocr"] = e["detail"];
      out["ocr"].erase("parsers");
      break;
    }
  }
  if (args.json) {
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("job       %s\ndocument  %s (%s)\nstage     %s\nstate     %s\n", job->id.c_str(),
              job->document_id.c_str(), out["filename"].get<std::string>().c_str(),
              std::string(store::StageName(job->stage)).c_str(),
              std::string(store::JobStateName(job->state)).c_str());
  // `attempts` counts failed attempts of the current stage (reset when a stage succeeds): a
  // complete job has none left to count, and "0/5" there read as "never ran".
  if (job->state != store::JobState::kComplete) {
    std::printf("failures  %d of %d allowed at stage %s\n", job->attempts, job->max_attempts,
                std::string(store::StageName(job->stage)).c_str());
  }
  if (!job->defer_reason.empty()) std::printf("deferred  %s\n", job->defer_reason.c_str());
  if (!job->last_error_code.empty()) {
    std::printf("error     %s at %s: %s\n", job->last_error_code.c_str(),
                job->last_error_stage.c_str(), job->last_error_message.c_str());
  }
  std::printf("cost      $%.6f\n", out["cost_usd"].get<double>());
  if (out.contains("page_parsers")) {
    std::string line;
    for (const auto& [parser, pages] : out["page_parsers"].items()) {
      line += (line.empty() ? "" : "; ") + parser + " " + pages.get<std::string>();
    }
    std::printf("pages     %s\n", line.c_str());
    const nlohmann::json& ocr = out["ocr"];
    if (ocr.contains("ocr_pages")) {
      std::printf("ocr       %lld page(s) in %.1f s",
                  static_cast<long long>(ocr.value("ocr_pages", 0)), ocr.value("ocr_seconds", 0.0));
      if (ocr.contains("ocr_mean_confidence")) {
        std::printf(", mean word confidence %.1f", ocr.value("ocr_mean_confidence", 0.0));
      }
      std::printf("\n");
    }
    auto list = [](const nlohmann::json& a) {
      std::string s;
      for (const auto& p : a) {
        s += (s.empty() ? "" : ",") + (p.is_object() ? std::to_string(p.value("page", 0)) + " (" +
                                                           p.value("code", std::string()) + ")"
                                                     : p.dump());
      }
      return s;
    };
    if (ocr.contains("ocr_routed_pages")) {
      std::printf("routed    pages %s sent to the remote parser (low OCR confidence)\n",
                  list(ocr["ocr_routed_pages"]).c_str());
    } else if (ocr.contains("ocr_low_confidence_pages")) {
      std::printf("warning   low OCR confidence on pages %s (kept; no remote parser configured)\n",
                  list(ocr["ocr_low_confidence_pages"]).c_str());
    }
    if (ocr.contains("ocr_failed_pages")) {
      std::printf("warning   OCR failed on pages %s\n", list(ocr["ocr_failed_pages"]).c_str());
    }
  }
  std::printf("timings:\n");
  for (const auto& t : timings) {
    std::printf("  %-9s #%d  %6lld ms  %s\n", t["stage"].get<std::string>().c_str(),
                t["attempt"].get<int>(), static_cast<long long>(t["duration_ms"].get<int64_t>()),
                t["outcome"].get<std::string>().c_str());
  }
  return 0;
}

// `jobs retry|cancel --state S [--code C] [--since T] [--dry-run]`: every matching job, each
// through the state machine like a single retry/cancel; prints each and the count. Exit 1 when
// any could not be acted on (e.g. it changed state meanwhile).
int ActOnMany(const GlobalOptions& global, const JobsArgs& args, const std::string& action) {
  auto store = OpenForJobs(global);
  if (!store.ok()) return Fail(store.status());
  store::JobFilter filter;
  filter.limit = 0;  // all
  auto state = store::ParseJobState(args.state);
  if (!state.ok()) return Fail(state.status());
  filter.state = *state;
  std::optional<UnixMillis> since;
  if (!args.since.empty()) {
    auto t = ParseSince(args.since, Clock::Real()->NowMillis());
    if (!t.ok()) return Fail(t.status());
    since = *t;
  }
  auto jobs = (*store)->ListJobs(filter);
  if (!jobs.ok()) return Fail(jobs.status());
  int64_t matched = 0, done = 0, refused = 0;
  for (const store::JobView& v : *jobs) {
    const store::Job& j = v.job;
    if (!args.code.empty() && j.last_error_code != args.code && j.defer_reason != args.code) {
      continue;
    }
    if (since && j.updated_at < *since) continue;
    ++matched;
    const std::string why =
        j.state == store::JobState::kDeferred ? j.defer_reason : j.last_error_code;
    if (args.dry_run) {
      std::printf("would %s %s  %s  %s\n", action.c_str(), j.id.c_str(), why.c_str(),
                  v.filename.c_str());
      continue;
    }
    auto result = action == "retry" ? pipeline::RetryJob(**store, *Clock::Real(), j.id)
                                    : pipeline::CancelJob(**store, *Clock::Real(), j.id);
    AuditCli(**store, "job." + action, j.id, {{"bulk", {{"state", args.state}}}},
             result.ok() ? Status::Ok() : result.status());
    if (!result.ok()) {
      ++refused;
      std::fprintf(stderr, "ingestd: %s: %s\n", j.id.c_str(), result.status().ToString().c_str());
      continue;
    }
    ++done;
    std::printf("%s: %s at stage %s  %s\n", j.id.c_str(),
                std::string(store::JobStateName(result->state)).c_str(),
                std::string(store::StageName(result->stage)).c_str(), v.filename.c_str());
  }
  const char* verb = action == "retry" ? "retried" : "cancelled";
  if (args.dry_run) {
    std::printf("%lld job%s would be %s (dry run)\n", static_cast<long long>(matched),
                matched == 1 ? "" : "s", verb);
  } else {
    std::printf("%lld job%s %s", static_cast<long long>(done), done == 1 ? "" : "s", verb);
    if (refused > 0) std::printf(", %lld refused", static_cast<long long>(refused));
    std::printf("\n");
  }
  return refused > 0 ? 1 : 0;
}

int Act(const GlobalOptions& global, const JobsArgs& args, const std::string& action) {
  if (action != "requeue" &&
      (!args.state.empty() || !args.code.empty() || !args.since.empty() || args.dry_run)) {
    if (!args.job_id.empty() || args.state.empty()) {
      return Fail(
          InvalidArgument("give a JOB_ID, or --state STATE (with optional --code, "
                          "--since, --dry-run), not both",
                          "bad_arguments"));
    }
    return ActOnMany(global, args, action);
  }
  if (args.job_id.empty()) {
    return Fail(InvalidArgument("give a JOB_ID, or --state STATE for every job in that state",
                                "bad_arguments"));
  }
  auto store = OpenForJobs(global);
  if (!store.ok()) return Fail(store.status());
  Result<store::Job> result = Internal("unreachable");
  if (action == "retry") {
    result = pipeline::RetryJob(**store, *Clock::Real(), args.job_id);
  } else if (action == "cancel") {
    result = pipeline::CancelJob(**store, *Clock::Real(), args.job_id);
  } else {
    auto from = store::ParseStage(args.from);
    if (!from.ok()) return Fail(from.status());
    result = pipeline::RequeueJob(**store, *Clock::Real(), args.job_id, *from);
  }
  AuditCli(**store, "job." + action, args.job_id,
           action == "requeue" ? nlohmann::json{{"from", args.from}} : nlohmann::json(nullptr),
           result.ok() ? Status::Ok() : result.status());
  if (!result.ok()) return Fail(result.status());
  std::printf("%s: %s at stage %s\n", result->id.c_str(),
              std::string(store::JobStateName(result->state)).c_str(),
              std::string(store::StageName(result->stage)).c_str());
  return 0;
}

}  // namespace

void AddJobsCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<JobsArgs>();
  CLI::App* cmd = app.add_subcommand("jobs", "List, inspect, retry, cancel or requeue jobs");
  cmd->require_subcommand(1);

  CLI::App* list = cmd->add_subcommand("list", "List jobs");
  list->add_option("--state", args->state, "Only jobs in this state");
  list->add_option("--limit", args->limit, "At most this many jobs");
  list->add_flag("--json", args->json, "JSON array output");
  list->callback([&global, exit_code, args] { *exit_code = List(global, *args); });

  CLI::App* show = cmd->add_subcommand("show", "Show one job with timings and events");
  show->add_option("job_id", args->job_id, "Job id")->required();
  show->add_flag("--json", args->json, "JSON output");
  show->callback([&global, exit_code, args] { *exit_code = Show(global, *args); });

  auto add_bulk = [&args](CLI::App* sub) {
    sub->add_option("--state", args->state,
                    "Every job in this state (failed, dead, deferred, ...) instead of one id");
    sub->add_option("--code", args->code, "With --state: only jobs with this error/defer code");
    sub->add_option("--since", args->since,
                    "With --state: only jobs updated since (90s, 30m, 2h, 7d, or ISO-8601 UTC)");
    sub->add_flag("--dry-run", args->dry_run, "With --state: list the jobs, change nothing");
  };
  CLI::App* retry = cmd->add_subcommand(
      "retry", "Retry a failed, dead, deferred or cancelled job (or every one with --state)");
  retry->add_option("job_id", args->job_id, "Job id");
  add_bulk(retry);
  retry->callback([&global, exit_code, args] { *exit_code = Act(global, *args, "retry"); });

  CLI::App* cancel = cmd->add_subcommand("cancel", "Cancel a job (or every one with --state)");
  cancel->add_option("job_id", args->job_id, "Job id");
  add_bulk(cancel);
  cancel->callback([&global, exit_code, args] { *exit_code = Act(global, *args, "cancel"); });

  CLI::App* requeue = cmd->add_subcommand("requeue", "Run a job again from a stage");
  requeue->add_option("job_id", args->job_id, "Job id")->required();
  requeue
      ->add_option("--from", args->from, "Stage: parse|validate|chunk|embed|index|account|finalize")
      ->required();
  requeue->callback([&global, exit_code, args] { *exit_code = Act(global, *args, "requeue"); });
}

}  // namespace ingest::app
