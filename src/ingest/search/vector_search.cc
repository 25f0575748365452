#include "ingest/search/vector_search.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include "ingest/search/dot.h"
#include "ingest/search/toc.h"

namespace ingest::search {
namespace {

// Ranking: higher score first, then smaller chunk id.
bool Better(float score_a, std::string_view id_a, float score_b, std::string_view id_b) {
  return score_a > score_b || (score_a == score_b && id_a < id_b);
}

struct Candidate {
  SearchHit hit;
  std::string text_sha256;
};

bool CandidateBetter(const Candidate& a, const Candidate& b) {
  return Better(a.hit.score, a.hit.chunk_id, b.hit.score, b.hit.chunk_id);
}

}  // namespace

Result<std::vector<SearchHit>> SearchExact(store::Store& store, const store::VectorSpace& space,
                                           std::span<const float> query, int k,
                                           std::optional<std::string_view> tenant) {
  store::IndexFilter filter;
  if (tenant) filter.tenant = std::string(*tenant);
  return SearchExact(store, space, query, k, filter);
}

Result<std::vector<SearchHit>> SearchExact(store::Store& store, const store::VectorSpace& space,
                                           std::span<const float> query, int k,
                                           const store::IndexFilter& filter) {
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

  // Max-heap under HitBetter: front() is the worst of the current top k, the one to evict. The
  // heap holds distinct texts; `in_heap` maps the text hashes it holds to their copies seen so
  // far (the copies share the vector, hence the score, so they arrive with the same rank).
  std::vector<Candidate> heap;
  heap.reserve(static_cast<size_t>(k));
  std::unordered_map<std::string, std::vector<TextHolder>> in_heap;
  const size_t dims = q.size();
  const size_t limit = static_cast<size_t>(k);
  Status scan = store.ScanIndex(space, filter, [&](const store::IndexedChunk& c) {
    float score = Dot(q.data(), c.vector, dims);
    if (std::isnan(score)) return;
    if (auto it = in_heap.find(c.chunk->text_sha256); it != in_heap.end()) {
      it->second.push_back(TextHolder{c.chunk->id, c.chunk->document_id, std::string(c.filename),
                                      c.chunk->page_start, c.chunk->page_end});
      return;
    }
    // A TOC chunk scores at most its similarity: test the cheap bound first.
    if (heap.size() == limit &&
        !Better(score, c.chunk->id, heap.front().hit.score, heap.front().hit.chunk_id)) {
      return;  // the common case: no strings are copied
    }
    const bool toc = LooksLikeTableOfContents(c.chunk->text);
    if (toc && score > 0) score *= kTableOfContentsFactor;
    if (heap.size() == limit &&
        !Better(score, c.chunk->id, heap.front().hit.score, heap.front().hit.chunk_id)) {
      return;
    }
    Candidate cand;
    SearchHit& h = cand.hit;
    h.chunk_id = c.chunk->id;
    h.document_id = c.chunk->document_id;
    h.filename = std::string(c.filename);
    h.text = c.chunk->text;
    h.heading_path = c.chunk->heading_path;
    h.external_id = std::string(c.external_id);
    h.metadata_json = c.metadata_json.empty() ? std::string("{}") : std::string(c.metadata_json);
    h.page_start = c.chunk->page_start;
    h.page_end = c.chunk->page_end;
    h.score = score;
    h.table_of_contents = toc;
    cand.text_sha256 = c.chunk->text_sha256;
    if (heap.size() == limit) {
      std::pop_heap(heap.begin(), heap.end(), CandidateBetter);
      in_heap.erase(heap.back().text_sha256);
      heap.back() = std::move(cand);
    } else {
      heap.push_back(std::move(cand));
    }
    in_heap[heap.back().text_sha256];
    std::push_heap(heap.begin(), heap.end(), CandidateBetter);
  });
  INGEST_RETURN_IF_ERROR(scan);
  // Ascending under CandidateBetter: best first.
  std::sort_heap(heap.begin(), heap.end(), CandidateBetter);
  std::vector<SearchHit> hits;
  hits.reserve(heap.size());
  for (Candidate& c : heap) {
    c.hit.also_in = std::move(in_heap[c.text_sha256]);
    c.hit.text_sha256 = std::move(c.text_sha256);
    c.hit.vector_rank = static_cast<int>(hits.size()) + 1;
    c.hit.vector_score = c.hit.score;
    hits.push_back(std::move(c.hit));
  }
  return hits;
}

}  // namespace ingest::search
