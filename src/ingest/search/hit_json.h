// The JSON form of a search hit, one for the CLI (`ingestd search --json`) and the HTTP API
// (POST /v1/search), so both answer alike (docs/openapi.json, SearchResponse).
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>

#include "ingest/search/vector_search.h"

namespace ingest::search {

// {document_id, chunk_id, filename, external_id, metadata, page_start, page_end, heading_path,
//  score, table_of_contents, text, also_in: [{document_id, chunk_id, filename, page_start,
//  page_end}], ranks: {vector, lexical}, scores: {vector, lexical}}. A rank or score is null
//  when the text was not in that mode's list (a lexical search has no vector rank).
inline nlohmann::json RankJson(int rank) { return rank > 0 ? nlohmann::json(rank) : nullptr; }
inline nlohmann::json ScoreJson(float score) {
  return std::isnan(score) ? nlohmann::json(nullptr) : nlohmann::json(score);
}

inline nlohmann::json SearchHitJson(const SearchHit& h) {
  // Stored metadata was validated on the way in; an unreadable row shows as {}.
  nlohmann::json metadata = nlohmann::json::parse(h.metadata_json, nullptr, false);
  if (metadata.is_discarded() || !metadata.is_object()) metadata = nlohmann::json::object();
  nlohmann::json also = nlohmann::json::array();
  for (const TextHolder& t : h.also_in) {
    also.push_back({{"document_id", t.document_id},
                    {"chunk_id", t.chunk_id},
                    {"filename", t.filename},
                    {"page_start", t.page_start},
                    {"page_end", t.page_end}});
  }
  return {
      {"document_id", h.document_id},
      {"chunk_id", h.chunk_id},
      {"filename", h.filename},
      {"external_id", h.external_id},
      {"metadata", std::move(metadata)},
      {"page_start", h.page_start},
      {"page_end", h.page_end},
      {"heading_path", h.heading_path},
      {"score", h.score},
      {"table_of_contents", h.table_of_contents},
      {"text", h.text},
      {"also_in", std::move(also)},
      {"ranks", {{"vector", RankJson(h.vector_rank)}, {"lexical", RankJson(h.lexical_rank)}}},
      {"scores", {{"vector", ScoreJson(h.vector_score)}, {"lexical", ScoreJson(h.lexical_score)}}}};
}

}  // namespace ingest::search
