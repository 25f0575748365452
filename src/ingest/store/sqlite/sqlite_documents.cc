// Documents as a living collection: listing, deletion (tombstones) and orphan blobs.
#include <string>
#include <utility>

#include "ingest/store/metadata.h"
#include "ingest/store/sqlite/documents_tx.h"
#include "ingest/store/sqlite/rows.h"
#include "ingest/store/sqlite/sqlite_store_impl.h"

namespace ingest::store::sqlite {
namespace {

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

Result<std::optional<Document>> FindDocumentIn(Connection& conn, std::string_view id) {
  static const std::string sql =
      std::string("SELECT ") + std::string(kDocumentColumns) + " FROM documents WHERE id = ?";
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn.Prepare(sql));
  q.Bind(1, id);
  INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Document>();
  return std::optional<Document>(ReadDocument(q));
}

Result<int> NextVersionIn(Connection& conn, std::string_view tenant, std::string_view external_id) {
  if (external_id.empty()) return 1;
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn.Prepare("SELECT COALESCE(MAX(version), 0) FROM documents "
                                               "WHERE tenant = ? AND external_id = ?"));
  q.Bind(1, tenant).Bind(2, external_id);
  INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
  return static_cast<int>(row ? q.Int(0) : 0) + 1;
}

Status AppendMetadataConditions(const std::vector<MetadataEquals>& metadata, SqlConditions* out) {
  for (const MetadataEquals& m : metadata) {
    INGEST_RETURN_IF_ERROR(ValidateMetadataKey(m.key));
    // json_type tells a string "1" from the number 1 and true from 1, which json_extract's SQL
    // values alone do not.
    out->sql +=
        " AND json_type(d.metadata, ?) = json_type(?) AND json_extract(d.metadata, ?) = "
        "json_extract(?, '$')";
    const std::string path = "$.\"" + m.key + "\"";
    out->params.insert(out->params.end(), {path, m.value_json, path, m.value_json});
  }
  return Status::Ok();
}

// Vectors go only when no chunk of any document (live, or a version still being processed)
// holds their text: the vector cache is shared, and an unchanged chunk of the next version
// must not be re-embedded.
Result<DeletedDocument> DeleteDocumentIn(Connection& conn, const Document& doc,
                                         std::string_view reason, UnixMillis now) {
  DeletedDocument out;
  out.document = doc;
  std::vector<std::string> texts;
  {
    INGEST_ASSIGN_OR_RETURN(
        Stmt q, conn.Prepare("SELECT DISTINCT text_sha256 FROM chunks WHERE document_id = ?"));
    q.Bind(1, doc.id);
    for (;;) {
      INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      texts.push_back(q.Text(0));
    }
  }
  {
    INGEST_ASSIGN_OR_RETURN(Stmt d,
                            conn.Prepare("DELETE FROM document_index WHERE document_id = ?"));
    INGEST_RETURN_IF_ERROR(d.Bind(1, doc.id).Exec());
  }
  {
    INGEST_ASSIGN_OR_RETURN(Stmt d, conn.Prepare("DELETE FROM chunks WHERE document_id = ?"));
    INGEST_RETURN_IF_ERROR(d.Bind(1, doc.id).Exec());
    out.chunks = d.Changes();
  }
  for (const std::string& h : texts) {
    INGEST_ASSIGN_OR_RETURN(
        Stmt d, conn.Prepare("DELETE FROM vectors WHERE text_sha256 = ?1 AND NOT EXISTS "
                             "(SELECT 1 FROM chunks WHERE text_sha256 = ?1)"));
    INGEST_RETURN_IF_ERROR(d.Bind(1, h).Exec());
    out.vectors += d.Changes();
  }
  {
    INGEST_ASSIGN_OR_RETURN(
        Stmt d, conn.Prepare("DELETE FROM parses WHERE file_sha256 = ?1 AND NOT EXISTS (SELECT 1 "
                             "FROM documents WHERE sha256 = ?1 AND deleted_at = 0 AND id <> ?2)"));
    INGEST_RETURN_IF_ERROR(d.Bind(1, doc.sha256).Bind(2, doc.id).Exec());
    out.parse_removed = d.Changes() > 0;
  }
  INGEST_ASSIGN_OR_RETURN(
      Stmt u, conn.Prepare("UPDATE documents SET deleted_at = ?1, deleted_reason = ?2, "
                           "metadata = '{}', updated_at = ?3, filename = CASE WHEN ?2 = "
                           "'superseded' THEN filename ELSE '' END, external_id = CASE "
                           "WHEN ?2 = 'superseded' THEN external_id ELSE '' END "
                           "WHERE id = ?4"));
  u.Bind(1, now).Bind(2, reason).Bind(3, now).Bind(4, doc.id);
  INGEST_RETURN_IF_ERROR(u.Exec());
  return out;
}

