// POST /v1/webhooks/llamaparse/{job_id}?token=T: LlamaParse's v1 result push
// (parse/llamaparse/webhook.h). No bearer token (LlamaParse cannot send one): the per-job token
// is checked in constant time, and a wrong token, an unknown job and webhooks not configured all
// answer the same 404, so nothing can be probed. A good call makes the job waiting on LlamaParse
// due now (pipeline::WakeWaitingJob); the body is not used — the worker fetches the result
// through the API it polls, with the job metadata the ledger needs.
#include <string>

#include "ingest/api/route_env.h"
#include "ingest/obs/log.h"
#include "ingest/parse/llamaparse/webhook.h"
#include "ingest/pipeline/operator_actions.h"

namespace ingest::api {
namespace {

void LlamaParseWebhook(const RouteEnv& env, const httplib::Request& req, httplib::Response& res) {
  const std::string job_id = req.matches[1];
  const std::string& secret = env.deps.llamaparse_webhook_secret;
  const std::string token = req.has_param("token") ? req.get_param_value("token") : "";
  const Status unknown = NotFound("no such webhook", "not_found");
  if (secret.empty() || !parse::LlamaParseWebhookTokenValid(secret, job_id, token)) {
    return SendError(res, unknown);
  }
  Clock* clock = env.deps.pipeline.clock != nullptr ? env.deps.pipeline.clock : Clock::Real();
  auto woken = pipeline::WakeWaitingJob(*env.deps.pipeline.store, *clock, job_id);
  if (!woken.ok()) {
    if (woken.status().code() == StatusCode::kNotFound) return SendError(res, unknown);
    return SendError(res, woken.status());
  }
  obs::LogInfo("llamaparse webhook", {{"job_id", job_id}, {"woken", *woken}});
  SendJson(res, 200, {{"job_id", job_id}, {"woken", *woken}});
}

}  // namespace

void InstallWebhookRoutes(httplib::Server& server, const RouteEnv& env) {
  server.Post(R"(/v1/webhooks/llamaparse/([0-9a-fA-F-]{1,64}))",
              [&env](const httplib::Request& req, httplib::Response& res) {
                LlamaParseWebhook(env, req, res);
              });
}

}  // namespace ingest::api
