// Documents as a living collection: listing, deletion (tombstones) and orphan blobs.
#include <limits>
#include <string>
#include <utility>

#include "ingest/store/metadata.h"
#include "ingest/store/postgres/documents_tx.h"
#include "ingest/store/postgres/postgres_store_impl.h"
#include "ingest/store/postgres/rows.h"

namespace ingest::store::postgres {
namespace {

// Two-key advisory lock classes (see postgres_governor.cc): "vers" and "vect" in ASCII.
constexpr int kVersionLockClass = 0x76657273;
constexpr int kChunkLockClass = 0x76656374;

// "a, b" -> "d.a, d.b".
std::string Qualified(std::string_view cols, std::string_view alias) {
  std::string out;
  while (!cols.empty()) {
    const size_t comma = cols.find(',');
    std::string_view col = cols.substr(0, comma);
    while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
    if (!out.empty()) out += ", ";
    out += alias;
    out += '.';
    out += col;
    cols = comma == std::string_view::npos ? std::string_view() : cols.substr(comma + 1);
  }
  return out;
}

}  // namespace

std::optional<Document> FindDocumentIn(pqxx::work& w, std::string_view id) {
  static const std::string sql =
      Cat({"SELECT ", kDocumentColumns, " FROM documents WHERE id = $1"});
  pqxx::result r = w.exec_params(sql, std::string(id));
  if (r.empty()) return std::nullopt;
  return ReadDocument(r[0]);
}

void LockExternalId(pqxx::work& w, std::string_view tenant, std::string_view external_id) {
  w.exec_params(
      "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()::text || '/' || "
      "$2::text || '/' || $3::text))",
      kVersionLockClass, std::string(tenant), std::string(external_id));
}

void LockChunkWrites(pqxx::work& w, bool exclusive) {
  w.exec_params(exclusive ? "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))"
                          : "SELECT pg_advisory_xact_lock_shared($1, hashtext(current_schema()))",
                kChunkLockClass);
}

int NextVersionIn(pqxx::work& w, std::string_view tenant, std::string_view external_id) {
  if (external_id.empty()) return 1;
  pqxx::row r = w.exec_params1(
      "SELECT COALESCE(MAX(version), 0) FROM documents WHERE tenant = $1 AND external_id = $2",
      std::string(tenant), std::string(external_id));
  return static_cast<int>(Int(r[0])) + 1;
}

Result<std::string> MetadataConditions(pqxx::work& w, const std::vector<MetadataEquals>& metadata) {
  std::string sql;
  for (const MetadataEquals& m : metadata) {
    INGEST_RETURN_IF_ERROR(ValidateMetadataKey(m.key));
    // jsonb equality is type-exact: the string "1" never equals the number 1.
    sql += " AND d.metadata -> " + w.quote(m.key) + " = " + w.quote(m.value_json) + "::jsonb";
  }
  return sql;
}

// Vectors go only when no chunk of any document (live, or a version still being processed)
// holds their text: the vector cache is shared, and an unchanged chunk of the next version
// must not be re-embedded.
DeletedDocument DeleteDocumentIn(pqxx::work& w, const Document& doc, std::string_view reason,
                                 UnixMillis now) {
  LockChunkWrites(w, /*exclusive=*/true);
  DeletedDocument out;
  out.document = doc;
  pqxx::result texts =
      w.exec_params("SELECT DISTINCT text_sha256 FROM chunks WHERE document_id = $1", doc.id);
  w.exec_params("DELETE FROM document_index WHERE document_id = $1", doc.id);
  out.chunks = w.exec_params("DELETE FROM chunks WHERE document_id = $1", doc.id).affected_rows();
  for (const pqxx::row& t : texts) {
    out.vectors += w.exec_params(
                        "DELETE FROM vectors WHERE text_sha256 = $1 AND NOT EXISTS "
                        "(SELECT 1 FROM chunks WHERE text_sha256 = $1)",
                        Text(t[0]))
                       .affected_rows();
  }
  out.parse_removed = w.exec_params(
                           "DELETE FROM parses WHERE file_sha256 = $1 AND NOT EXISTS "
                           "(SELECT 1 FROM documents WHERE sha256 = $1 AND "
                           "deleted_at = 0 AND id <> $2)",
                           doc.sha256, doc.id)
                          .affected_rows() > 0;
  w.exec_params(
      "UPDATE documents SET deleted_at = $1, deleted_reason = $2, metadata = '{}', "
      "updated_at = $1, filename = CASE WHEN $2 = 'superseded' THEN filename ELSE '' END, "
      "external_id = CASE WHEN $2 = 'superseded' THEN external_id ELSE '' END WHERE id = $3",
      now, std::string(reason), doc.id);
  return out;
}

void SupersedeOlderIn(pqxx::work& w, const Document& doc, UnixMillis now) {
  if (doc.external_id.empty()) return;
  static const std::string sql =
      Cat({"SELECT ", kDocumentColumns,
           " FROM documents WHERE tenant = $1 AND external_id = $2 AND version < $3 AND "
           "deleted_at = 0"});
  pqxx::result r = w.exec_params(sql, doc.tenant, doc.external_id, doc.version);
  for (const pqxx::row& row : r) DeleteDocumentIn(w, ReadDocument(row), "superseded", now);
}

Result<DeletedDocument> PostgresStore::DeleteDocument(std::string_view document_id,
                                                      std::string_view reason, UnixMillis now) {
  return Transact("delete document", [&](pqxx::work& w) -> Result<DeletedDocument> {
    std::optional<Document> doc = FindDocumentIn(w, document_id);
    if (!doc || doc->deleted_at != 0) {
      return NotFound("document " + std::string(document_id) + " not found");
    }
    return DeleteDocumentIn(w, *doc, reason, now);
  });
}

Result<std::vector<DocumentListing>> PostgresStore::ListDocuments(const DocumentFilter& filter) {
  return Transact("list documents", [&](pqxx::work& w) -> Result<std::vector<DocumentListing>> {
    static const std::string select =
        "SELECT " + Qualified(kDocumentColumns, "d") + ", " + Qualified(kJobColumns, "j") +
        " FROM documents d LEFT JOIN LATERAL (SELECT * FROM jobs WHERE document_id = d.id "
        "ORDER BY created_at DESC, id DESC LIMIT 1) j ON TRUE WHERE d.deleted_at = 0";
    std::string sql = select;
    if (filter.tenant) sql += " AND d.tenant = " + w.quote(*filter.tenant);
    if (filter.state) sql += " AND j.state = " + w.quote(std::string(JobStateName(*filter.state)));
    if (filter.external_id) sql += " AND d.external_id = " + w.quote(*filter.external_id);
    if (filter.external_id_prefix) {
      const std::string p = w.quote(*filter.external_id_prefix);
      sql += " AND d.external_id <> '' AND substr(d.external_id, 1, length(" + p + ")) = " + p;
    }
    INGEST_ASSIGN_OR_RETURN(std::string meta, MetadataConditions(w, filter.metadata));
    sql += meta;
    if (filter.created_from > 0)
      sql += " AND d.created_at >= " + std::to_string(filter.created_from);
    if (filter.created_until > 0) {
      sql += " AND d.created_at < " + std::to_string(filter.created_until);
    }
    if (filter.before) {
      const std::string at = std::to_string(filter.before->first);
      sql += " AND (d.created_at < " + at + " OR (d.created_at = " + at + " AND d.id < " +
             w.quote(filter.before->second) + "))";
    }
    sql += " ORDER BY d.created_at DESC, d.id DESC";
    if (filter.limit > 0) sql += " LIMIT " + std::to_string(filter.limit);
    pqxx::result r = w.exec(sql);
    std::vector<DocumentListing> out;
    out.reserve(r.size());
    for (const pqxx::row& row : r) {
      DocumentListing l;
      l.document = ReadDocument(row);
      if (!row[kDocumentColumnCount].is_null()) {
        INGEST_ASSIGN_OR_RETURN(Job j, ReadJob(row, kDocumentColumnCount));
        l.job = std::move(j);
      }
      out.push_back(std::move(l));
    }
    return out;
  });
}

Result<int64_t> PostgresStore::PurgeUnheldContent(std::string_view file_sha256,
                                                  std::span<const std::string> text_sha256s) {
  return Transact("purge unheld content", [&](pqxx::work& w) -> Result<int64_t> {
    LockChunkWrites(w, /*exclusive=*/true);
    int64_t removed =
        w.exec_params(
             "DELETE FROM parses WHERE file_sha256 = $1 AND NOT EXISTS (SELECT 1 FROM "
             "documents WHERE sha256 = $1 AND deleted_at = 0)",
             std::string(file_sha256))
            .affected_rows();
    for (const std::string& h : text_sha256s) {
      removed += w.exec_params(
                      "DELETE FROM vectors WHERE text_sha256 = $1 AND NOT EXISTS "
                      "(SELECT 1 FROM chunks WHERE text_sha256 = $1)",
                      h)
                     .affected_rows();
    }
    return removed;
  });
}

Result<std::vector<std::string>> PostgresStore::ListOrphanBlobs(int limit) {
  return Transact("list orphan blobs", [&](pqxx::work& w) -> Result<std::vector<std::string>> {
    std::string sql =
        "SELECT DISTINCT t.blob_key FROM documents t WHERE t.deleted_at <> 0 AND t.blob_key <> '' "
        "AND NOT EXISTS (SELECT 1 FROM documents l WHERE l.blob_key = t.blob_key AND "
        "l.deleted_at = 0) ORDER BY t.blob_key";
    if (limit > 0) sql += " LIMIT " + std::to_string(limit);
    std::vector<std::string> out;
    for (const pqxx::row& row : w.exec(sql)) out.push_back(Text(row[0]));
    return out;
  });
}

namespace {

constexpr const char* kUnheldParses =
    "FROM parses p WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.sha256 = p.file_sha256 "
    "AND d.deleted_at = 0)";
constexpr const char* kUnheldVectors =
    "FROM vectors v WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.text_sha256 = "
    "v.text_sha256)";

}  // namespace

Result<UnheldContent> PostgresStore::CountUnheldContent() {
  return Transact("count unheld content", [&](pqxx::work& w) -> Result<UnheldContent> {
    UnheldContent out;
    pqxx::row p = w.exec1(std::string("SELECT COUNT(*), COALESCE(SUM(octet_length(p.pages_json) "
                                      "+ octet_length(p.detail_json)), 0) ") +
                          kUnheldParses);
    out.parses = Int(p[0]);
    out.parse_bytes = Int(p[1]);
    pqxx::row v = w.exec1(
        std::string("SELECT COUNT(*), COALESCE(SUM(octet_length(v.vector)), 0) ") + kUnheldVectors);
    out.vectors = Int(v[0]);
    out.vector_bytes = Int(v[1]);
    return out;
  });
}

Result<UnheldContent> PostgresStore::DeleteUnheldContent(int limit) {
  const int64_t n = limit > 0 ? limit : std::numeric_limits<int64_t>::max();
  return Transact("delete unheld content", [&](pqxx::work& w) -> Result<UnheldContent> {
    // Exclusive against chunk writes, as PurgeUnheldContent: a chunk committing meanwhile
    // either holds its vector before this looks, or waits until the vector is gone and embeds.
    LockChunkWrites(w, /*exclusive=*/true);
    UnheldContent out;
    for (const pqxx::row& r : w.exec_params(
             std::string("DELETE FROM parses WHERE ctid IN (SELECT p.ctid ") + kUnheldParses +
                 " LIMIT $1) RETURNING octet_length(pages_json) + "
                 "octet_length(detail_json)",
             n)) {
      ++out.parses;
      out.parse_bytes += Int(r[0]);
    }
    for (const pqxx::row& r :
         w.exec_params(std::string("DELETE FROM vectors WHERE ctid IN (SELECT v.ctid ") +
                           kUnheldVectors + " LIMIT $1) RETURNING octet_length(vector)",
                       n)) {
      ++out.vectors;
      out.vector_bytes += Int(r[0]);
    }
    return out;
  });
}

Result<bool> PostgresStore::ForgetBlob(std::string_view key) {
  return Transact("forget blob", [&](pqxx::work& w) -> Result<bool> {
    const std::string k(key);
    // Rows of this key locked first, so a revival committing meanwhile is seen.
    w.exec_params("SELECT 1 FROM documents WHERE blob_key = $1 FOR UPDATE", k);
    if (!w.exec_params("SELECT 1 FROM documents WHERE blob_key = $1 AND deleted_at = 0", k)
             .empty()) {
      return false;
    }
    w.exec_params("UPDATE documents SET blob_key = '' WHERE blob_key = $1 AND deleted_at <> 0", k);
    return true;
  });
}

}  // namespace ingest::store::postgres
