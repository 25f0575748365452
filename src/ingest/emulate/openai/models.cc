#include "ingest/emulate/openai/models.h"

#include <iterator>

namespace ingest::emulate::openai {
namespace {

constexpr EmbeddingModel kModels[] = {
    {"text-embedding-3-small", 1536, true},
    {"text-embedding-3-large", 3072, true},
    {"text-embedding-ada-002", 1536, false},
};

constexpr std::string_view kNonEmbeddingPrefixes[] = {
    "gpt-",
    "chatgpt-",
    "o1",
    "o3",
    "o4",
    "text-davinci",
    "davinci",
    "babbage",
    "whisper-",
    "tts-",
    "dall-e",
    "omni-moderation",
    "text-moderation",
    "codex-",
};

}  // namespace

const EmbeddingModel* FindEmbeddingModel(std::string_view name) {
  for (const auto& m : kModels) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const EmbeddingModel* EmbeddingModels(size_t* count) {
  *count = std::size(kModels);
  return kModels;
}

bool IsNonEmbeddingModel(std::string_view name) {
  for (std::string_view p : kNonEmbeddingPrefixes) {
    if (name.starts_with(p)) return true;
  }
  return false;
}

}  // namespace ingest::emulate::openai
