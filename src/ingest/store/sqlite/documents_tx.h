// Document lifecycle steps shared by the SQLite store files, run inside the caller's
// transaction (a write transaction for the ones that write). Internal to store/sqlite.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/store/sqlite/connection.h"
#include "ingest/store/types.h"

namespace ingest::store::sqlite {

Result<std::optional<Document>> FindDocumentIn(Connection& conn, std::string_view id);

// Store::DeleteDocument's work on a live document `doc`.
Result<DeletedDocument> DeleteDocumentIn(Connection& conn, const Document& doc,
                                         std::string_view reason, UnixMillis now);

// Deletes (reason "superseded") every live document of doc's tenant and external_id with a
// lower version than doc's. Nothing when doc has no external_id.
Status SupersedeOlderIn(Connection& conn, const Document& doc, UnixMillis now);

// 1 + the highest version under (tenant, external_id); 1 when external_id is empty.
Result<int> NextVersionIn(Connection& conn, std::string_view tenant, std::string_view external_id);

// A SQL condition list with its parameters, bound in order from a given index.
struct SqlConditions {
  std::string sql;  // " AND ..." for each condition
  std::vector<std::string> params;
};
// Appends the conditions of `metadata` on the documents alias `d`. kInvalidArgument for a key
// ValidateMetadataKey refuses.
Status AppendMetadataConditions(const std::vector<MetadataEquals>& metadata, SqlConditions* out);

}  // namespace ingest::store::sqlite
