// The JSON shape of documents and chunks as users see them: `ingestd documents list|show
// --json` and the HTTP API's /v1/documents share it (docs/openapi.json, Document).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ingest/common/result.h"
#include "ingest/store/types.h"

namespace ingest::pipeline {

// Keys: document_id, tenant, filename, external_id, version, metadata (an object), mime,
// bytes, sha256, pages, parser, parse_note, created_at, updated_at (ISO-8601 UTC), and, when
// `job` is given, job_id, state and stage of the document's newest job.
nlohmann::json DocumentJson(const store::Document& d, const std::optional<store::Job>& job);

// Keys: chunk_id, ordinal, text, token_count, heading_path, page_start, page_end, metadata
// (the document's: chunks inherit it).
nlohmann::json ChunkJson(const store::Chunk& c, const nlohmann::json& metadata);

// The document's metadata as an object ({} when the stored text is unreadable).
nlohmann::json MetadataObject(std::string_view metadata_json);

// Opaque page cursor for a document listing: the last row's (created_at, id).
std::string DocumentCursor(const store::Document& last);
// kInvalidArgument "invalid_cursor" for anything DocumentCursor did not make.
Result<std::pair<UnixMillis, std::string>> ParseDocumentCursor(std::string_view cursor);

// A time bound as users write it: Unix milliseconds, "YYYY-MM-DD" (midnight UTC) or
// "YYYY-MM-DDTHH:MM:SS[.fff]Z". kInvalidArgument "invalid_time" otherwise.
Result<UnixMillis> ParseTimeBound(std::string_view text);

}  // namespace ingest::pipeline
