// Store: jobs, documents, parses, chunks, vectors, ledger, events, workers, API keys and the
// audit log (DESIGN §3).
//
// Thread-safe: one Store is shared by every worker thread of a process. Implementations:
// sqlite/ (embedded default) and postgres/ (scale-out); both must pass
// tests/conformance/store_conformance_test.cc unchanged.
//
// Concurrency contract: every Job row carries a `version` bumped by each write. Writes that
// change a job (UpdateJob, Heartbeat) are compare-and-set on (id, version): a caller whose
// version is stale gets kFailedPrecondition and must re-read. LeaseNext sets owner, expiry and
// state in the same atomic statement that picks the job, so two workers never hold one job.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/store/types.h"

namespace ingest::store {

// One vector space the index holds documents in (ListIndexedSpaces).
struct IndexedSpace {
  VectorSpace space;
  int64_t documents = 0;  // documents indexed in it
};

struct SubmitResult {
  Document document;
  Job job;
  bool created = false;  // false when the document (tenant, sha256) was already known
};

// One job as a single consistent read (GetJobDetail): every field comes from the same snapshot
// of the database, so an answer built from it never shows, say, a failed state without its
// error, or a complete job without its last stage timing.
struct JobDetail {
  JobView view;
  Document document;                 // the job's document
  std::vector<StageTiming> timings;  // ListStageTimings order
  std::vector<Event> events;         // ListEvents order (most recent first)
};

// One document as a single consistent read (GetDocumentDetail).
struct DocumentDetail {
  Document document;
  std::optional<JobView> job;  // its newest job (ListJobs order); nullopt when none
  int64_t chunks = 0;
  int64_t chunk_tokens = 0;  // sum of the chunks' token counts
};

class Store {
 public:
  virtual ~Store() = default;

  // --- schema -------------------------------------------------------------------------------
  // All migrations this build knows, ascending.
  virtual std::vector<Migration> KnownMigrations() const = 0;
  // Highest applied migration (0 for an empty database).
  virtual Result<int> SchemaVersion() = 0;
  // Applies up-steps or down-steps until the schema is at `version`, each step in its own
  // transaction. `version` must be between 0 and the latest known migration. A down step that
  // would destroy stored data (migrations/step_traits.h counts it, inside the step's
  // transaction) is refused with kFailedPrecondition, reason "data_loss_refused", naming the
  // step and what it would drop, unless `allow_data_loss`; the steps above it stay rolled back.
  Status MigrateTo(int version, bool allow_data_loss = false) {
    return ApplyMigrations(version, allow_data_loss);
  }
  virtual Status ApplyMigrations(int version, bool allow_data_loss) = 0;
  // True when every applied step above `known_latest` was recorded as expand-only by the
  // binary that applied it (migrations/step_traits.h), so a binary knowing only up to
  // `known_latest` works on this schema. False when one is not, or nothing was recorded.
  virtual Result<bool> NewerStepsAreExpandOnly(int known_latest) = 0;
  // Ok when the schema is at the latest version this build knows, or newer by expand-only steps
  // only (the previous release during a rolling upgrade); kFailedPrecondition otherwise
  // (schema_outdated: run migrate up; schema_too_new: upgrade ingestd).
  Status CheckSchemaCurrent();

