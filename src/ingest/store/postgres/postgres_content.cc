// Parse cache, chunks, vectors and the searchable index.
//
// Chunks and vectors are written as multi-row statements (one round trip per kBatchRows rows,
// not one per row): values are quoted by libpq (PQescapeStringConn / bytea hex), which keeps
// the statement size bounded and needs no array-literal escaping.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <pqxx/binarystring>
#include <string>
#include <unordered_set>
#include <utility>

#include "ingest/store/postgres/documents_tx.h"
#include "ingest/store/postgres/postgres_store_impl.h"
#include "ingest/store/postgres/rows.h"

namespace ingest::store::postgres {
namespace {

constexpr size_t kBatchRows = 1000;

std::string PagesToJson(const std::vector<PageText>& pages) {
  nlohmann::json arr = nlohmann::json::array();
  for (const PageText& p : pages) arr.push_back({{"page", p.page}, {"text", p.text}});
  // Parsed text may hold invalid UTF-8 from a broken file; replace rather than throw.
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

std::string QuoteBytes(pqxx::work& w, std::string_view bytes) {
  return w.quote_raw(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) +
         "::bytea";
}

Status DocumentDeleted(const Document& doc) {
  return FailedPrecondition("document " + doc.id + " was " + doc.deleted_reason,
                            "document_deleted");
}

}  // namespace

// Why: a table that grew fast has no (or stale) planner statistics until autovacuum's next
// ANALYZE, up to a minute later. Meanwhile PostgreSQL estimates the vectors lookup by (model,
// dimensions) at one row and plans ScanIndex and MarkIndexed as nested loops that are quadratic
// in the table size (measured: 45 s to scan 10k freshly written chunks, 0.1 s after ANALYZE).
// So a bulk write refreshes the statistics itself once the rows modified since the last
// ANALYZE reach the table's size: O(log n) ANALYZEs over a table's life, each a fixed-size
// sample. Run after the write commits, so no lock is held with the written rows; a failure
// only costs plan quality and is ignored.
void PostgresStore::AnalyzeIfGrown(std::string_view table, size_t rows_written) {
  constexpr size_t kAnalyzeMinRows = 1000;
  if (rows_written < kAnalyzeMinRows) return;
  Transact("analyze", [&](pqxx::work& w) -> Status {
    pqxx::result r = w.exec_params(
        "SELECT GREATEST(c.reltuples, 0), COALESCE(s.n_mod_since_analyze, 0) FROM pg_class c "
        "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = to_regclass($1)",
        std::string(table));
    if (r.empty()) return Status::Ok();
    const double tuples = r[0][0].as<double>();
    const double modified = r[0][1].as<double>() + static_cast<double>(rows_written);
    if (modified >= tuples) w.exec("ANALYZE " + w.quote_name(std::string(table)));
    return Status::Ok();
  }).IgnoreError();
}

Result<std::optional<ParseRecord>> PostgresStore::GetParse(std::string_view file_sha256,
                                                           std::string_view parser,
                                                           std::string_view config_hash) {
  return Transact("get parse", [&](pqxx::work& w) -> Result<std::optional<ParseRecord>> {
    pqxx::result r = w.exec_params(
        "SELECT pages_json, detail_json, created_at FROM parses WHERE file_sha256 = $1 AND "
        "parser = $2 AND config_hash = $3",
        std::string(file_sha256), std::string(parser), std::string(config_hash));
    if (r.empty()) return std::optional<ParseRecord>();
    ParseRecord rec;
    rec.file_sha256 = std::string(file_sha256);
    rec.parser = std::string(parser);
    rec.config_hash = std::string(config_hash);
    INGEST_ASSIGN_OR_RETURN(rec.pages, PagesFromJson(TextView(r[0][0])));
    rec.detail_json = Text(r[0][1]);
    rec.created_at = Int(r[0][2]);
    return std::optional<ParseRecord>(std::move(rec));
  });
}

Status PostgresStore::PutParse(const ParseRecord& record) {
  const std::string pages = PagesToJson(record.pages);
  const std::string detail = record.detail_json.empty() ? "{}" : record.detail_json;
  const UnixMillis created = record.created_at != 0 ? record.created_at : Now();
  return Transact("put parse", [&](pqxx::work& w) -> Status {
    w.exec_params(
        "INSERT INTO parses (file_sha256, parser, config_hash, pages_json, detail_json, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (file_sha256, parser, config_hash) DO UPDATE SET "
        "pages_json = excluded.pages_json, detail_json = excluded.detail_json, "
        "created_at = excluded.created_at",
        record.file_sha256, record.parser, record.config_hash, pages, detail, created);
    return Status::Ok();
  });
}

// Deletes the stale rows first, then upserts the set in batches: a chunk set that re-uses an
// ordinal under a new id never collides with the row it replaces.
Status PostgresStore::ReplaceChunks(std::string_view document_id, std::span<const Chunk> chunks) {
  std::unordered_set<std::string_view> keep;
  for (const Chunk& c : chunks) {
    if (c.id.empty()) return InvalidArgument("chunk id must not be empty", "missing_id");
    if (!keep.insert(c.id).second) {
      return InvalidArgument("duplicate chunk id " + c.id, "duplicate_chunk");
    }
  }
  const std::string doc(document_id);
  Status written = Transact("replace chunks", [&](pqxx::work& w) -> Status {
    LockChunkWrites(w, /*exclusive=*/false);
    if (std::optional<Document> d = FindDocumentIn(w, doc); d && d->deleted_at != 0) {
      return DocumentDeleted(*d);
    }
    pqxx::result existing = w.exec_params("SELECT id FROM chunks WHERE document_id = $1", doc);
    std::string stale;
    for (const pqxx::row& row : existing) {
      if (keep.contains(TextView(row[0]))) continue;
      if (!stale.empty()) stale += ',';
      stale += w.quote(Text(row[0]));
    }
    if (!stale.empty()) w.exec("DELETE FROM chunks WHERE id IN (" + stale + ")");

    static const std::string head = Cat({"INSERT INTO chunks (", kChunkColumns, ") VALUES "});
    static const std::string tail =
        " ON CONFLICT (id) DO UPDATE SET document_id = excluded.document_id, "
        "ordinal = excluded.ordinal, text = excluded.text, text_sha256 = excluded.text_sha256, "
        "token_count = excluded.token_count, heading_path = excluded.heading_path, "
        "page_start = excluded.page_start, page_end = excluded.page_end";
    const std::string quoted_doc = w.quote(doc);
    for (size_t begin = 0; begin < chunks.size(); begin += kBatchRows) {
      const size_t end = std::min(chunks.size(), begin + kBatchRows);
      std::string sql = head;
      for (size_t i = begin; i < end; ++i) {
        const Chunk& c = chunks[i];
        if (i != begin) sql += ',';
        sql += '(';
        sql += w.quote(c.id) + ',' + quoted_doc + ',' + std::to_string(c.ordinal) + ',' +
               w.quote(c.text) + ',' + w.quote(c.text_sha256) + ',' +
               std::to_string(c.token_count) + ',' + w.quote(c.heading_path) + ',' +
               std::to_string(c.page_start) + ',' + std::to_string(c.page_end);
        sql += ')';
      }
      sql += tail;
      w.exec(sql);
    }
    return Status::Ok();
  });
  if (written.ok()) AnalyzeIfGrown("chunks", chunks.size());
  return written;
}

Result<std::vector<Chunk>> PostgresStore::ListChunks(std::string_view document_id) {
  static const std::string sql =
      Cat({"SELECT ", kChunkColumns, " FROM chunks WHERE document_id = $1 ORDER BY ordinal, id"});
  return Transact("list chunks", [&](pqxx::work& w) -> Result<std::vector<Chunk>> {
    pqxx::result r = w.exec_params(sql, std::string(document_id));
    std::vector<Chunk> out;
    out.reserve(r.size());
    for (const pqxx::row& row : r) out.push_back(ReadChunk(row));
    return out;
  });
}

Result<std::vector<std::string>> PostgresStore::MissingVectors(
    const VectorSpace& space, std::span<const std::string> text_sha256s) {
  INGEST_RETURN_IF_ERROR(CheckSpace(space));
  return Transact("missing vectors", [&](pqxx::work& w) -> Result<std::vector<std::string>> {
    std::unordered_set<std::string> present;
    for (size_t begin = 0; begin < text_sha256s.size(); begin += kBatchRows) {
      const size_t end = std::min(text_sha256s.size(), begin + kBatchRows);
      std::string list;
      for (size_t i = begin; i < end; ++i) {
        if (i != begin) list += ',';
        list += w.quote(text_sha256s[i]);
      }
      pqxx::result r =
          w.exec("SELECT text_sha256 FROM vectors WHERE model = " + w.quote(space.model) +
                 " AND dimensions = " + std::to_string(space.dimensions) + " AND text_sha256 IN (" +
                 list + ")");
      for (const pqxx::row& row : r) present.insert(Text(row[0]));
    }
    std::vector<std::string> missing;
    std::unordered_set<std::string_view> seen;
    for (const std::string& h : text_sha256s) {
      if (!seen.insert(h).second) continue;
      if (!present.contains(h)) missing.push_back(h);
    }
    return missing;
  });
}

Result<std::vector<std::string>> PostgresStore::ClaimTexts(
    const VectorSpace& space, std::span<const std::string> text_sha256s, std::string_view owner,
    Duration ttl, UnixMillis now) {
  INGEST_RETURN_IF_ERROR(CheckSpace(space));
  if (owner.empty()) return InvalidArgument("claim owner must not be empty", "missing_id");
  // Rows are locked in one global order (sorted hashes), so concurrent claimers of
  // overlapping sets wait for each other instead of deadlocking.
  std::vector<std::string> sorted(text_sha256s.begin(), text_sha256s.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  return Transact("claim texts", [&](pqxx::work& w) -> Result<std::vector<std::string>> {
    std::unordered_set<std::string> mine;
    for (size_t begin = 0; begin < sorted.size(); begin += kBatchRows) {
      const size_t end = std::min(sorted.size(), begin + kBatchRows);
      std::string values;
      for (size_t i = begin; i < end; ++i) {
        if (!values.empty()) values += ',';
        values += "(" + w.quote(space.model) + "," + std::to_string(space.dimensions) + "," +
                  w.quote(sorted[i]) + "," + w.quote(std::string(owner)) + "," +
                  std::to_string(now + ttl.count()) + ")";
      }
      // Insert, or take over a claim that expired or is already ours; the rows returned are
      // the ones this owner holds now. Row locks make concurrent claims of a text serialise.
      pqxx::result r = w.exec(
          "INSERT INTO embed_claims (model, dimensions, text_sha256, owner, expires_at) VALUES " +
          values +
          " ON CONFLICT (model, dimensions, text_sha256) DO UPDATE SET owner = EXCLUDED.owner, "
          "expires_at = EXCLUDED.expires_at WHERE embed_claims.expires_at <= " +
          std::to_string(now) + " OR embed_claims.owner = EXCLUDED.owner RETURNING text_sha256");
      for (const pqxx::row& row : r) mine.insert(Text(row[0]));
    }
    std::vector<std::string> claimed;
    std::unordered_set<std::string_view> seen;
    for (const std::string& h : text_sha256s) {
      if (seen.insert(h).second && mine.contains(h)) claimed.push_back(h);
    }
    return claimed;
  });
}

Status PostgresStore::PutVectors(const VectorSpace& space, std::span<const StoredVector> vectors) {
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
  if (vectors.empty()) return Status::Ok();
  const std::string now = std::to_string(Now());
  Status written = Transact("put vectors", [&](pqxx::work& w) -> Status {
    const std::string space_cols =
        w.quote(space.model) + ',' + std::to_string(space.dimensions) + ',';
    for (size_t begin = 0; begin < vectors.size(); begin += kBatchRows) {
      const size_t end = std::min(vectors.size(), begin + kBatchRows);
      std::string sql =
          "INSERT INTO vectors (model, dimensions, text_sha256, provider, vector, created_at) "
          "VALUES ";
      for (size_t i = begin; i < end; ++i) {
        const StoredVector& v = vectors[i];
        if (i != begin) sql += ',';
        sql += '(' + space_cols + w.quote(v.text_sha256) + ',' + w.quote(v.provider) + ',' +
               QuoteBytes(w, EncodeVector(v.values)) + ',' + now + ')';
      }
      // First write wins: a vector is a pure function of (model, dimensions, text).
      sql += " ON CONFLICT (model, dimensions, text_sha256) DO NOTHING";
      w.exec(sql);
    }
    return Status::Ok();
  });
  if (written.ok()) AnalyzeIfGrown("vectors", vectors.size());
  return written;
}

Result<std::optional<StoredVector>> PostgresStore::GetVector(const VectorSpace& space,
                                                             std::string_view text_sha256) {
  return Transact("get vector", [&](pqxx::work& w) -> Result<std::optional<StoredVector>> {
    pqxx::result r = w.exec_params(
        "SELECT provider, vector FROM vectors WHERE model = $1 AND dimensions = $2 AND "
        "text_sha256 = $3",
        space.model, space.dimensions, std::string(text_sha256));
    if (r.empty()) return std::optional<StoredVector>();
    StoredVector v;
    v.text_sha256 = std::string(text_sha256);
    v.provider = Text(r[0][0]);
    const pqxx::binarystring blob(r[0][1]);
    INGEST_RETURN_IF_ERROR(
        DecodeVector(std::string_view(blob.get(), blob.size()), space.dimensions, &v.values));
    return std::optional<StoredVector>(std::move(v));
  });
}

Result<std::optional<std::vector<float>>> PostgresStore::GetQueryVector(
    const VectorSpace& space, std::string_view text_sha256, UnixMillis now) {
  INGEST_RETURN_IF_ERROR(CheckSpace(space));
  return Transact(
      "get query vector", [&](pqxx::work& w) -> Result<std::optional<std::vector<float>>> {
        pqxx::result r = w.exec_params(
            "UPDATE query_vectors SET last_used_at = GREATEST(last_used_at, $1) "
            "WHERE model = $2 AND dimensions = $3 AND text_sha256 = $4 "
            "RETURNING vector",
            now, space.model, space.dimensions, std::string(text_sha256));
        if (r.empty()) return std::optional<std::vector<float>>();
        const pqxx::binarystring blob(r[0][0]);
        std::vector<float> values;
        INGEST_RETURN_IF_ERROR(
            DecodeVector(std::string_view(blob.get(), blob.size()), space.dimensions, &values));
        return std::optional<std::vector<float>>(std::move(values));
      });
}

Status PostgresStore::PutQueryVector(const VectorSpace& space, std::string_view text_sha256,
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
  return Transact("put query vector", [&](pqxx::work& w) -> Status {
    w.exec(
        "INSERT INTO query_vectors (model, dimensions, text_sha256, vector, created_at, "
        "last_used_at) VALUES (" +
        w.quote(space.model) + ',' + std::to_string(space.dimensions) + ',' +
        w.quote(std::string(text_sha256)) + ',' + QuoteBytes(w, EncodeVector(vector)) + ',' +
        std::to_string(now) + ',' + std::to_string(now) +
        ") ON CONFLICT (model, dimensions, text_sha256) DO UPDATE SET "
        "last_used_at = GREATEST(query_vectors.last_used_at, EXCLUDED.last_used_at)");
    // Everything past the newest max_entries rows goes, least recently used first.
    w.exec_params(
        "DELETE FROM query_vectors q USING (SELECT model, dimensions, text_sha256 FROM "
        "query_vectors ORDER BY last_used_at DESC, model, dimensions, text_sha256 OFFSET $1) stale "
        "WHERE q.model = stale.model AND q.dimensions = stale.dimensions AND "
        "q.text_sha256 = stale.text_sha256",
        max_entries);
    return Status::Ok();
  });
}

Status PostgresStore::MarkIndexed(std::string_view document_id, const VectorSpace& space,
                                  UnixMillis now) {
  INGEST_RETURN_IF_ERROR(CheckSpace(space));
  const std::string id(document_id);
  return Transact("mark indexed", [&](pqxx::work& w) -> Status {
    std::optional<Document> doc = FindDocumentIn(w, id);
    if (!doc) return NotFound("document " + id + " not found");
    if (!doc->external_id.empty()) {
      // Versions of one external_id swap one at a time; re-read under the lock.
      LockExternalId(w, doc->tenant, doc->external_id);
      doc = FindDocumentIn(w, id);
      if (!doc) return NotFound("document " + id + " not found");
    }
    if (doc->deleted_at != 0) return DocumentDeleted(*doc);
    pqxx::row missing = w.exec_params1(
        "SELECT COUNT(*) FROM chunks c WHERE c.document_id = $1 AND NOT EXISTS (SELECT 1 FROM "
        "vectors v WHERE v.model = $2 AND v.dimensions = $3 AND v.text_sha256 = c.text_sha256)",
        id, space.model, space.dimensions);
    if (Int(missing[0]) > 0) {
      return FailedPrecondition(std::to_string(Int(missing[0])) + " chunk(s) of document " + id +
                                    " have no vector in " + space.model,
                                "missing_vectors");
    }
    if (!doc->external_id.empty() &&
        !w.exec_params("SELECT 1 FROM documents o JOIN document_index di ON di.document_id = "
                       "o.id WHERE o.tenant = $1 AND o.external_id = $2 AND o.version > $3 AND "
                       "o.deleted_at = 0 LIMIT 1",
                       doc->tenant, doc->external_id, doc->version)
             .empty()) {
      // A newer version got here first (versions processed out of order): this one never shows.
      DeleteDocumentIn(w, *doc, "superseded", now);
      return Status::Ok();
    }
    w.exec_params(
        "INSERT INTO document_index (document_id, model, dimensions, indexed_at) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (document_id, model, dimensions) DO UPDATE SET "
        "indexed_at = excluded.indexed_at",
        id, space.model, space.dimensions, now);
    // The version swap: older versions leave the index in the transaction that adds this one.
    SupersedeOlderIn(w, *doc, now);
    return Status::Ok();
  });
}

// Streams through a server-side cursor, kScanBatch rows per FETCH: the cursor reads the one
// snapshot taken when it is opened, and memory stays bounded by one batch whatever the index
// size. The callback may call the store again; those calls borrow other pooled connections.
Status PostgresStore::ScanIndex(const VectorSpace& space, const IndexFilter& filter,
                                const std::function<void(const IndexedChunk&)>& fn) {
  INGEST_RETURN_IF_ERROR(CheckSpace(space));
  constexpr int kScanBatch = 500;
  return Transact("scan index", [&](pqxx::work& w) -> Status {
    // DECLARE takes no bind parameters: values are quoted by libpq instead.
    std::string sql =
        "DECLARE ingest_scan NO SCROLL CURSOR FOR "
        "SELECT c.id, c.document_id, c.ordinal, c.text, c.text_sha256, c.token_count, "
        "c.heading_path, c.page_start, c.page_end, d.filename, v.vector, d.external_id, "
        "d.metadata FROM document_index di JOIN documents d ON d.id = di.document_id "
        "JOIN chunks c ON c.document_id = di.document_id "
        "JOIN vectors v ON v.model = di.model AND v.dimensions = di.dimensions AND "
        "v.text_sha256 = c.text_sha256 WHERE di.model = " +
        w.quote(space.model) + " AND di.dimensions = " + std::to_string(space.dimensions);
    if (filter.tenant) sql += " AND d.tenant = " + w.quote(*filter.tenant);
    if (filter.document_id) sql += " AND di.document_id = " + w.quote(*filter.document_id);
    if (filter.external_id_prefix) {
      const std::string p = w.quote(*filter.external_id_prefix);
      sql += " AND d.external_id <> '' AND substr(d.external_id, 1, length(" + p + ")) = " + p;
    }
    INGEST_ASSIGN_OR_RETURN(std::string meta, MetadataConditions(w, filter.metadata));
    sql += meta;
    sql += " ORDER BY di.document_id, c.ordinal";
    w.exec(sql);
    const std::string fetch = "FETCH FORWARD " + std::to_string(kScanBatch) + " FROM ingest_scan";
    std::vector<float> values;
    for (;;) {
      pqxx::result r = w.exec(fetch);
      for (const pqxx::row& row : r) {
        const Chunk chunk = ReadChunk(row);
        const pqxx::binarystring blob(row[kChunkColumnCount + 1]);
        INGEST_RETURN_IF_ERROR(
            DecodeVector(std::string_view(blob.get(), blob.size()), space.dimensions, &values));
        const IndexedChunk item{&chunk, TextView(row[kChunkColumnCount]), values.data(),
                                TextView(row[kChunkColumnCount + 2]),
                                TextView(row[kChunkColumnCount + 3])};
        fn(item);
      }
      if (r.size() < static_cast<size_t>(kScanBatch)) break;
    }
    w.exec("CLOSE ingest_scan");
    return Status::Ok();
  });
}

Result<std::vector<IndexedSpace>> PostgresStore::ListIndexedSpaces(
    std::optional<std::string_view> tenant) {
  return Transact("list indexed spaces", [&](pqxx::work& w) -> Result<std::vector<IndexedSpace>> {
    std::optional<std::string> t;
    if (tenant) t = std::string(*tenant);
    pqxx::result r = w.exec_params(
        "SELECT di.model, di.dimensions, COUNT(*) FROM document_index di "
        "JOIN documents d ON d.id = di.document_id WHERE ($1::text IS NULL OR d.tenant = $1) "
        "GROUP BY di.model, di.dimensions ORDER BY COUNT(*) DESC, di.model, di.dimensions",
        t ? t->c_str() : nullptr);
    std::vector<IndexedSpace> out;
    for (const pqxx::row& row : r) {
      out.push_back(IndexedSpace{VectorSpace{row[0].as<std::string>(), row[1].as<int>()},
                                 row[2].as<int64_t>()});
    }
    return out;
  });
}

}  // namespace ingest::store::postgres
