// Documents, jobs and stage timings.
#include <algorithm>
#include <string>
#include <utility>

#include "ingest/store/sqlite/documents_tx.h"
#include "ingest/store/sqlite/rows.h"
#include "ingest/store/sqlite/sqlite_store_impl.h"

namespace ingest::store::sqlite {
namespace {

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out += p;
  return out;
}

const std::string& SelectJobById() {
  static const std::string sql = Cat({"SELECT ", kJobColumns, " FROM jobs WHERE id = ?"});
  return sql;
}

Result<std::optional<Job>> FindJob(Connection& conn, std::string_view job_id) {
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn.Prepare(SelectJobById()));
  q.Bind(1, job_id);
  INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Job>();
  INGEST_ASSIGN_OR_RETURN(Job j, ReadJob(q));
  return std::optional<Job>(std::move(j));
}

Result<std::optional<Document>> FindDocument(Connection& conn, std::string_view id) {
  return FindDocumentIn(conn, id);
}

// A re-upload of a live document's bytes: new metadata replaces the stored one, and an
// external_id is adopted when the document had none (as the next version under it; when the
// document is already searchable, older versions under that external_id are superseded now,
// since no index stage will run for it again).
Status AdoptSubmittedFacts(Connection& conn, const Document& in, UnixMillis now, Document* doc) {
  const bool metadata = !in.metadata_json.empty() && in.metadata_json != doc->metadata_json;
  const bool external = doc->external_id.empty() && !in.external_id.empty();
  if (!metadata && !external) return Status::Ok();
  if (metadata) doc->metadata_json = in.metadata_json;
  if (external) {
    INGEST_ASSIGN_OR_RETURN(doc->version, NextVersionIn(conn, doc->tenant, in.external_id));
    doc->external_id = in.external_id;
  }
  doc->updated_at = now;
  INGEST_ASSIGN_OR_RETURN(Stmt u, conn.Prepare("UPDATE documents SET metadata = ?, external_id = "
                                               "?, version = ?, updated_at = ? WHERE id = ?"));
  u.Bind(1, doc->metadata_json).Bind(2, doc->external_id).Bind(3, doc->version);
  u.Bind(4, now).Bind(5, doc->id);
  INGEST_RETURN_IF_ERROR(u.Exec());
  if (external) {
    INGEST_ASSIGN_OR_RETURN(Stmt q,
                            conn.Prepare("SELECT 1 FROM document_index WHERE document_id = ?"));
    q.Bind(1, doc->id);
    INGEST_ASSIGN_OR_RETURN(bool indexed, q.Step());
    if (indexed) INGEST_RETURN_IF_ERROR(SupersedeOlderIn(conn, *doc, now));
  }
  return Status::Ok();
}

Status LeaseLost(std::string_view job_id) {
  return FailedPrecondition(
      "job " + std::string(job_id) + " changed since it was read (lease lost)", "lease_lost");
}

// "SELECT <job columns>, filename, tenant, cost FROM jobs j JOIN documents d ...": a JobView
// per row (ReadJobView); callers append WHERE / ORDER BY.
const std::string& SelectJobViews() {
  static const std::string sql = [] {
    std::string cols;
    std::string_view rest = kJobColumns;
    // Qualify every job column with "j." (documents shares some names).
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view col = rest.substr(0, comma);
      while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
      if (!cols.empty()) cols += ", ";
      cols += "j.";
      cols += col;
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    return Cat({"SELECT ", cols,
                ", d.filename, d.tenant, "
                "COALESCE((SELECT SUM(l.cost_nanos) FROM ledger l WHERE l.job_id = j.id AND "
                "l.state IN ('reserved', 'settled')), 0) "
                "FROM jobs j JOIN documents d ON d.id = j.document_id "});
  }();
  return sql;
}

Result<JobView> ReadJobView(const Stmt& q) {
  JobView v;
  INGEST_ASSIGN_OR_RETURN(v.job, ReadJob(q));
  v.filename = q.Text(kJobColumnCount);
  v.tenant = q.Text(kJobColumnCount + 1);
  v.cost_nanos = q.Int(kJobColumnCount + 2);
  return v;
}

