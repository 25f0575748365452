// Row <-> struct mapping shared by the SQLite store files. Internal to store/sqlite.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "ingest/store/sqlite/connection.h"
#include "ingest/store/types.h"

namespace ingest::store::sqlite {

// Column lists in the order the readers below expect.
inline constexpr std::string_view kJobColumns =
    "id, document_id, stage, state, attempts, max_attempts, lease_owner, lease_expires_at, "
    "next_attempt_at, defer_reason, last_error_code, last_error_message, last_error_stage, "
    "remote_job_id, lane, priority, correlation_id, version, created_at, updated_at, "
    "completed_at";
inline constexpr int kJobColumnCount = 21;

inline constexpr std::string_view kDocumentColumns =
    "id, tenant, filename, mime, bytes, sha256, blob_key, page_count, parser, parse_note, "
    "created_at, updated_at, external_id, metadata, version, deleted_at, deleted_reason";
inline constexpr int kDocumentColumnCount = 17;

inline constexpr std::string_view kChunkColumns =
    "id, document_id, ordinal, text, text_sha256, token_count, heading_path, page_start, "
    "page_end";
inline constexpr int kChunkColumnCount = 9;

inline constexpr std::string_view kLedgerColumns =
    "id, service, operation, tenant, document_id, job_id, model, tokens, pages, credits, "
    "requests, cost_nanos, state, provider_request_id, created_at, updated_at, "
    "estimate_nanos, expires_at, note, sent_at";

// Read a row starting at column `first`. Unknown enum names mean the database holds something
// this build did not write: kDataLoss.
Result<Job> ReadJob(const Stmt& s, int first = 0);
Document ReadDocument(const Stmt& s, int first = 0);
Chunk ReadChunk(const Stmt& s, int first = 0);
Result<LedgerEntry> ReadLedger(const Stmt& s, int first = 0);
// Binds `e` as kLedgerColumns to parameters first..first+19.
void BindLedger(Stmt& s, const LedgerEntry& e, int first = 1);

// A job's events (every event when job_id is nullopt), most recent first, at most `limit`
// (<= 0: all), on `conn` (so a caller's read transaction covers it). In sqlite_audit.cc.
Result<std::vector<Event>> QueryEvents(Connection& conn, std::optional<std::string_view> job_id,
                                       int limit);

// float32 little-endian, the on-disk vector format of both backends.
std::string EncodeVector(std::span<const float> values);
// kDataLoss unless `blob` holds exactly `dimensions` floats.
Status DecodeVector(std::span<const std::byte> blob, int dimensions, std::vector<float>* out);

}  // namespace ingest::store::sqlite
