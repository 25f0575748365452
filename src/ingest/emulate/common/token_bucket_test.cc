#include "ingest/emulate/common/token_bucket.h"

#include <gtest/gtest.h>

namespace ingest::emulate {
namespace {

TEST(GoDurationTest, FormatsLikeGo) {
  EXPECT_EQ(GoDuration(0), "0s");
  EXPECT_EQ(GoDuration(20), "20ms");
  EXPECT_EQ(GoDuration(1000), "1s");
  EXPECT_EQ(GoDuration(2812), "2.812s");
  EXPECT_EQ(GoDuration(360'000), "6m0s");
  EXPECT_EQ(GoDuration(3'723'500), "1h2m3.5s");
}

TEST(TokenBucketTest, RefillsContinuouslyOverTheWindow) {
  FakeClock clock;
  TokenBucket bucket(10, 60'000, &clock);
  EXPECT_TRUE(bucket.TryTake(10).allowed);
  auto denied = bucket.TryTake(3);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after_ms, 18'000);
  EXPECT_EQ(denied.reset_ms, 60'000);
  clock.Advance(std::chrono::seconds(18));
  EXPECT_TRUE(bucket.TryTake(3).allowed);
  EXPECT_EQ(bucket.TryTake(11).retry_after_ms, -1);
  TokenBucket unlimited(0, 60'000, &clock);
  EXPECT_TRUE(unlimited.TryTake(1'000'000).allowed);
}

}  // namespace
}  // namespace ingest::emulate
