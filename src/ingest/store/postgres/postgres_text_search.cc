// Full-text search over chunk text: the tsvector column and GIN index of migration 10, in the
// language of text_search_config, ranked by ts_rank_cd (cover density; not BM25: no inverse
// document frequency, docs/search.md).
#include <string>

#include "ingest/store/postgres/documents_tx.h"
#include "ingest/store/postgres/postgres_store_impl.h"
#include "ingest/store/postgres/rows.h"

namespace ingest::store::postgres {

// Each term goes through plainto_tsquery, which reads any text as plain words (never as
// tsquery syntax), and the per-term queries are ORed. A term of stop words only yields an
// empty query, which || ignores; PostgreSQL says so in a NOTICE, silenced for this
// transaction so it never reaches a terminal.
Result<std::vector<TextMatch>> PostgresStore::SearchText(std::span<const std::string> terms,
                                                         const IndexFilter& filter,
                                                         const std::optional<VectorSpace>& space,
                                                         int limit) {
  if (limit < 1) return InvalidArgument("limit must be at least 1", "invalid_k");
  std::vector<TextMatch> out;
  if (terms.empty()) return out;
  return Transact("search text", [&](pqxx::work& w) -> Result<std::vector<TextMatch>> {
    w.exec("SET LOCAL client_min_messages = warning");
    std::string query;
    for (const std::string& term : terms) {
      if (!query.empty()) query += " || ";
      query += "plainto_tsquery(cfg.language, " + w.quote(term) + ")";
    }
    std::string sql =
        "SELECT c.id, c.document_id, c.ordinal, c.text, c.text_sha256, c.token_count, "
        "c.heading_path, c.page_start, c.page_end, d.filename, d.external_id, d.metadata::text, "
        "ts_rank_cd(c.fts, q.query, 1) AS score "
        "FROM (SELECT " +
        query +
        " AS query FROM text_search_config cfg) q, chunks c "
        "JOIN documents d ON d.id = c.document_id "
        "WHERE c.fts @@ q.query AND d.deleted_at = 0";
    if (space) {
      sql +=
          " AND EXISTS (SELECT 1 FROM document_index di WHERE di.document_id = d.id AND "
          "di.model = " +
          w.quote(space->model) + " AND di.dimensions = " + std::to_string(space->dimensions) + ")";
    } else {
      sql += " AND EXISTS (SELECT 1 FROM document_index di WHERE di.document_id = d.id)";
    }
    if (filter.tenant) sql += " AND d.tenant = " + w.quote(*filter.tenant);
    if (filter.document_id) sql += " AND d.id = " + w.quote(*filter.document_id);
    if (filter.external_id_prefix) {
      const std::string p = w.quote(*filter.external_id_prefix);
      sql += " AND d.external_id <> '' AND substr(d.external_id, 1, length(" + p + ")) = " + p;
    }
    INGEST_ASSIGN_OR_RETURN(std::string meta, MetadataConditions(w, filter.metadata));
    sql += meta;
    sql += " ORDER BY score DESC, c.id LIMIT " + std::to_string(limit);
    for (const pqxx::row& row : w.exec(sql)) {
      TextMatch m;
      m.chunk = ReadChunk(row);
      m.filename = row[kChunkColumnCount].as<std::string>();
      m.external_id = row[kChunkColumnCount + 1].as<std::string>();
      m.metadata_json = row[kChunkColumnCount + 2].as<std::string>();
      m.score = row[kChunkColumnCount + 3].as<double>();
      out.push_back(std::move(m));
    }
    return std::move(out);
  });
}

Result<std::string> PostgresStore::TextSearchLanguage() {
  return Transact("text search language", [&](pqxx::work& w) -> Result<std::string> {
    pqxx::result r = w.exec(
        "SELECT t.cfgname FROM text_search_config c JOIN pg_ts_config t ON t.oid = c.language");
    if (r.empty()) return DataLoss("text_search_config has no row", "bad_row");
    return r[0][0].as<std::string>();
  });
}

// Chunk writes wait while the tsvectors are recomputed (EXCLUSIVE lets reads through), so no
// chunk committed meanwhile keeps a tsvector of the old language.
Status PostgresStore::SetTextSearchLanguage(std::string_view language) {
  return Transact("set text search language", [&](pqxx::work& w) -> Status {
    const std::string name(language);
    pqxx::result known =
        w.exec_params("SELECT oid FROM pg_ts_config WHERE cfgname = $1 ORDER BY oid LIMIT 1", name);
    if (known.empty()) {
      return InvalidArgument("search.fts_language \"" + name +
                                 "\" is not a text search configuration of this PostgreSQL "
                                 "server (SELECT cfgname FROM pg_ts_config lists them)",
                             "invalid_fts_language");
    }
    const int64_t oid = known[0][0].as<int64_t>();
    pqxx::result current = w.exec("SELECT language::oid FROM text_search_config");
    if (!current.empty() && current[0][0].as<int64_t>() == oid) return Status::Ok();
    w.exec("LOCK TABLE chunks IN EXCLUSIVE MODE");
    const std::string cfg = std::to_string(oid) + "::oid::regconfig";
    w.exec("UPDATE text_search_config SET language = " + cfg);
    w.exec("UPDATE chunks SET fts = to_tsvector(" + cfg + ", text)");
    return Status::Ok();
  });
}

}  // namespace ingest::store::postgres
