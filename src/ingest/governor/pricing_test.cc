#include "ingest/governor/pricing.h"

#include <gtest/gtest.h>

namespace ingest::governor {
namespace {

TEST(PricingTest, DefaultEmbeddingPricesExact) {
  const PriceTable p;
  // 1M tokens of text-embedding-3-small cost exactly $0.02.
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-3-small", 1000000), 20000);
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-3-large", 1000000), 130000);
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-ada-002", 1000000), 100000);
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-3-small", 1000000, /*batch=*/true), 10000);
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-3-large", 1000000, true), 65000);
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-ada-002", 1000000, true), 50000);
  EXPECT_EQ(*EmbeddingCostMicros(p, "lexical-v1", 123456789), 0);
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-3-small", 0), 0);
}

TEST(PricingTest, EmbeddingRoundsUpToTheMicroDollar) {
  const PriceTable p;
  // 1 token * 20000 / 1e6 = 0.02 micros -> 1.
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-3-small", 1), 1);
  // 50 tokens -> exactly 1 micro; 51 -> 1.02 -> 2.
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-3-small", 50), 1);
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-3-small", 51), 2);
  // 1234 tokens * 130000 / 1e6 = 160.42 -> 161.
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-3-large", 1234), 161);
}

TEST(PricingTest, UnknownModelIsNoPrice) {
  const PriceTable p;
  Result<int64_t> r = EmbeddingCostMicros(p, "text-embedding-4-huge", 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().reason(), "no_price");
  EXPECT_EQ(EmbeddingCostMicros(p, "nope", 10, true).status().reason(), "no_price");
  EXPECT_EQ(CreditsForPages(p, "ultra", 3).status().reason(), "no_price");
}

TEST(PricingTest, NegativeTokensRejected) {
  const PriceTable p;
  EXPECT_EQ(EmbeddingCostMicros(p, "text-embedding-3-small", -1).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PricingTest, LlamaParseCreditsAndCost) {
  const PriceTable p;
  EXPECT_EQ(*CreditsForPages(p, "fast", 10), 10);
  EXPECT_EQ(*CreditsForPages(p, "parse_page_without_llm", 10), 10);
  EXPECT_EQ(*CreditsForPages(p, "parse_page_with_llm", 10), 30);
  EXPECT_EQ(*CreditsForPages(p, "", 10), 30);  // the server default
  EXPECT_EQ(*CreditsForPages(p, "agent", 2), 20);
  EXPECT_EQ(*CreditsForPages(p, "premium", 2), 90);
  EXPECT_EQ(*CreditsForPages(p, "parse_page_with_agent", 2), 20);
  EXPECT_EQ(*CreditsForPages(p, "cost_effective", 2), 6);
  EXPECT_EQ(*CreditsForPages(p, "agentic", 2), 20);
  EXPECT_EQ(*CreditsForPages(p, "agentic_plus", 2), 90);
  // $1.25 per 1000 credits: 1000 credits = 1250000 micros; 1 credit = 1250; 30 = 37500.
  EXPECT_EQ(*ParseCostMicros(p, 1000), 1250000);
  EXPECT_EQ(*ParseCostMicros(p, 1), 1250);
  EXPECT_EQ(*ParseCostMicros(p, 30), 37500);
  EXPECT_EQ(*ParseCostMicros(p, 0), 0);
}

TEST(PricingTest, ParseUsdMicrosExact) {
  EXPECT_EQ(*ParseUsdMicros("0.02"), 20000);
  EXPECT_EQ(*ParseUsdMicros("1.25"), 1250000);
  EXPECT_EQ(*ParseUsdMicros("0.13"), 130000);
  EXPECT_EQ(*ParseUsdMicros("3"), 3000000);
  EXPECT_EQ(*ParseUsdMicros("0.000001"), 1);
  EXPECT_EQ(*ParseUsdMicros(".5"), 500000);
  EXPECT_EQ(*ParseUsdMicros("2."), 2000000);
  EXPECT_EQ(*ParseUsdMicros(" 0.1 "), 100000);
}

TEST(PricingTest, ParseUsdMicrosRejectsBadStrings) {
  for (const char* bad : {"", " ", ".", "-1", "1.2.3", "abc", "1e-3", "0.0000001", "$1", "1,5",
                          "99999999999999999999"}) {
    Result<int64_t> r = ParseUsdMicros(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PricingTest, OverridesApplyExactly) {
  PriceTable p;
  ASSERT_TRUE(ApplyPriceOverrides(p, "text-embedding-3-small=0.03, my-model=0.000003", "2.5").ok());
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-3-small", 1000000), 30000);
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-3-small", 1000000, true), 15000);
  EXPECT_EQ(*EmbeddingCostMicros(p, "my-model", 1000000), 3);
  EXPECT_EQ(*EmbeddingCostMicros(p, "my-model", 1000000, true), 2);  // half of 3, rounded up
  EXPECT_EQ(*EmbeddingCostMicros(p, "text-embedding-3-large", 1000000), 130000);  // untouched
  EXPECT_EQ(*ParseCostMicros(p, 1000), 2500000);
  PriceTable q;
  ASSERT_TRUE(ApplyPriceOverrides(q, "", "").ok());
  EXPECT_EQ(q.llamaparse_per_1000_credits, 1250000);
}

TEST(PricingTest, BadOverridesNameTheKey) {
  PriceTable p;
  Status s = ApplyPriceOverrides(p, "text-embedding-3-small", "");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("pricing.embedding_per_1m_usd"), std::string::npos);
  s = ApplyPriceOverrides(p, "m=abc", "");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("pricing.embedding_per_1m_usd"), std::string::npos);
  s = ApplyPriceOverrides(p, "", "1.2x");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("pricing.llamaparse_usd_per_1000_credits"), std::string::npos);
}

}  // namespace
}  // namespace ingest::governor

namespace ingest::governor {
namespace {

TEST(PricingTest, CreditsPerPageOverridesByMode) {
  PriceTable p;
  ASSERT_TRUE(ApplyPriceOverrides(p, "", "", "fast=2,default=4,my_mode=7").ok());
  EXPECT_EQ(*CreditsForPages(p, "fast", 10), 20);
  EXPECT_EQ(*CreditsForPages(p, "", 10), 40);  // "default": no parse_mode sent
  EXPECT_EQ(*CreditsForPages(p, "my_mode", 3), 21);
  EXPECT_EQ(*CreditsForPages(p, "premium", 1), 45);  // untouched default
}

TEST(PricingTest, BadCreditsPerPageEntriesAreRefusedByName) {
  PriceTable p;
  for (const char* bad : {"fast", "fast=", "=3", "fast=1.5", "fast=-1", "fast=1,,x"}) {
    Status s = ApplyPriceOverrides(p, "", "", bad);
    EXPECT_EQ(s.reason(), "bad_price") << bad;
    EXPECT_NE(s.message().find("pricing.llamaparse_credits_per_page"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace ingest::governor

namespace ingest::governor {
namespace {

TEST(PricingTest, UsdTextIsExact) {
  EXPECT_EQ(UsdText(0), "0.000000");
  EXPECT_EQ(UsdText(1250000), "1.250000");
  EXPECT_EQ(UsdText(7), "0.000007");
  EXPECT_EQ(UsdText(-20), "-0.000020");
  EXPECT_EQ(UsdText(INT64_MIN), "-9223372036854.775808");
}

}  // namespace
}  // namespace ingest::governor
