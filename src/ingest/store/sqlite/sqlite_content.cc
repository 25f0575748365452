// Parse cache, chunks, vectors and the searchable index.
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>
#include <utility>

#include "ingest/store/sqlite/documents_tx.h"
#include "ingest/store/sqlite/rows.h"
#include "ingest/store/sqlite/sqlite_store_impl.h"

namespace ingest::store::sqlite {
namespace {

std::string PagesToJson(const std::vector<PageText>& pages) {
  nlohmann::json arr = nlohmann::json::array();
  for (const PageText& p : pages) arr.push_back({{"page", p.page}, {"text", p.text}});
  // Parsed text may hold invalid UTF-8 from a broken file; keep bytes rather than throw.
  return arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::vector<PageText>> PagesFromJson(std::string_view text) {
  try {
    const nlohmann::json arr = nlohmann::json::parse(text);
    std::vector<PageText> pages;
    for (const auto& p : arr) {
      pages.push_back({p.at("page").get<int>(), p.at("text").get<std::string>()});
    }
    return pages;
  } catch (const nlohmann::json::exception& e) {
    return DataLoss(std::string("stored parse pages unreadable: ") + e.what(), "bad_row");
  }
}

Status CheckSpace(const VectorSpace& space) {
  if (space.model.empty() || space.dimensions <= 0) {
    return InvalidArgument("vector space needs a model and positive dimensions",
                           "bad_vector_space");
  }
  return Status::Ok();
}

Status DocumentDeleted(const Document& doc) {
  return FailedPrecondition("document " + doc.id + " was " + doc.deleted_reason,
                            "document_deleted");
}

}  // namespace

Result<std::optional<ParseRecord>> SqliteStore::GetParse(std::string_view file_sha256,
                                                         std::string_view parser,
                                                         std::string_view config_hash) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(
      Stmt q, conn->Prepare("SELECT pages_json, detail_json, created_at FROM parses WHERE "
                            "file_sha256 = ? AND parser = ? AND config_hash = ?"));
  q.Bind(1, file_sha256).Bind(2, parser).Bind(3, config_hash);
  INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<ParseRecord>();
  ParseRecord r;
  r.file_sha256 = std::string(file_sha256);
  r.parser = std::string(parser);
  r.config_hash = std::string(config_hash);
  INGEST_ASSIGN_OR_RETURN(r.pages, PagesFromJson(q.TextView(0)));
  r.detail_json = q.Text(1);
  r.created_at = q.Int(2);
  return std::optional<ParseRecord>(std::move(r));
}

Status SqliteStore::PutParse(const ParseRecord& record) {
  const std::string pages = PagesToJson(record.pages);
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(
      Stmt u, w->Prepare("INSERT INTO parses (file_sha256, parser, config_hash, pages_json, "
                         "detail_json, created_at) VALUES (?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT (file_sha256, parser, config_hash) DO UPDATE SET "
                         "pages_json = excluded.pages_json, detail_json = excluded.detail_json, "
                         "created_at = excluded.created_at"));
  u.Bind(1, record.file_sha256).Bind(2, record.parser).Bind(3, record.config_hash);
  u.Bind(4, pages).Bind(5, record.detail_json.empty() ? "{}" : record.detail_json);
  u.Bind(6, record.created_at != 0 ? record.created_at : Now());
  INGEST_RETURN_IF_ERROR(u.Exec());
  return w.txn->Commit();
}

// Deletes first, then upserts: a chunk set that re-uses an ordinal under a new id never
// collides with the row it replaces.
Status SqliteStore::ReplaceChunks(std::string_view document_id, std::span<const Chunk> chunks) {
  std::unordered_set<std::string_view> keep;
  for (const Chunk& c : chunks) {
    if (c.id.empty()) return InvalidArgument("chunk id must not be empty", "missing_id");
    if (!keep.insert(c.id).second) {
      return InvalidArgument("duplicate chunk id " + c.id, "duplicate_chunk");
    }
  }
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  {
    INGEST_ASSIGN_OR_RETURN(std::optional<Document> doc, FindDocumentIn(*w.conn, document_id));
    if (doc && doc->deleted_at != 0) return DocumentDeleted(*doc);
  }
  {
    std::vector<std::string> stale;
    INGEST_ASSIGN_OR_RETURN(Stmt q, w->Prepare("SELECT id FROM chunks WHERE document_id = ?"));
    q.Bind(1, document_id);
    for (;;) {
      INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      if (!keep.contains(q.TextView(0))) stale.push_back(q.Text(0));
    }
    for (const std::string& id : stale) {
      INGEST_ASSIGN_OR_RETURN(Stmt del, w->Prepare("DELETE FROM chunks WHERE id = ?"));
      INGEST_RETURN_IF_ERROR(del.Bind(1, id).Exec());
    }
  }
  static const std::string upsert =
      std::string("INSERT INTO chunks (") + std::string(kChunkColumns) +
      ") VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET "
      "document_id = excluded.document_id, "
      "ordinal = excluded.ordinal, text = excluded.text, "
      "text_sha256 = excluded.text_sha256, "
      "token_count = excluded.token_count, "
      "heading_path = excluded.heading_path, "
      "page_start = excluded.page_start, page_end = excluded.page_end";
  for (const Chunk& c : chunks) {
    INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare(upsert));
    u.Bind(1, c.id).Bind(2, document_id).Bind(3, c.ordinal).Bind(4, c.text);
    u.Bind(5, c.text_sha256).Bind(6, c.token_count).Bind(7, c.heading_path);
    u.Bind(8, c.page_start).Bind(9, c.page_end);
    INGEST_RETURN_IF_ERROR(u.Exec());
  }
  return w.txn->Commit();
}

