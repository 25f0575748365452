#include "ingest/pipeline/stages/stages.h"

#include <gtest/gtest.h>

#include <set>

#include "ingest/common/ids.h"
#include "ingest/pipeline/stages/stage_support.h"
#include "ingest/pipeline/submit.h"
#include "ingest/pipeline/testing/pipeline_fixture.h"
#include "ingest/text/chunker.h"

namespace ingest::pipeline {
namespace {

using store::Stage;

constexpr const char* kDoc =
    "# Title\n\nFirst paragraph with quite a few words in it to make a chunk or two.\n\n"
    "## Section\n\nSecond paragraph, also with several words, so that chunking splits it.\n\n"
    "Third paragraph repeats. Third paragraph repeats. Third paragraph repeats.\n";

class StagesTest : public testing::PipelineFixture {
 protected:
  void SetUp() override {
    PipelineFixture::SetUp();
    stages_ = MakeStages(deps_);
  }

  // Submits `content` and returns a context as a worker would hold it.
  std::unique_ptr<JobContext> Submit(const std::string& content, const std::string& tenant = "t1",
                                     const std::string& name = "doc.md") {
    auto out = SubmitFile(deps_, WriteFile(name, content), tenant);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    auto ctx = std::make_unique<JobContext>();
    ctx->job = out->job;
    ctx->document = out->document;
    return ctx;
  }

  Result<StageResult> Run(Stage s, JobContext& ctx) {
    ctx.job.stage = s;
    return stages_[static_cast<size_t>(s)]->Run(ctx);
  }

  void RunAll(JobContext& ctx) {
    for (Stage s : {Stage::kReceive, Stage::kParse, Stage::kValidate, Stage::kChunk, Stage::kEmbed,
                    Stage::kIndex, Stage::kAccount, Stage::kFinalize}) {
      auto r = Run(s, ctx);
      ASSERT_TRUE(r.ok()) << store::StageName(s) << ": " << r.status().ToString();
      EXPECT_EQ(r->kind, StageResult::Kind::kDone);
    }
  }

  std::vector<std::string> EventKinds(const std::string& job_id) {
    std::vector<std::string> kinds;
    for (const auto& e : store_->ListEvents(job_id, 100).value()) kinds.push_back(e.kind);
    return kinds;
  }

  StageSet stages_;
};

TEST_F(StagesTest, AllStagesStoreTheirOutputsInTheStore) {
  auto ctx = Submit(kDoc);
  RunAll(*ctx);
  const std::string doc_id = ctx->document.id;

  auto raw = store_->GetParse(ctx->document.sha256, "fake", "cfg1").value();
  ASSERT_TRUE(raw.has_value());
  EXPECT_TRUE(raw->detail_json.find("\"fake\":true") != std::string::npos);
  EXPECT_TRUE(raw->detail_json.find("\"ingestd_parser\":\"fake:markdown\"") != std::string::npos);
  auto validated = store_->GetParse(ctx->document.sha256, "validated:fake", "cfg1").value();
  ASSERT_TRUE(validated.has_value());
  ASSERT_EQ(validated->pages.size(), 1u);
  EXPECT_EQ(validated->pages[0].text.back(), '.');  // normalised: no final newline

  auto doc = store_->GetDocument(doc_id).value();
  EXPECT_EQ(doc.page_count, 1);
  EXPECT_EQ(doc.parser, "fake:markdown");
  EXPECT_EQ(doc.mime, "text/markdown");

  auto chunks = store_->ListChunks(doc_id).value();
  ASSERT_GE(chunks.size(), 2u);
  std::set<std::string> hashes;
  for (const auto& c : chunks) {
    EXPECT_EQ(c.id, ChunkId(doc_id, text::kChunkerVersion, c.ordinal));
    EXPECT_EQ(c.text_sha256, Sha256Hex(c.text));
    EXPECT_LE(c.token_count, 32);
    hashes.insert(c.text_sha256);
    auto v = store_->GetVector(embedder_.Space(), c.text_sha256).value();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->values.size(), 4u);
    EXPECT_EQ(v->provider, "fake");
  }
  EXPECT_EQ(embedder_.texts_embedded.load(), static_cast<int>(hashes.size()));

  // One ledger row per Embed call (batch size 4).
  auto ledger = store_->ListLedger(doc_id).value();
  EXPECT_EQ(ledger.size(), (hashes.size() + 3) / 4);
  int64_t tokens = 0;
  for (const auto& l : ledger) {
    EXPECT_EQ(l.service, "fake");
    EXPECT_EQ(l.operation, "embed");
    EXPECT_EQ(l.model, "fake-v1");
    EXPECT_EQ(l.job_id, ctx->job.id);
    EXPECT_EQ(l.cost_nanos, 0);
    tokens += l.tokens;
  }
  EXPECT_GT(tokens, 0);

