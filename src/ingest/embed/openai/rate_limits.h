// Rate-limit signals in OpenAI responses (specs/openai-embeddings.md §8, §9): the x-ratelimit-*
// headers and retry-after / retry-after-ms. The governor's shared token buckets read these to
// track the provider's view of the allowance; nothing relies on them being present (servers
// omit them at times, and compatible servers never send them).
//
// Thread-safe: pure functions over values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/http/http_client.h"

namespace ingest::embed::openai {

// What one response said about the remaining allowance. Absent headers stay nullopt.
struct RateLimitSnapshot {
  std::optional<int64_t> limit_requests;
  std::optional<int64_t> limit_tokens;
  std::optional<int64_t> remaining_requests;
  std::optional<int64_t> remaining_tokens;
  std::optional<Duration> reset_requests;  // until the request budget is fully restored
  std::optional<Duration> reset_tokens;
  std::optional<Duration> retry_after;  // from a 429/503, see ParseRetryAfter
  int http_status = 0;                  // of the response the values came from
  UnixMillis observed_at = 0;

  bool empty() const {
    return !limit_requests && !limit_tokens && !remaining_requests && !remaining_tokens &&
           !reset_requests && !reset_tokens && !retry_after;
  }
};

// Parses a Go-style duration as OpenAI sends it: one or more <number><unit> parts, units h, m,
// s, ms (also us/µs and ns, rounded down to whole ms), fractional numbers allowed: "6m0s",
// "20ms", "1h2m3.5s", "0.5s". kInvalidArgument on anything else (including "", negatives).
Result<Duration> ParseGoDuration(std::string_view text);

// Reads the x-ratelimit-* headers and the retry-after delay of `response`. Unparseable values
// are ignored (left nullopt), never an error.
RateLimitSnapshot ParseRateLimitHeaders(const http::HttpResponse& response, UnixMillis now);

// The server's requested delay: retry-after-ms (float milliseconds) first, else retry-after as
// float seconds, else retry-after as an HTTP date relative to `now`. nullopt when absent,
// unparseable or negative.
std::optional<Duration> ParseRetryAfter(const http::HttpResponse& response, UnixMillis now);

}  // namespace ingest::embed::openai