  // --- documents and jobs -------------------------------------------------------------------
  // Receive stage: inserts the document and its job in one transaction. The document's
  // version is 1 + the highest version of the tenant's documents with the same non-empty
  // external_id (1 without one); metadata_json "" is stored as "{}".
  // When the document id already exists and is live, no job is written and the existing rows
  // are returned (created = false; the job is the document's newest); the existing row only
  // takes doc's metadata when doc.metadata_json is not "" and doc's external_id when it had
  // none. When it exists as a tombstone (deleted or superseded), it is revived: deleted_at
  // cleared, filename, blob key, external_id, metadata and version taken from `doc`, and `job`
  // inserted (created = true); job.id must then be new (kAlreadyExists otherwise).
  virtual Result<SubmitResult> SubmitDocument(const Document& doc, const Job& job) = 0;
  // Tombstones included (deleted_at != 0).
  virtual Result<Document> GetDocument(std::string_view document_id) = 0;
  // Live documents only; see DocumentFilter.
  virtual Result<std::vector<DocumentListing>> ListDocuments(const DocumentFilter& filter) = 0;
  // Deletes a live document in one transaction, so search never returns it once this returns:
  // its index entries and chunks go, every vector whose text no remaining chunk holds goes,
  // the cached parse of its bytes goes unless a live document has the same sha256, and the row
  // becomes a tombstone (deleted_at = now, deleted_reason = `reason`, metadata "{}"). Jobs,
  // ledger rows and events stay (jobs are the state machine's: pipeline/delete_document.h
  // cancels them first; a stage that still runs finds the tombstone: ReplaceChunks and
  // MarkIndexed refuse it). The blob is not touched: see ListOrphanBlobs. kNotFound for an
  // unknown or already deleted document.
  virtual Result<DeletedDocument> DeleteDocument(std::string_view document_id,
                                                 std::string_view reason, UnixMillis now) = 0;
  // For a stage that finished writing after its document was deleted: removes the cached parse
  // of `file_sha256` unless a live document has those bytes, and the vectors (every space) of
  // `text_sha256s` that no chunk holds. Returns how many rows went.
  virtual Result<int64_t> PurgeUnheldContent(std::string_view file_sha256,
                                             std::span<const std::string> text_sha256s) = 0;
  // Blob keys held only by tombstones (no live document has them), at most `limit`.
  virtual Result<std::vector<std::string>> ListOrphanBlobs(int limit) = 0;
  // The blob `key` was removed from the blob store: tombstones forget it (blob_key = ""),
  // unless a live document took it meanwhile (then nothing changes and false is returned).
  virtual Result<bool> ForgetBlob(std::string_view key) = 0;
  // Cache rows nothing live holds (`ingestd gc`): parses of bytes no live document has, and
  // vectors (every space) of texts no chunk has. Counts and payload bytes.
  virtual Result<UnheldContent> CountUnheldContent() = 0;
  // Deletes up to `limit` rows of each kind counted by CountUnheldContent, each row checked
  // again under the same locks as PurgeUnheldContent; returns what went.
  virtual Result<UnheldContent> DeleteUnheldContent(int limit) = 0;
  virtual Status UpdateDocumentParseInfo(std::string_view document_id, int page_count,
                                         std::string_view parser, std::string_view parse_note) = 0;
  virtual Result<Job> GetJob(std::string_view job_id) = 0;
  // Newest first (created_at descending), at most filter.limit rows (<= 0: no limit).
  virtual Result<std::vector<JobView>> ListJobs(const JobFilter& filter) = 0;
  // Number of jobs in each state (states with no job are absent).
  virtual Result<std::vector<std::pair<JobState, int64_t>>> CountJobsByState() = 0;
  // Created time of the oldest job that is queued and due, or nullopt when there is none.
  virtual Result<std::optional<UnixMillis>> OldestQueuedAt(UnixMillis now) = 0;
  // Jobs that finished at or after `since`, counted per minute (minute = time / 60000; a
  // complete job at its completed_at, a failed or dead one at its updated_at), ascending by
  // minute, minutes without a finished job absent. `tenant` restricts to its documents. Read
  // by the dashboard's throughput (GET /v1/stats), so it covers every worker process.
  virtual Result<std::vector<FinishedMinute>> FinishedPerMinute(
      UnixMillis since, std::optional<std::string_view> tenant) = 0;

  // Picks the most urgent runnable job and leases it to `owner` until now + ttl. Runnable:
  // state queued/deferred/waiting with next_attempt_at <= now, or running with an expired lease
  // (taken over). Urgency: interactive lane first, then priority, then next_attempt_at, then
  // created_at. Leaves attempts and stage unchanged (the state machine owns them). Returns
  // nullopt when nothing is runnable.
  virtual Result<std::optional<Lease>> LeaseNext(std::string_view owner, Duration ttl,
                                                 UnixMillis now) = 0;
  // Extends the lease. kFailedPrecondition when the lease was lost (row changed by someone
  // else; reason "lease_lost"); the caller must stop working on the job. On success
  // lease->job.version and lease_expires_at are updated.
  virtual Status Heartbeat(Lease* lease, Duration ttl, UnixMillis now) = 0;
  // Compare-and-set on (job id, expected_version). kFailedPrecondition (reason "lease_lost")
  // when the row changed, kNotFound when there is no such job. Clears the lease unless
  // update.keep_lease; completed_at is written only when update.completed_at > 0. Returns the
  // row as written.
  virtual Result<Job> UpdateJob(std::string_view job_id, int64_t expected_version,
                                const JobUpdate& update, UnixMillis now) = 0;
  // Upsert on (job, stage, attempt).
  virtual Status RecordStageTiming(std::string_view job_id, const StageTiming& timing) = 0;
  // The job's history in a defined order: stage sequence (kAllStages order, not name order),
  // then attempt, then insertion order as the last tie-breaker. Never by time: attempts that
  // start in the same millisecond would otherwise come back in any order.
  virtual Result<std::vector<StageTiming>> ListStageTimings(std::string_view job_id) = 0;
  // The job (as ListJobs shows it), its document, its stage timings and its newest
  // `max_events` events (<= 0: all), read in one read transaction (one snapshot). kNotFound for an
  // unknown job.
  virtual Result<JobDetail> GetJobDetail(std::string_view job_id, int max_events) = 0;
  // The document, its newest job and its chunk totals, read in one snapshot. kNotFound for an
  // unknown document.
  virtual Result<DocumentDetail> GetDocumentDetail(std::string_view document_id) = 0;

