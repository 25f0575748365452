// Search queries' embeddings (pipeline/query_embedding.h) against the OpenAI emulator over
// loopback: billed to the caller's tenant as one "query" ledger row equal to the emulator's
// bill, embedded once per text (the store's query vector cache), refused with nothing sent over
// a hard budget (global or the tenant's), and free embedders write no row.
#include "ingest/pipeline/query_embedding.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ingest/embed/openai/openai_embedder.h"
#include "ingest/emulate/openai/openai_emulator.h"
#include "ingest/governor/governor.h"
#include "ingest/obs/metrics.h"
#include "local_pipeline_fixture.h"

namespace ingest::pipeline {
namespace {

using namespace std::chrono_literals;

class QueryEmbeddingTest : public LocalPipelineTest {
 protected:
  void SetUp() override {
    LocalPipelineTest::SetUp();
    if (HasFatalFailure()) return;
    prices_.embedding_per_token["text-embedding-3-small"] = 20'000;  // $20 per 1M tokens
    deps_.prices = &prices_;
    governor_ = std::make_unique<governor::Governor>(store_.get(), &clock_, &prices_,
                                                     governor::GovernorOptions{});
    deps_.governor = governor_.get();
    deps_.embed_tokens = deps_.tokens;
    emulate::OpenAiEmulatorOptions o;
    o.clock = &clock_;
    openai_ = std::make_unique<emulate::OpenAiEmulator>(std::move(o), deps_.tokens);
    ASSERT_TRUE(openai_->Start("127.0.0.1", 0).ok());
    governor::ProviderOptions p;
    p.name = "openai";
    auto gate = governor_->AddProvider(p);
    ASSERT_TRUE(gate.ok()) << gate.status().ToString();
    embed::OpenAiEmbedderOptions e;
    e.base_url = "http://127.0.0.1:" + std::to_string(openai_->port()) + "/v1";
    e.api_key = "test-" + std::string(8, 'k');
    e.token_counter = deps_.tokens;
    e.gate = *gate;
    e.http.total_timeout = 5s;
    auto emb = embed::OpenAiEmbedder::Create(e);
    ASSERT_TRUE(emb.ok()) << emb.status().ToString();
    openai_embedder_ = std::move(*emb);
    deps_.embedder = openai_embedder_.get();
  }
  void TearDown() override {
    openai_embedder_.reset();
    governor_.reset();
    if (openai_) openai_->Stop();
    LocalPipelineTest::TearDown();
  }

  std::vector<store::LedgerEntry> Rows() {
    auto rows = store_->ListLedger(std::nullopt);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<store::LedgerEntry>{};
  }

  void SetHardBudget(store::BudgetScope scope, std::string key, int64_t nanos) {
    store::Budget b;
    b.scope = scope;
    b.scope_key = std::move(key);
    b.period = store::BudgetPeriod::kDay;
    b.hard_nanos = nanos;
    ASSERT_TRUE(store_->PutBudget(b).ok());
  }