// Rows in insertion order, then sorted by (stage sequence, attempt); the stable sort keeps
// insertion order as the last tie-breaker (Store::ListStageTimings).
Result<std::vector<StageTiming>> QueryStageTimings(Connection& conn, std::string_view job_id) {
  INGEST_ASSIGN_OR_RETURN(
      Stmt q, conn.Prepare("SELECT stage, attempt, started_at, finished_at, outcome FROM "
                           "stage_timings WHERE job_id = ? ORDER BY rowid"));
  q.Bind(1, job_id);
  std::vector<StageTiming> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    auto stage = ParseStage(q.TextView(0));
    if (!stage.ok()) return DataLoss(stage.status().message(), "bad_row");
    out.push_back({*stage, static_cast<int>(q.Int(1)), q.Int(2), q.Int(3), q.Text(4)});
  }
  std::stable_sort(out.begin(), out.end(), [](const StageTiming& a, const StageTiming& b) {
    return std::pair(static_cast<int>(a.stage), a.attempt) <
           std::pair(static_cast<int>(b.stage), b.attempt);
  });
  return out;
}

}  // namespace

Result<SubmitResult> SqliteStore::SubmitDocument(const Document& doc_in, const Job& job_in) {
  if (doc_in.id.empty() || job_in.id.empty() || doc_in.sha256.empty()) {
    return InvalidArgument("document id, sha256 and job id are required", "missing_id");
  }
  const UnixMillis now = Now();
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(std::optional<Document> existing, FindDocument(*w.conn, doc_in.id));
  if (existing && existing->deleted_at == 0) {
    INGEST_RETURN_IF_ERROR(AdoptSubmittedFacts(*w.conn, doc_in, now, &*existing));
    // The job for a known document: its newest (a revived document has several).
    static const std::string sql = Cat({"SELECT ", kJobColumns,
                                        " FROM jobs WHERE document_id = ? "
                                        "ORDER BY created_at DESC, id DESC LIMIT 1"});
    INGEST_ASSIGN_OR_RETURN(Stmt q, w->Prepare(sql));
    q.Bind(1, existing->id);
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Internal("document " + existing->id + " has no job", "orphan_document");
    INGEST_ASSIGN_OR_RETURN(Job job, ReadJob(q));
    INGEST_RETURN_IF_ERROR(w.txn->Commit());
    return SubmitResult{std::move(*existing), std::move(job), false};
  }

  Document doc = doc_in;
  if (doc.created_at == 0) doc.created_at = now;
  if (doc.updated_at == 0) doc.updated_at = doc.created_at;
  if (doc.metadata_json.empty()) doc.metadata_json = "{}";
  doc.deleted_at = 0;
  doc.deleted_reason.clear();
  INGEST_ASSIGN_OR_RETURN(doc.version, NextVersionIn(*w.conn, doc.tenant, doc.external_id));
  Job job = job_in;
  job.document_id = doc.id;
  if (job.created_at == 0) job.created_at = now;
  if (job.updated_at == 0) job.updated_at = job.created_at;

  if (existing) {
    // A tombstone revived by a new upload of the same bytes: same id (deterministic), new
    // facts; created_at is the first upload's.
    INGEST_ASSIGN_OR_RETURN(
        Stmt u, w->Prepare("UPDATE documents SET deleted_at = 0, deleted_reason = '', "
                           "filename = ?, mime = ?, blob_key = ?, external_id = ?, metadata = ?, "
                           "version = ?, page_count = 0, parser = '', parse_note = '', "
                           "updated_at = ? WHERE id = ?"));
    u.Bind(1, doc.filename).Bind(2, doc.mime).Bind(3, doc.blob_key).Bind(4, doc.external_id);
    u.Bind(5, doc.metadata_json).Bind(6, doc.version).Bind(7, now).Bind(8, doc.id);
    INGEST_RETURN_IF_ERROR(u.Exec());
    doc.created_at = existing->created_at;
    doc.updated_at = now;
  } else {
    static const std::string insert_doc = Cat({"INSERT INTO documents (", kDocumentColumns,
                                               ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"});
    INGEST_ASSIGN_OR_RETURN(Stmt d, w->Prepare(insert_doc));
    d.Bind(1, doc.id).Bind(2, doc.tenant).Bind(3, doc.filename).Bind(4, doc.mime);
    d.Bind(5, doc.bytes).Bind(6, doc.sha256).Bind(7, doc.blob_key).Bind(8, doc.page_count);
    d.Bind(9, doc.parser).Bind(10, doc.parse_note).Bind(11, doc.created_at);
    d.Bind(12, doc.updated_at).Bind(13, doc.external_id).Bind(14, doc.metadata_json);
    d.Bind(15, doc.version).Bind(16, doc.deleted_at).Bind(17, doc.deleted_reason);
    INGEST_RETURN_IF_ERROR(d.Exec());
  }

  static const std::string insert_job = Cat(
      {"INSERT INTO jobs (", kJobColumns, ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"});
  INGEST_ASSIGN_OR_RETURN(Stmt j, w->Prepare(insert_job));
  j.Bind(1, job.id).Bind(2, job.document_id).Bind(3, StageName(job.stage));
  j.Bind(4, JobStateName(job.state)).Bind(5, job.attempts).Bind(6, job.max_attempts);
  j.Bind(7, job.lease_owner).Bind(8, job.lease_expires_at).Bind(9, job.next_attempt_at);
  j.Bind(10, job.defer_reason).Bind(11, job.last_error_code).Bind(12, job.last_error_message);
  j.Bind(13, job.last_error_stage).Bind(14, job.remote_job_id).Bind(15, LaneName(job.lane));
  j.Bind(16, job.priority).Bind(17, job.correlation_id).Bind(18, job.version);
  j.Bind(19, job.created_at).Bind(20, job.updated_at).Bind(21, job.completed_at);
  INGEST_RETURN_IF_ERROR(j.Exec());
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return SubmitResult{std::move(doc), std::move(job), true};
}

Result<Document> SqliteStore::GetDocument(std::string_view document_id) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(std::optional<Document> doc, FindDocument(*conn, document_id));
  if (!doc) return NotFound("document " + std::string(document_id) + " not found");
  return std::move(*doc);
}

Status SqliteStore::UpdateDocumentParseInfo(std::string_view document_id, int page_count,
                                            std::string_view parser, std::string_view parse_note) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare("UPDATE documents SET page_count = ?, parser = ?, "
                                             "parse_note = ?, updated_at = ? WHERE id = ?"));
  u.Bind(1, page_count).Bind(2, parser).Bind(3, parse_note).Bind(4, Now()).Bind(5, document_id);
  INGEST_RETURN_IF_ERROR(u.Exec());
  if (u.Changes() != 1) return NotFound("document " + std::string(document_id) + " not found");
  return w.txn->Commit();
}

Result<Job> SqliteStore::GetJob(std::string_view job_id) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(std::optional<Job> job, FindJob(*conn, job_id));
  if (!job) return NotFound("job " + std::string(job_id) + " not found");
  return std::move(*job);
}

