#include "ingest/search/vector_search.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "ingest/search/dot.h"

namespace ingest::search {
namespace {

// Ranking: higher score first, then smaller chunk id.
bool Better(float score_a, std::string_view id_a, float score_b, std::string_view id_b) {
  return score_a > score_b || (score_a == score_b && id_a < id_b);
}

bool HitBetter(const SearchHit& a, const SearchHit& b) {
  return Better(a.score, a.chunk_id, b.score, b.chunk_id);
}

}  // namespace

Result<std::vector<SearchHit>> SearchExact(store::Store& store, const store::VectorSpace& space,
                                           std::span<const float> query, int k,
                                           std::optional<std::string_view> tenant) {
  if (k < 1) return InvalidArgument("k must be at least 1", "invalid_k");
  if (space.dimensions < 1 || query.size() != static_cast<size_t>(space.dimensions)) {
    return InvalidArgument("query has " + std::to_string(query.size()) + " dimensions, index " +
                               space.model + " has " + std::to_string(space.dimensions),
                           "dimension_mismatch");
  }
  double norm2 = 0;
  for (float v : query) norm2 += static_cast<double>(v) * v;
  if (!(norm2 > 0) || !std::isfinite(norm2)) {
    return InvalidArgument("query vector has zero or non-finite length", "empty_query");
  }
  const float inv = static_cast<float>(1.0 / std::sqrt(norm2));
  std::vector<float> q(query.begin(), query.end());
  for (float& v : q) v *= inv;

  // Max-heap under HitBetter: front() is the worst of the current top k, the one to evict.
  std::vector<SearchHit> heap;
  heap.reserve(static_cast<size_t>(k));
  const size_t dims = q.size();
  const size_t limit = static_cast<size_t>(k);
  Status scan = store.ScanIndex(space, tenant, [&](const store::IndexedChunk& c) {
    const float score = Dot(q.data(), c.vector, dims);
    if (std::isnan(score)) return;
    if (heap.size() == limit &&
        !Better(score, c.chunk->id, heap.front().score, heap.front().chunk_id)) {
      return;  // the common case: no strings are copied
    }
    SearchHit hit{
        c.chunk->id,           c.chunk->document_id, std::string(c.filename), c.chunk->text,
        c.chunk->heading_path, c.chunk->page_start,  c.chunk->page_end,       score};
    if (heap.size() == limit) {
      std::pop_heap(heap.begin(), heap.end(), HitBetter);
      heap.back() = std::move(hit);
    } else {
      heap.push_back(std::move(hit));
    }
    std::push_heap(heap.begin(), heap.end(), HitBetter);
  });
  INGEST_RETURN_IF_ERROR(scan);
  std::sort_heap(heap.begin(), heap.end(), HitBetter);  // ascending under HitBetter: best first
  return heap;
}

}  // namespace ingest::search
