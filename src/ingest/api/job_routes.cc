// /v1/jobs: list, show (with per-stage timings, events and cost), retry, cancel, requeue.
// Actions go through pipeline/operator_actions.h (the state machine); nothing here writes
// `state`. Scopes (guard.cc): read to list and show, operator to act; a tenant-bound credential
// sees and acts on its own tenant's jobs only. Actions are audited.
#include <string>

#include "ingest/api/route_env.h"
#include "ingest/pipeline/operator_actions.h"

namespace ingest::api {
namespace {

// The JobView (filename, tenant, cost) of a job already checked visible, in one read.
Result<store::JobView> ViewOf(const RouteEnv& env, const store::Job& job) {
  INGEST_ASSIGN_OR_RETURN(store::JobDetail detail,
                          env.deps.pipeline.store->GetJobDetail(job.id, /*max_events=*/1));
  return std::move(detail.view);
}

void ListJobs(const RouteEnv& env, const Principal& p, const httplib::Request& req,
              httplib::Response& res) {
  store::JobFilter filter;
  filter.limit = 100;
  if (req.has_param("state")) {
    auto s = store::ParseJobState(req.get_param_value("state"));
    if (!s.ok()) return SendError(res, InvalidArgument(s.status().message(), "invalid_state"));
    filter.state = *s;
  }
  if (req.has_param("limit")) {
    const std::string v = req.get_param_value("limit");
    int limit = 0;
    size_t used = 0;
    try {
      limit = std::stoi(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != v.size() || limit < 1 || limit > 1000) {
      return SendError(res,
                       InvalidArgument("limit must be an integer in [1, 1000]", "invalid_limit"));
    }
    filter.limit = limit;
  }
  if (!p.admin) {
    filter.tenant = p.tenant;
  } else if (req.has_param("tenant")) {
    filter.tenant = req.get_param_value("tenant");
  }
  auto jobs = env.deps.pipeline.store->ListJobs(filter);
  if (!jobs.ok()) return SendError(res, jobs.status());
  nlohmann::json items = nlohmann::json::array();
  for (const auto& v : *jobs) items.push_back(JobJson(v));
  SendJson(res, 200, {{"jobs", items}});
}

// Built from one GetJobDetail (one snapshot): state, error, timings and events always belong
// together. (Reading the job, then its view, then its timings mixed snapshots: a poller could
// see "failed" with no error.) Visibility is checked on the same read.
void ShowJob(const RouteEnv& env, const Principal& p, const httplib::Request& req,
             httplib::Response& res) {
  const std::string job_id = req.matches[1].str();
  auto detail = env.deps.pipeline.store->GetJobDetail(job_id, 50);
  if (!detail.ok()) {
    if (detail.status().code() == StatusCode::kNotFound) {
      return SendError(res, NotFound("no job " + job_id, "job_not_found"));
    }
    return SendError(res, detail.status());
  }
  // Another tenant's job is "not found", exactly as an unknown id.
  if (!p.admin && detail->view.tenant != p.tenant) {
    return SendError(res, NotFound("no job " + job_id, "job_not_found"));
  }
  const store::Job& job = detail->view.job;
  nlohmann::json out = JobJson(detail->view);
  out["error"] = job.last_error_code.empty() ? nlohmann::json(nullptr)
                                             : nlohmann::json{{"code", job.last_error_code},
                                                              {"message", job.last_error_message},
                                                              {"stage", job.last_error_stage}};
  nlohmann::json ts = nlohmann::json::array();
  for (const auto& t : detail->timings) {
    ts.push_back({{"stage", std::string(store::StageName(t.stage))},
                  {"attempt", t.attempt},
                  {"started_at", Iso(t.started_at)},
                  {"duration_ms", t.finished_at - t.started_at},
                  {"outcome", t.outcome}});
  }
  out["stage_timings"] = ts;
  nlohmann::json es = nlohmann::json::array();
  for (const auto& e : detail->events) {
    es.push_back({{"at", Iso(e.at)},
                  {"kind", e.kind},
                  {"detail", nlohmann::json::parse(e.detail_json, nullptr, false)}});
  }
  for (auto& e : es) {
    if (e["detail"].is_discarded()) e["detail"] = nullptr;
  }
  out["events"] = es;
  SendJson(res, 200, out);
}

enum class Action { kRetry, kCancel, kRequeue };

void ActOnJob(const RouteEnv& env, const Principal& p, Action action, const httplib::Request& req,
              httplib::Response& res) {
  auto job = GetVisibleJob(env, p, req.matches[1].str());
  if (!job.ok()) return SendError(res, job.status());
  store::Store& store = *env.deps.pipeline.store;
  Clock& clock = *env.deps.pipeline.clock;
  Result<store::Job> done = Internal("unreachable");
  switch (action) {
    case Action::kRetry:
      done = pipeline::RetryJob(store, clock, job->id);
      break;
    case Action::kCancel:
      done = pipeline::CancelJob(store, clock, job->id);
      break;
    case Action::kRequeue: {
      auto body = ParseJsonObject(req);
      if (!body.ok()) return SendError(res, body.status());
      auto from = body->find("from");
      if (from == body->end() || !from->is_string()) {
        return SendError(res,
                         InvalidArgument("body needs {\"from\": \"<stage>\"}", "missing_from"));
      }
      auto stage = store::ParseStage(from->get<std::string>());
      if (!stage.ok())
        return SendError(res, InvalidArgument(stage.status().message(), "invalid_stage"));
      done = pipeline::RequeueJob(store, clock, job->id, *stage);
      break;
    }
  }
  if (!done.ok()) return SendError(res, done.status());
  // Read the view before waking the workers, so the answer is the job as the action left it
  // (a worker could otherwise run it again before the read).
  auto view = ViewOf(env, *done);
  if (env.deps.workers != nullptr) env.deps.workers->Wake();
  if (!view.ok()) return SendError(res, view.status());
  SendJson(res, 200, JobJson(*view));
}

}  // namespace

void InstallJobRoutes(httplib::Server& server, const RouteEnv& env) {
  server.Get("/v1/jobs", Guard(env, {Scope::kRead},
                               [&env](const Principal& p, const httplib::Request& req,
                                      httplib::Response& res) { ListJobs(env, p, req, res); }));
  server.Get(R"(/v1/jobs/([^/]+))",
             Guard(env, {Scope::kRead},
                   [&env](const Principal& p, const httplib::Request& req, httplib::Response& res) {
                     ShowJob(env, p, req, res);
                   }));
  struct ActionRoute {
    Action action;
    const char* path;
    std::string_view audit;
  };
  for (const ActionRoute& a :
       {ActionRoute{Action::kRetry, R"(/v1/jobs/([^/]+)/retry)", "job.retry"},
        ActionRoute{Action::kCancel, R"(/v1/jobs/([^/]+)/cancel)", "job.cancel"},
        ActionRoute{Action::kRequeue, R"(/v1/jobs/([^/]+)/requeue)", "job.requeue"}}) {
    server.Post(a.path, Guard(env, {Scope::kOperator, a.audit},
                              [&env, action = a.action](
                                  const Principal& p, const httplib::Request& req,
                                  httplib::Response& res) { ActOnJob(env, p, action, req, res); }));
  }
}

}  // namespace ingest::api
