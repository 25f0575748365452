// Parsing and validation of a POST /v1/embeddings body, with the real API's status codes and
// observed error texts (spec §3, §7). Pure: no I/O, no clock; the emulator adds auth, rate
// limits, quota and faults around it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ingest/emulate/openai/api_error.h"
#include "ingest/emulate/openai/models.h"
#include "ingest/text/token_counter.h"

namespace ingest::emulate::openai {

struct RequestLimits {
  int64_t max_inputs = 2048;
  int64_t max_tokens_per_input = 8192;
  int64_t max_tokens_per_request = 300'000;
};

struct EmbeddingInput {
  std::string key;     // text, or TokenIdsKey(ids) for pre-tokenized input
  int64_t tokens = 0;  // cl100k tokens of the text, or the number of ids
};

struct EmbeddingsRequest {
  const EmbeddingModel* model = nullptr;
  std::vector<EmbeddingInput> inputs;  // in request order; data[].index follows it
  int dimensions = 0;                  // effective output size
  bool base64 = false;
  int64_t total_tokens = 0;
};

// Validates in the real API's order: JSON, model (404/403), input shape and limits, dimensions,
// encoding_format, per-input and per-request token limits. `counter` counts text inputs.
std::variant<EmbeddingsRequest, ApiError> ParseEmbeddingsRequest(std::string_view body,
                                                                 const RequestLimits& limits,
                                                                 const text::TokenCounter& counter);

}  // namespace ingest::emulate::openai
