// SQLite schema. Times are INTEGER Unix milliseconds, money INTEGER nano-dollars (micro-dollars
// before migration 5), enums their stable lower-case names (types.cc), vectors float32
// little-endian BLOBs.
#include <array>

#include "ingest/store/migrations/migration.h"

namespace ingest::store::migrations {
namespace {

constexpr std::string_view kInitialUp = R"sql(
CREATE TABLE documents (
  id          TEXT PRIMARY KEY,
  tenant      TEXT NOT NULL,
  filename    TEXT NOT NULL DEFAULT '',
  mime        TEXT NOT NULL DEFAULT '',
  bytes       INTEGER NOT NULL DEFAULT 0,
  sha256      TEXT NOT NULL,
  blob_key    TEXT NOT NULL DEFAULT '',
  page_count  INTEGER NOT NULL DEFAULT 0,
  parser      TEXT NOT NULL DEFAULT '',
  parse_note  TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (tenant, sha256)
);

CREATE TABLE jobs (
  id                  TEXT PRIMARY KEY,
  document_id         TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  stage               TEXT NOT NULL,
  state               TEXT NOT NULL,
  attempts            INTEGER NOT NULL DEFAULT 0,
  max_attempts        INTEGER NOT NULL DEFAULT 5,
  lease_owner         TEXT NOT NULL DEFAULT '',
  lease_expires_at    INTEGER NOT NULL DEFAULT 0,
  next_attempt_at     INTEGER NOT NULL DEFAULT 0,
  defer_reason        TEXT NOT NULL DEFAULT '',
  last_error_code     TEXT NOT NULL DEFAULT '',
  last_error_message  TEXT NOT NULL DEFAULT '',
  last_error_stage    TEXT NOT NULL DEFAULT '',
  remote_job_id       TEXT NOT NULL DEFAULT '',
  lane                TEXT NOT NULL DEFAULT 'bulk',
  priority            INTEGER NOT NULL DEFAULT 0,
  correlation_id      TEXT NOT NULL DEFAULT '',
  version             INTEGER NOT NULL DEFAULT 0,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  completed_at        INTEGER NOT NULL DEFAULT 0
);
-- LeaseNext walks this partial index in urgency order and stops at the first due row, so its
-- cost does not grow with the number of finished jobs. The ORDER BY in LeaseNext must use the
-- same expressions for the index to apply.
CREATE INDEX jobs_runnable ON jobs ((lane <> 'interactive'), priority DESC, next_attempt_at,
                                    created_at, id)
  WHERE state IN ('queued', 'deferred', 'waiting');
-- Expired-lease takeover and the queue-age gauge. Partial, so the planner cannot prefer them
-- over jobs_runnable for LeaseNext's due-job scan.
CREATE INDEX jobs_lease_expiry ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_queued_created ON jobs (created_at) WHERE state = 'queued';
CREATE INDEX jobs_document ON jobs (document_id);

CREATE TABLE stage_timings (
  job_id       TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  stage        TEXT NOT NULL,
  attempt      INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER NOT NULL,
  outcome      TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, stage, attempt)
);

CREATE TABLE parses (
  file_sha256  TEXT NOT NULL,
  parser       TEXT NOT NULL,
  config_hash  TEXT NOT NULL,
  pages_json   TEXT NOT NULL,
  detail_json  TEXT NOT NULL DEFAULT '{}',
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (file_sha256, parser, config_hash)
);

CREATE TABLE chunks (
  id            TEXT PRIMARY KEY,
  document_id   TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ordinal       INTEGER NOT NULL,
  text          TEXT NOT NULL,
  text_sha256   TEXT NOT NULL,
  token_count   INTEGER NOT NULL DEFAULT 0,
  heading_path  TEXT NOT NULL DEFAULT '',
  page_start    INTEGER NOT NULL DEFAULT 1,
  page_end      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX chunks_document ON chunks (document_id, ordinal);
CREATE INDEX chunks_text ON chunks (text_sha256);

CREATE TABLE vectors (
  model        TEXT NOT NULL,
  dimensions   INTEGER NOT NULL,
  text_sha256  TEXT NOT NULL,
  provider     TEXT NOT NULL DEFAULT '',
  vector       BLOB NOT NULL,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (model, dimensions, text_sha256)
);

CREATE TABLE document_index (
  document_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  model        TEXT NOT NULL,
  dimensions   INTEGER NOT NULL,
  indexed_at   INTEGER NOT NULL,
  PRIMARY KEY (document_id, model, dimensions)
);
CREATE INDEX document_index_space ON document_index (model, dimensions);

CREATE TABLE ledger (
  id                   TEXT PRIMARY KEY,
  service              TEXT NOT NULL,
  operation            TEXT NOT NULL,
  tenant               TEXT NOT NULL DEFAULT '',
  document_id          TEXT NOT NULL DEFAULT '',
  job_id               TEXT NOT NULL DEFAULT '',
  model                TEXT NOT NULL DEFAULT '',
  tokens               INTEGER NOT NULL DEFAULT 0,
  pages                INTEGER NOT NULL DEFAULT 0,
  credits              INTEGER NOT NULL DEFAULT 0,
  requests             INTEGER NOT NULL DEFAULT 0,
  cost_micros          INTEGER NOT NULL DEFAULT 0,
  state                TEXT NOT NULL,
  provider_request_id  TEXT NOT NULL DEFAULT '',
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
);
CREATE INDEX ledger_document ON ledger (document_id);
CREATE INDEX ledger_tenant_time ON ledger (tenant, created_at);
CREATE INDEX ledger_service_time ON ledger (service, created_at);

CREATE TABLE budgets (
  scope         TEXT NOT NULL,              -- global | tenant | service
  scope_key     TEXT NOT NULL DEFAULT '',   -- tenant or service name; '' for global
  period        TEXT NOT NULL,              -- hour | day | month
  limit_micros  INTEGER NOT NULL,
  soft_ratio    REAL NOT NULL DEFAULT 0.8,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (scope, scope_key, period)
);

-- Shared token-bucket state per provider key, so N workers share one key's RPM/TPM.
CREATE TABLE limits (
  provider_key    TEXT NOT NULL,
  kind            TEXT NOT NULL,            -- requests | tokens
  capacity        REAL NOT NULL,
  available       REAL NOT NULL,
  refill_per_sec  REAL NOT NULL,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (provider_key, kind)
);

CREATE TABLE events (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  at              INTEGER NOT NULL,
  kind            TEXT NOT NULL,
  job_id          TEXT NOT NULL DEFAULT '',
  document_id     TEXT NOT NULL DEFAULT '',
  correlation_id  TEXT NOT NULL DEFAULT '',
  detail_json     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_job ON events (job_id, id);

CREATE TABLE workers (
  id          TEXT PRIMARY KEY,
  host        TEXT NOT NULL DEFAULT '',
  pid         INTEGER NOT NULL DEFAULT 0,
  version     TEXT NOT NULL DEFAULT '',
  started_at  INTEGER NOT NULL,
  last_seen   INTEGER NOT NULL,
  in_flight   INTEGER NOT NULL DEFAULT 0
);
)sql";

// Children before parents: foreign keys stay on during migrations.
constexpr std::string_view kInitialDown = R"sql(
DROP TABLE workers;
DROP TABLE events;
DROP TABLE limits;
DROP TABLE budgets;
DROP TABLE ledger;
DROP TABLE document_index;
DROP TABLE vectors;
DROP TABLE chunks;
DROP TABLE parses;
DROP TABLE stage_timings;
DROP TABLE jobs;
DROP TABLE documents;
)sql";

// Per-job cost for job listings (JobView::cost_micros) without scanning the ledger.
constexpr std::string_view kLedgerJobUp = R"sql(
CREATE INDEX ledger_job_state ON ledger (job_id, state);
)sql";
constexpr std::string_view kLedgerJobDown = R"sql(
DROP INDEX ledger_job_state;
)sql";

