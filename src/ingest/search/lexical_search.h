// Lexical (full-text) search over the stored chunks: BM25 on SQLite (FTS5), ts_rank_cd on
// PostgreSQL (Store::SearchText). Needs no embedding, hence costs nothing.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/search/vector_search.h"
#include "ingest/store/store.h"

namespace ingest::search {

// The `k` distinct chunk texts best matching the words of `query` (LexicalTerms: any word
// matches, better matches rank higher), among the chunks `filter` admits of documents indexed
// in `space` (any space when nullopt); best first, equal scores by chunk id. As in SearchExact,
// identical texts are one result (the best-ranked chunk, the others in also_in), and a
// table-of-contents or index chunk has its score scaled by kTableOfContentsFactor. score is the
// backend's text score (higher is better); lexical_rank is the position. A query without
// words returns no results. kInvalidArgument "invalid_k" when k < 1; store errors as they are.
Result<std::vector<SearchHit>> SearchLexical(store::Store& store, std::string_view query, int k,
                                             const store::IndexFilter& filter,
                                             const std::optional<store::VectorSpace>& space);

}  // namespace ingest::search
