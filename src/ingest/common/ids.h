// Deterministic identifiers (DESIGN §1): document id = UUIDv5(tenant namespace, file sha256);
// chunk id = UUIDv5(document id, "chunker@version/ordinal"). Writes are upserts on these ids,
// so running a stage twice stores the same rows.
#pragma once

#include <string>
#include <string_view>

namespace ingest {

// The namespace under which every ingestd id is derived (itself a UUIDv5 of the DNS namespace
// and "ingestd.dev"), so ids never collide with another application's UUIDv5s.
std::string_view IngestNamespace();

// RFC 4122 name-based UUID (version 5, SHA-1), lower-case canonical form. `ns` must be a
// canonical UUID string; an unparsable namespace is a programming error.
std::string UuidV5(std::string_view ns, std::string_view name);

// Random UUIDv4 (for correlation ids, worker ids, per-job secrets).
std::string UuidV4();

std::string DocumentId(std::string_view tenant, std::string_view file_sha256);
std::string ChunkId(std::string_view document_id, std::string_view chunker_version, int ordinal);
// One job per (document, pipeline): re-submitting the same document finds the same job.
std::string JobId(std::string_view document_id);

}  // namespace ingest
