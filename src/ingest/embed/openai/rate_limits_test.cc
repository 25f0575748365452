#include "ingest/embed/openai/rate_limits.h"

#include <gtest/gtest.h>

namespace ingest::embed::openai {
namespace {

using std::chrono::milliseconds;

TEST(GoDurationTest, ParsesOpenAiResetValues) {
  EXPECT_EQ(*ParseGoDuration("20ms"), milliseconds(20));
  EXPECT_EQ(*ParseGoDuration("1s"), milliseconds(1000));
  EXPECT_EQ(*ParseGoDuration("6m0s"), milliseconds(360'000));
  EXPECT_EQ(*ParseGoDuration("1h2m3.5s"), milliseconds(3'723'500));
  EXPECT_EQ(*ParseGoDuration("0.5s"), milliseconds(500));
  EXPECT_EQ(*ParseGoDuration("2.812s"), milliseconds(2812));
  EXPECT_EQ(*ParseGoDuration("0s"), milliseconds(0));
  EXPECT_EQ(*ParseGoDuration("0"), milliseconds(0));
  EXPECT_EQ(*ParseGoDuration("1m30s500ms"), milliseconds(90'500));
  EXPECT_EQ(*ParseGoDuration("1500us"), milliseconds(2));  // rounded to the nearest ms
}

TEST(GoDurationTest, RejectsMalformedValues) {
  for (const char* bad : {"", "s", "5", "5x", "-1s", "1.2.3s", "ms5", "1 s", "1h-2m"}) {
    auto d = ParseGoDuration(bad);
    EXPECT_FALSE(d.ok()) << bad;
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(RateLimitHeadersTest, ReadsAllSixHeadersAndRetryAfter) {
  http::HttpResponse r;
  r.status = 200;
  r.headers = {
      {"x-ratelimit-limit-requests", "3000"},     {"x-ratelimit-limit-tokens", "1000000"},
      {"x-ratelimit-remaining-requests", "2999"}, {"x-ratelimit-remaining-tokens", "999984"},
      {"x-ratelimit-reset-requests", "20ms"},     {"x-ratelimit-reset-tokens", "6m0s"}};
  RateLimitSnapshot s = ParseRateLimitHeaders(r, 1000);
  EXPECT_EQ(s.limit_requests, 3000);
  EXPECT_EQ(s.limit_tokens, 1'000'000);
  EXPECT_EQ(s.remaining_requests, 2999);
  EXPECT_EQ(s.remaining_tokens, 999'984);
  EXPECT_EQ(s.reset_requests, milliseconds(20));
  EXPECT_EQ(s.reset_tokens, milliseconds(360'000));
  EXPECT_FALSE(s.retry_after.has_value());
  EXPECT_EQ(s.http_status, 200);
  EXPECT_EQ(s.observed_at, 1000);
  EXPECT_FALSE(s.empty());
}

TEST(RateLimitHeadersTest, MissingOrGarbageHeadersAreLeftEmpty) {
  http::HttpResponse r;
  r.headers = {{"x-ratelimit-limit-requests", "lots"}, {"x-ratelimit-reset-tokens", "soon"}};
  RateLimitSnapshot s = ParseRateLimitHeaders(r, 0);
  EXPECT_TRUE(s.empty());
}

TEST(RetryAfterTest, PrefersMillisecondsThenSecondsThenHttpDate) {
  http::HttpResponse r;
  r.headers = {{"retry-after-ms", "2812.5"}, {"retry-after", "3"}};
  EXPECT_EQ(ParseRetryAfter(r, 0), milliseconds(2813));
  r.headers = {{"retry-after", "1.5"}};
  EXPECT_EQ(ParseRetryAfter(r, 0), milliseconds(1500));
  // 2015-10-21T07:28:00Z is 1445412480 s after the epoch.
  r.headers = {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}};
  EXPECT_EQ(ParseRetryAfter(r, 1'445'412'470'000), milliseconds(10'000));
  r.headers = {{"retry-after", "whenever"}};
  EXPECT_FALSE(ParseRetryAfter(r, 0).has_value());
  r.headers = {{"retry-after", "-4"}};
  EXPECT_FALSE(ParseRetryAfter(r, 0).has_value());
  r.headers.clear();
  EXPECT_FALSE(ParseRetryAfter(r, 0).has_value());
}

}  // namespace
}  // namespace ingest::embed::openai
