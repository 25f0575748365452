// One search in any mode: vector (exact cosine), lexical (full text) or hybrid (both, fused by
// reciprocal rank), with the same filters, result fields and pagination. What the CLI
// (`ingestd search`) and the HTTP API (POST /v1/search) run.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/search/vector_search.h"
#include "ingest/store/store.h"

namespace ingest::search {

enum class SearchMode { kVector, kLexical, kHybrid };
inline constexpr SearchMode kDefaultSearchMode = SearchMode::kHybrid;

// "vector" | "lexical" | "hybrid"; kInvalidArgument "invalid_mode" otherwise.
Result<SearchMode> ParseSearchMode(std::string_view name);
std::string_view SearchModeName(SearchMode mode);
// Whether the mode needs the query embedded (lexical does not: no embedding call, no spend).
inline bool NeedsQueryVector(SearchMode mode) { return mode != SearchMode::kLexical; }

// Candidates each list gives a hybrid search, at least: fusion can only promote what one of the
// lists returned, so each returns max(kFusionDepth, offset + k) texts.
inline constexpr int kFusionDepth = 50;
// The most results a search may skip (offset), CLI and API alike.
inline constexpr int kMaxOffset = 1000;

struct SearchRequest {
  SearchMode mode = kDefaultSearchMode;
  std::string_view text;  // the query as typed (lexical, hybrid)
  // The embedded query and its space (vector, hybrid). For lexical, `space` (when set) limits
  // the search to documents indexed in it.
  std::span<const float> vector;
  std::optional<store::VectorSpace> space;
  int k = kDefaultResults;
  int offset = 0;
  store::IndexFilter filter;
};

// Results offset+1 .. offset+k of the mode's ranking, best first. Vector: SearchExact's
// ranking (score = cosine similarity). Lexical: SearchLexical's (score = text score). Hybrid:
// FuseReciprocalRank of both lists (score = RRF score), the lexical list restricted to
// documents indexed in the vector space, so both rank the same documents. Every hit carries its
// per-mode ranks. kInvalidArgument "invalid_k" (k < 1), "invalid_offset" (outside
// [0, kMaxOffset]), "missing_query_vector" (vector or hybrid without a vector and a space),
// and the errors of SearchExact and SearchLexical.
Result<std::vector<SearchHit>> SearchChunks(store::Store& store, const SearchRequest& request);

}  // namespace ingest::search
