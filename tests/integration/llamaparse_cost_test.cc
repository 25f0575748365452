// The LlamaParse ledger row (docs/costs.md): one priced row per completed remote parse, none on
// a parse-cache hit.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "ingest/embed/local/lexical_embedder.h"
#include "ingest/emulate/llamaparse/llamaparse_emulator.h"
#include "ingest/governor/pricing.h"
#include "ingest/http/http_client.h"
#include "ingest/parse/llamaparse/llamaparse_parser.h"
#include "ingest/pipeline/submit.h"
#include "ingest/pipeline/worker_pool.h"
#include "ingest/store/fs_blob_store.h"
#include "ingest/store/sqlite/sqlite_store.h"
#include "ingest/text/tokenizer.h"
#include "local_pipeline_fixture.h"

namespace ingest::pipeline {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class LlamaParseCostTest : public LocalPipelineTest {
 protected:
  void SetUp() override {
    LocalPipelineTest::SetUp();
    if (HasFatalFailure()) return;
    deps_.prices = &prices_;

    emulate::LlamaParseEmulatorOptions o;
    o.api_keys = {"llx-test"};
    o.latency_base_ms = 1000;
    o.latency_per_page_ms = 0;
    o.clock = &clock_;
    emulator_ = std::make_unique<emulate::LlamaParseEmulator>(std::move(o));
    ASSERT_TRUE(emulator_->Start("127.0.0.1", 0).ok());
    parse::LlamaParseParserOptions po;
    po.client.base_url = "http://127.0.0.1:" + std::to_string(emulator_->port());
    po.client.api_key = "llx-test";
    parser_ = std::make_unique<parse::LlamaParseParser>(http_.get(), po);
    deps_.parser = parser_.get();

    path_ = dir_ + "/in/doc.md";
    std::string body = "# Costs\n\n";
    for (int p = 0; p < 5; ++p) body += "Paragraph " + std::to_string(p) + " about billing.\n\n";
    std::ofstream(path_, std::ios::binary) << body;
  }
  void TearDown() override {
    parser_.reset();
    http_.reset();
    if (emulator_) emulator_->Stop();
    LocalPipelineTest::TearDown();
  }

  store::Job Job(const std::string& id) { return store_->GetJob(id).value(); }
  bool RunUntilTerminal(WorkerPool* pool, const std::string& id) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < give_up) {
      const auto s = Job(id).state;
      if (s == store::JobState::kComplete || s == store::JobState::kFailed ||
          s == store::JobState::kDead) {
        return true;
      }
      std::this_thread::sleep_for(3ms);
      clock_.Advance(Duration(100));
      pool->Wake();
    }
    return false;
  }
  std::vector<store::LedgerEntry> ParseRows() {
    std::vector<store::LedgerEntry> out;
    for (auto& e : store_->ListLedger(std::nullopt).value()) {
      if (e.operation == "parse") out.push_back(e);
    }
    return out;
  }

  std::string path_;
  governor::PriceTable prices_;
  std::unique_ptr<http::HttpClient> http_ = std::make_unique<http::HttpClient>();
  std::unique_ptr<emulate::LlamaParseEmulator> emulator_;
  std::unique_ptr<parse::LlamaParseParser> parser_;
};

TEST_F(LlamaParseCostTest, CompletedRemoteParseIsPricedOnceAndCacheHitsAreFree) {
  prices_.llamaparse_per_credit = 2000000;  // $2 per 1000 credits: 1 credit = 2,000,000 nanos
  auto a = SubmitFile(deps_, path_, "tenant-a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  WorkerOptions options;
  options.threads = 1;
  options.poll_interval = 5ms;
  options.worker_id = "lp-cost";
  options.seed = 1;
  WorkerPool pool(deps_, options);
  ASSERT_TRUE(pool.Start().ok());
  ASSERT_TRUE(RunUntilTerminal(&pool, a->job.id));
  const store::Job ja = Job(a->job.id);
  ASSERT_EQ(ja.state, store::JobState::kComplete) << ja.last_error_message;

  auto rows = ParseRows();
  ASSERT_EQ(rows.size(), 1u);
  const auto& r = rows[0];
  const auto stats = emulator_->Stats();
  EXPECT_EQ(r.service, "llamaparse");
  EXPECT_EQ(r.document_id, ja.document_id);
  EXPECT_EQ(r.job_id, ja.id);
  EXPECT_EQ(r.tenant, "tenant-a");
  EXPECT_EQ(r.provider_request_id, ja.remote_job_id);
  EXPECT_EQ(r.state, store::LedgerState::kSettled);
  EXPECT_EQ(r.pages, stats.pages_billed);
  EXPECT_GT(r.credits, 0);
  EXPECT_EQ(static_cast<double>(r.credits), stats.credits_billed);
  EXPECT_EQ(r.cost_nanos, r.credits * 2000000);

  // The same file for another tenant is a parse-cache hit: no remote job, no new row.
  auto b = SubmitFile(deps_, path_, "tenant-b");
  ASSERT_TRUE(b.ok());
  pool.Wake();
  ASSERT_TRUE(RunUntilTerminal(&pool, b->job.id));
  ASSERT_EQ(Job(b->job.id).state, store::JobState::kComplete);
  EXPECT_EQ(ParseRows().size(), 1u);
  EXPECT_EQ(emulator_->Stats().billed_jobs, 1);
}

}  // namespace
}  // namespace ingest::pipeline