// Governor state (DESIGN §5): reservations carry their estimate, expiry and a note; shared rate
// buckets remember Retry-After; providers can be stopped. The indexes serve the two hot budget
// queries: expired reservations (partial, so settled history does not weigh on it) and period
// spend of the global scope (tenant and service scopes use ledger_tenant_time and
// ledger_service_time).
constexpr std::string_view kGovernorUp = R"sql(
ALTER TABLE ledger ADD COLUMN estimate_micros INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN note TEXT NOT NULL DEFAULT '';
CREATE INDEX ledger_reserved_expiry ON ledger (expires_at) WHERE state = 'reserved';
CREATE INDEX ledger_created ON ledger (created_at);

ALTER TABLE limits ADD COLUMN blocked_until INTEGER NOT NULL DEFAULT 0;

CREATE TABLE provider_state (
  provider    TEXT PRIMARY KEY,
  stopped     INTEGER NOT NULL DEFAULT 0,
  reason      TEXT NOT NULL DEFAULT '',
  message     TEXT NOT NULL DEFAULT '',
  since       INTEGER NOT NULL DEFAULT 0,
  probe_at    INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL
);
)sql";
// DROP COLUMN needs SQLite 3.35 (RETURNING, used throughout the store, needs it too) and
// refuses indexed columns, so the indexes go first.
constexpr std::string_view kGovernorDown = R"sql(
DROP TABLE provider_state;
ALTER TABLE limits DROP COLUMN blocked_until;
DROP INDEX ledger_created;
DROP INDEX ledger_reserved_expiry;
ALTER TABLE ledger DROP COLUMN note;
ALTER TABLE ledger DROP COLUMN expires_at;
ALTER TABLE ledger DROP COLUMN estimate_micros;
)sql";

