// Documents, jobs and stage timings.
#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "ingest/store/postgres/documents_tx.h"
#include "ingest/store/postgres/postgres_store_impl.h"
#include "ingest/store/postgres/rows.h"

namespace ingest::store::postgres {
namespace {

Result<std::optional<Job>> FindJob(pqxx::work& w, std::string_view job_id) {
  static const std::string sql = Cat({"SELECT ", kJobColumns, " FROM jobs WHERE id = $1"});
  pqxx::result r = w.exec_params(sql, std::string(job_id));
  if (r.empty()) return std::optional<Job>();
  INGEST_ASSIGN_OR_RETURN(Job j, ReadJob(r[0]));
  return std::optional<Job>(std::move(j));
}

std::optional<Document> FindDocument(pqxx::work& w, std::string_view id) {
  return FindDocumentIn(w, id);
}

// A re-upload of a live document's bytes: new metadata replaces the stored one, and an
// external_id is adopted when the document had none (as the next version under it; when the
// document is already searchable, older versions under that external_id are superseded now,
// since no index stage will run for it again).
Status AdoptSubmittedFacts(pqxx::work& w, const Document& in, UnixMillis now, Document* doc) {
  const bool metadata = !in.metadata_json.empty() && in.metadata_json != doc->metadata_json;
  const bool external = doc->external_id.empty() && !in.external_id.empty();
  if (!metadata && !external) return Status::Ok();
  if (metadata) doc->metadata_json = in.metadata_json;
  if (external) {
    LockExternalId(w, doc->tenant, in.external_id);
    doc->version = NextVersionIn(w, doc->tenant, in.external_id);
    doc->external_id = in.external_id;
  }
  doc->updated_at = now;
  w.exec_params(
      "UPDATE documents SET metadata = $1, external_id = $2, version = $3, "
      "updated_at = $4 WHERE id = $5",
      doc->metadata_json, doc->external_id, doc->version, now, doc->id);
  if (external &&
      !w.exec_params("SELECT 1 FROM document_index WHERE document_id = $1", doc->id).empty()) {
    SupersedeOlderIn(w, *doc, now);
  }
  return Status::Ok();
}

Status LeaseLost(std::string_view job_id) {
  return FailedPrecondition(
      "job " + std::string(job_id) + " changed since it was read (lease lost)", "lease_lost");
}

// A nullable text parameter: libpqxx sends a null const char* as SQL NULL.
const char* OrNull(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

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

Result<JobView> ReadJobView(const pqxx::row& row) {
  JobView v;
  INGEST_ASSIGN_OR_RETURN(v.job, ReadJob(row));
  v.filename = Text(row[kJobColumnCount]);
  v.tenant = Text(row[kJobColumnCount + 1]);
  v.cost_nanos = Int(row[kJobColumnCount + 2]);
  return v;
}

// Sorted by (stage sequence, attempt) (Store::ListStageTimings). The pair is the table's key
// with job_id, so there is no tie left for an insertion order to break.
Result<std::vector<StageTiming>> QueryStageTimings(pqxx::work& w, std::string_view job_id) {
  pqxx::result r = w.exec_params(
      "SELECT stage, attempt, started_at, finished_at, outcome FROM stage_timings "
      "WHERE job_id = $1",
      std::string(job_id));
  std::vector<StageTiming> out;
  out.reserve(r.size());
  for (const pqxx::row& row : r) {
    auto stage = ParseStage(TextView(row[0]));
    if (!stage.ok()) return DataLoss(stage.status().message(), "bad_row");
    out.push_back({*stage, static_cast<int>(Int(row[1])), Int(row[2]), Int(row[3]), Text(row[4])});
  }
  std::stable_sort(out.begin(), out.end(), [](const StageTiming& a, const StageTiming& b) {
    return std::pair(static_cast<int>(a.stage), a.attempt) <
           std::pair(static_cast<int>(b.stage), b.attempt);
  });
  return out;
}

// Makes the surrounding transaction one snapshot: REPEATABLE READ takes it at the first query
// and every later statement sees the same one (READ COMMITTED would take one per statement).
// Must be the transaction's first statement.
void ReadOneSnapshot(pqxx::work& w) {
  w.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
}

}  // namespace

// INSERT ... ON CONFLICT DO NOTHING decides "new or known" atomically: of two processes
// submitting the same file at once, one inserts and the other (after waiting for the first to
// commit) inserts nothing and reads the winner's rows. A tombstone is revived under its row
// lock (FOR UPDATE), so two revivals of one document make one job.
Result<SubmitResult> PostgresStore::SubmitDocument(const Document& doc_in, const Job& job_in) {
  if (doc_in.id.empty() || job_in.id.empty() || doc_in.sha256.empty()) {
    return InvalidArgument("document id, sha256 and job id are required", "missing_id");
  }
  const UnixMillis now = Now();
  Document doc = doc_in;
  if (doc.created_at == 0) doc.created_at = now;
  if (doc.updated_at == 0) doc.updated_at = doc.created_at;
  if (doc.metadata_json.empty()) doc.metadata_json = "{}";
  doc.deleted_at = 0;
  doc.deleted_reason.clear();
  Job job = job_in;
  job.document_id = doc.id;
  if (job.created_at == 0) job.created_at = now;
  if (job.updated_at == 0) job.updated_at = job.created_at;

  return Transact("submit document", [&](pqxx::work& w) -> Result<SubmitResult> {
    if (!doc.external_id.empty()) LockExternalId(w, doc.tenant, doc.external_id);
    doc.version = NextVersionIn(w, doc.tenant, doc.external_id);
    static const std::string insert_doc =
        Cat({"INSERT INTO documents (", kDocumentColumns,
             ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) ON CONFLICT "
             "DO NOTHING RETURNING id"});
    pqxx::result inserted = w.exec_params(
        insert_doc, doc.id, doc.tenant, doc.filename, doc.mime, doc.bytes, doc.sha256, doc.blob_key,
        doc.page_count, doc.parser, doc.parse_note, doc.created_at, doc.updated_at, doc.external_id,
        doc.metadata_json, doc.version, doc.deleted_at, doc.deleted_reason);
    if (inserted.empty()) {
      static const std::string lock_doc =
          Cat({"SELECT ", kDocumentColumns, " FROM documents WHERE id = $1 FOR UPDATE"});
      pqxx::result locked = w.exec_params(lock_doc, doc.id);
      if (locked.empty()) {
        return AlreadyExists("tenant " + doc.tenant + " already has a document with sha256 " +
                                 doc.sha256 + " under another id",
                             "document_id_mismatch");
      }
      Document existing = ReadDocument(locked[0]);
      if (existing.deleted_at != 0) {
        // A tombstone revived by a new upload of the same bytes: same id (deterministic), new
        // facts; created_at is the first upload's.
        w.exec_params(
            "UPDATE documents SET deleted_at = 0, deleted_reason = '', filename = $1, mime = $2, "
            "blob_key = $3, external_id = $4, metadata = $5, version = $6, page_count = 0, "
            "parser = '', parse_note = '', updated_at = $7 WHERE id = $8",
            doc.filename, doc.mime, doc.blob_key, doc.external_id, doc.metadata_json, doc.version,
            now, doc.id);
        doc.created_at = existing.created_at;
        doc.updated_at = now;
      } else {
        INGEST_RETURN_IF_ERROR(AdoptSubmittedFacts(w, doc_in, now, &existing));
        // The job for a known document: its newest (a revived document has several).
        static const std::string newest_job = Cat({"SELECT ", kJobColumns,
                                                   " FROM jobs WHERE document_id = $1 "
                                                   "ORDER BY created_at DESC, id DESC LIMIT 1"});
        pqxx::result r = w.exec_params(newest_job, existing.id);
        if (r.empty()) {
          return Internal("document " + existing.id + " has no job", "orphan_document");
        }
        INGEST_ASSIGN_OR_RETURN(Job j, ReadJob(r[0]));
        return SubmitResult{std::move(existing), std::move(j), false};
      }
    }
    static const std::string insert_job =
        Cat({"INSERT INTO jobs (", kJobColumns,
             ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,"
             "$21)"});
    w.exec_params(insert_job, job.id, job.document_id, std::string(StageName(job.stage)),
                  std::string(JobStateName(job.state)), job.attempts, job.max_attempts,
                  job.lease_owner, job.lease_expires_at, job.next_attempt_at, job.defer_reason,
                  job.last_error_code, job.last_error_message, job.last_error_stage,
                  job.remote_job_id, std::string(LaneName(job.lane)), job.priority,
                  job.correlation_id, job.version, job.created_at, job.updated_at,
                  job.completed_at);
    return SubmitResult{doc, job, true};
  });
}

Result<Document> PostgresStore::GetDocument(std::string_view document_id) {
  return Transact("get document", [&](pqxx::work& w) -> Result<Document> {
    std::optional<Document> doc = FindDocument(w, document_id);
    if (!doc) return NotFound("document " + std::string(document_id) + " not found");
    return std::move(*doc);
  });
}

Status PostgresStore::UpdateDocumentParseInfo(std::string_view document_id, int page_count,
                                              std::string_view parser,
                                              std::string_view parse_note) {
  return Transact("update document", [&](pqxx::work& w) -> Status {
    pqxx::result r = w.exec_params(
        "UPDATE documents SET page_count = $1, parser = $2, parse_note = $3, updated_at = $4 "
        "WHERE id = $5",
        page_count, std::string(parser), std::string(parse_note), Now(), std::string(document_id));
    if (r.affected_rows() != 1) {
      return NotFound("document " + std::string(document_id) + " not found");
    }
    return Status::Ok();
  });
}

Result<Job> PostgresStore::GetJob(std::string_view job_id) {
  return Transact("get job", [&](pqxx::work& w) -> Result<Job> {
    INGEST_ASSIGN_OR_RETURN(std::optional<Job> job, FindJob(w, job_id));
    if (!job) return NotFound("job " + std::string(job_id) + " not found");
    return std::move(*job);
  });
}

Result<std::vector<JobView>> PostgresStore::ListJobs(const JobFilter& filter) {
  static const std::string sql = Cat({SelectJobViews(),
                                      "WHERE ($1::text IS NULL OR j.state = $1) "
                                      "AND ($2::text IS NULL OR j.document_id = $2) "
                                      "AND ($3::text IS NULL OR d.tenant = $3) "
                                      "ORDER BY j.created_at DESC, j.id LIMIT $4"});
  std::optional<std::string> state;
  if (filter.state) state = std::string(JobStateName(*filter.state));
  const int64_t limit = filter.limit > 0 ? filter.limit : std::numeric_limits<int64_t>::max();
  return Transact("list jobs", [&](pqxx::work& w) -> Result<std::vector<JobView>> {
    pqxx::result r =
        w.exec_params(sql, OrNull(state), OrNull(filter.document_id), OrNull(filter.tenant), limit);
    std::vector<JobView> out;
    out.reserve(r.size());
    for (const pqxx::row& row : r) {
      INGEST_ASSIGN_OR_RETURN(JobView v, ReadJobView(row));
      out.push_back(std::move(v));
    }
    return out;
  });
}

Result<std::vector<std::pair<JobState, int64_t>>> PostgresStore::CountJobsByState() {
  using Counts = std::vector<std::pair<JobState, int64_t>>;
  return Transact("count jobs", [&](pqxx::work& w) -> Result<Counts> {
    pqxx::result r = w.exec("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state");
    Counts out;
    for (const pqxx::row& row : r) {
      auto state = ParseJobState(TextView(row[0]));
      if (!state.ok()) return DataLoss(state.status().message(), "bad_row");
      out.emplace_back(*state, Int(row[1]));
    }
    return out;
  });
}

Result<std::vector<FinishedMinute>> PostgresStore::FinishedPerMinute(
    UnixMillis since, std::optional<std::string_view> tenant) {
  using Minutes = std::vector<FinishedMinute>;
  std::optional<std::string> tenant_key;
  if (tenant) tenant_key = std::string(*tenant);
  return Transact("finished per minute", [&](pqxx::work& w) -> Result<Minutes> {
    pqxx::result r = w.exec_params(
        "SELECT t / 60000 AS minute, COUNT(*) FILTER (WHERE state = 'complete'), "
        "COUNT(*) FILTER (WHERE state <> 'complete') FROM ("
        "SELECT j.state, CASE WHEN j.state = 'complete' THEN j.completed_at ELSE j.updated_at "
        "END AS t FROM jobs j JOIN documents d ON d.id = j.document_id "
        "WHERE j.state IN ('complete', 'failed', 'dead') "
        "AND ($2::text IS NULL OR d.tenant = $2::text)) f "
        "WHERE t >= $1 GROUP BY minute ORDER BY minute",
        since, OrNull(tenant_key));
    Minutes out;
    for (const pqxx::row& row : r) {
      out.push_back({.minute = Int(row[0]), .completed = Int(row[1]), .failed = Int(row[2])});
    }
    return out;
  });
}

Result<std::optional<UnixMillis>> PostgresStore::OldestQueuedAt(UnixMillis now) {
  return Transact("oldest queued", [&](pqxx::work& w) -> Result<std::optional<UnixMillis>> {
    pqxx::row r = w.exec_params1(
        "SELECT MIN(created_at) FROM jobs WHERE state = 'queued' AND next_attempt_at <= $1", now);
    if (r[0].is_null()) return std::optional<UnixMillis>();
    return std::optional<UnixMillis>(Int(r[0]));
  });
}

// The pick and the claim are one statement. Each CTE walks its partial index in urgency order
// and locks the first row with FOR UPDATE SKIP LOCKED, so concurrent workers (threads or
// processes) never wait on each other and never pick the same row: a row another transaction
// is claiming is skipped, and its claim is visible to everyone once committed. The lease is
// written by the UPDATE of the same statement, so no job is ever held by two owners.
Result<std::optional<Lease>> PostgresStore::LeaseNext(std::string_view owner, Duration ttl,
                                                      UnixMillis now) {
  if (owner.empty()) return InvalidArgument("lease owner must not be empty", "missing_owner");
  static const std::string sql = [] {
    const std::string pick_cols =
        "SELECT id, (lane <> 'interactive') AS bulk, priority, next_attempt_at, created_at "
        "FROM jobs ";
    const std::string order =
        "ORDER BY (lane <> 'interactive'), priority DESC, next_attempt_at, created_at, id "
        "LIMIT 1 FOR UPDATE SKIP LOCKED";
    std::string returning;
    std::string_view rest = kJobColumns;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view col = rest.substr(0, comma);
      while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
      if (!returning.empty()) returning += ", ";
      returning += "jobs.";
      returning += col;
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    return "WITH due AS (" + pick_cols +
           "WHERE state IN ('queued', 'deferred', 'waiting') AND next_attempt_at <= $3 " + order +
           "), expired AS (" + pick_cols + "WHERE state = 'running' AND lease_expires_at < $3 " +
           order +
           "), pick AS (SELECT id FROM (SELECT * FROM due UNION ALL SELECT * FROM expired) c "
           "ORDER BY bulk, priority DESC, next_attempt_at, created_at, id LIMIT 1) "
           "UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = $2, "
           "version = jobs.version + 1, updated_at = $3 FROM pick WHERE jobs.id = pick.id "
           "RETURNING " +
           returning;
  }();
  return Transact("lease next job", [&](pqxx::work& w) -> Result<std::optional<Lease>> {
    pqxx::result r = w.exec_params(sql, std::string(owner), now + ttl.count(), now);
    if (r.empty()) return std::optional<Lease>();
    INGEST_ASSIGN_OR_RETURN(Job job, ReadJob(r[0]));
    return std::optional<Lease>(Lease{std::move(job), std::string(owner)});
  });
}

Status PostgresStore::Heartbeat(Lease* lease, Duration ttl, UnixMillis now) {
  const UnixMillis expires = now + ttl.count();
  return Transact("heartbeat", [&](pqxx::work& w) -> Status {
    pqxx::result r = w.exec_params(
        "UPDATE jobs SET lease_expires_at = $1, version = version + 1, updated_at = $2 "
        "WHERE id = $3 AND version = $4 AND lease_owner = $5 AND state = 'running' "
        "RETURNING version, updated_at",
        expires, now, lease->job.id, lease->job.version, lease->owner);
    if (r.empty()) return LeaseLost(lease->job.id);
    lease->job.version = Int(r[0][0]);
    lease->job.updated_at = Int(r[0][1]);
    lease->job.lease_expires_at = expires;
    return Status::Ok();
  });
}

Result<Job> PostgresStore::UpdateJob(std::string_view job_id, int64_t expected_version,
                                     const JobUpdate& update, UnixMillis now) {
  static const std::string sql =
      Cat({"UPDATE jobs SET stage = $1, state = $2, attempts = $3, next_attempt_at = $4, "
           "defer_reason = $5, last_error_code = $6, last_error_message = $7, "
           "last_error_stage = $8, remote_job_id = COALESCE($9::text, remote_job_id), "
           "lease_owner = CASE WHEN $10::boolean THEN lease_owner ELSE '' END, "
           "lease_expires_at = CASE WHEN $10::boolean THEN lease_expires_at ELSE 0 END, "
           "completed_at = CASE WHEN $11::bigint > 0 THEN $11::bigint ELSE completed_at END, "
           "version = version + 1, updated_at = $12 "
           "WHERE id = $13 AND version = $14 RETURNING ",
           kJobColumns});
  return Transact("update job", [&](pqxx::work& w) -> Result<Job> {
    pqxx::result r = w.exec_params(
        sql, std::string(StageName(update.stage)), std::string(JobStateName(update.state)),
        update.attempts, update.next_attempt_at, update.defer_reason, update.last_error_code,
        update.last_error_message, update.last_error_stage, OrNull(update.remote_job_id),
        update.keep_lease, update.completed_at, now, std::string(job_id), expected_version);
    if (r.empty()) {
      pqxx::result exists = w.exec_params("SELECT 1 FROM jobs WHERE id = $1", std::string(job_id));
      if (exists.empty()) return NotFound("job " + std::string(job_id) + " not found");
      return LeaseLost(job_id);
    }
    return ReadJob(r[0]);
  });
}

Status PostgresStore::RecordStageTiming(std::string_view job_id, const StageTiming& t) {
  return Transact("record stage timing", [&](pqxx::work& w) -> Status {
    w.exec_params(
        "INSERT INTO stage_timings (job_id, stage, attempt, started_at, finished_at, outcome) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (job_id, stage, attempt) DO UPDATE SET "
        "started_at = excluded.started_at, finished_at = excluded.finished_at, "
        "outcome = excluded.outcome",
        std::string(job_id), std::string(StageName(t.stage)), t.attempt, t.started_at,
        t.finished_at, t.outcome);
    return Status::Ok();
  });
}

Result<std::vector<StageTiming>> PostgresStore::ListStageTimings(std::string_view job_id) {
  return Transact("list stage timings", [&](pqxx::work& w) -> Result<std::vector<StageTiming>> {
    return QueryStageTimings(w, job_id);
  });
}

Result<JobDetail> PostgresStore::GetJobDetail(std::string_view job_id, int max_events) {
  static const std::string sql = Cat({SelectJobViews(), "WHERE j.id = $1"});
  return Transact("get job detail", [&](pqxx::work& w) -> Result<JobDetail> {
    ReadOneSnapshot(w);
    pqxx::result r = w.exec_params(sql, std::string(job_id));
    if (r.empty()) return NotFound("job " + std::string(job_id) + " not found");
    JobDetail out;
    INGEST_ASSIGN_OR_RETURN(out.view, ReadJobView(r[0]));
    std::optional<Document> doc = FindDocument(w, out.view.job.document_id);
    if (!doc) return DataLoss("job " + std::string(job_id) + " has no document", "bad_row");
    out.document = std::move(*doc);
    INGEST_ASSIGN_OR_RETURN(out.timings, QueryStageTimings(w, job_id));
    INGEST_ASSIGN_OR_RETURN(out.events, QueryEvents(w, job_id, max_events));
    return out;
  });
}

Result<DocumentDetail> PostgresStore::GetDocumentDetail(std::string_view document_id) {
  static const std::string newest_job =
      Cat({SelectJobViews(), "WHERE j.document_id = $1 ORDER BY j.created_at DESC, j.id LIMIT 1"});
  return Transact("get document detail", [&](pqxx::work& w) -> Result<DocumentDetail> {
    ReadOneSnapshot(w);
    std::optional<Document> doc = FindDocument(w, document_id);
    if (!doc) return NotFound("document " + std::string(document_id) + " not found");
    DocumentDetail out;
    out.document = std::move(*doc);
    pqxx::result r = w.exec_params(newest_job, std::string(document_id));
    if (!r.empty()) {
      INGEST_ASSIGN_OR_RETURN(JobView v, ReadJobView(r[0]));
      out.job = std::move(v);
    }
    pqxx::row totals = w.exec_params1(
        "SELECT COUNT(*), COALESCE(SUM(token_count), 0) FROM chunks WHERE document_id = $1",
        std::string(document_id));
    out.chunks = Int(totals[0]);
    out.chunk_tokens = Int(totals[1]);
    return out;
  });
}

}  // namespace ingest::store::postgres