Result<std::vector<JobView>> SqliteStore::ListJobs(const JobFilter& filter) {
  static const std::string sql =
      Cat({SelectJobViews(),
           "WHERE (?1 IS NULL OR j.state = ?1) AND (?2 IS NULL OR j.document_id = ?2) "
           "AND (?3 IS NULL OR d.tenant = ?3) "
           "ORDER BY j.created_at DESC, j.id LIMIT ?4"});
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare(sql));
  if (filter.state) {
    q.Bind(1, JobStateName(*filter.state));
  } else {
    q.BindNull(1);
  }
  q.BindOptional(2, filter.document_id).BindOptional(3, filter.tenant);
  q.Bind(4, static_cast<int64_t>(filter.limit > 0 ? filter.limit : -1));
  std::vector<JobView> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    INGEST_ASSIGN_OR_RETURN(JobView v, ReadJobView(q));
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<std::pair<JobState, int64_t>>> SqliteStore::CountJobsByState() {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(
      Stmt q, conn->Prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state"));
  std::vector<std::pair<JobState, int64_t>> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    auto state = ParseJobState(q.TextView(0));
    if (!state.ok()) return DataLoss(state.status().message(), "bad_row");
    out.emplace_back(*state, q.Int(1));
  }
  return out;
}

Result<std::vector<FinishedMinute>> SqliteStore::FinishedPerMinute(
    UnixMillis since, std::optional<std::string_view> tenant) {
  static const std::string sql =
      "SELECT t / 60000 AS minute, SUM(state = 'complete'), SUM(state <> 'complete') FROM ("
      "SELECT j.state, CASE WHEN j.state = 'complete' THEN j.completed_at ELSE j.updated_at END "
      "AS t FROM jobs j JOIN documents d ON d.id = j.document_id "
      "WHERE j.state IN ('complete', 'failed', 'dead') AND (?2 IS NULL OR d.tenant = ?2)) "
      "WHERE t >= ?1 GROUP BY minute ORDER BY minute";
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare(sql));
  q.Bind(1, since).BindOptional(2, tenant);
  std::vector<FinishedMinute> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({.minute = q.Int(0), .completed = q.Int(1), .failed = q.Int(2)});
  }
  return out;
}

Result<std::optional<UnixMillis>> SqliteStore::OldestQueuedAt(UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare("SELECT MIN(created_at) FROM jobs WHERE state = "
                                                "'queued' AND next_attempt_at <= ?"));
  q.Bind(1, now);
  INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.IsNull(0)) return std::optional<UnixMillis>();
  return std::optional<UnixMillis>(q.Int(0));
}

