#include "ingest/search/fusion.h"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace ingest::search {
namespace {

struct Fused {
  SearchHit hit;
  double score = 0;
  int best_rank = 0;
};

void AddHolders(const SearchHit& from, SearchHit* to) {
  auto listed = [&](const std::string& chunk_id) {
    if (to->chunk_id == chunk_id) return true;
    return std::any_of(to->also_in.begin(), to->also_in.end(),
                       [&](const TextHolder& t) { return t.chunk_id == chunk_id; });
  };
  if (!listed(from.chunk_id)) {
    to->also_in.push_back(
        TextHolder{from.chunk_id, from.document_id, from.filename, from.page_start, from.page_end});
  }
  for (const TextHolder& t : from.also_in) {
    if (!listed(t.chunk_id)) to->also_in.push_back(t);
  }
}

}  // namespace

std::vector<SearchHit> FuseReciprocalRank(std::vector<SearchHit> vector_hits,
                                          std::vector<SearchHit> lexical_hits, int k) {
  std::vector<Fused> fused;
  std::unordered_map<std::string, size_t> at;  // text_sha256 -> index in `fused`
  auto add = [&](std::vector<SearchHit>& list, bool vector) {
    for (size_t i = 0; i < list.size(); ++i) {
      const int rank = static_cast<int>(i) + 1;
      const double contribution = 1.0 / (k + rank);
      SearchHit& h = list[i];
      auto [it, fresh] = at.try_emplace(h.text_sha256, fused.size());
      if (fresh) {
        fused.push_back(Fused{h, 0, rank});
        fused.back().hit.vector_rank = 0;
        fused.back().hit.lexical_rank = 0;
        fused.back().hit.vector_score = std::numeric_limits<float>::quiet_NaN();
        fused.back().hit.lexical_score = std::numeric_limits<float>::quiet_NaN();
      } else {
        AddHolders(h, &fused[it->second].hit);
      }
      Fused& f = fused[it->second];
      f.score += contribution;
      f.best_rank = std::min(f.best_rank, rank);
      (vector ? f.hit.vector_rank : f.hit.lexical_rank) = rank;
      (vector ? f.hit.vector_score : f.hit.lexical_score) = h.score;
    }
  };
  add(vector_hits, true);
  add(lexical_hits, false);
  std::sort(fused.begin(), fused.end(), [](const Fused& a, const Fused& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.best_rank != b.best_rank) return a.best_rank < b.best_rank;
    return a.hit.chunk_id < b.hit.chunk_id;
  });
  std::vector<SearchHit> out;
  out.reserve(fused.size());
  for (Fused& f : fused) {
    f.hit.score = static_cast<float>(f.score);
    out.push_back(std::move(f.hit));
  }
  return out;
}

}  // namespace ingest::search
