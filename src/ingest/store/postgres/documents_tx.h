// Document lifecycle steps shared by the PostgreSQL store files, run inside the caller's
// transaction. Internal to store/postgres.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/store/types.h"

namespace ingest::store::postgres {

std::optional<Document> FindDocumentIn(pqxx::work& w, std::string_view id);

// Serialises version changes of one (tenant, external_id) across processes until the
// transaction ends (MarkIndexed, the adoption of an external_id by SubmitDocument).
void LockExternalId(pqxx::work& w, std::string_view tenant, std::string_view external_id);

// Chunk writes (shared) against deletions (exclusive), until the transaction ends: a deletion
// removes a vector only when no chunk holds its text, which a chunk write committing at the
// same moment would otherwise slip past (READ COMMITTED sees only what committed before).
void LockChunkWrites(pqxx::work& w, bool exclusive);

// Store::DeleteDocument's work on a live document `doc` (takes LockChunkWrites exclusive).
DeletedDocument DeleteDocumentIn(pqxx::work& w, const Document& doc, std::string_view reason,
                                 UnixMillis now);

// Deletes (reason "superseded") every live document of doc's tenant and external_id with a
// lower version than doc's. Nothing when doc has no external_id.
void SupersedeOlderIn(pqxx::work& w, const Document& doc, UnixMillis now);

// 1 + the highest version under (tenant, external_id); 1 when external_id is empty.
int NextVersionIn(pqxx::work& w, std::string_view tenant, std::string_view external_id);

// " AND ..." for each metadata condition on the documents alias `d`, values quoted.
// kInvalidArgument for a key ValidateMetadataKey refuses.
Result<std::string> MetadataConditions(pqxx::work& w, const std::vector<MetadataEquals>& metadata);

}  // namespace ingest::store::postgres
