// The rows ingestd stores (DESIGN §3). Plain structs; the same in SQLite and PostgreSQL.
// Times are UnixMillis (UTC); money is integer nano-dollars.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"

namespace ingest::store {

// DESIGN §1. `state` is the only column that says what a job is doing; only the state machine
// (pipeline/state_machine.h) decides its value.
enum class JobState {
  kQueued,     // ready to be leased once next_attempt_at has passed
  kRunning,    // leased by lease_owner until lease_expires_at
  kWaiting,    // remote work pending (e.g. a LlamaParse job); look again at next_attempt_at
  kDeferred,   // held back by the governor; defer_reason says why; next_attempt_at says when
  kComplete,   // terminal
  kFailed,     // terminal: permanent error (last_error_*)
  kDead,       // terminal: retries exhausted (dead-letter queue)
  kCancelled,  // terminal: cancelled by an operator
};

enum class Stage { kReceive, kParse, kValidate, kChunk, kEmbed, kIndex, kAccount, kFinalize };

inline constexpr Stage kAllStages[] = {Stage::kReceive, Stage::kParse,   Stage::kValidate,
                                       Stage::kChunk,   Stage::kEmbed,   Stage::kIndex,
                                       Stage::kAccount, Stage::kFinalize};

std::string_view JobStateName(JobState s);
Result<JobState> ParseJobState(std::string_view name);
std::string_view StageName(Stage s);
Result<Stage> ParseStage(std::string_view name);
bool IsTerminal(JobState s);

enum class Lane { kInteractive, kBulk };
std::string_view LaneName(Lane l);
Result<Lane> ParseLane(std::string_view name);

struct Document {
  std::string id;  // UUIDv5(tenant, sha256)
  std::string tenant = "default";
  std::string filename;  // as given by the user (path for CLI ingest, upload name for the API)
  std::string mime;      // detected from content
  int64_t bytes = 0;
  std::string sha256;      // of the original bytes
  std::string blob_key;    // BlobStore key (the sha256)
  int page_count = 0;      // known after parse
  std::string parser;      // parser that produced the stored parse ("local:pdf", "llamaparse")
  std::string parse_note;  // e.g. "fell back to local parser: llamaparse unavailable"
  UnixMillis created_at = 0;
  UnixMillis updated_at = 0;
  // The caller's stable key (a path, a URL), unique per tenant among live documents: a new
  // upload under a known external_id is a new version of that document (docs/documents.md).
  // "" = none.
  std::string external_id;
  // A JSON object (text), inherited by every chunk and returned with search results. "{}"
  // when none; "" in a SubmitDocument argument means "not given" (an existing document's
  // metadata is then kept).
  std::string metadata_json = "{}";
  // 1 for the first document under an external_id, then 2, 3... (always 1 without one).
  int version = 1;
  // Tombstone: set when the document was deleted or superseded by a newer version. Its chunks,
  // index entries and unshared vectors are gone; the row stays so ledger rows keep their
  // document and a re-upload of the same bytes can revive it. 0 = live.
  UnixMillis deleted_at = 0;
  std::string deleted_reason;  // "deleted" or "superseded"; "" while live
};

struct Job {
  std::string id;
  std::string document_id;
  Stage stage = Stage::kReceive;
  JobState state = JobState::kQueued;
  int attempts = 0;  // attempts made at the current stage
  int max_attempts = 5;
  std::string lease_owner;  // empty unless running
  UnixMillis lease_expires_at = 0;
  UnixMillis next_attempt_at = 0;
  std::string defer_reason;
  std::string last_error_code;  // Status::reason() of the last error, "" if none
  std::string last_error_message;
  std::string last_error_stage;
  std::string remote_job_id;  // e.g. the LlamaParse job id, persisted before waiting
  Lane lane = Lane::kBulk;
  int priority = 0;  // higher runs first within a lane
  std::string correlation_id;
  int64_t version = 0;  // bumped by every write; compare-and-set token
  UnixMillis created_at = 0;
  UnixMillis updated_at = 0;
  UnixMillis completed_at = 0;
};

// A job leased to one worker. Valid while the store's row still has this owner and version.
struct Lease {
  Job job;  // the row as written by the lease (state kRunning, owner, expiry, version)
  std::string owner;
};

// What the state machine decided; applied by Store::UpdateJob with compare-and-set.
struct JobUpdate {
  Stage stage;
  JobState state;
  int attempts;
  UnixMillis next_attempt_at = 0;
  std::string defer_reason;
  std::string last_error_code;
  std::string last_error_message;
  std::string last_error_stage;
  std::optional<std::string> remote_job_id;  // nullopt = unchanged
  bool keep_lease = false;  // true only for heartbeat-like updates; otherwise the lease is cleared
  UnixMillis completed_at = 0;
};

// Per-stage wall time of one job, for status pages.
struct StageTiming {
  Stage stage;
  int attempt;
  UnixMillis started_at;
  UnixMillis finished_at;
  std::string outcome;  // "ok" or an error reason
};

// One page of parsed text. Page numbers are 1-based; formats without pages have one page, 1.
struct PageText {
  int page = 1;
  std::string text;  // Markdown
};

// Cached parse result: the same file is never parsed (or paid for) twice with one config.
struct ParseRecord {
  std::string file_sha256;
  std::string parser;       // "local", "llamaparse"
  std::string config_hash;  // hash of the parser configuration that affects the output
  std::vector<PageText> pages;
  std::string detail_json;  // parser facts: type, pages billed, credits, remote job id...
  UnixMillis created_at = 0;
};

struct Chunk {
  std::string id;  // UUIDv5(document id, chunker@version/ordinal)
  std::string document_id;
  int ordinal = 0;
  std::string text;
  std::string text_sha256;
  int token_count = 0;
  std::string heading_path;  // "Title > Section > Subsection"
  int page_start = 1;
  int page_end = 1;
};

// A vector space: vectors from different spaces are never compared or mixed.
struct VectorSpace {
  std::string model;  // e.g. "text-embedding-3-small", "lexical-v1"
  int dimensions = 0;
  bool operator==(const VectorSpace&) const = default;
};

struct StoredVector {
  std::string text_sha256;
  std::string provider;  // who computed it ("openai", "local")
  std::vector<float> values;
};

// A search candidate streamed out of the store: one indexed chunk and its vector.
struct IndexedChunk {
  const Chunk* chunk;
  std::string_view filename;
  const float* vector;             // `dimensions` floats
  std::string_view external_id;    // the document's ("" when none)
  std::string_view metadata_json;  // the document's metadata (a JSON object)
};

// Store::SearchText: one chunk matching a full-text query, with its document's fields.
struct TextMatch {
  Chunk chunk;
  std::string filename;
  std::string external_id;           // the document's ("" when none)
  std::string metadata_json = "{}";  // the document's metadata
  // Higher is better. SQLite: -bm25() of FTS5 (Okapi BM25, k1 = 1.2, b = 0.75); PostgreSQL:
  // ts_rank_cd (cover density, not BM25). Comparable only within one answer.
  double score = 0;
};

// One metadata condition: the document's metadata has `key` at top level and its value equals
// `value_json` (a JSON scalar as text: "\"claims\"", "2024", "true"). Type-exact: the string
// "2024" does not equal the number 2024.
struct MetadataEquals {
  std::string key;
  std::string value_json;
};

// What Store::ScanIndex streams: chunks of indexed documents matching every condition set.
struct IndexFilter {
  std::optional<std::string> tenant;
  std::vector<MetadataEquals> metadata;
  std::optional<std::string> external_id_prefix;
  std::optional<std::string> document_id;
};

// Store::ListDocuments: live documents matching every condition set, newest first
// (created_at descending, then id descending). Pagination is keyset: pass the last row's
// (created_at, id) as `before` to get the next page.
struct DocumentFilter {
  std::optional<std::string> tenant;
  std::optional<JobState> state;                  // the state of the document's newest job
  std::optional<std::string> external_id;         // exact
  std::optional<std::string> external_id_prefix;  // "" matches every document with one
  std::vector<MetadataEquals> metadata;
  UnixMillis created_from = 0;   // created_at >= created_from (0: no bound)
  UnixMillis created_until = 0;  // created_at < created_until (0: no bound)
  std::optional<std::pair<UnixMillis, std::string>> before;  // keyset cursor
  int limit = 100;                                           // <= 0: no limit
};

// A document with its newest job, for listings.
struct DocumentListing {
  Document document;
  std::optional<Job> job;  // nullopt when the document has no job
};

// What Store::DeleteDocument removed.
struct DeletedDocument {
  Document document;           // as it was before the delete (deleted_at still 0)
  int64_t chunks = 0;          // chunk rows removed
  int64_t vectors = 0;         // vectors removed (no remaining chunk of any document had the text)
  bool parse_removed = false;  // the cached parse went too (no live document has the bytes)
};

enum class LedgerState { kReserved, kSettled, kReleased };
std::string_view LedgerStateName(LedgerState s);
Result<LedgerState> ParseLedgerState(std::string_view name);

// One billable call (DESIGN §3). Costs are integer nano-dollars.
struct LedgerEntry {
  std::string id;
  std::string service;    // "openai", "llamaparse", "local"
  std::string operation;  // "embed", "parse"
  std::string tenant;
  std::string document_id;
  std::string job_id;
  std::string model;  // model or parse mode
  int64_t tokens = 0;
  int64_t pages = 0;
  int64_t credits = 0;
  int64_t requests = 0;
  int64_t cost_nanos = 0;
  LedgerState state = LedgerState::kSettled;
  std::string provider_request_id;
  UnixMillis created_at = 0;
  UnixMillis updated_at = 0;
  // What Store::Reserve held for the call (cost_nanos at reservation time). Kept when the row
  // is settled or released, so estimate accuracy can be audited.
  int64_t estimate_nanos = 0;
  // Reserved rows only: after this time the reservation is presumed orphaned (its caller
  // crashed) and the governor reconciles it. 0 for rows that were never reserved.
  UnixMillis expires_at = 0;
  // Why a row is in its state when it is not the plain outcome of a call, e.g.
  // "reconciled: settled at estimate after the reserving process died". "" otherwise.
  std::string note;
  // When the call's first request was about to leave (Store::MarkLedgerSent). 0: not sent
  // (yet) — an orphaned reservation with 0 is released, since the provider never saw it;
  // kSentUnknown: written by a version that did not record sends (before schema 10), treated
  // as sent. Kept when the row is settled or released.
  UnixMillis sent_at = 0;
};

// LedgerEntry::sent_at of a row whose writer did not record sends (the column's default).
inline constexpr UnixMillis kSentUnknown = -1;

// --- governor rows (DESIGN §5) ----------------------------------------------------------------

enum class BudgetScope { kGlobal, kTenant, kService };
std::string_view BudgetScopeName(BudgetScope s);  // "global", "tenant", "service"
Result<BudgetScope> ParseBudgetScope(std::string_view name);

enum class BudgetPeriod { kHour, kDay, kMonth };
std::string_view BudgetPeriodName(BudgetPeriod p);  // "hour", "day", "month"
Result<BudgetPeriod> ParseBudgetPeriod(std::string_view name);

// A spending cap. Applies to ledger rows of every tenant and service (global), of tenant
// `scope_key`, or of service `scope_key` ("openai", "llamaparse").
struct Budget {
  BudgetScope scope = BudgetScope::kGlobal;
  std::string scope_key;  // "" for global
  BudgetPeriod period = BudgetPeriod::kDay;
  int64_t hard_nanos = 0;   // never exceeded (reserved + settled)
  double soft_ratio = 0.8;  // alert when spend >= soft_ratio * hard (0 < ratio <= 1)
  UnixMillis updated_at = 0;
  // A provider billed more than was reserved for a call charged to this budget (an overrun,
  // issue 12): the budget admits no new reservation from stopped_at until an operator
  // acknowledges it (Store::AckBudgets). overrun_nanos sums the overruns since the last ack.
  // Kept by PutBudget; 0 / "" when running.
  UnixMillis stopped_at = 0;
  int64_t overrun_nanos = 0;
  std::string stop_reason;
};

// [start, end) of a UTC calendar period.
struct PeriodWindow {
  UnixMillis start = 0;
  UnixMillis end = 0;
};
// The UTC hour, day or calendar month containing `now`.
PeriodWindow PeriodWindowAt(BudgetPeriod period, UnixMillis now);

// A budget with its spend in the current period (ledger rows whose created_at falls in the
// window and whose tenant/service matches the scope).
struct BudgetStatus {
  Budget budget;
  PeriodWindow window;
  int64_t settled_nanos = 0;   // rows in state settled
  int64_t reserved_nanos = 0;  // rows in state reserved (cost_nanos = the held estimate)
};

// Outcome of Store::Reserve.
struct ReserveResult {
  bool reserved = false;
  // When !reserved: the first applicable budget that the reservation would take over its hard
  // limit, with its spend as seen inside the reserving transaction.
  std::optional<BudgetStatus> blocked_by;
};

// A shared token bucket (DESIGN §5): one per (provider key, kind). `available` may go negative:
// a caller that takes more than is available owes the difference and waits it off, which
// queues callers fairly without anyone polling.
struct RateBucket {
  std::string key;   // e.g. "openai:<sha256 prefix of the API key>"
  std::string kind;  // "requests" or "tokens"
  double capacity = 0;
  double available = 0;  // as of updated_at (refill not applied)
  double refill_per_sec = 0;
  UnixMillis blocked_until = 0;  // Retry-After: nobody may send before this time
  UnixMillis updated_at = 0;
};

struct RateDemand {
  std::string kind;  // "requests" or "tokens"
  double amount = 0;
};

struct RateGrant {
  bool granted = false;  // false: the wait would exceed max_wait; nothing was taken
  Duration wait{0};      // how long the caller must wait before sending (0 = now)
};

// A provider stopped by the governor (quota exhausted, credentials refused) until an operator
// resumes it. Absent rows mean running.
struct ProviderState {
  std::string provider;  // "openai", "llamaparse"
  bool stopped = false;
  std::string reason;   // "insufficient_quota", "invalid_api_key", ...
  std::string message;  // the provider's words (never a secret)
  UnixMillis since = 0;
  UnixMillis probe_at = 0;  // 0 = no automatic probe; else a worker may try one call then
  UnixMillis updated_at = 0;
};

struct Event {
  int64_t id = 0;  // assigned by the store
  UnixMillis at = 0;
  std::string kind;  // "job.transition", "parse.cache_hit", "embed.request", ...
  std::string job_id;
  std::string document_id;
  std::string correlation_id;
  std::string detail_json;  // "{}" when empty
};

// An API key (docs/security.md). The secret itself is never stored: only its lookup prefix
// (which the secret contains) and the sha256 of the whole secret.
struct ApiKey {
  std::string id;             // "key_" + prefix
  std::string name;           // the operator's label; may be empty
  std::string tenant;         // the tenant it acts for (admin keys: when no X-Tenant is sent)
  std::string scopes;         // comma-separated, canonical order ("read,ingest,operator,admin")
  std::string prefix;         // lookup prefix, unique
  std::string secret_sha256;  // hex sha256 of the whole secret
  std::string rate_limit;     // "5/s", "300/m"; "" = the configured per-key default
  std::string created_by;     // the acting identity, as audit rows name it
  std::string rotated_from;   // the key this one replaced (RotateApiKey); "" if none
  UnixMillis created_at = 0;
  UnixMillis expires_at = 0;    // 0 = never
  UnixMillis revoked_at = 0;    // 0 = not revoked
  UnixMillis grace_until = 0;   // rotated: accepted until then; 0 = not rotated
  UnixMillis last_used_at = 0;  // 0 = never used
};

// One row of the append-only audit log: who did what, when, from where, with what result.
struct AuditEntry {
  int64_t seq = 0;  // assigned by the store, increasing
  UnixMillis at = 0;
  std::string actor;        // key id, "admin-token", "tokens-file:<tenant>" or "cli:<unix user>"
  std::string action;       // "key.create", "job.retry", "budget.set", ...
  std::string target;       // what it acted on (key id, job id, document id, budget scope)
  std::string detail_json;  // "{}" when empty
  std::string source;       // the client's address, or "cli"
  std::string result;       // "ok", or the error's reason (e.g. "job_not_found")
};

struct AuditFilter {
  UnixMillis since = 0;   // rows with at >= since
  int64_t after_seq = 0;  // rows with seq > after_seq (paging)
  int limit = 1000;       // the first `limit` rows (<= 0: all)
};

struct WorkerInfo {
  std::string id;
  std::string host;
  int64_t pid = 0;
  std::string version;
  UnixMillis started_at = 0;
  UnixMillis last_seen = 0;
  int in_flight = 0;
};

struct JobFilter {
  std::optional<JobState> state;
  std::optional<std::string> document_id;
  std::optional<std::string> tenant;
  int limit = 1000;
};

// A job joined with its document, for listings.
struct JobView {
  Job job;
  std::string filename;
  std::string tenant;
  int64_t cost_nanos = 0;  // settled + reserved ledger cost of this job
};

// Cache rows no live document or chunk holds (Store::CountUnheldContent, `ingestd gc`).
struct UnheldContent {
  int64_t parses = 0;
  int64_t parse_bytes = 0;  // pages_json + detail_json
  int64_t vectors = 0;
  int64_t vector_bytes = 0;
};

// Jobs finished in one minute (Store::FinishedPerMinute).
struct FinishedMinute {
  int64_t minute = 0;  // unix time / 60000
  int64_t completed = 0;
  int64_t failed = 0;  // failed or dead
};

struct Migration {
  int version;
  std::string name;
};

}  // namespace ingest::store