Result<std::vector<Chunk>> SqliteStore::ListChunks(std::string_view document_id) {
  static const std::string sql = std::string("SELECT ") + std::string(kChunkColumns) +
                                 " FROM chunks WHERE document_id = ? ORDER BY ordinal, id";
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare(sql));
  q.Bind(1, document_id);
  std::vector<Chunk> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadChunk(q));
  }
  return out;
}

Result<std::vector<std::string>> SqliteStore::MissingVectors(
    const VectorSpace& space, std::span<const std::string> text_sha256s) {
  INGEST_RETURN_IF_ERROR(CheckSpace(space));
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(std::unique_ptr<Txn> txn, Txn::Begin(&*conn, Txn::Kind::kRead));
  std::vector<std::string> missing;
  std::unordered_set<std::string_view> seen;
  for (const std::string& h : text_sha256s) {
    if (!seen.insert(h).second) continue;
    INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare("SELECT 1 FROM vectors WHERE model = ? AND "
                                                  "dimensions = ? AND text_sha256 = ?"));
    q.Bind(1, space.model).Bind(2, space.dimensions).Bind(3, h);
    INGEST_ASSIGN_OR_RETURN(bool found, q.Step());
    if (!found) missing.push_back(h);
  }
  INGEST_RETURN_IF_ERROR(txn->Commit());
  return missing;
}

Result<std::vector<std::string>> SqliteStore::ClaimTexts(const VectorSpace& space,
                                                         std::span<const std::string> text_sha256s,
                                                         std::string_view owner, Duration ttl,
                                                         UnixMillis now) {
  INGEST_RETURN_IF_ERROR(CheckSpace(space));
  if (owner.empty()) return InvalidArgument("claim owner must not be empty", "missing_id");
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  std::vector<std::string> claimed;
  std::unordered_set<std::string_view> seen;
  for (const std::string& h : text_sha256s) {
    if (!seen.insert(h).second) continue;
    // Insert, or take over a claim that expired or is already ours; RETURNING says whether
    // the row is ours now.
    INGEST_ASSIGN_OR_RETURN(
        Stmt u, w->Prepare("INSERT INTO embed_claims (model, dimensions, text_sha256, owner, "
                           "expires_at) VALUES (?, ?, ?, ?, ?) "
                           "ON CONFLICT (model, dimensions, text_sha256) DO UPDATE SET "
                           "owner = excluded.owner, expires_at = excluded.expires_at "
                           "WHERE embed_claims.expires_at <= ? OR embed_claims.owner = ? "
                           "RETURNING 1"));
    u.Bind(1, space.model).Bind(2, space.dimensions).Bind(3, h).Bind(4, owner);
    u.Bind(5, now + ttl.count()).Bind(6, now).Bind(7, owner);
    INGEST_ASSIGN_OR_RETURN(bool mine, u.Step());
    if (mine) claimed.push_back(h);
  }
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return claimed;
}

