#include "ingest/embed/openai/request_packer.h"

#include <algorithm>
#include <string>

namespace ingest::embed::openai {

Result<std::vector<RequestSpan>> PackRequests(std::span<const int64_t> tokens,
                                              const RequestLimits& limits) {
  if (limits.max_inputs_per_request < 1 || limits.max_tokens_per_input < 1 ||
      limits.max_tokens_per_request < 1) {
    return InvalidArgument("embedding request limits must be positive", "invalid_config");
  }
  // A single input may use the whole per-input limit only if the per-request limit allows it.
  const int64_t per_input = std::min(limits.max_tokens_per_input, limits.max_tokens_per_request);
  std::vector<RequestSpan> spans;
  RequestSpan current;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] <= 0) {
      return InvalidArgument("input " + std::to_string(i) + " is empty", "empty_input");
    }
    if (tokens[i] > per_input) {
      return InvalidArgument("input " + std::to_string(i) + " has " + std::to_string(tokens[i]) +
                                 " tokens; the provider accepts at most " +
                                 std::to_string(per_input) + " per input",
                             "input_too_long");
    }
    const bool full = static_cast<int64_t>(current.size()) >= limits.max_inputs_per_request ||
                      current.tokens + tokens[i] > limits.max_tokens_per_request;
    if (current.size() > 0 && full) {
      spans.push_back(current);
      current = RequestSpan{.begin = i, .end = i, .tokens = 0};
    }
    if (current.size() == 0) current.begin = i;
    current.end = i + 1;
    current.tokens += tokens[i];
  }
  if (current.size() > 0) spans.push_back(current);
  return spans;
}

}  // namespace ingest::embed::openai