Status SupersedeOlderIn(Connection& conn, const Document& doc, UnixMillis now) {
  if (doc.external_id.empty()) return Status::Ok();
  std::vector<Document> older;
  {
    static const std::string sql =
        std::string("SELECT ") + std::string(kDocumentColumns) +
        " FROM documents WHERE tenant = ? AND external_id = ? AND version < ? AND deleted_at = 0";
    INGEST_ASSIGN_OR_RETURN(Stmt q, conn.Prepare(sql));
    q.Bind(1, doc.tenant).Bind(2, doc.external_id).Bind(3, doc.version);
    for (;;) {
      INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      older.push_back(ReadDocument(q));
    }
  }
  for (const Document& o : older) {
    INGEST_RETURN_IF_ERROR(DeleteDocumentIn(conn, o, "superseded", now).status());
  }
  return Status::Ok();
}

Result<DeletedDocument> SqliteStore::DeleteDocument(std::string_view document_id,
                                                    std::string_view reason, UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(std::optional<Document> doc, FindDocumentIn(*w.conn, document_id));
  if (!doc || doc->deleted_at != 0) {
    return NotFound("document " + std::string(document_id) + " not found");
  }
  INGEST_ASSIGN_OR_RETURN(DeletedDocument out, DeleteDocumentIn(*w.conn, *doc, reason, now));
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return out;
}

Result<std::vector<DocumentListing>> SqliteStore::ListDocuments(const DocumentFilter& filter) {
  static const std::string select =
      "SELECT " + Qualified(kDocumentColumns, "d") + ", " + Qualified(kJobColumns, "j") +
      " FROM documents d LEFT JOIN jobs j ON j.id = (SELECT id FROM jobs WHERE document_id = "
      "d.id ORDER BY created_at DESC, id DESC LIMIT 1) WHERE d.deleted_at = 0";
  SqlConditions c;
  if (filter.tenant) {
    c.sql += " AND d.tenant = ?";
    c.params.push_back(*filter.tenant);
  }
  if (filter.state) {
    c.sql += " AND j.state = ?";
    c.params.emplace_back(JobStateName(*filter.state));
  }
  if (filter.external_id) {
    c.sql += " AND d.external_id = ?";
    c.params.push_back(*filter.external_id);
  }
  if (filter.external_id_prefix) {
    c.sql += " AND d.external_id <> '' AND substr(d.external_id, 1, length(?)) = ?";
    c.params.insert(c.params.end(), {*filter.external_id_prefix, *filter.external_id_prefix});
  }
  INGEST_RETURN_IF_ERROR(AppendMetadataConditions(filter.metadata, &c));
  // Integer bounds follow the text parameters.
  std::string sql = select + c.sql;
  if (filter.created_from > 0) sql += " AND d.created_at >= ?";
  if (filter.created_until > 0) sql += " AND d.created_at < ?";
  if (filter.before) sql += " AND (d.created_at < ? OR (d.created_at = ? AND d.id < ?))";
  sql += " ORDER BY d.created_at DESC, d.id DESC LIMIT ?";

  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare(sql));
  int i = 1;
  for (const std::string& p : c.params) q.Bind(i++, p);
  if (filter.created_from > 0) q.Bind(i++, filter.created_from);
  if (filter.created_until > 0) q.Bind(i++, filter.created_until);
  if (filter.before) {
    q.Bind(i, filter.before->first);
    q.Bind(i + 1, filter.before->first);
    q.Bind(i + 2, filter.before->second);
    i += 3;
  }
  q.Bind(i++, static_cast<int64_t>(filter.limit > 0 ? filter.limit : -1));
  std::vector<DocumentListing> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    DocumentListing l;
    l.document = ReadDocument(q);
    if (!q.IsNull(kDocumentColumnCount)) {
      INGEST_ASSIGN_OR_RETURN(Job j, ReadJob(q, kDocumentColumnCount));
      l.job = std::move(j);
    }
    out.push_back(std::move(l));
  }
  return out;
}

