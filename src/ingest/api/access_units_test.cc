// Units of access control: scope parsing and implication, API key secrets (format, lookup
// prefix, digest), the request limiter's token buckets, rate specs and durations.
#include <gtest/gtest.h>

#include <set>

#include "ingest/api/api_key.h"
#include "ingest/api/request_limiter.h"
#include "ingest/api/scopes.h"
#include "ingest/common/hash.h"
#include "ingest/common/rate_spec.h"
#include "ingest/common/time_text.h"

namespace ingest::api {
namespace {

TEST(ScopesTest, ParseIsOrderFreeAndCanonical) {
  auto s = ParseScopes("ingest, read,ingest");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ToString(), "read,ingest");
  EXPECT_TRUE(s->Has(Scope::kRead));
  EXPECT_TRUE(s->Has(Scope::kIngest));
  EXPECT_FALSE(s->Has(Scope::kOperator));
  EXPECT_FALSE(s->Has(Scope::kAdmin));
  EXPECT_EQ(ParseScopes("operator,admin,read")->ToString(), "read,operator,admin");
  EXPECT_EQ(ParseScopes("reed").status().reason(), "unknown_scope");
  EXPECT_EQ(ParseScopes(" , ").status().reason(), "no_scope");
  EXPECT_EQ(ParseScopes("").status().reason(), "no_scope");
}

TEST(ScopesTest, AdminImpliesEveryScope) {
  const ScopeSet admin = *ParseScopes("admin");
  for (Scope s : {Scope::kRead, Scope::kIngest, Scope::kOperator, Scope::kAdmin}) {
    EXPECT_TRUE(admin.Has(s)) << ScopeName(s);
  }
  EXPECT_FALSE(ParseScopes("read,ingest,operator")->Has(Scope::kAdmin));
}

TEST(ApiKeyTest, SecretsHaveThePrefixAnd256RandomBits) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto k = GenerateApiKeySecret();
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(k->secret.size(), 3u + 12 + 1 + 43) << k->secret;
    EXPECT_TRUE(k->secret.starts_with("ik_" + k->prefix + "_")) << k->secret;
    EXPECT_EQ(k->id, "key_" + k->prefix);
    EXPECT_EQ(k->sha256, Sha256Hex(k->secret));
    EXPECT_EQ(ApiKeyPrefix(k->secret), k->prefix);
    EXPECT_TRUE(seen.insert(k->secret).second);
    EXPECT_TRUE(seen.insert(k->prefix).second);
  }
}

TEST(ApiKeyTest, AnythingElseIsNotAKey) {
  auto k = GenerateApiKeySecret();
  ASSERT_TRUE(k.ok());
  const std::string& s = k->secret;
  EXPECT_FALSE(ApiKeyPrefix("alpha-token-0123456789").has_value());
  EXPECT_FALSE(ApiKeyPrefix(s.substr(0, s.size() - 1)).has_value());  // short
  EXPECT_FALSE(ApiKeyPrefix(s + "A").has_value());                    // long
  std::string upper = s;
  upper[3] = 'G';  // not hex
  EXPECT_FALSE(ApiKeyPrefix(upper).has_value());
  std::string bad_tail = s;
  bad_tail.back() = '=';
  EXPECT_FALSE(ApiKeyPrefix(bad_tail).has_value());
  EXPECT_FALSE(ApiKeyPrefix("ik_").has_value());
}

TEST(RateSpecTest, ParsesPerSecondAndPerMinute) {
  auto s = ParseRateSpec("5/s");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->has_value());
  EXPECT_EQ((*s)->count, 5);
  EXPECT_DOUBLE_EQ((*s)->PerSecond(), 5.0);
  EXPECT_EQ((*s)->ToString(), "5/s");
  auto m = ParseRateSpec("120/m");
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_DOUBLE_EQ((*m)->PerSecond(), 2.0);
  EXPECT_FALSE(ParseRateSpec("")->has_value());
  for (const char* bad : {"5", "/s", "0/s", "5/h", "-1/s", "5 /s", "1000001/s", "x/m"}) {
    EXPECT_EQ(ParseRateSpec(bad).status().reason(), "bad_rate_limit") << bad;
  }
}

TEST(TimeTextTest, Durations) {
  EXPECT_EQ(*ParseDurationMillis("90s"), 90'000);
  EXPECT_EQ(*ParseDurationMillis("2h"), 7'200'000);
  EXPECT_EQ(*ParseDurationMillis("90d"), 90ll * 86'400'000);
  EXPECT_EQ(*ParseDurationMillis("0s"), 0);
  EXPECT_FALSE(ParseDurationMillis("h").ok());
  EXPECT_FALSE(ParseDurationMillis("3w").ok());
  EXPECT_EQ(*ParseSince("2h", 10'000'000), 10'000'000 - 7'200'000);
  EXPECT_EQ(*ParseSince("2026-12-07", 0), 1'796'601'600'000);
  EXPECT_FALSE(ParseSince("yesterday", 0).ok());
}

TEST(RequestLimiterTest, BurstThenSteadyRate) {
  RequestLimiter limiter;
  const RateSpec five{5, 1000};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.Take("k", five, 1000), 0) << i;
  // Empty: one token comes back every 200 ms.
  EXPECT_EQ(limiter.Take("k", five, 1000), 200);
  EXPECT_EQ(limiter.Take("k", five, 1100), 100);
  EXPECT_EQ(limiter.Take("k", five, 1200), 0);
  EXPECT_EQ(limiter.Take("k", five, 1200), 200);
  // Other buckets are independent.
  EXPECT_EQ(limiter.Take("other", five, 1200), 0);
  // A long pause refills to the burst, not beyond.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.Take("k", five, 100'000), 0) << i;
  EXPECT_GT(limiter.Take("k", five, 100'000), 0);
}

TEST(RequestLimiterTest, PerMinuteWaitsAreLong) {
  RequestLimiter limiter;
  const RateSpec spec{2, 60'000};
  EXPECT_EQ(limiter.Take("k", spec, 0), 0);
  EXPECT_EQ(limiter.Take("k", spec, 0), 0);
  EXPECT_EQ(limiter.Take("k", spec, 0), 30'000);
  const int64_t last = limiter.Take("k", spec, 29'999);
  EXPECT_GE(last, 1);
  EXPECT_LE(last, 2);
}

TEST(RequestLimiterTest, ChangedSpecResizesTheBucket) {
  RequestLimiter limiter;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(limiter.Take("k", RateSpec{10, 1000}, 0), 0);
  EXPECT_GT(limiter.Take("k", RateSpec{1, 1000}, 0), 0);
  EXPECT_EQ(limiter.Take("k", RateSpec{1, 1000}, 1000), 0);
  EXPECT_GT(limiter.Take("k", RateSpec{1, 1000}, 1000), 0);
}

}  // namespace
}  // namespace ingest::api