  size_t indexed = 0;
  ASSERT_TRUE(store_
                  ->ScanIndex(embedder_.Space(), std::nullopt,
                              [&](const store::IndexedChunk& c) {
                                EXPECT_EQ(c.chunk->document_id, doc_id);
                                ++indexed;
                              })
                  .ok());
  EXPECT_EQ(indexed, chunks.size());

  auto kinds = EventKinds(ctx->job.id);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "validate.normalized"), kinds.end());
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "document.cost"), kinds.end());
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "document.complete"), kinds.end());
  EXPECT_EQ(std::find(kinds.begin(), kinds.end(), "parse.cache_hit"), kinds.end());
}

TEST_F(StagesTest, RerunningEveryStageIsIdempotent) {
  auto ctx = Submit(kDoc);
  RunAll(*ctx);
  const auto chunks = store_->ListChunks(ctx->document.id).value();
  const int embedded = embedder_.texts_embedded.load();
  const size_t ledger = store_->ListLedger(ctx->document.id).value().size();
  RunAll(*ctx);
  const auto again = store_->ListChunks(ctx->document.id).value();
  ASSERT_EQ(again.size(), chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) EXPECT_EQ(again[i].id, chunks[i].id);
  EXPECT_EQ(embedder_.texts_embedded.load(), embedded);  // vector cache: nothing re-embedded
  EXPECT_EQ(store_->ListLedger(ctx->document.id).value().size(), ledger);  // charged once
  EXPECT_EQ(parser_.calls.load(), 1);                                      // parse cache
}

TEST_F(StagesTest, ParseCacheAndVectorCacheAreSharedAcrossTenants) {
  auto a = Submit(kDoc, "tenant-a");
  RunAll(*a);
  auto b = Submit(kDoc, "tenant-b");
  ASSERT_NE(a->document.id, b->document.id);
  const int embedded = embedder_.texts_embedded.load();
  RunAll(*b);
  EXPECT_EQ(parser_.calls.load(), 1);
  EXPECT_EQ(embedder_.texts_embedded.load(), embedded);
  auto kinds = EventKinds(b->job.id);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "parse.cache_hit"), kinds.end());
  EXPECT_EQ(store_->ListChunks(b->document.id).value().size(),
            store_->ListChunks(a->document.id).value().size());
  EXPECT_EQ(store_->GetDocument(b->document.id).value().parser, "fake:markdown");
}

TEST_F(StagesTest, ParserErrorIsTheStageError) {
  parser_.hook = [](const parse::ParseInput&, int) {
    return InvalidArgument("broken", "pdf_corrupt");
  };
  auto ctx = Submit(kDoc);
  auto r = Run(Stage::kParse, *ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "pdf_corrupt");
  EXPECT_FALSE(store_->GetParse(ctx->document.sha256, "fake", "cfg1").value().has_value());
}

TEST_F(StagesTest, ValidateRejectsEmptyTextAndStoresNothing) {
  auto ctx = Submit("   \n\n\t\n");
  ASSERT_TRUE(Run(Stage::kParse, *ctx).ok());
  auto r = Run(Stage::kValidate, *ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().reason(), "empty_document");
  EXPECT_FALSE(
      store_->GetParse(ctx->document.sha256, "validated:fake", "cfg1").value().has_value());
}

TEST_F(StagesTest, StageWithoutItsInputSaysWhereToRequeueFrom) {
  auto ctx = Submit(kDoc);
  auto r = Run(Stage::kChunk, *ctx);  // validate never ran
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "missing_stage_input");
  r = Run(Stage::kEmbed, *ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "missing_stage_input");
}