// The pick and the claim are one UPDATE ... RETURNING inside BEGIN IMMEDIATE: SQLite's write
// lock makes it atomic against every other connection and process, so a job is never leased
// twice. An expired running lease is taken over by the same statement.
Result<std::optional<Lease>> SqliteStore::LeaseNext(std::string_view owner, Duration ttl,
                                                    UnixMillis now) {
  if (owner.empty()) return InvalidArgument("lease owner must not be empty", "missing_owner");
  static const std::string sql =
      Cat({"UPDATE jobs SET state = 'running', lease_owner = ?1, lease_expires_at = ?2, "
           "version = version + 1, updated_at = ?3 "
           "WHERE id = (SELECT id FROM ("
           // Due jobs, through the partial index jobs_runnable (same expressions as the
           // index, so SQLite walks it in order and stops at the first due row).
           "SELECT * FROM (SELECT id, (lane <> 'interactive') AS bulk, priority, "
           "next_attempt_at, created_at FROM jobs "
           "WHERE state IN ('queued', 'deferred', 'waiting') AND next_attempt_at <= ?3 "
           "ORDER BY (lane <> 'interactive'), priority DESC, next_attempt_at, created_at, id "
           "LIMIT 1) "
           "UNION ALL "
           // Expired leases (few: at most one per worker), through jobs_lease_expiry.
           "SELECT * FROM (SELECT id, (lane <> 'interactive') AS bulk, priority, "
           "next_attempt_at, created_at FROM jobs "
           "WHERE state = 'running' AND lease_expires_at < ?3 "
           "ORDER BY (lane <> 'interactive'), priority DESC, next_attempt_at, created_at, id "
           "LIMIT 1)) "
           "ORDER BY bulk, priority DESC, next_attempt_at, created_at, id LIMIT 1) "
           "RETURNING ",
           kJobColumns});
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare(sql));
  u.Bind(1, owner).Bind(2, now + ttl.count()).Bind(3, now);
  INGEST_ASSIGN_OR_RETURN(bool row, u.Step());
  if (!row) {
    INGEST_RETURN_IF_ERROR(u.Exec());
    INGEST_RETURN_IF_ERROR(w.txn->Commit());
    return std::optional<Lease>();
  }
  INGEST_ASSIGN_OR_RETURN(Job job, ReadJob(u));
  INGEST_RETURN_IF_ERROR(u.Exec());  // finish the statement before COMMIT
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return std::optional<Lease>(Lease{std::move(job), std::string(owner)});
}

Status SqliteStore::Heartbeat(Lease* lease, Duration ttl, UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(
      Stmt u, w->Prepare("UPDATE jobs SET lease_expires_at = ?1, version = version + 1, "
                         "updated_at = ?2 WHERE id = ?3 AND version = ?4 AND lease_owner = ?5 "
                         "AND state = 'running' RETURNING version, updated_at"));
  u.Bind(1, now + ttl.count()).Bind(2, now).Bind(3, lease->job.id).Bind(4, lease->job.version);
  u.Bind(5, lease->owner);
  INGEST_ASSIGN_OR_RETURN(bool row, u.Step());
  if (!row) return LeaseLost(lease->job.id);
  const int64_t version = u.Int(0);
  const UnixMillis updated_at = u.Int(1);
  INGEST_RETURN_IF_ERROR(u.Exec());
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  lease->job.version = version;
  lease->job.updated_at = updated_at;
  lease->job.lease_expires_at = now + ttl.count();
  return Status::Ok();
}

