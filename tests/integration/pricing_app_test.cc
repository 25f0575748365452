// Prices at App::Open (docs/costs.md): a paid embedder without a price is refused, config
// overrides are applied, bad override syntax is rejected at config load naming the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "ingest/app/app.h"
#include "ingest/governor/pricing.h"
#include "ingest/pipeline/pipeline_deps.h"

namespace ingest::app {
namespace {

namespace fs = std::filesystem;

class PricingAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ingestd_pricing_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    c_.store.data_dir = dir_.string();
    c_.store.url = "sqlite:" + (dir_ / "ingestd.db").string();
    c_.embed.provider = "openai";
    c_.openai.api_key = "sk-test";
    c_.openai.base_url = "http://127.0.0.1:9";  // never contacted by Open
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  config::Config c_;
};

TEST_F(PricingAppTest, OpenAiModelWithoutPriceIsRefused) {
  c_.embed.model = "text-embedding-unpriced";
  c_.embed.dimensions = 256;
  auto app = App::Open(c_);
  ASSERT_FALSE(app.ok());
  EXPECT_EQ(app.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(app.status().reason(), "no_price");
  EXPECT_NE(app.status().message().find("text-embedding-unpriced"), std::string::npos);
}

TEST_F(PricingAppTest, OverrideGivesTheModelAPriceAndDepsCarryIt) {
  c_.embed.model = "text-embedding-unpriced";
  c_.embed.dimensions = 256;
  c_.pricing.embedding_per_1m_usd = "text-embedding-unpriced=0.05";
  c_.pricing.llamaparse_usd_per_1000_credits = "3";
  auto app = App::Open(c_);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  pipeline::PipelineDeps deps = (*app)->Deps();
  ASSERT_NE(deps.prices, nullptr);
  EXPECT_TRUE(pipeline::ValidatePipelineDeps(deps).ok());
  EXPECT_EQ(*governor::EmbeddingCostNanos(*deps.prices, "text-embedding-unpriced", 1000000),
            50000000);
  EXPECT_EQ(*governor::ParseCostNanos(*deps.prices, 1000), 3000000000);
  // Defaults stay for the rest.
  EXPECT_EQ(*governor::EmbeddingCostNanos(*deps.prices, "text-embedding-3-small", 1000000),
            20000000);
}

TEST_F(PricingAppTest, DefaultModelHasAPrice) {
  auto app = App::Open(c_);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
}

TEST_F(PricingAppTest, NonLocalEmbedderNeedsAPriceTableInDeps) {
  auto app = App::Open(c_);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  pipeline::PipelineDeps deps = (*app)->Deps();
  deps.prices = nullptr;
  Status s = pipeline::ValidatePipelineDeps(deps);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("price"), std::string::npos);
}

TEST(PricingConfigTest, BadOverridesRejectedAtLoadNamingTheKey) {
  config::LoadOptions o;
  o.use_process_env = false;
  o.env = {{"INGESTD_PRICING_EMBEDDING_PER_1M_USD", "text-embedding-3-small"}};
  auto r = config::LoadConfig(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pricing.embedding_per_1m_usd"), std::string::npos);

  o.env = {{"INGESTD_PRICING_LLAMAPARSE_USD_PER_1000_CREDITS", "1,25"}};
  r = config::LoadConfig(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pricing.llamaparse_usd_per_1000_credits"),
            std::string::npos);

  o.env = {{"INGESTD_PRICING_EMBEDDING_PER_1M_USD", "a=0.02, b=1"},
           {"INGESTD_PRICING_LLAMAPARSE_USD_PER_1000_CREDITS", "1.25"}};
  r = config::LoadConfig(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pricing.embedding_per_1m_usd, "a=0.02, b=1");
}

TEST(PricingConfigTest, DecimalParsingIsExact) {
  EXPECT_EQ(*config::ParseUsdNanos("0.02"), 20000000);
  EXPECT_EQ(*config::ParseUsdNanos("1.25"), 1250000000);
  // USD per 1M tokens -> nano-dollars per token.
  auto list = config::ParseModelUsdList("x=0.13,y=0.001");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], (std::pair<std::string, int64_t>{"x", 130}));
  EXPECT_EQ((*list)[1], (std::pair<std::string, int64_t>{"y", 1}));
  EXPECT_FALSE(config::ParseModelUsdList("y=0.0001").ok());  // 0.1 nano per token
  EXPECT_FALSE(config::ParseModelUsdList("x=").ok());
  EXPECT_FALSE(config::ParseModelUsdList("=1").ok());
}

}  // namespace
}  // namespace ingest::app
