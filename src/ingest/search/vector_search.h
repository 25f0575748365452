// Exact nearest-neighbour search over the stored index (DESIGN §2, search/).
#pragma once

#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/store/store.h"
#include "ingest/store/types.h"

namespace ingest::search {

// Results per query: the default, and the most the CLI and the HTTP API accept (one limit for
// both, so a query that works in one works in the other).
inline constexpr int kDefaultResults = 5;
inline constexpr int kMaxResults = 100;

// Another place holding a hit's exact text (same text_sha256): another document, or another
// chunk of the same one (two copies of one manual, a repeated boilerplate paragraph).
struct TextHolder {
  std::string chunk_id, document_id, filename;
  int page_start = 0, page_end = 0;
};

struct SearchHit {
  std::string chunk_id, document_id, filename, text, heading_path;
  std::string external_id;           // the document's ("" when none)
  std::string metadata_json = "{}";  // the document's metadata, inherited by the chunk
  int page_start = 0, page_end = 0;
  // The ranking score: cosine similarity in [-1, 1], scaled by kTableOfContentsFactor
  // (search/toc.h) for a table-of-contents or index chunk.
  float score = 0;
  bool table_of_contents = false;
  // Every other chunk with the same text, in scan order (identical texts are one result).
  std::vector<TextHolder> also_in;
  std::string text_sha256;  // the text's hash: identical texts are one result in every mode
  // Per-mode ranks (1 = best) and scores of the text in the lists a hybrid search fused
  // (search/fusion.h); 0 / NaN when the text was not in that list. A single-mode search sets
  // its own.
  int vector_rank = 0, lexical_rank = 0;
  float vector_score = std::numeric_limits<float>::quiet_NaN();
  float lexical_score = std::numeric_limits<float>::quiet_NaN();
};

// The `k` distinct chunk texts indexed in `space` (only `tenant`'s when given) most similar to
// `query`, best first; equal scores are ordered by chunk id so results are deterministic.
// Chunks with identical text (same text_sha256, hence the same vector) are one result: the
// first one scanned, with the others in `also_in`. Table-of-contents and index chunks
// (LooksLikeTableOfContents) are ranked down: their similarity is scaled by
// kTableOfContentsFactor. (Exact in all but one case: when a duplicate of a text ties the k-th
// score exactly and the text enters the top k only through the duplicate's smaller chunk id,
// copies scanned before it are not listed.) Similarity is
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
// The same over the chunks `filter` admits (tenant, metadata, external_id prefix, document):
// the filter is applied by the store while scanning, so k results come back whenever k
// matching texts exist. kInvalidArgument "invalid_metadata_key" for a bad filter key.
Result<std::vector<SearchHit>> SearchExact(store::Store& store, const store::VectorSpace& space,
                                           std::span<const float> query, int k,
                                           const store::IndexFilter& filter);

}  // namespace ingest::search
