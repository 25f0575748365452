#include "ingest/emulate/common/token_bucket.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace ingest::emulate {

TokenBucket::TokenBucket(int64_t capacity, int64_t window_ms, const Clock* clock)
    : capacity_(std::max<int64_t>(0, capacity)),
      window_ms_(std::max<int64_t>(1, window_ms)),
      clock_(clock),
      level_(static_cast<double>(capacity_)),
      last_ms_(clock->MonotonicMillis()) {}

void TokenBucket::RefillLocked() {
  const int64_t now = clock_->MonotonicMillis();
  const int64_t elapsed = now - last_ms_;
  if (elapsed <= 0) return;
  last_ms_ = now;
  level_ = std::min(static_cast<double>(capacity_),
                    level_ + static_cast<double>(elapsed) * capacity_ / window_ms_);
}

TokenBucket::Decision TokenBucket::DescribeLocked(int64_t cost) const {
  Decision d;
  d.limit = capacity_;
  const auto whole = static_cast<int64_t>(std::floor(level_));
  d.remaining = whole;
  d.used = capacity_ - whole;
  const double rate = static_cast<double>(capacity_) / window_ms_;  // units per ms
  d.reset_ms = static_cast<int64_t>(std::ceil((capacity_ - level_) / rate));
  if (cost > capacity_) {
    d.retry_after_ms = -1;
  } else if (cost > level_) {
    d.retry_after_ms =
        std::max<int64_t>(1, static_cast<int64_t>(std::ceil((cost - level_) / rate)));
  }
  return d;
}

TokenBucket::Decision TokenBucket::TryTake(int64_t cost) {
  if (unlimited()) return Decision{};
  std::lock_guard<std::mutex> lock(mu_);
  RefillLocked();
  Decision d = DescribeLocked(cost);
  if (cost > capacity_ || static_cast<double>(cost) > level_) {
    d.allowed = false;
    return d;
  }
  level_ -= static_cast<double>(cost);
  Decision after = DescribeLocked(0);
  after.used = d.used;
  after.allowed = true;
  return after;
}

TokenBucket::Decision TokenBucket::Peek() {
  if (unlimited()) return Decision{};
  std::lock_guard<std::mutex> lock(mu_);
  RefillLocked();
  return DescribeLocked(0);
}

bool TokenBucket::CanTake(int64_t cost) {
  if (unlimited()) return true;
  std::lock_guard<std::mutex> lock(mu_);
  RefillLocked();
  return cost <= capacity_ && static_cast<double>(cost) <= level_;
}

void TokenBucket::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  level_ = static_cast<double>(capacity_);
  last_ms_ = clock_->MonotonicMillis();
}

std::string GoDuration(int64_t ms) {
  if (ms <= 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string out;
  const int64_t hours = ms / 3'600'000;
  const int64_t minutes = (ms / 60'000) % 60;
  const int64_t millis = ms % 60'000;  // seconds part, in ms
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  out += std::to_string(millis / 1000);
  if (millis % 1000 != 0) {
    std::string frac = std::to_string(millis % 1000);
    frac.insert(0, 3 - frac.size(), '0');
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  out += "s";
  return out;
}

}  // namespace ingest::emulate
