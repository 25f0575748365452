#include "ingest/api/request_limiter.h"

#include <algorithm>
#include <cmath>

namespace ingest::api {
namespace {

constexpr size_t kSweepAbove = 4096;  // buckets before a sweep is worth its cost
constexpr int64_t kSweepEveryMs = 60'000;

double Refilled(double tokens, int64_t elapsed_ms, const RateSpec& spec) {
  const double cap = static_cast<double>(spec.count);
  if (elapsed_ms <= 0) return std::min(tokens, cap);
  return std::min(cap, tokens + spec.PerSecond() * static_cast<double>(elapsed_ms) / 1000.0);
}

}  // namespace

int64_t RequestLimiter::Take(std::string_view bucket, const RateSpec& spec, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (buckets_.size() > kSweepAbove && now_ms - last_sweep_ms_ >= kSweepEveryMs) {
    SweepLocked(now_ms);
  }
  auto [it, created] = buckets_.try_emplace(std::string(bucket));
  Bucket& b = it->second;
  if (created) {
    b.tokens = static_cast<double>(spec.count);
    b.updated_ms = now_ms;
    b.spec = spec;
  } else {
    b.tokens = Refilled(b.tokens, now_ms - b.updated_ms, b.spec);
    b.updated_ms = std::max(b.updated_ms, now_ms);
    if (b.spec.count != spec.count || b.spec.period_ms != spec.period_ms) {
      b.spec = spec;
      b.tokens = std::min(b.tokens, static_cast<double>(spec.count));
    }
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  const double wait_ms = (1.0 - b.tokens) * 1000.0 / spec.PerSecond();
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_ms)));
}

size_t RequestLimiter::bucket_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

void RequestLimiter::SweepLocked(int64_t now_ms) {
  last_sweep_ms_ = now_ms;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const Bucket& b = it->second;
    if (Refilled(b.tokens, now_ms - b.updated_ms, b.spec) >= static_cast<double>(b.spec.count)) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace ingest::api