Status SqliteStore::PutVectors(const VectorSpace& space, std::span<const StoredVector> vectors) {
  INGEST_RETURN_IF_ERROR(CheckSpace(space));
  for (const StoredVector& v : vectors) {
    if (v.values.size() != static_cast<size_t>(space.dimensions)) {
      return InvalidArgument("vector for " + v.text_sha256 + " has " +
                                 std::to_string(v.values.size()) + " values, space " + space.model +
                                 " has " + std::to_string(space.dimensions),
                             "wrong_dimensions");
    }
    if (v.text_sha256.empty()) return InvalidArgument("vector without text hash", "missing_id");
  }
  const UnixMillis now = Now();
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  for (const StoredVector& v : vectors) {
    INGEST_ASSIGN_OR_RETURN(
        Stmt u, w->Prepare("INSERT INTO vectors (model, dimensions, text_sha256, provider, "
                           "vector, created_at) VALUES (?, ?, ?, ?, ?, ?) "
                           "ON CONFLICT (model, dimensions, text_sha256) DO NOTHING"));
    const std::string blob = EncodeVector(v.values);
    u.Bind(1, space.model).Bind(2, space.dimensions).Bind(3, v.text_sha256).Bind(4, v.provider);
    u.BindBlob(5, blob.data(), blob.size()).Bind(6, now);
    INGEST_RETURN_IF_ERROR(u.Exec());
  }
  return w.txn->Commit();
}

Result<std::optional<StoredVector>> SqliteStore::GetVector(const VectorSpace& space,
                                                           std::string_view text_sha256) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare("SELECT provider, vector FROM vectors WHERE "
                                                "model = ? AND dimensions = ? AND "
                                                "text_sha256 = ?"));
  q.Bind(1, space.model).Bind(2, space.dimensions).Bind(3, text_sha256);
  INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<StoredVector>();
  StoredVector v;
  v.text_sha256 = std::string(text_sha256);
  v.provider = q.Text(0);
  INGEST_RETURN_IF_ERROR(DecodeVector(q.Blob(1), space.dimensions, &v.values));
  return std::optional<StoredVector>(std::move(v));
}

Result<std::optional<std::vector<float>>> SqliteStore::GetQueryVector(const VectorSpace& space,
                                                                      std::string_view text_sha256,
                                                                      UnixMillis now) {
  INGEST_RETURN_IF_ERROR(CheckSpace(space));
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(
      Stmt u, w->Prepare("UPDATE query_vectors SET last_used_at = MAX(last_used_at, ?1) "
                         "WHERE model = ?2 AND dimensions = ?3 AND text_sha256 = ?4 "
                         "RETURNING vector"));
  u.Bind(1, now).Bind(2, space.model).Bind(3, space.dimensions).Bind(4, text_sha256);
  INGEST_ASSIGN_OR_RETURN(bool row, u.Step());
  std::optional<std::vector<float>> out;
  if (row) {
    std::vector<float> values;
    INGEST_RETURN_IF_ERROR(DecodeVector(u.Blob(0), space.dimensions, &values));
    out = std::move(values);
  }
  INGEST_RETURN_IF_ERROR(u.Exec());
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return out;
}

