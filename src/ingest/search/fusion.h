// Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009) of the ranked lists a
// hybrid search runs: vector and lexical.
#pragma once

#include <vector>

#include "ingest/search/vector_search.h"

namespace ingest::search {

// The constant of RRF: score(text) = sum over the lists holding it of 1 / (kRrfK + rank), rank
// counted from 1. 60 is the paper's value, used by most engines that fuse this way; it keeps
// the top of each list from dominating and needs no score normalisation (cosine similarity and
// BM25 live on unrelated scales).
inline constexpr int kRrfK = 60;

// Fuses two ranked lists (best first, one entry per distinct text as SearchExact and
// SearchLexical return them) into one, best first. A text's identity is text_sha256, so the
// same text found through different chunks (also_in) is one result. The fused hit keeps the
// vector list's fields when the text is in both (its chunk, also_in completed with the lexical
// list's other holders); score is the RRF score; vector_rank/lexical_rank and the per-mode
// scores say where it came from (0 / NaN: absent from that list). Ties: fused score, then the
// better of the two ranks, then chunk id.
std::vector<SearchHit> FuseReciprocalRank(std::vector<SearchHit> vector_hits,
                                          std::vector<SearchHit> lexical_hits, int k = kRrfK);

}  // namespace ingest::search