// Embedding claims: a worker about to embed a text claims it for a while, so two workers never
// pay for the same text at the same moment (the vector cache only dedupes texts already stored).
constexpr std::string_view kEmbedClaimsUp = R"sql(
CREATE TABLE embed_claims (
  model        TEXT NOT NULL,
  dimensions   INTEGER NOT NULL,
  text_sha256  TEXT NOT NULL,
  owner        TEXT NOT NULL,
  expires_at   INTEGER NOT NULL,
  PRIMARY KEY (model, dimensions, text_sha256)
);
)sql";
constexpr std::string_view kEmbedClaimsDown = R"sql(
DROP TABLE embed_claims;
)sql";

// Money in integer nano-dollars (issue 12): micro-dollars could not price one token of any
// embedding model exactly (every row was rounded up), so the ledger drifted from the bill. Up
// multiplies every amount by 1000 (exact; a budget too large for int64 nanos is clamped to the
// largest one). Down divides by 1000: ledger amounts round up (the old schema's rule: never
// below the bill) and budget limits round down (a cap never rises); it is lossless for amounts
// that are whole micro-dollars, i.e. everything written before this step.
constexpr std::string_view kNanoDollarsUp = R"sql(
ALTER TABLE ledger RENAME COLUMN cost_micros TO cost_nanos;
ALTER TABLE ledger RENAME COLUMN estimate_micros TO estimate_nanos;
ALTER TABLE budgets RENAME COLUMN limit_micros TO limit_nanos;
UPDATE ledger SET cost_nanos = cost_nanos * 1000, estimate_nanos = estimate_nanos * 1000;
UPDATE budgets SET limit_nanos = CASE WHEN limit_nanos > 9223372036854775 THEN 9223372036854775807
                                      ELSE limit_nanos * 1000 END;
)sql";
constexpr std::string_view kNanoDollarsDown = R"sql(
UPDATE ledger SET cost_nanos = (cost_nanos + 999) / 1000, estimate_nanos = (estimate_nanos + 999) / 1000;
UPDATE budgets SET limit_nanos = limit_nanos / 1000;
ALTER TABLE budgets RENAME COLUMN limit_nanos TO limit_micros;
ALTER TABLE ledger RENAME COLUMN estimate_nanos TO estimate_micros;
ALTER TABLE ledger RENAME COLUMN cost_nanos TO cost_micros;
)sql";

// Budget stops (issue 12): a provider that billed more than was reserved stops the budgets the
// call counted against until an operator acknowledges it (`ingestd budget ack`).
constexpr std::string_view kBudgetStopsUp = R"sql(
ALTER TABLE budgets ADD COLUMN stopped_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE budgets ADD COLUMN overrun_nanos INTEGER NOT NULL DEFAULT 0;
ALTER TABLE budgets ADD COLUMN stop_reason TEXT NOT NULL DEFAULT '';
)sql";
constexpr std::string_view kBudgetStopsDown = R"sql(
ALTER TABLE budgets DROP COLUMN stop_reason;
ALTER TABLE budgets DROP COLUMN overrun_nanos;
ALTER TABLE budgets DROP COLUMN stopped_at;
)sql";

