#include "ingest/search/lexical_search.h"

#include <algorithm>
#include <string>
#include <unordered_map>

#include "ingest/search/lexical_query.h"
#include "ingest/search/toc.h"

namespace ingest::search {
namespace {

// Rows asked of the store per distinct text wanted, and at most: duplicates of a text come
// back as separate rows, so a first answer may hold fewer than k texts; the query is then
// repeated with twice the limit while the store had more rows to give.
constexpr int kRowsPerResult = 2;
constexpr int kMaxRows = 20000;

}  // namespace

Result<std::vector<SearchHit>> SearchLexical(store::Store& store, std::string_view query, int k,
                                             const store::IndexFilter& filter,
                                             const std::optional<store::VectorSpace>& space) {
  if (k < 1) return InvalidArgument("k must be at least 1", "invalid_k");
  const std::vector<std::string> terms = LexicalTerms(query);
  std::vector<SearchHit> hits;
  if (terms.empty()) return hits;
  int limit = std::min(kMaxRows, k * kRowsPerResult + 8);
  std::vector<store::TextMatch> rows;
  std::unordered_map<std::string, size_t> at;  // text_sha256 -> index in `hits`
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(rows, store.SearchText(terms, filter, space, limit));
    hits.clear();
    at.clear();
    for (store::TextMatch& m : rows) {
      auto [it, fresh] = at.try_emplace(m.chunk.text_sha256, hits.size());
      if (!fresh) {
        hits[it->second].also_in.push_back(TextHolder{m.chunk.id, m.chunk.document_id, m.filename,
                                                      m.chunk.page_start, m.chunk.page_end});
        continue;
      }
      SearchHit& h = hits.emplace_back();
      h.chunk_id = m.chunk.id;
      h.document_id = m.chunk.document_id;
      h.filename = std::move(m.filename);
      h.text = std::move(m.chunk.text);
      h.heading_path = std::move(m.chunk.heading_path);
      h.external_id = std::move(m.external_id);
      if (!m.metadata_json.empty()) h.metadata_json = std::move(m.metadata_json);
      h.page_start = m.chunk.page_start;
      h.page_end = m.chunk.page_end;
      h.score = static_cast<float>(m.score);
      h.table_of_contents = LooksLikeTableOfContents(h.text);
      if (h.table_of_contents && h.score > 0) h.score *= kTableOfContentsFactor;
      h.text_sha256 = std::move(m.chunk.text_sha256);
    }
    const bool store_had_more = static_cast<int>(rows.size()) == limit;
    if (static_cast<int>(hits.size()) >= k || !store_had_more || limit >= kMaxRows) break;
    limit = std::min(kMaxRows, limit * 2);
  }
  // The table-of-contents factor may reorder; the store's order is kept otherwise.
  std::stable_sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.chunk_id < b.chunk_id;
  });
  if (hits.size() > static_cast<size_t>(k)) hits.resize(static_cast<size_t>(k));
  for (size_t i = 0; i < hits.size(); ++i) {
    hits[i].lexical_rank = static_cast<int>(i) + 1;
    hits[i].lexical_score = hits[i].score;
  }
  return hits;
}

}  // namespace ingest::search
