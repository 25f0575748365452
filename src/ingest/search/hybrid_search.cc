#include "ingest/search/hybrid_search.h"

#include <algorithm>
#include <string>
#include <utility>

#include "ingest/search/fusion.h"
#include "ingest/search/lexical_search.h"

namespace ingest::search {
namespace {

std::vector<SearchHit> Page(std::vector<SearchHit> hits, int offset, int k) {
  const size_t from = std::min(hits.size(), static_cast<size_t>(offset));
  const size_t to = std::min(hits.size(), from + static_cast<size_t>(k));
  return std::vector<SearchHit>(std::make_move_iterator(hits.begin() + from),
                                std::make_move_iterator(hits.begin() + to));
}

}  // namespace

Result<SearchMode> ParseSearchMode(std::string_view name) {
  if (name == "vector") return SearchMode::kVector;
  if (name == "lexical") return SearchMode::kLexical;
  if (name == "hybrid") return SearchMode::kHybrid;
  return InvalidArgument(
      "mode must be \"vector\", \"lexical\" or \"hybrid\", got \"" + std::string(name) + "\"",
      "invalid_mode");
}

std::string_view SearchModeName(SearchMode mode) {
  switch (mode) {
    case SearchMode::kVector:
      return "vector";
    case SearchMode::kLexical:
      return "lexical";
    case SearchMode::kHybrid:
      return "hybrid";
  }
  return "hybrid";
}

Result<std::vector<SearchHit>> SearchChunks(store::Store& store, const SearchRequest& request) {
  if (request.k < 1) return InvalidArgument("k must be at least 1", "invalid_k");
  if (request.offset < 0 || request.offset > kMaxOffset) {
    return InvalidArgument("offset must be in [0, " + std::to_string(kMaxOffset) + "]",
                           "invalid_offset");
  }
  if (NeedsQueryVector(request.mode) && (!request.space || request.vector.empty())) {
    return InvalidArgument("a vector or hybrid search needs the embedded query and its space",
                           "missing_query_vector");
  }
  const int wanted = request.offset + request.k;
  switch (request.mode) {
    case SearchMode::kVector: {
      INGEST_ASSIGN_OR_RETURN(
          std::vector<SearchHit> hits,
          SearchExact(store, *request.space, request.vector, wanted, request.filter));
      return Page(std::move(hits), request.offset, request.k);
    }
    case SearchMode::kLexical: {
      INGEST_ASSIGN_OR_RETURN(
          std::vector<SearchHit> hits,
          SearchLexical(store, request.text, wanted, request.filter, request.space));
      return Page(std::move(hits), request.offset, request.k);
    }
    case SearchMode::kHybrid:
      break;
  }
  const int depth = std::max(kFusionDepth, wanted);
  INGEST_ASSIGN_OR_RETURN(
      std::vector<SearchHit> by_vector,
      SearchExact(store, *request.space, request.vector, depth, request.filter));
  INGEST_ASSIGN_OR_RETURN(std::vector<SearchHit> by_text,
                          SearchLexical(store, request.text, depth, request.filter, request.space));
  return Page(FuseReciprocalRank(std::move(by_vector), std::move(by_text)), request.offset,
              request.k);
}

}  // namespace ingest::search
