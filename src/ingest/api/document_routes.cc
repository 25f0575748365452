// /v1/documents (upload, show), /v1/search and /v1/costs. Every read is scoped to the caller's
// tenant; admin requests act for X-Tenant (default: the configured tenant) when they create or
// search, and see every tenant when they read by id. Scopes (guard.cc): ingest to upload and
// delete (deletes are audited), read for everything else.
#include <limits>
#include <map>
#include <string>

#include "ingest/api/http_status.h"
#include "ingest/api/route_env.h"
#include "ingest/api/upload.h"
#include "ingest/pipeline/delete_document.h"
#include "ingest/pipeline/document_json.h"
#include "ingest/pipeline/query_embedding.h"
#include "ingest/pipeline/submit.h"
#include "ingest/search/hit_json.h"
#include "ingest/search/hybrid_search.h"
#include "ingest/search/vector_search.h"
#include "ingest/store/metadata.h"

namespace ingest::api {
namespace {

constexpr int kMaxK = search::kMaxResults;

// Limits of GET /v1/documents and GET /v1/documents/{id}/chunks pages.
constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;
// Results a search may skip (offset).
constexpr int kMaxOffset = search::kMaxOffset;

Result<int> IntParam(const httplib::Request& req, const char* name, int fallback, int lo, int hi) {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  int value = 0;
  size_t used = 0;
  try {
    value = std::stoi(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || value < lo || value > hi) {
    return InvalidArgument(std::string(name) + " must be an integer in [" + std::to_string(lo) +
                               ", " + std::to_string(hi) + "]",
                           "invalid_" + std::string(name));
  }
  return value;
}

// Upload fields: metadata must be a JSON object within the limits; external_id well formed.
Status ReadUploadFields(const ReceivedUpload& upload, pipeline::SubmitOptions* options) {
  if (!upload.metadata().empty()) {
    INGEST_ASSIGN_OR_RETURN(options->metadata_json, store::NormalizeMetadata(upload.metadata()));
  }
  if (!upload.external_id().empty()) {
    INGEST_RETURN_IF_ERROR(store::ValidateExternalId(upload.external_id()));
    options->external_id = upload.external_id();
  }
  return Status::Ok();
}

// The "filter" object of POST /v1/search: {"metadata": {KEY: SCALAR...},
// "external_id_prefix": STRING, "document_id": STRING}.
Status ReadSearchFilter(const nlohmann::json& body, store::IndexFilter* filter) {
  auto f = body.find("filter");
  if (f == body.end() || f->is_null()) return Status::Ok();
  auto bad = [](const std::string& why) { return InvalidArgument(why, "invalid_filter"); };
  if (!f->is_object()) return bad("filter must be an object");
  for (const auto& [key, value] : f->items()) {
    if (key == "metadata") {
      if (!value.is_object()) return bad("filter.metadata must be an object");
      for (const auto& [mk, mv] : value.items()) {
        if (Status st = store::ValidateMetadataKey(mk); !st.ok()) return bad(st.message());
        if (!(mv.is_string() || mv.is_number() || mv.is_boolean())) {
          return bad("filter.metadata." + mk + " must be a string, number or boolean");
        }
        filter->metadata.push_back({mk, mv.dump()});
      }
    } else if (key == "external_id_prefix" || key == "document_id") {
      if (!value.is_string()) return bad("filter." + key + " must be a string");
      (key == "document_id" ? filter->document_id : filter->external_id_prefix) =
          value.get<std::string>();
    } else {
      return bad("unknown filter key \"" + key +
                 "\" (known: metadata, external_id_prefix, document_id)");
    }
  }
  return Status::Ok();
}

void Upload(const RouteEnv& env, const Principal& p, const httplib::Request& req,
            httplib::Response& res, const httplib::ContentReader& reader) {
  auto upload =
      ReceiveUpload(req, reader, env.deps.data_dir + "/uploads", env.deps.max_upload_bytes);
  if (!upload.ok()) return SendError(res, upload.status());
  pipeline::SubmitOptions options;
  options.filename = upload->filename();
  // An upload is someone waiting on the answer: it goes ahead of bulk backfills.
  options.lane = store::Lane::kInteractive;
  options.correlation_id = req.get_header_value("X-Request-Id");
  if (Status st = ReadUploadFields(*upload, &options); !st.ok()) return SendError(res, st);
  auto outcome = pipeline::SubmitFile(env.deps.pipeline, upload->path(),
                                      EffectiveTenant(env, p, req), options);
  if (!outcome.ok()) return SendError(res, outcome.status());
  if (outcome->created && env.deps.workers != nullptr) env.deps.workers->Wake();
  SendJson(res, outcome->created ? 201 : 200,
           {{"document_id", outcome->document.id},
            {"job_id", outcome->job.id},
            {"state", std::string(store::JobStateName(outcome->job.state))},
            {"stage", std::string(store::StageName(outcome->job.stage))},
            {"created", outcome->created},
            {"filename", outcome->document.filename},
            {"external_id", outcome->document.external_id},
            {"version", outcome->document.version},
            {"metadata", pipeline::MetadataObject(outcome->document.metadata_json)}});
}

// A live document the principal may see (a deleted one is 404, as an unknown id).
Result<store::Document> GetLiveDocument(const RouteEnv& env, const Principal& p,
                                        std::string_view id) {
  INGEST_ASSIGN_OR_RETURN(store::Document doc, GetVisibleDocument(env, p, id));
  if (doc.deleted_at != 0) {
    return NotFound("no document " + std::string(id), "document_not_found");
  }
  return doc;
}

// Built from one GetDocumentDetail (one snapshot): the job's state and the chunk totals belong
// together. Another tenant's document is "not found", exactly as an unknown id.
void ShowDocument(const RouteEnv& env, const Principal& p, const httplib::Request& req,
                  httplib::Response& res) {
  const std::string document_id = req.matches[1].str();
  auto detail = env.deps.pipeline.store->GetDocumentDetail(document_id);
  if (!detail.ok() && detail.status().code() != StatusCode::kNotFound) {
    return SendError(res, detail.status());
  }
  if (!detail.ok() || (!p.admin && detail->document.tenant != p.tenant) ||
      detail->document.deleted_at != 0) {
    return SendError(res, NotFound("no document " + document_id, "document_not_found"));
  }
  nlohmann::json out = pipeline::DocumentJson(detail->document, std::nullopt);
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

// GET /v1/documents: the caller's tenant's live documents, newest first, one page at a time.
void ListDocuments(const RouteEnv& env, const Principal& p, const httplib::Request& req,
                   httplib::Response& res) {
  store::DocumentFilter filter;
  filter.tenant = EffectiveTenant(env, p, req);
  auto limit = IntParam(req, "limit", kDefaultPage, 1, kMaxPage);
  if (!limit.ok()) return SendError(res, limit.status());
  filter.limit = *limit + 1;  // one more says whether a next page exists
  if (req.has_param("state")) {
    auto s = store::ParseJobState(req.get_param_value("state"));
    if (!s.ok()) return SendError(res, InvalidArgument(s.status().message(), "invalid_state"));
    filter.state = *s;
  }
  if (req.has_param("external_id")) filter.external_id = req.get_param_value("external_id");
  if (req.has_param("external_id_prefix")) {
    filter.external_id_prefix = req.get_param_value("external_id_prefix");
  }
  for (const char* bound : {"created_after", "created_before"}) {
    if (!req.has_param(bound)) continue;
    auto t = pipeline::ParseTimeBound(req.get_param_value(bound));
    if (!t.ok()) return SendError(res, t.status());
    (std::string_view(bound) == "created_after" ? filter.created_from : filter.created_until) = *t;
  }
  if (req.has_param("cursor")) {
    auto c = pipeline::ParseDocumentCursor(req.get_param_value("cursor"));
    if (!c.ok()) return SendError(res, c.status());
    filter.before = *c;
  }
  // metadata.KEY=VALUE, VALUE typed as on the command line (store::ScalarJsonFromWord).
  for (const auto& [name, value] : req.params) {
    if (!name.starts_with("metadata.")) continue;
    const std::string key = name.substr(9);
    if (Status st = store::ValidateMetadataKey(key); !st.ok()) {
      return SendError(res, InvalidArgument(st.message(), "invalid_filter"));
    }
    filter.metadata.push_back({key, store::ScalarJsonFromWord(value)});
  }
  auto rows = env.deps.pipeline.store->ListDocuments(filter);
  if (!rows.ok()) return SendError(res, rows.status());
  nlohmann::json items = nlohmann::json::array();
  const size_t page = static_cast<size_t>(*limit);
  for (size_t i = 0; i < rows->size() && i < page; ++i) {
    items.push_back(pipeline::DocumentJson((*rows)[i].document, (*rows)[i].job));
  }
  nlohmann::json next = nullptr;
  if (rows->size() > page) next = pipeline::DocumentCursor((*rows)[page - 1].document);
  SendJson(res, 200, {{"documents", items}, {"next_cursor", next}});
}

// GET /v1/documents/{id}/chunks: in ordinal order, offset/limit pages.
void ListDocumentChunks(const RouteEnv& env, const Principal& p, const httplib::Request& req,
                        httplib::Response& res) {
  auto doc = GetLiveDocument(env, p, req.matches[1].str());
  if (!doc.ok()) return SendError(res, doc.status());
  auto limit = IntParam(req, "limit", kDefaultPage, 1, kMaxPage);
  if (!limit.ok()) return SendError(res, limit.status());
  auto offset = IntParam(req, "offset", 0, 0, std::numeric_limits<int>::max());
  if (!offset.ok()) return SendError(res, offset.status());
  auto chunks = env.deps.pipeline.store->ListChunks(doc->id);
  if (!chunks.ok()) return SendError(res, chunks.status());
  const nlohmann::json metadata = pipeline::MetadataObject(doc->metadata_json);
  nlohmann::json items = nlohmann::json::array();
  for (size_t i = static_cast<size_t>(*offset);
       i < chunks->size() && i < static_cast<size_t>(*offset) + static_cast<size_t>(*limit); ++i) {
    items.push_back(pipeline::ChunkJson((*chunks)[i], metadata));
  }
  SendJson(res, 200, {{"document_id", doc->id}, {"total", chunks->size()}, {"chunks", items}});
}

// DELETE /v1/documents/{id}: 204, then the id is 404 everywhere (search included).
void DeleteDocument(const RouteEnv& env, const Principal& p, const httplib::Request& req,
                    httplib::Response& res) {
  auto doc = GetLiveDocument(env, p, req.matches[1].str());
  if (!doc.ok()) return SendError(res, doc.status());
  auto deleted = pipeline::DeleteDocument(env.deps.pipeline, doc->id);
  if (!deleted.ok()) {
    if (deleted.status().code() == StatusCode::kNotFound) {
      return SendError(res, NotFound("no document " + doc->id, "document_not_found"));
    }
    return SendError(res, deleted.status());
  }
  res.status = 204;
}

void Search(const RouteEnv& env, const Principal& p, const httplib::Request& req,
            httplib::Response& res) {
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
  int offset = 0;
  if (auto ov = body->find("offset"); ov != body->end()) {
    if (!ov->is_number_integer() || ov->get<int64_t>() < 0 || ov->get<int64_t>() > kMaxOffset) {
      return SendError(res,
                       InvalidArgument("offset must be an integer in [0, 1000]", "invalid_offset"));
    }
    offset = static_cast<int>(ov->get<int64_t>());
  }
  search::SearchMode mode = search::kDefaultSearchMode;
  if (auto mv = body->find("mode"); mv != body->end()) {
    if (!mv->is_string()) {
      return SendError(res, InvalidArgument("mode must be a string", "invalid_mode"));
    }
    auto parsed = search::ParseSearchMode(mv->get<std::string>());
    if (!parsed.ok()) return SendError(res, parsed.status());
    mode = *parsed;
  }
  store::IndexFilter filter;
  if (Status st = ReadSearchFilter(*body, &filter); !st.ok()) return SendError(res, st);
  const embed::Embedder& embedder = *env.deps.pipeline.embedder;
  const std::string query = q->get<std::string>();
  filter.tenant = EffectiveTenant(env, p, req);
  search::SearchRequest request;
  request.mode = mode;
  request.text = query;
  request.k = k;
  request.offset = offset;
  request.filter = filter;
  nlohmann::json out = {{"mode", std::string(search::SearchModeName(mode))}};
  std::optional<pipeline::QueryVector> embedded;
  if (search::NeedsQueryVector(mode)) {
    // Through the governor, billed to the caller's tenant, with the query vector cache.
    pipeline::QueryRefusal refusal;
    auto e = pipeline::EmbedQuery(env.deps.pipeline, query, *filter.tenant, env.metrics, &refusal);
    if (!e.ok()) return SendQueryRefused(env, res, e.status(), refusal);
    embedded = std::move(e).value();
    request.vector = embedded->values;
    request.space = embedder.Space();
    out["model"] = embedder.Space().model;
    out["query_cached"] = embedded->cached;
  } else {
    // Lexical: nothing is embedded (no provider call, no spend).
    out["model"] = nullptr;
    out["query_cached"] = false;
  }
  auto hits = search::SearchChunks(*env.deps.pipeline.store, request);
  if (!hits.ok()) return SendError(res, hits.status());
  nlohmann::json results = nlohmann::json::array();
  for (const search::SearchHit& h : *hits) results.push_back(search::SearchHitJson(h));
  out["results"] = std::move(results);
  SendJson(res, 200, out);
}

// Ledger totals (settled + reserved; released reservations cost nothing), by service, by
// operation (ingestion: embed, parse; search: query) and, for admin, by tenant. Reads the whole
// ledger: fine for now, a per-period aggregate comes with budgets.
void Costs(const RouteEnv& env, const Principal& p, const httplib::Request& /*req*/,
           httplib::Response& res) {
  auto ledger = env.deps.pipeline.store->ListLedger(std::nullopt);
  if (!ledger.ok()) return SendError(res, ledger.status());
  struct Total {
    int64_t nanos = 0, tokens = 0, pages = 0, requests = 0;
  };
  Total all;
  std::map<std::string, Total> by_service, by_tenant, by_operation;
  for (const auto& e : *ledger) {
    if (e.state == store::LedgerState::kReleased) continue;
    if (!p.admin && e.tenant != p.tenant) continue;
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
  if (p.admin) {
    out["by_tenant"] = nlohmann::json::object();
    for (const auto& [s, t] : by_tenant) out["by_tenant"][s] = json_of(t);
  }
  SendJson(res, 200, out);
}

}  // namespace

void InstallDocumentRoutes(httplib::Server& server, const RouteEnv& env) {
  server.Post("/v1/documents",
              GuardUpload(env, {Scope::kIngest},
                          [&env](const Principal& p, const httplib::Request& req,
                                 httplib::Response& res, const httplib::ContentReader& reader) {
                            Upload(env, p, req, res, reader);
                          }));
  server.Get("/v1/documents",
             Guard(env, {Scope::kRead},
                   [&env](const Principal& p, const httplib::Request& req, httplib::Response& res) {
                     ListDocuments(env, p, req, res);
                   }));
  server.Get(R"(/v1/documents/([^/]+))",
             Guard(env, {Scope::kRead},
                   [&env](const Principal& p, const httplib::Request& req, httplib::Response& res) {
                     ShowDocument(env, p, req, res);
                   }));
  server.Get(R"(/v1/documents/([^/]+)/chunks)",
             Guard(env, {Scope::kRead},
                   [&env](const Principal& p, const httplib::Request& req, httplib::Response& res) {
                     ListDocumentChunks(env, p, req, res);
                   }));
  server.Delete(R"(/v1/documents/([^/]+))",
                Guard(env, {Scope::kIngest, "document.delete"},
                      [&env](const Principal& p, const httplib::Request& req,
                             httplib::Response& res) { DeleteDocument(env, p, req, res); }));
  server.Post("/v1/search", Guard(env, {Scope::kRead},
                                  [&env](const Principal& p, const httplib::Request& req,
                                         httplib::Response& res) { Search(env, p, req, res); }));
  server.Get("/v1/costs", Guard(env, {Scope::kRead},
                                [&env](const Principal& p, const httplib::Request& req,
                                       httplib::Response& res) { Costs(env, p, req, res); }));
}

}  // namespace ingest::api