  // --- parse cache --------------------------------------------------------------------------
  virtual Result<std::optional<ParseRecord>> GetParse(std::string_view file_sha256,
                                                      std::string_view parser,
                                                      std::string_view config_hash) = 0;
  // Upsert on (file_sha256, parser, config_hash).
  virtual Status PutParse(const ParseRecord& record) = 0;

  // --- chunks and vectors -------------------------------------------------------------------
  // Makes `chunks` the document's chunk set in one transaction: upserts by id and deletes the
  // document's chunks whose id is not in the set. kFailedPrecondition "document_deleted" for a
  // tombstone (a job that raced a delete writes nothing).
  virtual Status ReplaceChunks(std::string_view document_id, std::span<const Chunk> chunks) = 0;
  // In ordinal order.
  virtual Result<std::vector<Chunk>> ListChunks(std::string_view document_id) = 0;
  // Of `text_sha256s`, the ones with no vector in `space`.
  virtual Result<std::vector<std::string>> MissingVectors(
      const VectorSpace& space, std::span<const std::string> text_sha256s) = 0;
  // Inserts vectors; existing (space, text_sha256) rows are kept (first write wins). Every
  // value vector must have space.dimensions entries (kInvalidArgument otherwise).
  virtual Status PutVectors(const VectorSpace& space, std::span<const StoredVector> vectors) = 0;
  // Embedding claims: of `text_sha256s`, claims for `owner` until now + ttl every text nobody
  // else holds (no claim, an expired one, or one `owner` already holds) and returns those, in
  // input order without duplicates. One transaction; two owners never both get a text while
  // their claims are live. The embed stage claims before paying for a text, so two workers
  // never embed the same text at the same moment.
  virtual Result<std::vector<std::string>> ClaimTexts(const VectorSpace& space,
                                                      std::span<const std::string> text_sha256s,
                                                      std::string_view owner, Duration ttl,
                                                      UnixMillis now) = 0;
  virtual Result<std::optional<StoredVector>> GetVector(const VectorSpace& space,
                                                        std::string_view text_sha256) = 0;
  // Query vector cache: search queries embedded once per (space, text), kept apart from the
  // chunk vectors (which back the index and are never evicted) so it can be bounded.
  // GetQueryVector returns the cached vector and marks it used at `now`; nullopt on a miss.
  virtual Result<std::optional<std::vector<float>>> GetQueryVector(const VectorSpace& space,
                                                                   std::string_view text_sha256,
                                                                   UnixMillis now) = 0;
  // Inserts (first write wins; an existing row is only marked used at `now`), then evicts the
  // least recently used rows beyond `max_entries` (over all spaces; ties by key). kInvalidArgument
  // when the vector does not have space.dimensions entries or max_entries < 1.
  virtual Status PutQueryVector(const VectorSpace& space, std::string_view text_sha256,
                                std::span<const float> vector, int64_t max_entries,
                                UnixMillis now) = 0;
  // Index stage: the document becomes searchable in `space` (its chunks must all have vectors
  // there: kFailedPrecondition otherwise; "document_deleted" for a tombstone). Version swap, in
  // the same transaction: when the document has an external_id, every live document of the
  // tenant with that external_id and a lower version is deleted as by DeleteDocument (reason
  // "superseded"), so a search sees the old version or the new one, never both nor neither.
  // When a higher version is already indexed, this document is superseded instead (never
  // indexed). Serialised per (tenant, external_id) across processes.
  virtual Status MarkIndexed(std::string_view document_id, const VectorSpace& space,
                             UnixMillis now) = 0;
  // Streams every chunk of every document indexed in `space` that matches `filter`, with its
  // vector, from one snapshot. The pointers in IndexedChunk are valid only during the callback.
  virtual Status ScanIndex(const VectorSpace& space, const IndexFilter& filter,
                           const std::function<void(const IndexedChunk&)>& fn) = 0;
  // ScanIndex restricted to one tenant's documents only (every tenant when nullopt).
  Status ScanIndex(const VectorSpace& space, std::optional<std::string_view> tenant,
                   const std::function<void(const IndexedChunk&)>& fn);
  // The spaces documents are indexed in (only `tenant`'s documents when given), most documents
  // first (ties by model, then dimensions). Empty when nothing is searchable yet.
  virtual Result<std::vector<IndexedSpace>> ListIndexedSpaces(
      std::optional<std::string_view> tenant) = 0;

