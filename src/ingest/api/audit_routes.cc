// GET /v1/audit: the append-only audit log (docs/security.md "Audit log"), admin scope only.
// Query: since (a duration such as 2h, or an ISO-8601 UTC date or time; default: everything),
// after (a seq: rows after it, for paging) and limit (1..1000, default 100). Oldest first;
// next_after is the last row's seq when more rows may follow, else null.
#include <limits>
#include <string>

#include "ingest/api/audit_json.h"
#include "ingest/api/route_env.h"
#include "ingest/common/time_text.h"
#include "ingest/store/store.h"

namespace ingest::api {
namespace {

constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 1000;

Result<int64_t> IntegerParam(const httplib::Request& req, const char* name, int64_t fallback,
                             int64_t lo, int64_t hi) {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  int64_t n = 0;
  size_t used = 0;
  try {
    n = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (v.empty() || used != v.size() || n < lo || n > hi) {
    return InvalidArgument(std::string(name) + " must be an integer in [" + std::to_string(lo) +
                               ", " + std::to_string(hi) + "]",
                           std::string("invalid_") + name);
  }
  return n;
}

void ListAudit(const RouteEnv& env, const httplib::Request& req, httplib::Response& res) {
  store::AuditFilter filter;
  if (req.has_param("since")) {
    auto since = ParseSince(req.get_param_value("since"), env.deps.pipeline.clock->NowMillis());
    if (!since.ok()) {
      return SendError(res, InvalidArgument(since.status().message(), "invalid_since"));
    }
    filter.since = *since;
  }
  auto after = IntegerParam(req, "after", 0, 0, std::numeric_limits<int64_t>::max());
  if (!after.ok()) return SendError(res, after.status());
  auto limit = IntegerParam(req, "limit", kDefaultLimit, 1, kMaxLimit);
  if (!limit.ok()) return SendError(res, limit.status());
  filter.after_seq = *after;
  filter.limit = static_cast<int>(*limit) + 1;  // one more: are there further rows?
  auto rows = env.deps.pipeline.store->ListAudit(filter);
  if (!rows.ok()) return SendError(res, rows.status());
  const bool more = rows->size() > static_cast<size_t>(*limit);
  if (more) rows->pop_back();
  nlohmann::json items = nlohmann::json::array();
  for (const store::AuditEntry& e : *rows) items.push_back(AuditEntryJson(e));
  SendJson(res, 200,
           {{"entries", items},
            {"next_after", more ? nlohmann::json(rows->back().seq) : nlohmann::json(nullptr)}});
}

}  // namespace

nlohmann::json AuditEntryJson(const store::AuditEntry& e) {
  nlohmann::json detail = nlohmann::json::parse(e.detail_json, nullptr, false);
  if (detail.is_discarded()) detail = e.detail_json;
  return {{"seq", e.seq},       {"at", FormatIso8601(e.at)}, {"actor", e.actor},
          {"action", e.action}, {"target", e.target},        {"detail", detail},
          {"source", e.source}, {"result", e.result}};
}

void InstallAuditRoutes(httplib::Server& server, const RouteEnv& env) {
  server.Get("/v1/audit", Guard(env, {Scope::kAdmin},
                                [&env](const Principal&, const httplib::Request& req,
                                       httplib::Response& res) { ListAudit(env, req, res); }));
}

}  // namespace ingest::api