Status SqliteStore::PutQueryVector(const VectorSpace& space, std::string_view text_sha256,
                                   std::span<const float> vector, int64_t max_entries,
                                   UnixMillis now) {
  INGEST_RETURN_IF_ERROR(CheckSpace(space));
  if (vector.size() != static_cast<size_t>(space.dimensions)) {
    return InvalidArgument("query vector has " + std::to_string(vector.size()) + " values, space " +
                               space.model + " has " + std::to_string(space.dimensions),
                           "wrong_dimensions");
  }
  if (text_sha256.empty()) return InvalidArgument("vector without text hash", "missing_id");
  if (max_entries < 1) return InvalidArgument("max_entries must be >= 1", "invalid_limit");
  const std::string blob = EncodeVector(vector);
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  {
    INGEST_ASSIGN_OR_RETURN(
        Stmt u, w->Prepare("INSERT INTO query_vectors (model, dimensions, text_sha256, vector, "
                           "created_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) "
                           "ON CONFLICT (model, dimensions, text_sha256) DO UPDATE SET "
                           "last_used_at = MAX(last_used_at, excluded.last_used_at)"));
    u.Bind(1, space.model).Bind(2, space.dimensions).Bind(3, text_sha256);
    u.BindBlob(4, blob.data(), blob.size()).Bind(5, now);
    INGEST_RETURN_IF_ERROR(u.Exec());
  }
  {
    // Everything past the newest max_entries rows goes, least recently used first.
    INGEST_ASSIGN_OR_RETURN(
        Stmt d, w->Prepare("DELETE FROM query_vectors WHERE rowid IN (SELECT rowid FROM "
                           "query_vectors ORDER BY last_used_at DESC, model, dimensions, "
                           "text_sha256 LIMIT -1 OFFSET ?1)"));
    d.Bind(1, max_entries);
    INGEST_RETURN_IF_ERROR(d.Exec());
  }
  return w.txn->Commit();
}

Status SqliteStore::MarkIndexed(std::string_view document_id, const VectorSpace& space,
                                UnixMillis now) {
  INGEST_RETURN_IF_ERROR(CheckSpace(space));
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(std::optional<Document> doc, FindDocumentIn(*w.conn, document_id));
  if (!doc) return NotFound("document " + std::string(document_id) + " not found");
  if (doc->deleted_at != 0) return DocumentDeleted(*doc);
  {
    INGEST_ASSIGN_OR_RETURN(
        Stmt q, w->Prepare("SELECT COUNT(*) FROM chunks c WHERE c.document_id = ? AND NOT "
                           "EXISTS (SELECT 1 FROM vectors v WHERE v.model = ? AND "
                           "v.dimensions = ? AND v.text_sha256 = c.text_sha256)"));
    q.Bind(1, document_id).Bind(2, space.model).Bind(3, space.dimensions);
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    const int64_t missing = row ? q.Int(0) : 0;
    if (missing > 0) {
      return FailedPrecondition(std::to_string(missing) + " chunk(s) of document " +
                                    std::string(document_id) + " have no vector in " + space.model,
                                "missing_vectors");
    }
  }
  if (!doc->external_id.empty()) {
    // A newer version got here first (versions processed out of order): this one never shows.
    INGEST_ASSIGN_OR_RETURN(
        Stmt q, w->Prepare("SELECT 1 FROM documents o JOIN document_index di ON di.document_id "
                           "= o.id WHERE o.tenant = ? AND o.external_id = ? AND o.version > ? "
                           "AND o.deleted_at = 0 LIMIT 1"));
    q.Bind(1, doc->tenant).Bind(2, doc->external_id).Bind(3, doc->version);
    INGEST_ASSIGN_OR_RETURN(bool newer, q.Step());
    if (newer) {
      INGEST_RETURN_IF_ERROR(DeleteDocumentIn(*w.conn, *doc, "superseded", now).status());
      return w.txn->Commit();
    }
  }
  INGEST_ASSIGN_OR_RETURN(
      Stmt u, w->Prepare("INSERT INTO document_index (document_id, model, dimensions, "
                         "indexed_at) VALUES (?, ?, ?, ?) ON CONFLICT (document_id, model, "
                         "dimensions) DO UPDATE SET indexed_at = excluded.indexed_at"));
  u.Bind(1, document_id).Bind(2, space.model).Bind(3, space.dimensions).Bind(4, now);
  INGEST_RETURN_IF_ERROR(u.Exec());
  // The version swap: older versions leave the index in the transaction that adds this one.
  INGEST_RETURN_IF_ERROR(SupersedeOlderIn(*w.conn, *doc, now));
  return w.txn->Commit();
}

