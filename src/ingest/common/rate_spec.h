// Request rate limits written as "N/s" or "N/m" (configuration api.rate_limit_per_key and
// api.rate_limit_per_tenant, `ingestd keys create --rate-limit`; docs/security.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ingest/common/result.h"

namespace ingest {

// N requests per second or per minute, as a token bucket: up to N at once (the burst), then
// one every period/N.
struct RateSpec {
  int64_t count = 0;      // N, >= 1
  int64_t period_ms = 0;  // 1000 ("/s") or 60000 ("/m")
  double PerSecond() const { return static_cast<double>(count) * 1000.0 / period_ms; }
  std::string ToString() const;  // "5/s", "300/m"
};

// "" means no limit (nullopt). Otherwise "N/s" or "N/m" with 1 <= N <= 1000000; anything else is
// kInvalidArgument (reason "bad_rate_limit").
Result<std::optional<RateSpec>> ParseRateSpec(std::string_view text);

}  // namespace ingest
