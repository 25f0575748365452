// Ledger, events and worker heartbeats.
#include <limits>
#include <string>
#include <utility>

#include "ingest/store/postgres/postgres_store_impl.h"
#include "ingest/store/postgres/rows.h"

namespace ingest::store::postgres {
namespace {

const char* OrNull(std::optional<std::string_view> s, std::string* storage) {
  if (!s) return nullptr;
  *storage = std::string(*s);
  return storage->c_str();
}

}  // namespace

Status PostgresStore::AppendLedger(const LedgerEntry& e) {
  if (e.id.empty()) return InvalidArgument("ledger entry id must not be empty", "missing_id");
  const UnixMillis created = e.created_at != 0 ? e.created_at : Now();
  const UnixMillis updated = e.updated_at != 0 ? e.updated_at : created;
  static const std::string sql =
      Cat({"INSERT INTO ledger (", kLedgerColumns,
           ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)"});
  return Transact("append ledger", [&](pqxx::work& w) -> Status {
    w.exec_params(sql, e.id, e.service, e.operation, e.tenant, e.document_id, e.job_id, e.model,
                  e.tokens, e.pages, e.credits, e.requests, e.cost_nanos,
                  std::string(LedgerStateName(e.state)), e.provider_request_id, created, updated,
                  e.estimate_nanos, e.expires_at, e.note, e.sent_at);
    return Status::Ok();
  });
}

Result<std::vector<LedgerEntry>> PostgresStore::ListLedger(
    std::optional<std::string_view> document_id) {
  std::string doc;
  const char* doc_param = OrNull(document_id, &doc);
  static const std::string sql =
      Cat({"SELECT ", kLedgerColumns,
           " FROM ledger WHERE ($1::text IS NULL OR document_id = $1) ORDER BY created_at, id"});
  return Transact("list ledger", [&](pqxx::work& w) -> Result<std::vector<LedgerEntry>> {
    pqxx::result r = w.exec_params(sql, doc_param);
    std::vector<LedgerEntry> out;
    out.reserve(r.size());
    for (const pqxx::row& row : r) {
      INGEST_ASSIGN_OR_RETURN(LedgerEntry e, ReadLedger(row));
      out.push_back(std::move(e));
    }
    return out;
  });
}

Result<std::map<std::string, int64_t>> PostgresStore::SpendByOperation(
    std::optional<std::string_view> tenant) {
  std::string storage;
  const char* tenant_param = OrNull(tenant, &storage);
  return Transact("spend by operation",
                  [&](pqxx::work& w) -> Result<std::map<std::string, int64_t>> {
                    pqxx::result r = w.exec_params(
                        "SELECT operation, SUM(cost_nanos)::bigint FROM ledger WHERE state IN "
                        "('settled', 'reserved') AND ($1::text IS NULL OR tenant = $1) "
                        "GROUP BY operation",
                        tenant_param);
                    std::map<std::string, int64_t> out;
                    for (const pqxx::row& row : r) out[Text(row[0])] = Int(row[1]);
                    return out;
                  });
}

Status PostgresStore::AppendEvent(const Event& e) {
  const UnixMillis at = e.at != 0 ? e.at : Now();
  const std::string detail = e.detail_json.empty() ? "{}" : e.detail_json;
  return Transact("append event", [&](pqxx::work& w) -> Status {
    w.exec_params(
        "INSERT INTO events (at, kind, job_id, document_id, correlation_id, detail_json) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        at, e.kind, e.job_id, e.document_id, e.correlation_id, detail);
    return Status::Ok();
  });
}

Result<std::vector<Event>> QueryEvents(pqxx::work& w, std::optional<std::string_view> job_id,
                                       int limit) {
  std::string job;
  const char* job_param = OrNull(job_id, &job);
  const int64_t max_rows = limit > 0 ? limit : std::numeric_limits<int64_t>::max();
  pqxx::result r = w.exec_params(
      "SELECT id, at, kind, job_id, document_id, correlation_id, detail_json FROM events "
      "WHERE ($1::text IS NULL OR job_id = $1) ORDER BY id DESC LIMIT $2",
      job_param, max_rows);
  std::vector<Event> out;
  out.reserve(r.size());
  for (const pqxx::row& row : r) {
    out.push_back({Int(row[0]), Int(row[1]), Text(row[2]), Text(row[3]), Text(row[4]), Text(row[5]),
                   Text(row[6])});
  }
  return out;
}

Result<std::vector<Event>> PostgresStore::ListEvents(std::optional<std::string_view> job_id,
                                                     int limit) {
  return Transact("list events", [&](pqxx::work& w) -> Result<std::vector<Event>> {
    return QueryEvents(w, job_id, limit);
  });
}

Status PostgresStore::UpsertWorker(const WorkerInfo& wk) {
  if (wk.id.empty()) return InvalidArgument("worker id must not be empty", "missing_id");
  return Transact("upsert worker", [&](pqxx::work& w) -> Status {
    w.exec_params(
        "INSERT INTO workers (id, host, pid, version, started_at, last_seen, in_flight) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET "
        "host = excluded.host, pid = excluded.pid, version = excluded.version, "
        "started_at = excluded.started_at, last_seen = excluded.last_seen, "
        "in_flight = excluded.in_flight",
        wk.id, wk.host, wk.pid, wk.version, wk.started_at, wk.last_seen, wk.in_flight);
    return Status::Ok();
  });
}

Result<std::vector<WorkerInfo>> PostgresStore::ListWorkers() {
  return Transact("list workers", [&](pqxx::work& w) -> Result<std::vector<WorkerInfo>> {
    pqxx::result r = w.exec(
        "SELECT id, host, pid, version, started_at, last_seen, in_flight FROM workers "
        "ORDER BY id");
    std::vector<WorkerInfo> out;
    out.reserve(r.size());
    for (const pqxx::row& row : r) {
      out.push_back({Text(row[0]), Text(row[1]), Int(row[2]), Text(row[3]), Int(row[4]),
                     Int(row[5]), static_cast<int>(Int(row[6]))});
    }
    return out;
  });
}

}  // namespace ingest::store::postgres
