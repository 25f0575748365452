#include "ingest/embed/openai/rate_limits.h"

#include <charconv>
#include <cmath>
#include <ctime>
#include <string>

namespace ingest::embed::openai {
namespace {

std::optional<double> ParseNumber(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> ParseCount(const http::HttpResponse& r, std::string_view name) {
  const std::string v = r.Header(name);
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || out < 0) {
    return std::nullopt;
  }
  return out;
}

std::optional<Duration> ParseReset(const http::HttpResponse& r, std::string_view name) {
  const std::string v = r.Header(name);
  if (v.empty()) return std::nullopt;
  auto d = ParseGoDuration(v);
  if (!d.ok()) return std::nullopt;
  return *d;
}

// RFC 7231 IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
std::optional<UnixMillis> ParseHttpDate(const std::string& s) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<UnixMillis>(timegm(&tm)) * 1000;
}

}  // namespace

Result<Duration> ParseGoDuration(std::string_view text) {
  const std::string original(text);
  if (text.empty()) return InvalidArgument("empty duration", "bad_duration");
  if (text == "0") return Duration(0);
  double total_ms = 0;
  while (!text.empty()) {
    size_t i = 0;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (i == 0) return InvalidArgument("bad duration \"" + original + "\"", "bad_duration");
    auto number = ParseNumber(text.substr(0, i));
    if (!number) return InvalidArgument("bad duration \"" + original + "\"", "bad_duration");
    text.remove_prefix(i);
    size_t u = 0;
    while (u < text.size() && !((text[u] >= '0' && text[u] <= '9') || text[u] == '.')) ++u;
    const std::string_view unit = text.substr(0, u);
    text.remove_prefix(u);
    double scale = 0;
    if (unit == "h") {
      scale = 3'600'000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "s") {
      scale = 1'000;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s") {
      scale = 1e-3;
    } else if (unit == "ns") {
      scale = 1e-6;
    } else {
      return InvalidArgument("bad duration unit in \"" + original + "\"", "bad_duration");
    }
    total_ms += *number * scale;
  }
  // Round to the nearest ms, avoiding float noise such as 3.5s -> 3499.9999 ms.
  return Duration(static_cast<int64_t>(std::llround(total_ms)));
}

std::optional<Duration> ParseRetryAfter(const http::HttpResponse& response, UnixMillis now) {
  if (auto ms = ParseNumber(response.Header("retry-after-ms")); ms && *ms >= 0) {
    return Duration(static_cast<int64_t>(std::ceil(*ms)));
  }
  const std::string ra = response.Header("retry-after");
  if (ra.empty()) return std::nullopt;
  if (auto s = ParseNumber(ra)) {
    if (*s < 0) return std::nullopt;
    return Duration(static_cast<int64_t>(std::ceil(*s * 1000)));
  }
  if (auto at = ParseHttpDate(ra)) {
    if (*at < now) return Duration(0);
    return Duration(*at - now);
  }
  return std::nullopt;
}

RateLimitSnapshot ParseRateLimitHeaders(const http::HttpResponse& response, UnixMillis now) {
  RateLimitSnapshot s;
  s.limit_requests = ParseCount(response, "x-ratelimit-limit-requests");
  s.limit_tokens = ParseCount(response, "x-ratelimit-limit-tokens");
  s.remaining_requests = ParseCount(response, "x-ratelimit-remaining-requests");
  s.remaining_tokens = ParseCount(response, "x-ratelimit-remaining-tokens");
  s.reset_requests = ParseReset(response, "x-ratelimit-reset-requests");
  s.reset_tokens = ParseReset(response, "x-ratelimit-reset-tokens");
  s.retry_after = ParseRetryAfter(response, now);
  s.http_status = response.status;
  s.observed_at = now;
  return s;
}

}  // namespace ingest::embed::openai