// Query vector cache: search queries embedded once per (space, text). Apart from `vectors`
// (chunk vectors back the index and are never evicted) so that it can be bounded: the least
// recently used rows go first (query_vectors_used).
constexpr std::string_view kQueryVectorsUp = R"sql(
CREATE TABLE query_vectors (
  model         TEXT NOT NULL,
  dimensions    INTEGER NOT NULL,
  text_sha256   TEXT NOT NULL,
  vector        BLOB NOT NULL,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER NOT NULL,
  PRIMARY KEY (model, dimensions, text_sha256)
);
CREATE INDEX query_vectors_used ON query_vectors (last_used_at);
)sql";
constexpr std::string_view kQueryVectorsDown = R"sql(
DROP TABLE query_vectors;
)sql";

// Documents as a living collection (issue 18, docs/documents.md): the caller's external_id and
// metadata, versions under one external_id, and tombstones for deleted or superseded
// documents (the row stays for the ledger; chunks, vectors and index entries go). The indexes
// serve version lookups per external_id, the newest-first document listing and the
// removal of vectors no chunk holds any more (by text hash, whatever the space) and of
// parses and blobs no live document holds.
constexpr std::string_view kDocumentLifecycleUp = R"sql(
ALTER TABLE documents ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE documents ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE documents ADD COLUMN deleted_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN deleted_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX documents_external ON documents (tenant, external_id, version) WHERE external_id <> '';
CREATE INDEX documents_listing ON documents (tenant, created_at, id) WHERE deleted_at = 0;
CREATE INDEX vectors_text ON vectors (text_sha256);
CREATE INDEX documents_sha256 ON documents (sha256);
CREATE INDEX documents_blob ON documents (blob_key);
)sql";
constexpr std::string_view kDocumentLifecycleDown = R"sql(
DROP INDEX documents_blob;
DROP INDEX documents_sha256;
DROP INDEX vectors_text;
DROP INDEX documents_listing;
DROP INDEX documents_external;
ALTER TABLE documents DROP COLUMN deleted_reason;
ALTER TABLE documents DROP COLUMN deleted_at;
ALTER TABLE documents DROP COLUMN version;
ALTER TABLE documents DROP COLUMN metadata;
ALTER TABLE documents DROP COLUMN external_id;
)sql";

// Access control (issue 20, docs/security.md): API keys, stored as a lookup prefix and the
// sha256 of the secret (never the secret), and the append-only audit log of every state
// change made through the API or the CLI. A trigger refuses UPDATE and DELETE on audit_log.
constexpr std::string_view kAccessControlUp = R"sql(
CREATE TABLE api_keys (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL DEFAULT '',
  tenant         TEXT NOT NULL,
  scopes         TEXT NOT NULL,
  prefix         TEXT NOT NULL,
  secret_sha256  TEXT NOT NULL,
  rate_limit     TEXT NOT NULL DEFAULT '',
  created_by     TEXT NOT NULL DEFAULT '',
  rotated_from   TEXT NOT NULL DEFAULT '',
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL DEFAULT 0,
  revoked_at     INTEGER NOT NULL DEFAULT 0,
  grace_until    INTEGER NOT NULL DEFAULT 0,
  last_used_at   INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX api_keys_prefix ON api_keys (prefix);
CREATE TABLE audit_log (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  at           INTEGER NOT NULL,
  actor        TEXT NOT NULL,
  action       TEXT NOT NULL,
  target       TEXT NOT NULL DEFAULT '',
  detail_json  TEXT NOT NULL DEFAULT '{}',
  source       TEXT NOT NULL DEFAULT '',
  result       TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
)sql";
constexpr std::string_view kAccessControlDown = R"sql(
DROP TABLE audit_log;
DROP TABLE api_keys;
)sql";

