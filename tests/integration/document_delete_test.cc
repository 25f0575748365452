// Deleting a document while its job runs (issue 18, docs/guide/documents.md): the delete goes
// through pipeline::DeleteDocument from inside the parser or the embedder (so it lands in the
// middle of that stage), and the job must end cancelled at that stage's boundary with nothing of
// the document left behind: no chunks, no index entry, no vector or parse the stage wrote after
// the delete, no blob, and no search result. Real components: SQLite store, filesystem blobs,
// the local parser and the lexical embedder, run by a WorkerPool.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "ingest/common/hash.h"
#include "ingest/embed/local/lexical_embedder.h"
#include "ingest/parse/local/local_parser.h"
#include "ingest/pipeline/delete_document.h"
#include "ingest/pipeline/run_until_terminal.h"
#include "ingest/pipeline/submit.h"
#include "ingest/pipeline/worker_pool.h"
#include "local_pipeline_fixture.h"

namespace ingest::pipeline {
namespace {

using namespace std::chrono_literals;

// Deletes `*target` (once) when called, then does the real work.
class DeletingParser : public parse::Parser {
 public:
  DeletingParser(const PipelineDeps* deps, std::string* target) : deps_(deps), target_(target) {}
  std::string_view Name() const override { return inner_.Name(); }
  std::string ConfigHash() const override { return inner_.ConfigHash(); }
  Result<parse::ParsedDocument> Parse(const parse::ParseInput& input) const override {
    DeleteOnce();
    return inner_.Parse(input);
  }
  void DeleteOnce() const {
    std::lock_guard<std::mutex> lk(mu_);
    if (target_->empty()) return;
    auto out = DeleteDocument(*deps_, *target_);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    target_->clear();
  }

 private:
  parse::LocalParser inner_;
  const PipelineDeps* deps_;
  std::string* target_;
  mutable std::mutex mu_;
};

class DeletingEmbedder : public embed::Embedder {
 public:
  DeletingEmbedder(const embed::Embedder* inner, const DeletingParser* deleter)
      : inner_(inner), deleter_(deleter) {}
  std::string_view Provider() const override { return inner_->Provider(); }
  std::string Describe() const override { return inner_->Describe(); }
  const store::VectorSpace& Space() const override { return inner_->Space(); }
  Result<embed::EmbedOutput> Embed(std::span<const std::string> texts) const override {
    deleter_->DeleteOnce();
    return inner_->Embed(texts);
  }

 private:
  const embed::Embedder* inner_;
  const DeletingParser* deleter_;
};

class DocumentDeleteTest : public LocalPipelineTest {
 protected:
  void SetUp() override {
    LocalPipelineTest::SetUp();
    if (HasFatalFailure()) return;
    parser_ = std::make_unique<DeletingParser>(&deps_, &target_);
    embedder_wrapper_ = std::make_unique<DeletingEmbedder>(embedder_.get(), parser_.get());
    deps_.parser = parser_.get();
    deps_.embedder = embedder_wrapper_.get();
  }
  void TearDown() override { LocalPipelineTest::TearDown(); }

  SubmitOutcome Submit(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/in/" + name;
    std::ofstream(path, std::ios::binary) << text;
    SubmitOptions options;
    options.external_id = name;
    auto out = SubmitFile(deps_, path, "default", options);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : SubmitOutcome{};
  }

  store::Job RunToEnd(const std::string& job_id) {
    WorkerOptions o;
    o.threads = 1;
    o.poll_interval = 10ms;
    o.worker_id = "delete-it";
    o.seed = 1;
    WorkerPool pool(deps_, o);
    EXPECT_TRUE(pool.Start().ok());
    RunUntilTerminalOptions r;
    r.poll_interval = 10ms;
    r.timeout = 60s;
    r.on_progress = [&](const IngestProgress&) { clock_.Advance(10ms); };
    std::vector<std::string> ids = {job_id};
    auto jobs = RunUntilTerminal(pool, *store_, ids, r);
    pool.RequestStop();
    pool.Join();
    EXPECT_TRUE(jobs.ok()) << jobs.status().ToString();
    return jobs.ok() && !jobs->empty() ? jobs->front() : store::Job{};
  }

  // Nothing of the document is left but its tombstone.
  void ExpectGone(const SubmitOutcome& s, const std::vector<std::string>& texts) {
    auto doc = store_->GetDocument(s.document.id);
    ASSERT_TRUE(doc.ok());
    EXPECT_NE(doc->deleted_at, 0);
    EXPECT_TRUE(store_->ListChunks(s.document.id)->empty());
    int indexed = 0;
    ASSERT_TRUE(store_
                    ->ScanIndex(embedder_->Space(), std::nullopt,
                                [&](const store::IndexedChunk&) { ++indexed; })
                    .ok());
    EXPECT_EQ(indexed, 0);
    for (const std::string& t : texts) {
      auto v = store_->GetVector(embedder_->Space(), Sha256Hex(t));
      ASSERT_TRUE(v.ok());
      EXPECT_FALSE(v->has_value()) << "a vector outlived its deleted document: " << t;
    }
    EXPECT_FALSE(blobs_->Exists(s.document.blob_key));
    auto parses = store_->GetParse(s.document.sha256, parser_->Name(), parser_->ConfigHash());
    ASSERT_TRUE(parses.ok());
    EXPECT_FALSE(parses->has_value()) << "the parse outlived its deleted document";
  }

