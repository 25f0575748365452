// `ingestd jobs list|show|retry|cancel|requeue`: inspect jobs and act on them. Actions go
// through the state machine (pipeline/operator_actions.h); nothing here writes `state`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"
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
};

int Fail(const Status& s) {
  std::fprintf(stderr, "ingestd: %s\n", s.ToString().c_str());
  return 1;
}

std::string Time(UnixMillis t) { return t > 0 ? FormatIso8601(t) : ""; }

// Opens just the store: job commands need no parser or embedder.
Result<std::unique_ptr<store::Store>> OpenForJobs(const GlobalOptions& global) {
  INGEST_ASSIGN_OR_RETURN(config::Config config, LoadConfigFor(global));
  return OpenStore(config, Clock::Real(), /*auto_migrate=*/true);
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

int Show(const GlobalOptions& global, const JobsArgs& args) {
  auto store = OpenForJobs(global);
  if (!store.ok()) return Fail(store.status());
  auto job = (*store)->GetJob(args.job_id);
  if (!job.ok()) return Fail(job.status());
  store::JobFilter filter;
  filter.document_id = job->document_id;
  auto views = (*store)->ListJobs(filter);
  if (!views.ok() || views->empty()) return Fail(Internal("job vanished while reading"));
  nlohmann::json out = pipeline::JobViewJson(views->front());
  auto doc = (*store)->GetDocument(job->document_id);
  if (doc.ok()) {
    out["document"] = {{"filename", doc->filename},    {"mime", doc->mime},
                       {"bytes", doc->bytes},          {"sha256", doc->sha256},
                       {"pages", doc->page_count},     {"parser", doc->parser},
                       {"parse_note", doc->parse_note}};
  }
  nlohmann::json timings = nlohmann::json::array();
  if (auto ts = (*store)->ListStageTimings(job->id); ts.ok()) {
    for (const auto& t : *ts) {
      timings.push_back({{"stage", std::string(store::StageName(t.stage))},
                         {"attempt", t.attempt},
                         {"started_at", Time(t.started_at)},
                         {"duration_ms", t.finished_at - t.started_at},
                         {"outcome", t.outcome}});
    }
  }
  out["stage_timings"] = timings;
  nlohmann::json events = nlohmann::json::array();
  if (auto es = (*store)->ListEvents(std::string_view(job->id), 50); es.ok()) {
    for (const auto& e : *es) {
      events.push_back({{"at", Time(e.at)},
                        {"kind", e.kind},
                        {"detail", nlohmann::json::parse(e.detail_json, nullptr, false)}});
    }
  }
  out["events"] = events;
  if (args.json) {
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("job       %s\ndocument  %s (%s)\nstage     %s\nstate     %s\nattempts  %d/%d\n",
              job->id.c_str(), job->document_id.c_str(), out["filename"].get<std::string>().c_str(),
              std::string(store::StageName(job->stage)).c_str(),
              std::string(store::JobStateName(job->state)).c_str(), job->attempts,
              job->max_attempts);
  if (!job->defer_reason.empty()) std::printf("deferred  %s\n", job->defer_reason.c_str());
  if (!job->last_error_code.empty()) {
    std::printf("error     %s at %s: %s\n", job->last_error_code.c_str(),
                job->last_error_stage.c_str(), job->last_error_message.c_str());
  }
  std::printf("cost      $%.6f\n", out["cost_usd"].get<double>());
  std::printf("timings:\n");
  for (const auto& t : timings) {
    std::printf("  %-9s #%d  %6lld ms  %s\n", t["stage"].get<std::string>().c_str(),
                t["attempt"].get<int>(), static_cast<long long>(t["duration_ms"].get<int64_t>()),
                t["outcome"].get<std::string>().c_str());
  }
  return 0;
}

int Act(const GlobalOptions& global, const JobsArgs& args, const std::string& action) {
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

  CLI::App* retry = cmd->add_subcommand("retry", "Retry a failed, dead, deferred or cancelled job");
  retry->add_option("job_id", args->job_id, "Job id")->required();
  retry->callback([&global, exit_code, args] { *exit_code = Act(global, *args, "retry"); });

  CLI::App* cancel = cmd->add_subcommand("cancel", "Cancel a job");
  cancel->add_option("job_id", args->job_id, "Job id")->required();
  cancel->callback([&global, exit_code, args] { *exit_code = Act(global, *args, "cancel"); });

  CLI::App* requeue = cmd->add_subcommand("requeue", "Run a job again from a stage");
  requeue->add_option("job_id", args->job_id, "Job id")->required();
  requeue
      ->add_option("--from", args->from, "Stage: parse|validate|chunk|embed|index|account|finalize")
      ->required();
  requeue->callback([&global, exit_code, args] { *exit_code = Act(global, *args, "requeue"); });
}

}  // namespace ingest::app