  governor::PriceTable prices_;
  std::unique_ptr<governor::Governor> governor_;
  std::unique_ptr<emulate::OpenAiEmulator> openai_;
  std::unique_ptr<embed::Embedder> openai_embedder_;
  obs::Metrics metrics_;
};

TEST_F(QueryEmbeddingTest, AQueryIsOneLedgerRowOfItsTenantEqualToTheBillAndEmbeddedOnce) {
  auto first = EmbedQuery(deps_, "how do leases expire?", "acme", &metrics_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->cached);
  EXPECT_EQ(first->values.size(), static_cast<size_t>(deps_.embedder->Space().dimensions));
  const auto bill = openai_->Stats();
  EXPECT_EQ(bill.billed_requests, 1);
  const auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  const store::LedgerEntry& r = rows[0];
  EXPECT_EQ(r.operation, "query");
  EXPECT_EQ(r.service, "openai");
  EXPECT_EQ(r.tenant, "acme");
  EXPECT_EQ(r.state, store::LedgerState::kSettled);
  EXPECT_TRUE(r.document_id.empty());
  EXPECT_TRUE(r.job_id.empty());
  EXPECT_EQ(r.tokens, bill.billed_tokens);
  EXPECT_EQ(r.requests, 1);
  EXPECT_FALSE(r.provider_request_id.empty());
  EXPECT_EQ(r.cost_nanos,
            *governor::EmbeddingCostNanos(prices_, "text-embedding-3-small", bill.billed_tokens));
  EXPECT_EQ(first->cost_nanos, r.cost_nanos);

  // The same text in the same space: from the store, nothing sent, nothing recorded; the
  // vector is the one the provider returned.
  auto again = EmbedQuery(deps_, "how do leases expire?", "other-tenant", &metrics_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->cached);
  EXPECT_EQ(again->cost_nanos, 0);
  EXPECT_EQ(again->values, first->values);
  EXPECT_EQ(openai_->Stats().requests, bill.requests);
  EXPECT_EQ(Rows().size(), 1u);
  const std::string text = metrics_.Serialize();
  EXPECT_NE(text.find("ingestd_queries_total{outcome=\"embedded\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("ingestd_queries_total{outcome=\"cache_hit\"} 1"), std::string::npos);
  EXPECT_NE(text.find("ingestd_cache_hits_total{cache=\"query\"} 1"), std::string::npos);
}

TEST_F(QueryEmbeddingTest, OverAHardBudgetTheQueryIsRefusedAndNothingIsSent) {
  SetHardBudget(store::BudgetScope::kGlobal, "", 0);
  QueryRefusal refusal;
  auto q = EmbedQuery(deps_, "a question", "acme", &metrics_, &refusal);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(q.status().reason(), "budget_exceeded");
  EXPECT_NE(q.status().message().find("global day budget"), std::string::npos)
      << q.status().message();
  EXPECT_NE(q.status().message().find("resumes at"), std::string::npos);
  ASSERT_TRUE(refusal.budget.has_value());
  EXPECT_EQ(refusal.budget->budget.scope, store::BudgetScope::kGlobal);
  EXPECT_GT(refusal.budget->window.end, clock_.NowMillis());
  EXPECT_EQ(openai_->Stats().requests, 0);
  EXPECT_TRUE(Rows().empty());
  EXPECT_NE(metrics_.Serialize().find("ingestd_queries_total{outcome=\"budget_exceeded\"} 1"),
            std::string::npos);
}

TEST_F(QueryEmbeddingTest, TheCallersTenantBudgetApplies) {
  SetHardBudget(store::BudgetScope::kTenant, "acme", 0);
  QueryRefusal refusal;
  auto refused = EmbedQuery(deps_, "a question", "acme", nullptr, &refusal);
  EXPECT_EQ(refused.status().reason(), "budget_exceeded");
  ASSERT_TRUE(refusal.budget.has_value());
  EXPECT_EQ(refusal.budget->budget.scope, store::BudgetScope::kTenant);
  EXPECT_EQ(refusal.budget->budget.scope_key, "acme");
  EXPECT_EQ(openai_->Stats().requests, 0);
  auto other = EmbedQuery(deps_, "a question", "beta", nullptr);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_EQ(Rows().size(), 1u);
  EXPECT_EQ(Rows()[0].tenant, "beta");
  // Once embedded, the text is in the cache: free for acme too, budget or not.
  auto cached = EmbedQuery(deps_, "a question", "acme", nullptr);
  ASSERT_TRUE(cached.ok()) << cached.status().ToString();
  EXPECT_TRUE(cached->cached);
  EXPECT_EQ(openai_->Stats().requests, 1);
}

TEST_F(QueryEmbeddingTest, TheLocalEmbedderIsFreeAndWritesNoRow) {
  deps_.embedder = embedder_.get();  // lexical
  SetHardBudget(store::BudgetScope::kGlobal, "", 0);
  auto q = EmbedQuery(deps_, "a question", "acme", &metrics_);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_FALSE(q->cached);
  EXPECT_EQ(q->cost_nanos, 0);
  EXPECT_TRUE(Rows().empty());
  EXPECT_NE(metrics_.Serialize().find("ingestd_queries_total{outcome=\"free\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace ingest::pipeline
