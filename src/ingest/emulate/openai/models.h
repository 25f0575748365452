// The embedding models the OpenAI emulator serves (spec §10) and the model names it refuses
// the way the real API does (chat/completion models → 403, anything else unknown → 404).
#pragma once

#include <optional>
#include <string_view>

namespace ingest::emulate::openai {

struct EmbeddingModel {
  std::string_view name;
  int native_dimensions;
  bool supports_dimensions;  // only text-embedding-3-* accept the `dimensions` field
};

// The table: text-embedding-3-small (1536), text-embedding-3-large (3072),
// text-embedding-ada-002 (1536, no `dimensions`).
const EmbeddingModel* FindEmbeddingModel(std::string_view name);
// Every served model, in table order (for GET /v1/models).
const EmbeddingModel* EmbeddingModels(size_t* count);
// True for names of real non-embedding models (gpt-4o, o3, whisper-1, ...): the real API
// answers 403 "You are not allowed to generate embeddings from this model" for those.
bool IsNonEmbeddingModel(std::string_view name);

}  // namespace ingest::emulate::openai