Result<int64_t> SqliteStore::PurgeUnheldContent(std::string_view file_sha256,
                                                std::span<const std::string> text_sha256s) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  int64_t removed = 0;
  {
    INGEST_ASSIGN_OR_RETURN(
        Stmt d, w->Prepare("DELETE FROM parses WHERE file_sha256 = ?1 AND NOT EXISTS (SELECT 1 "
                           "FROM documents WHERE sha256 = ?1 AND deleted_at = 0)"));
    INGEST_RETURN_IF_ERROR(d.Bind(1, file_sha256).Exec());
    removed += d.Changes();
  }
  for (const std::string& h : text_sha256s) {
    INGEST_ASSIGN_OR_RETURN(Stmt d,
                            w->Prepare("DELETE FROM vectors WHERE text_sha256 = ?1 AND NOT EXISTS "
                                       "(SELECT 1 FROM chunks WHERE text_sha256 = ?1)"));
    INGEST_RETURN_IF_ERROR(d.Bind(1, h).Exec());
    removed += d.Changes();
  }
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return removed;
}

Result<std::vector<std::string>> SqliteStore::ListOrphanBlobs(int limit) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(
      Stmt q, conn->Prepare("SELECT DISTINCT t.blob_key FROM documents t WHERE t.deleted_at <> 0 "
                            "AND t.blob_key <> '' AND NOT EXISTS (SELECT 1 FROM documents l "
                            "WHERE l.blob_key = t.blob_key AND l.deleted_at = 0) "
                            "ORDER BY t.blob_key LIMIT ?"));
  q.Bind(1, static_cast<int64_t>(limit > 0 ? limit : -1));
  std::vector<std::string> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(q.Text(0));
  }
  return out;
}

namespace {

constexpr const char* kUnheldParses =
    "FROM parses p WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.sha256 = p.file_sha256 "
    "AND d.deleted_at = 0)";
constexpr const char* kUnheldVectors =
    "FROM vectors v WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.text_sha256 = "
    "v.text_sha256)";

}  // namespace

Result<UnheldContent> SqliteStore::CountUnheldContent() {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  UnheldContent out;
  INGEST_ASSIGN_OR_RETURN(
      Stmt p, conn->Prepare(std::string("SELECT COUNT(*), COALESCE(SUM(length(p.pages_json) + "
                                        "length(p.detail_json)), 0) ") +
                            kUnheldParses));
  INGEST_ASSIGN_OR_RETURN(bool prow, p.Step());
  if (prow) {
    out.parses = p.Int(0);
    out.parse_bytes = p.Int(1);
  }
  INGEST_ASSIGN_OR_RETURN(
      Stmt v, conn->Prepare(std::string("SELECT COUNT(*), COALESCE(SUM(length(v.vector)), 0) ") +
                            kUnheldVectors));
  INGEST_ASSIGN_OR_RETURN(bool vrow, v.Step());
  if (vrow) {
    out.vectors = v.Int(0);
    out.vector_bytes = v.Int(1);
  }
  return out;
}

Result<UnheldContent> SqliteStore::DeleteUnheldContent(int limit) {
  // One write transaction: SQLite's single writer orders it with chunk writes, so a vector
  // whose chunk commits first is held (kept) and one deleted first is embedded again.
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  UnheldContent out;
  const int64_t n = limit > 0 ? limit : -1;
  {
    INGEST_ASSIGN_OR_RETURN(
        Stmt d, w->Prepare(std::string("DELETE FROM parses WHERE rowid IN (SELECT p.rowid ") +
                           kUnheldParses +
                           " LIMIT ?1) RETURNING length(pages_json) + length(detail_json)"));
    d.Bind(1, n);
    for (;;) {
      INGEST_ASSIGN_OR_RETURN(bool row, d.Step());
      if (!row) break;
      ++out.parses;
      out.parse_bytes += d.Int(0);
    }
  }
  {
    INGEST_ASSIGN_OR_RETURN(
        Stmt d, w->Prepare(std::string("DELETE FROM vectors WHERE rowid IN (SELECT v.rowid ") +
                           kUnheldVectors + " LIMIT ?1) RETURNING length(vector)"));
    d.Bind(1, n);
    for (;;) {
      INGEST_ASSIGN_OR_RETURN(bool row, d.Step());
      if (!row) break;
      ++out.vectors;
      out.vector_bytes += d.Int(0);
    }
  }
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return out;
}

Result<bool> SqliteStore::ForgetBlob(std::string_view key) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  {
    INGEST_ASSIGN_OR_RETURN(
        Stmt q, w->Prepare("SELECT 1 FROM documents WHERE blob_key = ? AND deleted_at = 0"));
    q.Bind(1, key);
    INGEST_ASSIGN_OR_RETURN(bool live, q.Step());
    if (live) return false;
  }
  INGEST_ASSIGN_OR_RETURN(Stmt u,
                          w->Prepare("UPDATE documents SET blob_key = '' WHERE blob_key = ? AND "
                                     "deleted_at <> 0"));
  INGEST_RETURN_IF_ERROR(u.Bind(1, key).Exec());
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return true;
}

}  // namespace ingest::store::sqlite
