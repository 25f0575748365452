// Circuit breaker for one provider (DESIGN §5): closed → open when the failure rate over a
// sliding window crosses a threshold → half-open after a cool-down, where a few probe calls
// decide between closed (they succeed) and open again (one fails).
//
// Only failures that say the provider is unwell count: transport errors, timeouts and 5xx.
// A 4xx is the caller's problem and a 429 is the rate limiter's; both count as neither.
//
// Pure state machine over an injected clock (times are arguments), guarded by a mutex so one
// breaker is shared by every worker thread of a process. Each process keeps its own breaker:
// every process sees the provider's errors itself, and a breaker that opens in one process
// does not need a database round trip per call to be honoured.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>

#include "ingest/common/clock.h"

namespace ingest::governor {

enum class CircuitState { kClosed = 0, kHalfOpen = 1, kOpen = 2 };
std::string_view CircuitStateName(CircuitState s);  // "closed", "half_open", "open"

struct BreakerOptions {
  Duration window = std::chrono::seconds(30);    // failure rate measured over this window
  int min_calls = 10;                            // fewer calls in the window never open it
  double failure_ratio = 0.5;                    // open at >= this share of failures
  Duration open_for = std::chrono::seconds(30);  // cool-down before half-open
  int half_open_probes = 1;  // calls let through in half-open; all must succeed to close
};

enum class CallResult { kSuccess, kFailure, kNeutral };

class CircuitBreaker {
 public:
  explicit CircuitBreaker(BreakerOptions options = {}) : options_(options) {}

  // Whether a call may start at `now`. In half-open, admits up to half_open_probes calls (each
  // admitted probe must then Record its result).
  bool Allow(UnixMillis now);
  void Record(CallResult result, UnixMillis now);
  // An admitted call that was not made after all (e.g. refused by the rate limiter): frees its
  // half-open probe slot without counting as a result.
  void Cancel(UnixMillis now);
  CircuitState State(UnixMillis now);
  // When an open breaker half-opens (0 unless open).
  UnixMillis RetryAt(UnixMillis now);

 private:
  void Trim(UnixMillis now);           // REQUIRES(mu_)
  void MaybeHalfOpen(UnixMillis now);  // REQUIRES(mu_)

  const BreakerOptions options_;
  std::mutex mu_;
  CircuitState state_ = CircuitState::kClosed;     // GUARDED_BY(mu_)
  std::deque<std::pair<UnixMillis, bool>> calls_;  // (at, failed) in the window; GUARDED_BY(mu_)
  UnixMillis opened_at_ = 0;                       // GUARDED_BY(mu_)
  int probes_in_flight_ = 0;                       // GUARDED_BY(mu_)
  int probes_succeeded_ = 0;                       // GUARDED_BY(mu_)
};

}  // namespace ingest::governor
