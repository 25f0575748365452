// A token bucket that refills continuously: `capacity` units per `window`. Models OpenAI's
// RPM/TPM limits (window 60 s) and LlamaParse's 50 uploads per 10 s.
#pragma once

#include <cstdint>
#include <mutex>

#include "ingest/common/clock.h"

namespace ingest::emulate {

// Thread-safe. A capacity of 0 means unlimited: every TryTake succeeds.
class TokenBucket {
 public:
  TokenBucket(int64_t capacity, int64_t window_ms, const Clock* clock);

  struct Decision {
    bool allowed = true;
    int64_t limit = 0;           // capacity
    int64_t remaining = 0;       // whole units left after this decision
    int64_t used = 0;            // capacity - remaining before the request
    int64_t reset_ms = 0;        // time until the bucket is full again
    int64_t retry_after_ms = 0;  // when denied: time until `cost` units are available
  };

  // Takes `cost` units if available. A cost above capacity is never allowed
  // (retry_after_ms = -1: it can never succeed).
  Decision TryTake(int64_t cost);
  // Same numbers as TryTake(0), without side effects; for headers on responses not charged.
  Decision Peek();
  // Whether TryTake(cost) would succeed now.
  bool CanTake(int64_t cost);
  void Reset();
  bool unlimited() const { return capacity_ == 0; }

 private:
  void RefillLocked();
  Decision DescribeLocked(int64_t cost) const;

  const int64_t capacity_;
  const int64_t window_ms_;
  const Clock* clock_;
  std::mutex mu_;
  double level_;     // GUARDED_BY(mu_)
  int64_t last_ms_;  // GUARDED_BY(mu_)
};

// Formats a duration the way OpenAI's x-ratelimit-reset-* headers do (Go time.Duration style):
// "20ms", "1s", "6m0s", "1h2m3.5s", "0s".
std::string GoDuration(int64_t ms);

}  // namespace ingest::emulate
