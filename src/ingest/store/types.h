// The rows ingestd stores (DESIGN §3). Plain structs; the same in SQLite and PostgreSQL.
// Times are UnixMillis (UTC); money is integer micro-dollars.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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
  const float* vector;  // `dimensions` floats
};

enum class LedgerState { kReserved, kSettled, kReleased };
std::string_view LedgerStateName(LedgerState s);
Result<LedgerState> ParseLedgerState(std::string_view name);

// One billable call (DESIGN §3). Costs are integer micro-dollars.
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
  int64_t cost_micros = 0;
  LedgerState state = LedgerState::kSettled;
  std::string provider_request_id;
  UnixMillis created_at = 0;
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
  int64_t cost_micros = 0;  // settled + reserved ledger cost of this job
};

struct Migration {
  int version;
  std::string name;
};

}  // namespace ingest::store
