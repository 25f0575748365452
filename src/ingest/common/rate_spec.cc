#include "ingest/common/rate_spec.h"

namespace ingest {

std::string RateSpec::ToString() const {
  return std::to_string(count) + (period_ms == 1000 ? "/s" : "/m");
}

Result<std::optional<RateSpec>> ParseRateSpec(std::string_view text) {
  if (text.empty()) return std::optional<RateSpec>();
  auto bad = [&] {
    return InvalidArgument("rate limit \"" + std::string(text) +
                               "\": expected N/s or N/m with N from 1 to 1000000 (e.g. 20/s)",
                           "bad_rate_limit");
  };
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash > 7) return bad();
  const std::string_view number = text.substr(0, slash);
  const std::string_view unit = text.substr(slash + 1);
  if (number.find_first_not_of("0123456789") != std::string_view::npos) return bad();
  RateSpec spec;
  spec.count = std::stoll(std::string(number));
  if (spec.count < 1 || spec.count > 1'000'000) return bad();
  if (unit == "s") {
    spec.period_ms = 1000;
  } else if (unit == "m") {
    spec.period_ms = 60'000;
  } else {
    return bad();
  }
  return std::optional<RateSpec>(spec);
}

}  // namespace ingest
