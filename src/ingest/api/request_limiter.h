// Request rate limits of `ingestd serve` (docs/security.md "Rate limits"): one token bucket per
// API key (or token) and one per tenant, refilled continuously. The buckets live in this
// process's memory: with several `serve` processes behind a load balancer each enforces the
// limit on its own share of the requests.
//
// Thread-safe (one mutex; a request holds it for a few hundred nanoseconds).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ingest/common/clock.h"
#include "ingest/common/rate_spec.h"

namespace ingest::api {

class RequestLimiter {
 public:
  // Takes one request from `bucket`'s allowance under `spec` at `now_ms` (monotonic
  // milliseconds). Returns 0 when admitted; otherwise nothing is taken and the result is how
  // many milliseconds (>= 1) until a request would be admitted. A bucket is created full; a
  // changed spec (the key's limit edited) resizes it.
  int64_t Take(std::string_view bucket, const RateSpec& spec, int64_t now_ms);

  size_t bucket_count() const;

 private:
  struct Bucket {
    double tokens = 0;
    int64_t updated_ms = 0;
    RateSpec spec;
  };
  // Drops buckets that have refilled completely (they hold nothing a fresh one would not), so
  // the map stays bounded by the callers active within one period.
  void SweepLocked(int64_t now_ms);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
  int64_t last_sweep_ms_ = 0;                        // GUARDED_BY(mu_)
};

}  // namespace ingest::api