TEST_F(StagesTest, FailedEmbedBatchFailsTheStageAndKeepsEarlierBatches) {
  std::string many;
  for (int i = 0; i < 12; ++i) {
    many += "Paragraph number " + std::to_string(i) +
            " talks about its own topic at some length so it is a chunk.\n\n";
  }
  deps_.chunker.max_tokens = 16;
  stages_ = MakeStages(deps_);
  auto ctx = Submit(many);
  for (Stage s : {Stage::kParse, Stage::kValidate, Stage::kChunk}) ASSERT_TRUE(Run(s, *ctx).ok());
  std::set<std::string> distinct;
  for (const auto& c : store_->ListChunks(ctx->document.id).value()) distinct.insert(c.text);
  ASSERT_GT(distinct.size(), 4u) << "need at least two batches of 4";
  deps_.embed_batch_size = 4;
  embedder_.hook = [](std::span<const std::string>, int call) {
    return call == 2 ? Unavailable("503 from provider", "http_503") : Status::Ok();
  };
  auto r = Run(Stage::kEmbed, *ctx);
  ASSERT_FALSE(r.ok()) << "distinct texts " << distinct.size() << ", embed calls "
                       << embedder_.calls.load() << ", texts embedded "
                       << embedder_.texts_embedded.load();
  EXPECT_EQ(r.status().reason(), "http_503");
  EXPECT_EQ(embedder_.texts_embedded.load(), 4);
  EXPECT_EQ(store_->ListLedger(ctx->document.id).value().size(), 1u);
  // The index stage refuses a document whose chunks lack vectors.
  EXPECT_FALSE(Run(Stage::kIndex, *ctx).ok());

  embedder_.hook = nullptr;
  ASSERT_TRUE(Run(Stage::kEmbed, *ctx).ok());
  EXPECT_EQ(embedder_.texts_embedded.load(), static_cast<int>(distinct.size()));
  EXPECT_TRUE(Run(Stage::kIndex, *ctx).ok());
}

TEST_F(StagesTest, EmbedderReturningTooFewVectorsIsAnError) {
  class ShortEmbedder final : public embed::Embedder {
   public:
    std::string_view Provider() const override { return "short"; }
    std::string Describe() const override { return "short"; }
    const store::VectorSpace& Space() const override { return space_; }
    Result<embed::EmbedOutput> Embed(std::span<const std::string>) const override {
      return embed::EmbedOutput{};
    }
    store::VectorSpace space_{"short-v1", 4};
  } shorty;
  deps_.embedder = &shorty;
  stages_ = MakeStages(deps_);
  auto ctx = Submit(kDoc);
  for (Stage s : {Stage::kParse, Stage::kValidate, Stage::kChunk}) ASSERT_TRUE(Run(s, *ctx).ok());
  auto r = Run(Stage::kEmbed, *ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "embedder_contract");
  EXPECT_TRUE(store_->ListLedger(ctx->document.id).value().empty());
}

TEST_F(StagesTest, AccountRefusesUnsettledReservationsOfTheJob) {
  auto ctx = Submit(kDoc);
  store::LedgerEntry e;
  e.id = UuidV4();
  e.service = "llamaparse";
  e.operation = "parse";
  e.tenant = "t1";
  e.document_id = ctx->document.id;
  e.job_id = ctx->job.id;
  e.cost_nanos = 3000;
  e.state = store::LedgerState::kReserved;
  ASSERT_TRUE(store_->AppendLedger(e).ok());
  auto r = Run(Stage::kAccount, *ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().reason(), "unsettled_reservation");
}

TEST_F(StagesTest, ReceiveChecksTheBlob) {
  auto ctx = Submit(kDoc);
  EXPECT_TRUE(Run(Stage::kReceive, *ctx).ok());
  ctx->document.blob_key = std::string(64, 'a');
  auto r = Run(Stage::kReceive, *ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "blob_missing");
}

// A remote blob store (PostgreSQL, S3) whose Exists answers false because the service did not
// answer: the receive stage returns the outage (retried), not blob_missing (a lost document).
class UnansweringBlobStore final : public store::BlobStore {
 public:
  explicit UnansweringBlobStore(bool answers_reads) : answers_reads_(answers_reads) {}
  Result<std::string> PutFile(const std::string&) override { return Unavailable("down"); }
  Result<std::string> PutBytes(std::string_view) override { return Unavailable("down"); }
  Result<std::string> LocalPath(std::string_view) override {
    if (answers_reads_) return path_;
    return Unavailable("the blob database did not answer", "database_unavailable");
  }
  bool Exists(std::string_view) override { return false; }
  Status Delete(std::string_view) override { return Unavailable("down"); }
  std::string Describe() const override { return "unanswering"; }
  Status CheckReachable() override { return Unavailable("down"); }
  std::string path_;

 private:
  bool answers_reads_;
};

TEST_F(StagesTest, ReceiveRetriesABlobStoreOutageInsteadOfLosingTheDocument) {
  auto ctx = Submit(kDoc);
  UnansweringBlobStore down(/*answers_reads=*/false);
  deps_.blobs = &down;
  stages_ = MakeStages(deps_);
  auto r = Run(Stage::kReceive, *ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  // Exists failed but the blob is readable: the stage is done.
  UnansweringBlobStore flaky(/*answers_reads=*/true);
  flaky.path_ = WriteFile("copy.md", kDoc);
  deps_.blobs = &flaky;
  stages_ = MakeStages(deps_);
  auto ok = Run(Stage::kReceive, *ctx);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->kind, StageResult::Kind::kDone);
}

}  // namespace
}  // namespace ingest::pipeline