// Streams row by row inside one read transaction: a consistent snapshot (WAL) that never
// blocks writers, and memory bounded by one row whatever the index size.
Status SqliteStore::ScanIndex(const VectorSpace& space, const IndexFilter& filter,
                              const std::function<void(const IndexedChunk&)>& fn) {
  INGEST_RETURN_IF_ERROR(CheckSpace(space));
  SqlConditions c;
  if (filter.tenant) {
    c.sql += " AND d.tenant = ?";
    c.params.push_back(*filter.tenant);
  }
  if (filter.document_id) {
    c.sql += " AND di.document_id = ?";
    c.params.push_back(*filter.document_id);
  }
  if (filter.external_id_prefix) {
    c.sql += " AND d.external_id <> '' AND substr(d.external_id, 1, length(?)) = ?";
    c.params.insert(c.params.end(), {*filter.external_id_prefix, *filter.external_id_prefix});
  }
  INGEST_RETURN_IF_ERROR(AppendMetadataConditions(filter.metadata, &c));
  const std::string sql =
      "SELECT c.id, c.document_id, c.ordinal, c.text, c.text_sha256, c.token_count, "
      "c.heading_path, c.page_start, c.page_end, d.filename, v.vector, d.external_id, "
      "d.metadata FROM document_index di JOIN documents d ON d.id = di.document_id "
      "JOIN chunks c ON c.document_id = di.document_id "
      "JOIN vectors v ON v.model = di.model AND v.dimensions = di.dimensions AND "
      "v.text_sha256 = c.text_sha256 "
      "WHERE di.model = ? AND di.dimensions = ?" +
      c.sql + " ORDER BY di.document_id, c.ordinal";
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(std::unique_ptr<Txn> txn, Txn::Begin(&*conn, Txn::Kind::kRead));
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare(sql));
  q.Bind(1, space.model).Bind(2, space.dimensions);
  int i = 3;
  for (const std::string& p : c.params) q.Bind(i++, p);
  std::vector<float> values;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    const Chunk chunk = ReadChunk(q);
    // Copied: a SQLite blob pointer carries no float alignment guarantee.
    INGEST_RETURN_IF_ERROR(DecodeVector(q.Blob(kChunkColumnCount + 1), space.dimensions, &values));
    const IndexedChunk item{&chunk, q.TextView(kChunkColumnCount), values.data(),
                            q.TextView(kChunkColumnCount + 2), q.TextView(kChunkColumnCount + 3)};
    fn(item);
  }
  return txn->Commit();
}

Result<std::vector<IndexedSpace>> SqliteStore::ListIndexedSpaces(
    std::optional<std::string_view> tenant) {
  static const std::string sql =
      "SELECT di.model, di.dimensions, COUNT(*) FROM document_index di "
      "JOIN documents d ON d.id = di.document_id WHERE (?1 IS NULL OR d.tenant = ?1) "
      "GROUP BY di.model, di.dimensions ORDER BY COUNT(*) DESC, di.model, di.dimensions";
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare(sql));
  if (tenant) {
    q.Bind(1, *tenant);
  } else {
    q.BindNull(1);
  }
  std::vector<IndexedSpace> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(IndexedSpace{VectorSpace{q.Text(0), static_cast<int>(q.Int(1))}, q.Int(2)});
  }
  return out;
}

}  // namespace ingest::store::sqlite