  // Full-text search over the chunks of live documents indexed in `space` (in any space when
  // nullopt) that `filter` admits: best `limit` chunks first (score descending, then chunk id).
  // A chunk matches when it holds any of `terms` (OR) after the backend's normalisation:
  // SQLite FTS5 with the unicode61 tokenizer and the Porter (English) stemmer, ranked by
  // bm25(); PostgreSQL a tsvector in the text search language (TextSearchLanguage) with a GIN
  // index, ranked by ts_rank_cd. A term is any text: the store quotes it (a term is searched
  // as a phrase of its words, never parsed as query syntax), so `"foo` or `AND(` are plain
  // words. No terms, or terms without a word: no rows. limit < 1: kInvalidArgument
  // ("invalid_k"); a bad metadata key: kInvalidArgument ("invalid_metadata_key").
  virtual Result<std::vector<TextMatch>> SearchText(std::span<const std::string> terms,
                                                    const IndexFilter& filter,
                                                    const std::optional<VectorSpace>& space,
                                                    int limit) = 0;
  // The language chunk text is indexed in for SearchText. PostgreSQL: a text search
  // configuration ("english", "simple", "german"...; migration 10 starts with "english").
  // SQLite: always "english" (FTS5's Porter stemmer).
  virtual Result<std::string> TextSearchLanguage() = 0;
  // Sets it. PostgreSQL: when it changes, every chunk's tsvector is recomputed in the same
  // transaction (so searches see the old language or the new one, never a mix);
  // kInvalidArgument ("invalid_fts_language") for a configuration the server does not have.
  // SQLite: kInvalidArgument for anything but "english".
  virtual Status SetTextSearchLanguage(std::string_view language) = 0;

  // --- ledger -------------------------------------------------------------------------------
  virtual Status AppendLedger(const LedgerEntry& entry) = 0;
  virtual Result<std::vector<LedgerEntry>> ListLedger(
      std::optional<std::string_view> document_id) = 0;
  // cost_nanos of settled and reserved rows summed by operation ("embed", "parse": ingestion;
  // "query": search queries), over one tenant's rows or all (nullopt). Operations without a row
  // are absent. Aggregated in the database: cheap enough for a dashboard poll.
  virtual Result<std::map<std::string, int64_t>> SpendByOperation(
      std::optional<std::string_view> tenant) = 0;

