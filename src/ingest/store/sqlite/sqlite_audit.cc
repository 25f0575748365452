// Ledger, events and worker heartbeats.
#include <string>
#include <utility>

#include "ingest/store/sqlite/rows.h"
#include "ingest/store/sqlite/sqlite_store_impl.h"

namespace ingest::store::sqlite {

Status SqliteStore::AppendLedger(const LedgerEntry& e) {
  if (e.id.empty()) return InvalidArgument("ledger entry id must not be empty", "missing_id");
  static const std::string sql = std::string("INSERT INTO ledger (")
                                     .append(kLedgerColumns)
                                     .append(") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  LedgerEntry row = e;
  if (row.created_at == 0) row.created_at = Now();
  if (row.updated_at == 0) row.updated_at = row.created_at;
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare(sql));
  BindLedger(u, row);
  INGEST_RETURN_IF_ERROR(u.Exec());
  return w.txn->Commit();
}

Result<std::vector<LedgerEntry>> SqliteStore::ListLedger(
    std::optional<std::string_view> document_id) {
  static const std::string sql =
      std::string("SELECT ")
          .append(kLedgerColumns)
          .append(" FROM ledger WHERE (?1 IS NULL OR document_id = ?1) ORDER BY created_at, id");
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare(sql));
  if (document_id) {
    q.Bind(1, *document_id);
  } else {
    q.BindNull(1);
  }
  std::vector<LedgerEntry> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    INGEST_ASSIGN_OR_RETURN(LedgerEntry e, ReadLedger(q));
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::map<std::string, int64_t>> SqliteStore::SpendByOperation(
    std::optional<std::string_view> tenant) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(
      Stmt q, conn->Prepare("SELECT operation, SUM(cost_nanos) FROM ledger WHERE state IN "
                            "('settled', 'reserved') AND (?1 IS NULL OR tenant = ?1) "
                            "GROUP BY operation"));
  if (tenant) {
    q.Bind(1, *tenant);
  } else {
    q.BindNull(1);
  }
  std::map<std::string, int64_t> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out[q.Text(0)] = q.Int(1);
  }
  return out;
}

Status SqliteStore::AppendEvent(const Event& e) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(
      Stmt u, w->Prepare("INSERT INTO events (at, kind, job_id, document_id, correlation_id, "
                         "detail_json) VALUES (?, ?, ?, ?, ?, ?)"));
  u.Bind(1, e.at != 0 ? e.at : Now()).Bind(2, e.kind).Bind(3, e.job_id).Bind(4, e.document_id);
  u.Bind(5, e.correlation_id).Bind(6, e.detail_json.empty() ? "{}" : e.detail_json);
  INGEST_RETURN_IF_ERROR(u.Exec());
  return w.txn->Commit();
}

Result<std::vector<Event>> QueryEvents(Connection& conn, std::optional<std::string_view> job_id,
                                       int limit) {
  INGEST_ASSIGN_OR_RETURN(Stmt q,
                          conn.Prepare("SELECT id, at, kind, job_id, document_id, correlation_id, "
                                       "detail_json FROM events WHERE (?1 IS NULL OR job_id = ?1) "
                                       "ORDER BY id DESC LIMIT ?2"));
  if (job_id) {
    q.Bind(1, *job_id);
  } else {
    q.BindNull(1);
  }
  q.Bind(2, static_cast<int64_t>(limit > 0 ? limit : -1));
  std::vector<Event> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Int(0), q.Int(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5), q.Text(6)});
  }
  return out;
}

Result<std::vector<Event>> SqliteStore::ListEvents(std::optional<std::string_view> job_id,
                                                   int limit) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  return QueryEvents(*conn, job_id, limit);
}

Status SqliteStore::UpsertWorker(const WorkerInfo& wk) {
  if (wk.id.empty()) return InvalidArgument("worker id must not be empty", "missing_id");
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(
      Stmt u, w->Prepare("INSERT INTO workers (id, host, pid, version, started_at, last_seen, "
                         "in_flight) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
                         "SET host = excluded.host, pid = excluded.pid, "
                         "version = excluded.version, started_at = excluded.started_at, "
                         "last_seen = excluded.last_seen, in_flight = excluded.in_flight"));
  u.Bind(1, wk.id).Bind(2, wk.host).Bind(3, wk.pid).Bind(4, wk.version).Bind(5, wk.started_at);
  u.Bind(6, wk.last_seen).Bind(7, wk.in_flight);
  INGEST_RETURN_IF_ERROR(u.Exec());
  return w.txn->Commit();
}

Result<std::vector<WorkerInfo>> SqliteStore::ListWorkers() {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare("SELECT id, host, pid, version, started_at, "
                                                "last_seen, in_flight FROM workers ORDER BY id"));
  std::vector<WorkerInfo> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Text(0), q.Text(1), q.Int(2), q.Text(3), q.Int(4), q.Int(5),
                   static_cast<int>(q.Int(6))});
  }
  return out;
}

}  // namespace ingest::store::sqlite
