// Packs embedding inputs into as few requests as the provider's three limits allow
// (specs/openai-embeddings.md §3.1): inputs per request, tokens per input, tokens per request.
//
// Thread-safe: pure functions over values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::embed::openai {

// Provider limits as data. Defaults are OpenAI's; OpenAI-compatible servers often have lower
// ones (TEI: 32 inputs per request by default), so they are options, not constants.
struct RequestLimits {
  int64_t max_inputs_per_request = 2048;
  int64_t max_tokens_per_input = 8192;
  int64_t max_tokens_per_request = 300'000;
};

// A contiguous run of inputs [begin, end) sent as one request, with their summed tokens.
struct RequestSpan {
  size_t begin = 0;
  size_t end = 0;
  int64_t tokens = 0;
  size_t size() const { return end - begin; }
};

// Greedy, order-preserving packing: each request takes inputs until the next one would break
// the input-count or the token limit. `tokens[i]` is the exact token count of input i.
// An input over max_tokens_per_input is kInvalidArgument "input_too_long" (the chunker never
// produces one; truncating silently would embed text nobody asked for), as is an empty input
// (0 tokens; the API rejects "") with reason "empty_input". Limits below 1 are
// kInvalidArgument "invalid_config".
Result<std::vector<RequestSpan>> PackRequests(std::span<const int64_t> tokens,
                                              const RequestLimits& limits);

}  // namespace ingest::embed::openai
