// Row <-> struct mapping and value encoding shared by the PostgreSQL store files. Internal to
// store/postgres.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/store/types.h"

namespace ingest::store::postgres {

// Column lists in the order the readers below expect (the same as the SQLite store's).
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

inline std::string Text(const pqxx::field& f) { return std::string(f.c_str(), f.size()); }
inline std::string_view TextView(const pqxx::field& f) {
  return std::string_view(f.c_str(), f.size());
}
inline int64_t Int(const pqxx::field& f) { return f.is_null() ? 0 : f.as<int64_t>(); }

// Read a row starting at column `first`. Unknown enum names mean the database holds something
// this build did not write: kDataLoss.
Result<Job> ReadJob(const pqxx::row& r, int first = 0);
Document ReadDocument(const pqxx::row& r, int first = 0);
Chunk ReadChunk(const pqxx::row& r, int first = 0);
Result<LedgerEntry> ReadLedger(const pqxx::row& r, int first = 0);

// A job's events (every event when job_id is nullopt), most recent first, at most `limit`
// (<= 0: all), inside the caller's transaction. In postgres_audit.cc.
Result<std::vector<Event>> QueryEvents(pqxx::work& w, std::optional<std::string_view> job_id,
                                       int limit);

// float32 little-endian, the stored vector format of both backends.
std::string EncodeVector(std::span<const float> values);
// kDataLoss unless `bytes` holds exactly `dimensions` floats.
Status DecodeVector(std::string_view bytes, int dimensions, std::vector<float>* out);

std::string Cat(std::initializer_list<std::string_view> parts);

}  // namespace ingest::store::postgres
