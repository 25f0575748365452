// The JSON side of POST /v1/embeddings (specs/openai-embeddings.md §3-§7): building the request
// body, decoding a 200 (float arrays or little-endian base64), and mapping an error response to
// a Status plus what the caller should do about it (retry, split, give up).
//
// Thread-safe: pure functions over values. nlohmann exceptions are caught here.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/http/http_client.h"

namespace ingest::embed::openai {

// `dimensions` <= 0 is not sent. `base64` asks for encoding_format "base64" (else "float").
std::string BuildRequestBody(std::string_view model, std::span<const std::string> inputs,
                             int dimensions, bool base64);

// Decodes standard (RFC 4648, padded) base64 of consecutive IEEE-754 float32 values stored
// little-endian, independent of the host's byte order. kDataLoss "bad_response" on bad
// characters, bad padding or a byte length that is not a multiple of 4.
Result<std::vector<float>> DecodeBase64Floats(std::string_view text);

struct EmbeddingsResponse {
  // vectors[i] is the vector for input i of the request (placed by `index`), L2-normalised.
  std::vector<std::vector<float>> vectors;
  std::optional<int64_t> total_tokens;  // usage.total_tokens (or prompt_tokens); absent on some
                                        // compatible servers
  std::string model;
};

// Parses a 200 body for a request of `inputs` inputs expecting `dimensions` floats each.
// Embeddings may be float arrays or base64 strings whatever was asked for (§5 robustness rule).
//   - not JSON / truncated            -> kUnavailable "malformed_response" (retry: transient)
//   - a missing, duplicate, out-of-range or extra index, a vector of the wrong size, a
//     non-finite or zero vector, no data array -> kDataLoss "bad_response" (never a placeholder)
// Vectors whose L2 norm is off 1 by more than 1e-3 are normalised (some compatible servers do
// not normalise); others are returned bit-exact as sent.
Result<EmbeddingsResponse> ParseEmbeddingsResponse(std::string_view body, size_t inputs,
                                                   int dimensions);

// What to do with a non-200 response.
struct ErrorVerdict {
  Status status;           // what to return when not retrying / not splitting
  bool retryable = false;  // transient: retry with backoff if attempts remain
  bool split = false;      // the request was too big: split it and send the halves
  std::optional<Duration> retry_after;
};

// Maps a non-2xx response (§6, §7, §11). Tolerates bodies without the "error" wrapper, with
// integer codes (vLLM, llama.cpp, TEI), non-JSON and empty bodies.
//   400 max_tokens_per_request, 413, 429 "Request too large" -> split
//   400 context length -> kInvalidArgument "input_too_long"; other 400/422 "invalid_request"
//   401 -> kUnauthenticated "invalid_api_key"; 402 and 429 quota/billing codes ->
//   kResourceExhausted "insufficient_quota"; 403 -> kFailedPrecondition "model_not_allowed";
//   404 naming a model -> kFailedPrecondition "model_not_found", any other 404 (no such route:
//   the base URL is wrong) -> kFailedPrecondition "endpoint_not_found" with a hint about /v1;
//   501 -> kFailedPrecondition "embeddings_not_supported" (all four are configuration errors,
//   governor/retry_policy.h)
//   429 rate limit -> kUnavailable "rate_limited" (retryable); 408/409/424 (TEI backend)/5xx ->
//   kUnavailable
//   (retryable); x-should-retry: false turns retrying off.
ErrorVerdict MapErrorResponse(const http::HttpResponse& response, UnixMillis now);

}  // namespace ingest::embed::openai
