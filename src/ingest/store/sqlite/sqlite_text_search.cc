// Full-text search over chunk text: the contentless FTS5 index of migration 10 (chunks_fts,
// rows mapped to chunks by chunk_fts_rows), ranked by FTS5's bm25().
#include <cctype>
#include <string>

#include "ingest/store/sqlite/documents_tx.h"
#include "ingest/store/sqlite/rows.h"
#include "ingest/store/sqlite/sqlite_store_impl.h"

namespace ingest::store::sqlite {
namespace {

// An FTS5 MATCH expression that ORs `terms`, each an FTS5 string ("..." with '"' doubled):
// inside a string every character is data, so no user text is read as query syntax (AND, NEAR,
// column filters, '*', '^', parentheses). FTS5 tokenizes a string into a phrase; a string with
// no token at all is dropped here, since FTS5 rejects an expression made only of empty phrases.
std::string Fts5MatchExpression(std::span<const std::string> terms) {
  std::string out;
  for (const std::string& term : terms) {
    bool has_word = false;
    for (unsigned char c : term) {
      if (std::isalnum(c) || c >= 0x80) has_word = true;
    }
    if (!has_word) continue;
    if (!out.empty()) out += " OR ";
    out += '"';
    for (char c : term) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  return out;
}

}  // namespace

Result<std::vector<TextMatch>> SqliteStore::SearchText(std::span<const std::string> terms,
                                                       const IndexFilter& filter,
                                                       const std::optional<VectorSpace>& space,
                                                       int limit) {
  if (limit < 1) return InvalidArgument("limit must be at least 1", "invalid_k");
  const std::string match = Fts5MatchExpression(terms);
  std::vector<TextMatch> out;
  if (match.empty()) return out;
  SqlConditions c;
  if (space) {
    c.sql +=
        " AND EXISTS (SELECT 1 FROM document_index di WHERE di.document_id = d.id AND "
        "di.model = ? AND di.dimensions = ?)";
    c.params.push_back(space->model);
    c.params.push_back(std::to_string(space->dimensions));
  } else {
    c.sql += " AND EXISTS (SELECT 1 FROM document_index di WHERE di.document_id = d.id)";
  }
  if (filter.tenant) {
    c.sql += " AND d.tenant = ?";
    c.params.push_back(*filter.tenant);
  }
  if (filter.document_id) {
    c.sql += " AND d.id = ?";
    c.params.push_back(*filter.document_id);
  }
  if (filter.external_id_prefix) {
    c.sql += " AND d.external_id <> '' AND substr(d.external_id, 1, length(?)) = ?";
    c.params.insert(c.params.end(), {*filter.external_id_prefix, *filter.external_id_prefix});
  }
  INGEST_RETURN_IF_ERROR(AppendMetadataConditions(filter.metadata, &c));
  // bm25() is lower for better matches; its negation ranks higher-is-better like every score.
  const std::string sql =
      "SELECT c.id, c.document_id, c.ordinal, c.text, c.text_sha256, c.token_count, "
      "c.heading_path, c.page_start, c.page_end, d.filename, d.external_id, d.metadata, m.score "
      "FROM (SELECT r.chunk_id, -bm25(chunks_fts) AS score FROM chunks_fts "
      "JOIN chunk_fts_rows r ON r.fts_rowid = chunks_fts.rowid WHERE chunks_fts MATCH ?) m "
      "JOIN chunks c ON c.id = m.chunk_id JOIN documents d ON d.id = c.document_id "
      "WHERE d.deleted_at = 0" +
      c.sql + " ORDER BY m.score DESC, c.id LIMIT ?";
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(std::unique_ptr<Txn> txn, Txn::Begin(&*conn, Txn::Kind::kRead));
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare(sql));
  q.Bind(1, match);
  int i = 2;
  for (const std::string& p : c.params) q.Bind(i++, p);
  q.Bind(i, limit);
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    TextMatch m;
    m.chunk = ReadChunk(q);
    m.filename = q.Text(kChunkColumnCount);
    m.external_id = q.Text(kChunkColumnCount + 1);
    m.metadata_json = q.Text(kChunkColumnCount + 2);
    m.score = q.Real(kChunkColumnCount + 3);
    out.push_back(std::move(m));
  }
  INGEST_RETURN_IF_ERROR(txn->Commit());
  return out;
}

Result<std::string> SqliteStore::TextSearchLanguage() { return std::string("english"); }

Status SqliteStore::SetTextSearchLanguage(std::string_view language) {
  if (language == "english") return Status::Ok();
  return InvalidArgument("search.fts_language \"" + std::string(language) +
                             "\": the SQLite store indexes text with FTS5's Porter stemmer, "
                             "which is English only; use \"english\" or PostgreSQL",
                         "invalid_fts_language");
}

}  // namespace ingest::store::sqlite
