// Exact nearest-neighbour search over the stored index (DESIGN §2, search/).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/store/store.h"
#include "ingest/store/types.h"

namespace ingest::search {

struct SearchHit {
  std::string chunk_id, document_id, filename, text, heading_path;
  int page_start = 0, page_end = 0;
  float score = 0;  // cosine similarity, in [-1, 1]
};

// The `k` chunks indexed in `space` (only `tenant`'s when given) most similar to `query`, best
// first; equal scores are ordered by chunk id so results are deterministic. Similarity is
// cosine: stored vectors are unit length (Embedder contract), the query is normalised here, so
// the score is a dot product. Scans every indexed vector once (Store::ScanIndex) keeping a
// bounded heap of k candidates: O(n * dims) time, O(k) memory. Vectors whose score is NaN are
// skipped.
//
// Errors: kInvalidArgument when k < 1 (reason "invalid_k"), when query.size() !=
// space.dimensions ("dimension_mismatch"), or when the query has zero or non-finite norm
// ("empty_query"); store errors are returned as they are. Thread-safe if `store` is.
Result<std::vector<SearchHit>> SearchExact(store::Store& store, const store::VectorSpace& space,
                                           std::span<const float> query, int k,
                                           std::optional<std::string_view> tenant);

}  // namespace ingest::search