  std::string target_;
  std::unique_ptr<DeletingParser> parser_;
  std::unique_ptr<DeletingEmbedder> embedder_wrapper_;
};

TEST_F(DocumentDeleteTest, DeletedWhileQueuedNeverRuns) {
  SubmitOutcome s = Submit("queued.txt", "A short note about queued work.");
  auto out = DeleteDocument(deps_, s.document.id);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->jobs_cancelled, 1);
  EXPECT_EQ(out->blobs_removed, 1);
  EXPECT_EQ(store_->GetJob(s.job.id)->state, store::JobState::kCancelled);
  EXPECT_EQ(DeleteDocument(deps_, s.document.id).status().code(), StatusCode::kNotFound);
  ExpectGone(s, {"A short note about queued work."});
}

TEST_F(DocumentDeleteTest, DeletedDuringParseStopsAtTheParseBoundary) {
  const std::string text = "Parsing is where this document is deleted, mid-stage.";
  SubmitOutcome s = Submit("parse.txt", text);
  target_ = s.document.id;
  store::Job job = RunToEnd(s.job.id);
  EXPECT_TRUE(target_.empty()) << "the parser never ran";
  EXPECT_EQ(job.state, store::JobState::kCancelled) << job.last_error_code;
  EXPECT_EQ(job.stage, store::Stage::kParse);
  ExpectGone(s, {text});
}

TEST_F(DocumentDeleteTest, DeletedDuringEmbedLeavesNoVector) {
  const std::string text = "Embedding is where this document is deleted, after its chunks exist.";
  SubmitOutcome s = Submit("embed.txt", text);
  // The parser passes (nothing armed); the embedder arms the delete on its first call, so it
  // lands after the chunks exist and before the vectors are stored.
  struct ArmingEmbedder : embed::Embedder {
    const embed::Embedder* inner = nullptr;
    DeletingParser* deleter = nullptr;
    std::string* target = nullptr;
    std::string id;
    mutable std::atomic<bool> armed{true};
    std::string_view Provider() const override { return inner->Provider(); }
    std::string Describe() const override { return inner->Describe(); }
    const store::VectorSpace& Space() const override { return inner->Space(); }
    Result<embed::EmbedOutput> Embed(std::span<const std::string> texts) const override {
      if (armed.exchange(false)) *target = id;
      deleter->DeleteOnce();
      return inner->Embed(texts);
    }
  };
  auto arming = std::make_unique<ArmingEmbedder>();
  arming->inner = embedder_.get();
  arming->deleter = parser_.get();
  arming->target = &target_;
  arming->id = s.document.id;
  deps_.embedder = arming.get();
  store::Job job = RunToEnd(s.job.id);
  EXPECT_EQ(job.state, store::JobState::kCancelled) << job.last_error_code;
  EXPECT_EQ(job.stage, store::Stage::kEmbed);
  ExpectGone(s, {text});
}

TEST_F(DocumentDeleteTest, AnotherDocumentsSharedTextKeepsItsVector) {
  const std::string shared = "This paragraph appears in two documents word for word.";
  SubmitOutcome keep = Submit("keep.txt", shared);
  store::Job kept = RunToEnd(keep.job.id);
  ASSERT_EQ(kept.state, store::JobState::kComplete) << kept.last_error_code;
  SubmitOutcome gone = Submit("gone.txt", shared + "\n\nAnd one more line only here.");
  store::Job done = RunToEnd(gone.job.id);
  ASSERT_EQ(done.state, store::JobState::kComplete) << done.last_error_code;
  ASSERT_TRUE(DeleteDocument(deps_, gone.document.id).ok());
  auto chunks = store_->ListChunks(keep.document.id);
  ASSERT_TRUE(chunks.ok());
  ASSERT_FALSE(chunks->empty());
  for (const auto& c : *chunks) {
    EXPECT_TRUE(store_->GetVector(embedder_->Space(), c.text_sha256)->has_value());
  }
  int indexed = 0;
  ASSERT_TRUE(store_
                  ->ScanIndex(embedder_->Space(), std::nullopt,
                              [&](const store::IndexedChunk& c) {
                                EXPECT_EQ(c.chunk->document_id, keep.document.id);
                                ++indexed;
                              })
                  .ok());
  EXPECT_EQ(indexed, static_cast<int>(chunks->size()));
  EXPECT_TRUE(blobs_->Exists(keep.document.blob_key));
}

}  // namespace
}  // namespace ingest::pipeline
