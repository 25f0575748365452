#include "ingest/common/time_text.h"

#include <time.h>

#include <ctime>

namespace ingest {

Result<int64_t> ParseDurationMillis(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("\"" + std::string(text) + "\": expected a duration (90s, 30m, 2h, 7d)",
                           "bad_duration");
  };
  if (text.size() < 2) return bad();
  const char unit = text.back();
  const std::string_view number = text.substr(0, text.size() - 1);
  if (number.find_first_not_of("0123456789") != std::string_view::npos || number.size() > 9) {
    return bad();
  }
  const int64_t n = std::stoll(std::string(number));
  const int64_t per = unit == 's'   ? 1000
                      : unit == 'm' ? 60'000
                      : unit == 'h' ? 3'600'000
                      : unit == 'd' ? 86'400'000
                                    : 0;
  if (per == 0) return bad();
  return n * per;
}

Result<UnixMillis> ParseSince(const std::string& text, UnixMillis now) {
  if (auto d = ParseDurationMillis(text); d.ok()) return now - *d;
  auto bad = [&] {
    return InvalidArgument("--since \"" + text +
                               "\": expected a duration (90s, 30m, 2h, 7d) or an ISO-8601 UTC "
                               "date or time (2026-12-07, 2026-12-07T10:00:00Z)",
                           "bad_arguments");
  };
  if (text.empty()) return bad();
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) {
    tm = std::tm{};
    end = strptime(text.c_str(), "%Y-%m-%d", &tm);
  }
  if (end == nullptr || (*end != '\0' && std::string(end) != "Z")) return bad();
  return static_cast<UnixMillis>(timegm(&tm)) * 1000;
}

}  // namespace ingest
