#include "ingest/governor/pricing.h"

#include <gtest/gtest.h>

namespace ingest::governor {
namespace {

TEST(PricingTest, DefaultEmbeddingPricesExact) {
  const PriceTable p;
  // 1M tokens of text-embedding-3-small cost exactly $0.02 = 20,000,000 nanos.
  EXPECT_EQ(*EmbeddingCostNanos(p, "text-embedding-3-small", 1000000), 20000000);
  EXPECT_EQ(*EmbeddingCostNanos(p, "text-embedding-3-large", 1000000), 130000000);
  EXPECT_EQ(*EmbeddingCostNanos(p, "text-embedding-ada-002", 1000000), 100000000);
  EXPECT_EQ(*EmbeddingCostNanos(p, "text-embedding-3-small", 1000000, /*batch=*/true), 10000000);
  EXPECT_EQ(*EmbeddingCostNanos(p, "text-embedding-3-large", 1000000, true), 65000000);
  EXPECT_EQ(*EmbeddingCostNanos(p, "text-embedding-ada-002", 1000000, true), 50000000);
  EXPECT_EQ(*EmbeddingCostNanos(p, "lexical-v1", 123456789), 0);
  EXPECT_EQ(*EmbeddingCostNanos(p, "text-embedding-3-small", 0), 0);
}

// Every default price is a whole number of nano-dollars per unit, Batch half prices included,
// so a row is exact and rows add up to the bill for the same usage.
TEST(PricingTest, EveryDefaultPriceIsWholeNanosPerUnit) {
  const PriceTable p;
  for (const auto& [model, per_token] : p.embedding_per_token) {
    auto batch = p.embedding_batch_per_token.find(model);
    ASSERT_NE(batch, p.embedding_batch_per_token.end()) << model;
    EXPECT_EQ(batch->second * 2, per_token) << model;
  }
  EXPECT_EQ(p.llamaparse_per_credit * 1000, 1250000000);  // $1.25 per 1,000 credits
}

TEST(PricingTest, EmbeddingIsExactPerToken) {
  const PriceTable p;
  EXPECT_EQ(*EmbeddingCostNanos(p, "text-embedding-3-small", 1), 20);
  EXPECT_EQ(*EmbeddingCostNanos(p, "text-embedding-3-small", 778), 15560);  // $0.00001556
  EXPECT_EQ(*EmbeddingCostNanos(p, "text-embedding-3-large", 1234), 160420);
  // Rows add up: the sum of the parts equals the cost of the whole, for any split.
  int64_t sum = 0;
  for (int64_t t : {1, 49, 51, 677}) sum += *EmbeddingCostNanos(p, "text-embedding-3-small", t);
  EXPECT_EQ(sum, *EmbeddingCostNanos(p, "text-embedding-3-small", 778));
}

TEST(PricingTest, OverflowIsRefused) {
  const PriceTable p;
  EXPECT_EQ(EmbeddingCostNanos(p, "text-embedding-3-large", INT64_MAX / 100).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PricingTest, UnknownModelIsNoPrice) {
  const PriceTable p;
  Result<int64_t> r = EmbeddingCostNanos(p, "text-embedding-4-huge", 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().reason(), "no_price");
  EXPECT_EQ(EmbeddingCostNanos(p, "nope", 10, true).status().reason(), "no_price");
  EXPECT_EQ(CreditsForPages(p, "ultra", 3).status().reason(), "no_price");
}

TEST(PricingTest, NegativeTokensRejected) {
  const PriceTable p;
  EXPECT_EQ(EmbeddingCostNanos(p, "text-embedding-3-small", -1).status().code(),
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
  // $1.25 per 1000 credits: 1 credit = 1,250,000 nanos; 30 = 37,500,000.
  EXPECT_EQ(*ParseCostNanos(p, 1000), 1250000000);
  EXPECT_EQ(*ParseCostNanos(p, 1), 1250000);
  EXPECT_EQ(*ParseCostNanos(p, 30), 37500000);
  EXPECT_EQ(*ParseCostNanos(p, 0), 0);
}

TEST(PricingTest, ParseUsdNanosExact) {
  EXPECT_EQ(*ParseUsdNanos("0.02"), 20000000);
  EXPECT_EQ(*ParseUsdNanos("1.25"), 1250000000);
  EXPECT_EQ(*ParseUsdNanos("0.13"), 130000000);
  EXPECT_EQ(*ParseUsdNanos("3"), 3000000000);
  EXPECT_EQ(*ParseUsdNanos("0.000001"), 1000);
  EXPECT_EQ(*ParseUsdNanos("0.000000001"), 1);
  EXPECT_EQ(*ParseUsdNanos(".5"), 500000000);
  EXPECT_EQ(*ParseUsdNanos("2."), 2000000000);
  EXPECT_EQ(*ParseUsdNanos(" 0.1 "), 100000000);
}

TEST(PricingTest, ParseUsdNanosRejectsBadStrings) {
  for (const char* bad : {"", " ", ".", "-1", "1.2.3", "abc", "1e-3", "0.0000000001", "$1", "1,5",
                          "99999999999999999999"}) {
    Result<int64_t> r = ParseUsdNanos(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PricingTest, OverridesApplyExactly) {
  PriceTable p;
  ASSERT_TRUE(ApplyPriceOverrides(p, "text-embedding-3-small=0.03, my-model=0.003", "2.5").ok());
  EXPECT_EQ(*EmbeddingCostNanos(p, "text-embedding-3-small", 1000000), 30000000);
  EXPECT_EQ(*EmbeddingCostNanos(p, "text-embedding-3-small", 1000000, true), 15000000);
  EXPECT_EQ(*EmbeddingCostNanos(p, "my-model", 1000000), 3000000);
  // Half of 3 nanos per token is not whole: no Batch price rather than a rounded one.
  EXPECT_EQ(EmbeddingCostNanos(p, "my-model", 1000000, true).status().reason(), "no_price");
  EXPECT_EQ(*EmbeddingCostNanos(p, "text-embedding-3-large", 1000000), 130000000);  // untouched
  EXPECT_EQ(*ParseCostNanos(p, 1000), 2500000000);
  PriceTable q;
  ASSERT_TRUE(ApplyPriceOverrides(q, "", "").ok());
  EXPECT_EQ(q.llamaparse_per_credit, 1250000);
}

// A price that is not a whole number of nano-dollars per unit could not give exact rows.
TEST(PricingTest, OverridesBelowOneNanoPerUnitAreRefused) {
  PriceTable p;
  Status s = ApplyPriceOverrides(p, "m=0.0005", "");  // 0.5 nanos per token
  EXPECT_EQ(s.reason(), "bad_price");
  EXPECT_NE(s.message().find("pricing.embedding_per_1m_usd"), std::string::npos);
  s = ApplyPriceOverrides(p, "", "1.0000005");  // 1000.0005 nanos per credit
  EXPECT_EQ(s.reason(), "bad_price");
  EXPECT_NE(s.message().find("pricing.llamaparse_usd_per_1000_credits"), std::string::npos);
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
  EXPECT_EQ(UsdText(0), "0.000000000");
  EXPECT_EQ(UsdText(1250000000), "1.250000000");
  EXPECT_EQ(UsdText(15560), "0.000015560");
  EXPECT_EQ(UsdText(-20), "-0.000000020");
  EXPECT_EQ(UsdText(INT64_MIN), "-9223372036.854775808");
}

TEST(PricingTest, UsdDisplayRoundsOnlyForPeople) {
  EXPECT_EQ(UsdDisplay(15560, 6), "0.000016");
  EXPECT_EQ(UsdDisplay(15499, 6), "0.000015");
  EXPECT_EQ(UsdDisplay(1250000000, 2), "1.25");
  EXPECT_EQ(UsdDisplay(1995000000, 2), "2.00");
  EXPECT_EQ(UsdDisplay(15560, 9), "0.000015560");
  EXPECT_EQ(UsdDisplay(-15560, 6), "-0.000016");
  EXPECT_EQ(UsdDisplay(2500000000, 0), "3");
}

}  // namespace
}  // namespace ingest::governor
