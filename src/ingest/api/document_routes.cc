// /v1/documents (upload, show), /v1/search and /v1/costs. Every read is scoped to the caller's
// tenant; admin requests act for X-Tenant (default: the configured tenant) when they create or
// search, and see every tenant when they read by id.
#include <map>
#include <string>

#include "ingest/api/http_status.h"
#include "ingest/api/route_env.h"
#include "ingest/api/upload.h"
#include "ingest/pipeline/query_embedding.h"
#include "ingest/pipeline/submit.h"
#include "ingest/search/hit_json.h"
#include "ingest/search/vector_search.h"

namespace ingest::api {
namespace {

constexpr int kMaxK = search::kMaxResults;

nlohmann::json DocumentJson(const store::Document& d) {
  return {{"document_id", d.id},
          {"tenant", d.tenant},
          {"filename", d.filename},
          {"mime", d.mime},
          {"bytes", d.bytes},
          {"sha256", d.sha256},
          {"pages", d.page_count},
          {"parser", d.parser},
          {"parse_note", d.parse_note},
          {"created_at", Iso(d.created_at)},
          {"updated_at", Iso(d.updated_at)}};
}

void Upload(const RouteEnv& env, const httplib::Request& req, httplib::Response& res,
            const httplib::ContentReader& reader) {
  auto p = Authorize(env, req);
  if (!p.ok()) return SendError(res, p.status());
  auto upload =
      ReceiveUpload(req, reader, env.deps.data_dir + "/uploads", env.deps.max_upload_bytes);
  if (!upload.ok()) return SendError(res, upload.status());
  pipeline::SubmitOptions options;
  options.filename = upload->filename();
  // An upload is someone waiting on the answer: it goes ahead of bulk backfills.
  options.lane = store::Lane::kInteractive;
  options.correlation_id = req.get_header_value("X-Request-Id");
  auto outcome = pipeline::SubmitFile(env.deps.pipeline, upload->path(),
                                      EffectiveTenant(env, *p, req), options);
  if (!outcome.ok()) return SendError(res, outcome.status());
  if (outcome->created && env.deps.workers != nullptr) env.deps.workers->Wake();
  SendJson(res, outcome->created ? 201 : 200,
           {{"document_id", outcome->document.id},
            {"job_id", outcome->job.id},
            {"state", std::string(store::JobStateName(outcome->job.state))},
            {"stage", std::string(store::StageName(outcome->job.stage))},
            {"created", outcome->created},
            {"filename", outcome->document.filename}});
}

// Built from one GetDocumentDetail (one snapshot): the job's state and the chunk totals belong
// together. Another tenant's document is "not found", exactly as an unknown id.
void ShowDocument(const RouteEnv& env, const httplib::Request& req, httplib::Response& res) {
  auto p = Authorize(env, req);
  if (!p.ok()) return SendError(res, p.status());
  const std::string document_id = req.matches[1].str();
  auto detail = env.deps.pipeline.store->GetDocumentDetail(document_id);
  if (!detail.ok() && detail.status().code() != StatusCode::kNotFound) {
    return SendError(res, detail.status());
  }
  if (!detail.ok() || (!p->admin && detail->document.tenant != p->tenant)) {
    return SendError(res, NotFound("no document " + document_id, "document_not_found"));
  }
  nlohmann::json out = DocumentJson(detail->document);
  out["job"] = detail->job ? JobJson(*detail->job) : nlohmann::json(nullptr);
  out["chunks"] = detail->chunks;
  out["chunk_tokens"] = detail->chunk_tokens;
  SendJson(res, 200, out);
}

// A query the governor did not let through (nothing was sent). Over a hard budget: 429 with
// Retry-After (seconds until the budget's period resets) and the budget in the body, next to
// the usual error code and message (docs/api.md, "Search and budgets").
void SendQueryRefused(const RouteEnv& env, httplib::Response& res, const Status& st,
                      const pipeline::QueryRefusal& refusal) {
  if (st.reason() != "budget_exceeded" || !refusal.budget) return SendError(res, st);
  const store::BudgetStatus& b = *refusal.budget;
  nlohmann::json body = ErrorBody(st);
  body["error"]["budget"] = {
      {"scope", std::string(store::BudgetScopeName(b.budget.scope))},
      {"key", b.budget.scope_key},
      {"period", std::string(store::BudgetPeriodName(b.budget.period))},
      {"limit_usd", static_cast<double>(b.budget.hard_nanos) / 1e9},
      {"limit_nanos", b.budget.hard_nanos},
      {"spent_usd", static_cast<double>(b.settled_nanos + b.reserved_nanos) / 1e9},
      {"spent_nanos", b.settled_nanos + b.reserved_nanos},
      {"resets_at", Iso(b.window.end)}};
  SendJson(res, HttpStatusFor(st), body);
  const UnixMillis now = env.deps.pipeline.clock->NowMillis();
  const int64_t wait_s = b.window.end > now ? (b.window.end - now + 999) / 1000 : 0;
  res.set_header("Retry-After", std::to_string(wait_s));
}

void Search(const RouteEnv& env, const httplib::Request& req, httplib::Response& res) {
  auto p = Authorize(env, req);
  if (!p.ok()) return SendError(res, p.status());
  auto body = ParseJsonObject(req);
  if (!body.ok()) return SendError(res, body.status());
  auto q = body->find("query");
  if (q == body->end() || !q->is_string() || q->get<std::string>().empty()) {
    return SendError(res,
                     InvalidArgument("body needs a non-empty \"query\" string", "missing_query"));
  }
  int k = search::kDefaultResults;
  if (auto kv = body->find("k"); kv != body->end()) {
    if (!kv->is_number_integer() || kv->get<int64_t>() < 1 || kv->get<int64_t>() > kMaxK) {
      return SendError(res, InvalidArgument("k must be an integer in [1, 100]", "invalid_k"));
    }
    k = static_cast<int>(kv->get<int64_t>());
  }
  const embed::Embedder& embedder = *env.deps.pipeline.embedder;
  const std::string query = q->get<std::string>();
  const std::string tenant = EffectiveTenant(env, *p, req);
  // Through the governor, billed to the caller's tenant, with the query vector cache.
  pipeline::QueryRefusal refusal;
  auto embedded = pipeline::EmbedQuery(env.deps.pipeline, query, tenant, env.metrics, &refusal);
  if (!embedded.ok()) return SendQueryRefused(env, res, embedded.status(), refusal);
  auto hits = search::SearchExact(*env.deps.pipeline.store, embedder.Space(), embedded->values, k,
                                  std::string_view(tenant));
  if (!hits.ok()) return SendError(res, hits.status());
  nlohmann::json results = nlohmann::json::array();
  for (const auto& h : *hits) results.push_back(search::SearchHitJson(h));
  SendJson(res, 200,
           {{"model", embedder.Space().model},
            {"query_cached", embedded->cached},
            {"results", results}});
}

// Ledger totals (settled + reserved; released reservations cost nothing), by service, by
// operation (ingestion: embed, parse; search: query) and, for admin, by tenant. Reads the whole
// ledger: fine for now, a per-period aggregate comes with budgets.
void Costs(const RouteEnv& env, const httplib::Request& req, httplib::Response& res) {
  auto p = Authorize(env, req);
  if (!p.ok()) return SendError(res, p.status());
  auto ledger = env.deps.pipeline.store->ListLedger(std::nullopt);
  if (!ledger.ok()) return SendError(res, ledger.status());
  struct Total {
    int64_t nanos = 0, tokens = 0, pages = 0, requests = 0;
  };
  Total all;
  std::map<std::string, Total> by_service, by_tenant, by_operation;
  for (const auto& e : *ledger) {
    if (e.state == store::LedgerState::kReleased) continue;
    if (!p->admin && e.tenant != p->tenant) continue;
    for (Total* t :
         {&all, &by_service[e.service], &by_tenant[e.tenant], &by_operation[e.operation]}) {
      t->nanos += e.cost_nanos;
      t->tokens += e.tokens;
      t->pages += e.pages;
      t->requests += e.requests;
    }
  }
  auto json_of = [](const Total& t) {
    return nlohmann::json{{"cost_usd", static_cast<double>(t.nanos) / 1e9},
                          {"cost_nanos", t.nanos},
                          {"tokens", t.tokens},
                          {"pages", t.pages},
                          {"requests", t.requests}};
  };
  nlohmann::json out = json_of(all);
  out["by_service"] = nlohmann::json::object();
  for (const auto& [s, t] : by_service) out["by_service"][s] = json_of(t);
  // embed and parse are ingestion; query is search queries' embeddings.
  out["by_operation"] = nlohmann::json::object();
  for (const auto& [s, t] : by_operation) out["by_operation"][s] = json_of(t);
  if (p->admin) {
    out["by_tenant"] = nlohmann::json::object();
    for (const auto& [s, t] : by_tenant) out["by_tenant"][s] = json_of(t);
  }
  SendJson(res, 200, out);
}

}  // namespace

void InstallDocumentRoutes(httplib::Server& server, const RouteEnv& env) {
  server.Post("/v1/documents",
              [&env](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) { Upload(env, req, res, reader); });
  server.Get(
      R"(/v1/documents/([^/]+))",
      [&env](const httplib::Request& req, httplib::Response& res) { ShowDocument(env, req, res); });
  server.Post("/v1/search", [&env](const httplib::Request& req, httplib::Response& res) {
    Search(env, req, res);
  });
  server.Get("/v1/costs",
             [&env](const httplib::Request& req, httplib::Response& res) { Costs(env, req, res); });
}

}  // namespace ingest::api