Result<Job> SqliteStore::UpdateJob(std::string_view job_id, int64_t expected_version,
                                   const JobUpdate& update, UnixMillis now) {
  static const std::string sql =
      Cat({"UPDATE jobs SET stage = ?1, state = ?2, attempts = ?3, next_attempt_at = ?4, "
           "defer_reason = ?5, last_error_code = ?6, last_error_message = ?7, "
           "last_error_stage = ?8, remote_job_id = COALESCE(?9, remote_job_id), "
           "lease_owner = CASE WHEN ?10 THEN lease_owner ELSE '' END, "
           "lease_expires_at = CASE WHEN ?10 THEN lease_expires_at ELSE 0 END, "
           "completed_at = CASE WHEN ?11 > 0 THEN ?11 ELSE completed_at END, "
           "version = version + 1, updated_at = ?12 "
           "WHERE id = ?13 AND version = ?14 RETURNING ",
           kJobColumns});
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare(sql));
  u.Bind(1, StageName(update.stage)).Bind(2, JobStateName(update.state));
  u.Bind(3, update.attempts).Bind(4, update.next_attempt_at).Bind(5, update.defer_reason);
  u.Bind(6, update.last_error_code).Bind(7, update.last_error_message);
  u.Bind(8, update.last_error_stage).BindOptional(9, update.remote_job_id);
  u.Bind(10, update.keep_lease ? 1 : 0).Bind(11, update.completed_at).Bind(12, now);
  u.Bind(13, job_id).Bind(14, expected_version);
  INGEST_ASSIGN_OR_RETURN(bool row, u.Step());
  if (!row) {
    INGEST_RETURN_IF_ERROR(u.Exec());
    INGEST_ASSIGN_OR_RETURN(std::optional<Job> current, FindJob(*w.conn, job_id));
    if (!current) return NotFound("job " + std::string(job_id) + " not found");
    return LeaseLost(job_id);
  }
  INGEST_ASSIGN_OR_RETURN(Job job, ReadJob(u));
  INGEST_RETURN_IF_ERROR(u.Exec());
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return job;
}

Status SqliteStore::RecordStageTiming(std::string_view job_id, const StageTiming& t) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(
      Stmt u, w->Prepare("INSERT INTO stage_timings (job_id, stage, attempt, started_at, "
                         "finished_at, outcome) VALUES (?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT (job_id, stage, attempt) DO UPDATE SET "
                         "started_at = excluded.started_at, finished_at = excluded.finished_at, "
                         "outcome = excluded.outcome"));
  u.Bind(1, job_id).Bind(2, StageName(t.stage)).Bind(3, t.attempt).Bind(4, t.started_at);
  u.Bind(5, t.finished_at).Bind(6, t.outcome);
  INGEST_RETURN_IF_ERROR(u.Exec());
  return w.txn->Commit();
}

Result<std::vector<StageTiming>> SqliteStore::ListStageTimings(std::string_view job_id) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  return QueryStageTimings(*conn, job_id);
}

// One deferred read transaction: in WAL mode every statement in it reads the snapshot taken
// by the first, whatever other connections commit meanwhile.
Result<JobDetail> SqliteStore::GetJobDetail(std::string_view job_id, int max_events) {
  static const std::string sql = Cat({SelectJobViews(), "WHERE j.id = ?1"});
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(std::unique_ptr<Txn> txn, Txn::Begin(&*conn, Txn::Kind::kRead));
  JobDetail out;
  {
    INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare(sql));
    q.Bind(1, job_id);
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("job " + std::string(job_id) + " not found");
    INGEST_ASSIGN_OR_RETURN(out.view, ReadJobView(q));
  }
  INGEST_ASSIGN_OR_RETURN(std::optional<Document> doc,
                          FindDocument(*conn, out.view.job.document_id));
  if (!doc) return DataLoss("job " + std::string(job_id) + " has no document", "bad_row");
  out.document = std::move(*doc);
  INGEST_ASSIGN_OR_RETURN(out.timings, QueryStageTimings(*conn, job_id));
  INGEST_ASSIGN_OR_RETURN(out.events, QueryEvents(*conn, job_id, max_events));
  INGEST_RETURN_IF_ERROR(txn->Commit());
  return out;
}

Result<DocumentDetail> SqliteStore::GetDocumentDetail(std::string_view document_id) {
  static const std::string newest_job =
      Cat({SelectJobViews(), "WHERE j.document_id = ?1 ORDER BY j.created_at DESC, j.id LIMIT 1"});
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(std::unique_ptr<Txn> txn, Txn::Begin(&*conn, Txn::Kind::kRead));
  DocumentDetail out;
  INGEST_ASSIGN_OR_RETURN(std::optional<Document> doc, FindDocument(*conn, document_id));
  if (!doc) return NotFound("document " + std::string(document_id) + " not found");
  out.document = std::move(*doc);
  {
    INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare(newest_job));
    q.Bind(1, document_id);
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) {
      INGEST_ASSIGN_OR_RETURN(JobView v, ReadJobView(q));
      out.job = std::move(v);
    }
  }
  {
    INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare("SELECT COUNT(*), COALESCE(SUM(token_count), 0) "
                                                  "FROM chunks WHERE document_id = ?"));
    q.Bind(1, document_id);
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) {
      out.chunks = q.Int(0);
      out.chunk_tokens = q.Int(1);
    }
  }
  INGEST_RETURN_IF_ERROR(txn->Commit());
  return out;
}

}  // namespace ingest::store::sqlite