  // --- governor: reservations, budgets, rate limits, provider state (DESIGN §5) ------------
  // Budget check and reservation in one transaction, serialised against every other Reserve on
  // the same database (all processes). For each budget that applies to `entry` (global; tenant
  // == entry.tenant; service == entry.service) and its window at `now`, spend = sum of
  // cost_nanos over reserved + settled rows in the window matching the scope. If spend +
  // entry.cost_nanos > hard_nanos for any of them, or any of them is stopped (StopBudgets),
  // nothing is written and blocked_by says
  // which; otherwise `entry` is inserted with state reserved, estimate_nanos = cost_nanos,
  // created_at = updated_at = now, sent_at = 0 (not sent) and expires_at as given (entry.state,
  // estimate_nanos, created_at and sent_at are ignored). A hard limit is therefore never exceeded
  // by reservations, whatever the number of workers. Budgets are checked in ListBudgetStatus order;
  // blocked_by is the first that refuses. kInvalidArgument for an empty id or a negative cost;
  // kAlreadyExists when the id is taken (nothing written).
  virtual Result<ReserveResult> Reserve(const LedgerEntry& entry, UnixMillis now) = 0;
  // Records the provider-reported usage of a call: upsert by entry.id into state settled with
  // entry's usage, cost_nanos, provider_request_id and note; estimate_nanos, created_at,
  // sent_at and expires_at of an existing row are kept, and so are its identity columns (service,
  // operation, tenant, document, job, model); a new row is inserted from `entry` with created_at =
  // now. updated_at = now either way. Settling a settled row again overwrites it with the same
  // facts (idempotent); settling a released row is allowed (a call reconciled as not made turned
  // out to have been billed).
  virtual Status SettleLedger(const LedgerEntry& entry, UnixMillis now) = 0;
  // A reserved row whose call was not billed (refused before sending, 4xx/429 the provider does
  // not bill): state released, cost_nanos 0, note. kFailedPrecondition reason "not_reserved"
  // when the row is not in state reserved (nothing written); kNotFound when absent.
  virtual Status ReleaseLedger(std::string_view id, std::string_view note, UnixMillis now) = 0;
  // The call of reserved row `id` is about to send its first request: sent_at = now (one
  // UPDATE, conditional on state reserved; a row already marked keeps its first time). Orphan
  // reconciliation releases a reservation never marked sent (the provider never saw it) and
  // settles one marked sent at its estimate. kFailedPrecondition reason "not_reserved" when the
  // row is no longer reserved (a reconciler took it for dead: the call must not be sent);
  // kNotFound when absent.
  virtual Status MarkLedgerSent(std::string_view id, UnixMillis now) = 0;
  // Reserved rows with 0 < expires_at <= now, in expires_at order (then id), sent_at included.
  virtual Result<std::vector<LedgerEntry>> ListExpiredReservations(UnixMillis now) = 0;

  // Upsert on (scope, scope_key, period); updated_at = budget.updated_at, or the store clock's
  // now when 0. kInvalidArgument when hard_nanos < 0, soft_ratio is outside (0, 1], or
  // scope_key is empty for a tenant/service budget or non-empty for the global one.
  virtual Status PutBudget(const Budget& budget) = 0;
  // kNotFound when there is no such budget.
  virtual Status DeleteBudget(BudgetScope scope, std::string_view scope_key,
                              BudgetPeriod period) = 0;
  // Every budget with its spend in the window containing `now`; ordered by scope (global,
  // tenant, service), then key, then period (hour, day, month): enum order, not name order.
  virtual Result<std::vector<BudgetStatus>> ListBudgetStatus(UnixMillis now) = 0;
  // A provider billed `overrun_nanos` (> 0) more than was reserved for `row`: every budget that
  // `row` counts against (scope match, any period) is stopped (stopped_at = now unless already
  // stopped; overrun_nanos added; stop_reason = reason). Reserve refuses any entry charged to a
  // stopped budget. Returns how many budgets were stopped (0 when none applies).
  virtual Result<int64_t> StopBudgets(const LedgerEntry& row, int64_t overrun_nanos,
                                      std::string_view reason, UnixMillis now) = 0;
  // Operator acknowledgement: clears the stop (stopped_at 0, overrun_nanos 0, stop_reason "")
  // of the budget (scope, scope_key, period), or of every budget when scope is nullopt.
  // Returns how many were stopped. kNotFound when the named budget does not exist.
  virtual Result<int64_t> AckBudgets(std::optional<BudgetScope> scope, std::string_view scope_key,
                                     BudgetPeriod period, UnixMillis now) = 0;

  // Creates the bucket (full) or updates capacity and refill rate: the existing bucket is first
  // refilled to `now` at its old rate, then available is clamped to the new capacity;
  // blocked_until is kept. kInvalidArgument when capacity or refill_per_sec is negative.
  virtual Status ConfigureRateBucket(std::string_view key, std::string_view kind, double capacity,
                                     double refill_per_sec, UnixMillis now) = 0;
  // Atomically over all `demands` of `key` (buckets that do not exist are ignored): refills each
  // bucket by elapsed time (capped at capacity), then computes wait = max over buckets of
  // max(blocked_until - now, -(available - amount) / refill_per_sec). If wait <= max_wait every
  // amount is taken (available may go negative) and the grant says how long to wait; otherwise
  // nothing is taken and granted = false with the wait. Waits are rounded up to whole
  // milliseconds; a deficit on a bucket that does not refill (refill_per_sec 0) can never be
  // waited off: granted = false, wait = Duration::max(). A caller whose `now` is behind a
  // bucket's updated_at (clock skew between hosts) gets no refill, and updated_at never moves
  // backwards, so no interval is refilled twice.
  virtual Result<RateGrant> AcquireRate(std::string_view key, std::span<const RateDemand> demands,
                                        Duration max_wait, UnixMillis now) = 0;
  // What the provider said (x-ratelimit-remaining-*, Retry-After): available becomes
  // min(refilled available, remaining) when remaining is set; blocked_until becomes
  // max(blocked_until, the given value). Unknown bucket: ignored.
  virtual Status ObserveRate(std::string_view key, std::string_view kind,
                             std::optional<double> remaining, UnixMillis blocked_until,
                             UnixMillis now) = 0;
  // Every bucket, refilled to `now` (not written).
  virtual Result<std::vector<RateBucket>> ListRateBuckets(UnixMillis now) = 0;

