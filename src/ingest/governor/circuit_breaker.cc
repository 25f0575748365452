#include "ingest/governor/circuit_breaker.h"

#include <algorithm>

namespace ingest::governor {

std::string_view CircuitStateName(CircuitState s) {
  switch (s) {
    case CircuitState::kClosed:
      return "closed";
    case CircuitState::kHalfOpen:
      return "half_open";
    case CircuitState::kOpen:
      return "open";
  }
  return "unknown";
}

void CircuitBreaker::Trim(UnixMillis now) {
  while (!calls_.empty() && calls_.front().first <= now - options_.window.count()) {
    calls_.pop_front();
  }
}

void CircuitBreaker::MaybeHalfOpen(UnixMillis now) {
  if (state_ == CircuitState::kOpen && now >= opened_at_ + options_.open_for.count()) {
    state_ = CircuitState::kHalfOpen;
    probes_in_flight_ = 0;
    probes_succeeded_ = 0;
  }
}

bool CircuitBreaker::Allow(UnixMillis now) {
  std::lock_guard lock(mu_);
  MaybeHalfOpen(now);
  switch (state_) {
    case CircuitState::kClosed:
      return true;
    case CircuitState::kOpen:
      return false;
    case CircuitState::kHalfOpen:
      if (probes_in_flight_ + probes_succeeded_ >= options_.half_open_probes) return false;
      ++probes_in_flight_;
      return true;
  }
  return false;
}

void CircuitBreaker::Record(CallResult result, UnixMillis now) {
  std::lock_guard lock(mu_);
  MaybeHalfOpen(now);
  if (state_ == CircuitState::kHalfOpen) {
    probes_in_flight_ = std::max(0, probes_in_flight_ - 1);
    if (result == CallResult::kFailure) {
      state_ = CircuitState::kOpen;
      opened_at_ = now;
      return;
    }
    // A neutral answer (4xx, 429) still proves the provider is answering.
    if (++probes_succeeded_ >= options_.half_open_probes) {
      state_ = CircuitState::kClosed;
      calls_.clear();
    }
    return;
  }
  if (result == CallResult::kNeutral) return;
  calls_.emplace_back(now, result == CallResult::kFailure);
  Trim(now);
  if (state_ != CircuitState::kClosed) return;
  const auto n = static_cast<int>(calls_.size());
  if (n < options_.min_calls) return;
  const auto failures =
      std::count_if(calls_.begin(), calls_.end(), [](const auto& c) { return c.second; });
  if (static_cast<double>(failures) >= options_.failure_ratio * n) {
    state_ = CircuitState::kOpen;
    opened_at_ = now;
  }
}

void CircuitBreaker::Cancel(UnixMillis now) {
  std::lock_guard lock(mu_);
  MaybeHalfOpen(now);
  if (state_ == CircuitState::kHalfOpen) probes_in_flight_ = std::max(0, probes_in_flight_ - 1);
}

CircuitState CircuitBreaker::State(UnixMillis now) {
  std::lock_guard lock(mu_);
  MaybeHalfOpen(now);
  return state_;
}

UnixMillis CircuitBreaker::RetryAt(UnixMillis now) {
  std::lock_guard lock(mu_);
  MaybeHalfOpen(now);
  return state_ == CircuitState::kOpen ? opened_at_ + options_.open_for.count() : 0;
}

}  // namespace ingest::governor