// Full-text search (issue 18, docs/search.md): a contentless FTS5 index of chunk text, kept in
// step with `chunks` by triggers (inserts, deletes, text updates, document deletions through
// the cascade), backfilled here. Contentless: the text is stored once, in `chunks`. FTS5 needs
// integer row ids and `chunks` is keyed by a text id whose implicit rowid VACUUM may renumber,
// so chunk_fts_rows gives each chunk a stable one. A contentless row is removed with FTS5's
// 'delete' command, which must be given the text it indexed: the old row's, in the triggers.
constexpr std::string_view kFullTextUp = R"sql(
CREATE TABLE chunk_fts_rows (
  fts_rowid  INTEGER PRIMARY KEY,
  chunk_id   TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE chunks_fts USING fts5(
  text, content = '', tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
  INSERT INTO chunk_fts_rows (chunk_id) VALUES (new.id);
  INSERT INTO chunks_fts (rowid, text)
    SELECT fts_rowid, new.text FROM chunk_fts_rows WHERE chunk_id = new.id;
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts (chunks_fts, rowid, text)
    SELECT 'delete', fts_rowid, old.text FROM chunk_fts_rows WHERE chunk_id = old.id;
  DELETE FROM chunk_fts_rows WHERE chunk_id = old.id;
END;
CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text ON chunks
  WHEN old.text IS NOT new.text BEGIN
  INSERT INTO chunks_fts (chunks_fts, rowid, text)
    SELECT 'delete', fts_rowid, old.text FROM chunk_fts_rows WHERE chunk_id = old.id;
  INSERT INTO chunks_fts (rowid, text)
    SELECT fts_rowid, new.text FROM chunk_fts_rows WHERE chunk_id = new.id;
END;
INSERT INTO chunk_fts_rows (chunk_id) SELECT id FROM chunks ORDER BY id;
INSERT INTO chunks_fts (rowid, text)
  SELECT r.fts_rowid, c.text FROM chunk_fts_rows r JOIN chunks c ON c.id = r.chunk_id;
)sql";
constexpr std::string_view kFullTextDown = R"sql(
DROP TRIGGER chunks_fts_update;
DROP TRIGGER chunks_fts_delete;
DROP TRIGGER chunks_fts_insert;
DROP TABLE chunks_fts;
DROP TABLE chunk_fts_rows;
)sql";
// When a reserved call's request left (issue 12): an orphaned reservation that was never sent
// is released (the provider never saw it) instead of settled at its estimate. Expand-only: the
// default -1 means "not recorded" (rows of older binaries, which do not mark sends, also during
// a rolling upgrade), treated as sent, as before.
constexpr std::string_view kLedgerSentUp = R"sql(
ALTER TABLE ledger ADD COLUMN sent_at INTEGER NOT NULL DEFAULT -1;
)sql";
constexpr std::string_view kLedgerSentDown = R"sql(
ALTER TABLE ledger DROP COLUMN sent_at;
)sql";

// Blobs in the database (issue 15, docs/operations/blobs.md). The same tables as on PostgreSQL,
// so both schemas stay alike and the down step's loss count runs on either; the SQLite
// deployment keeps its blobs in the folder store and leaves these tables empty.
constexpr std::string_view kBlobChunksUp = R"sql(
CREATE TABLE blob_chunks (
  key    TEXT NOT NULL,
  seq    INTEGER NOT NULL,
  bytes  BLOB NOT NULL,
  PRIMARY KEY (key, seq)
);
CREATE TABLE blobs (
  key          TEXT PRIMARY KEY,
  size         INTEGER NOT NULL,
  chunk_bytes  INTEGER NOT NULL,
  created_at   INTEGER NOT NULL
);
)sql";
constexpr std::string_view kBlobChunksDown = R"sql(
DROP TABLE blobs;
DROP TABLE blob_chunks;
)sql";

constexpr std::array<MigrationStep, 12> kSteps = {{
    {1, "initial_schema", kInitialUp, kInitialDown},
    {2, "ledger_job_index", kLedgerJobUp, kLedgerJobDown},
    {3, "governor_state", kGovernorUp, kGovernorDown},
    {4, "embed_claims", kEmbedClaimsUp, kEmbedClaimsDown},
    {5, "nano_dollars", kNanoDollarsUp, kNanoDollarsDown},
    {6, "budget_stops", kBudgetStopsUp, kBudgetStopsDown},
    {7, "query_vectors", kQueryVectorsUp, kQueryVectorsDown},
    {8, "document_lifecycle", kDocumentLifecycleUp, kDocumentLifecycleDown},
    {9, "access_control", kAccessControlUp, kAccessControlDown},
    {10, "fts", kFullTextUp, kFullTextDown},
    {11, "blob_chunks", kBlobChunksUp, kBlobChunksDown},
    {12, "ledger_sent", kLedgerSentUp, kLedgerSentDown},
}};

}  // namespace

std::span<const MigrationStep> SqliteMigrations() { return kSteps; }

}  // namespace ingest::store::migrations