  // Upsert by provider; updated_at = state.updated_at, or the store clock's now when 0.
  virtual Status PutProviderState(const ProviderState& state) = 0;
  // Ordered by provider.
  virtual Result<std::vector<ProviderState>> ListProviderStates() = 0;

  // Deferred jobs whose defer_reason is one of `reasons` (every deferred job when empty) and
  // that are not yet due (next_attempt_at > now) become due at `now` (next_attempt_at = now,
  // updated_at = now, version bumped). Jobs already due are left alone, so their version does
  // not move under a worker about to lease them. Returns how many were woken.
  virtual Result<int64_t> WakeDeferred(std::span<const std::string> reasons, UnixMillis now) = 0;

  // --- access control: API keys and the audit log (docs/security.md) ------------------------
  // Inserts a key; created_at 0 = the store clock's now. kInvalidArgument when id, tenant,
  // scopes, prefix or secret_sha256 is empty; kAlreadyExists when the id or prefix is taken.
  virtual Status CreateApiKey(const ApiKey& key) = 0;
  // Revoked, expired and rotated keys included. kNotFound for an unknown id.
  virtual Result<ApiKey> GetApiKey(std::string_view id) = 0;
  // The key whose lookup prefix is `prefix` (whatever its state), or nullopt. The caller
  // compares the secret's digest and checks expiry, revocation and grace.
  virtual Result<std::optional<ApiKey>> FindApiKeyByPrefix(std::string_view prefix) = 0;
  // Every key, oldest first (created_at, then id).
  virtual Result<std::vector<ApiKey>> ListApiKeys() = 0;
  // revoked_at = now. kNotFound for an unknown id; kFailedPrecondition "key_revoked" when it
  // already is (nothing written).
  virtual Status RevokeApiKey(std::string_view id, UnixMillis now) = 0;
  // Rotation, in one transaction: inserts `replacement` (its id, prefix, secret_sha256 and
  // created_by; name, tenant, scopes, rate_limit and expires_at are copied from the old key)
  // with rotated_from = old_id and created_at = now, and sets the old key's grace_until to
  // `grace_until` (it is accepted until then). kNotFound for an unknown old_id;
  // kFailedPrecondition "key_revoked", "key_expired" or "key_rotated" (rotate its replacement
  // instead) when the old key is not live at `now`; nothing is written then. Returns the
  // replacement as stored.
  virtual Result<ApiKey> RotateApiKey(std::string_view old_id, const ApiKey& replacement,
                                      UnixMillis grace_until, UnixMillis now) = 0;
  // last_used_at = now when it is older. Unknown id: ignored.
  virtual Status TouchApiKey(std::string_view id, UnixMillis now) = 0;
  // Appends one row (seq assigned; at 0 = the store clock's now; detail "" stored as "{}").
  // kInvalidArgument when actor, action or result is empty. There is no update and no delete:
  // the table itself refuses them (a trigger on both backends).
  virtual Status AppendAudit(const AuditEntry& entry) = 0;
  // Rows matching `filter`, in seq order.
  virtual Result<std::vector<AuditEntry>> ListAudit(const AuditFilter& filter) = 0;

  // --- events and workers -------------------------------------------------------------------
  virtual Status AppendEvent(const Event& event) = 0;
  // Most recent first.
  virtual Result<std::vector<Event>> ListEvents(std::optional<std::string_view> job_id,
                                                int limit) = 0;
  virtual Status UpsertWorker(const WorkerInfo& worker) = 0;
  virtual Result<std::vector<WorkerInfo>> ListWorkers() = 0;
};

}  // namespace ingest::store
