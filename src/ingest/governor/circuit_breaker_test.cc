#include "ingest/governor/circuit_breaker.h"

#include <gtest/gtest.h>

namespace ingest::governor {
namespace {

BreakerOptions Small() {
  BreakerOptions o;
  o.window = std::chrono::seconds(10);
  o.min_calls = 4;
  o.failure_ratio = 0.5;
  o.open_for = std::chrono::seconds(5);
  o.half_open_probes = 2;
  return o;
}

TEST(CircuitBreaker, StaysClosedBelowMinCalls) {
  CircuitBreaker b(Small());
  for (int i = 0; i < 3; ++i) b.Record(CallResult::kFailure, 1000 + i);
  EXPECT_EQ(b.State(1010), CircuitState::kClosed);
  EXPECT_TRUE(b.Allow(1010));
}

TEST(CircuitBreaker, OpensAtFailureRatioAndRefuses) {
  CircuitBreaker b(Small());
  b.Record(CallResult::kSuccess, 1000);
  b.Record(CallResult::kSuccess, 1001);
  b.Record(CallResult::kFailure, 1002);
  EXPECT_EQ(b.State(1003), CircuitState::kClosed);  // 1 of 3: too few calls anyway
  b.Record(CallResult::kFailure, 1003);             // 2 of 4 = 50%
  EXPECT_EQ(b.State(1004), CircuitState::kOpen);
  EXPECT_FALSE(b.Allow(1004));
  EXPECT_EQ(b.RetryAt(1004), 1003 + 5000);
}

TEST(CircuitBreaker, NeutralOutcomesDoNotCount) {
  CircuitBreaker b(Small());
  for (int i = 0; i < 20; ++i) b.Record(CallResult::kNeutral, 1000 + i);  // 4xx, 429
  b.Record(CallResult::kFailure, 1100);
  b.Record(CallResult::kSuccess, 1101);
  b.Record(CallResult::kSuccess, 1102);
  b.Record(CallResult::kSuccess, 1103);
  EXPECT_EQ(b.State(1104), CircuitState::kClosed);  // 1 failure of 4 counted calls
}

TEST(CircuitBreaker, OldFailuresLeaveTheWindow) {
  CircuitBreaker b(Small());
  b.Record(CallResult::kFailure, 1000);
  b.Record(CallResult::kFailure, 1001);
  b.Record(CallResult::kFailure, 1002);
  // 20 s later the three failures are outside the 10 s window.
  b.Record(CallResult::kSuccess, 21000);
  b.Record(CallResult::kSuccess, 21001);
  b.Record(CallResult::kSuccess, 21002);
  b.Record(CallResult::kFailure, 21003);
  EXPECT_EQ(b.State(21004), CircuitState::kClosed);
}

TEST(CircuitBreaker, HalfOpensAfterCooldownAndClosesOnProbeSuccess) {
  CircuitBreaker b(Small());
  for (int i = 0; i < 4; ++i) b.Record(CallResult::kFailure, 1000 + i);
  ASSERT_EQ(b.State(1004), CircuitState::kOpen);
  EXPECT_FALSE(b.Allow(5000));
  EXPECT_EQ(b.State(6003), CircuitState::kHalfOpen);
  EXPECT_TRUE(b.Allow(6003));   // probe 1
  EXPECT_TRUE(b.Allow(6004));   // probe 2
  EXPECT_FALSE(b.Allow(6005));  // no more than half_open_probes at once
  b.Record(CallResult::kSuccess, 6100);
  EXPECT_EQ(b.State(6100), CircuitState::kHalfOpen);
  b.Record(CallResult::kSuccess, 6101);
  EXPECT_EQ(b.State(6101), CircuitState::kClosed);
  EXPECT_TRUE(b.Allow(6102));
}

TEST(CircuitBreaker, ProbeFailureReopens) {
  CircuitBreaker b(Small());
  for (int i = 0; i < 4; ++i) b.Record(CallResult::kFailure, 1000 + i);
  ASSERT_TRUE(b.Allow(7000));
  b.Record(CallResult::kFailure, 7001);
  EXPECT_EQ(b.State(7002), CircuitState::kOpen);
  EXPECT_EQ(b.RetryAt(7002), 7001 + 5000);
}

TEST(CircuitBreaker, CancelledProbeFreesItsSlotWithoutClosing) {
  CircuitBreaker b(Small());
  for (int i = 0; i < 4; ++i) b.Record(CallResult::kFailure, 1000 + i);
  ASSERT_TRUE(b.Allow(7000));
  ASSERT_TRUE(b.Allow(7000));
  EXPECT_FALSE(b.Allow(7000));
  b.Cancel(7001);  // one probe was never sent
  EXPECT_EQ(b.State(7001), CircuitState::kHalfOpen);
  EXPECT_TRUE(b.Allow(7002));
}

TEST(CircuitBreaker, StateNames) {
  EXPECT_EQ(CircuitStateName(CircuitState::kClosed), "closed");
  EXPECT_EQ(CircuitStateName(CircuitState::kHalfOpen), "half_open");
  EXPECT_EQ(CircuitStateName(CircuitState::kOpen), "open");
}

}  // namespace
}  // namespace ingest::governor
