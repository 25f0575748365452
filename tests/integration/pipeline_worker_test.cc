// The whole pipeline with real components: SQLite store, filesystem blobs, the local parser,
// the cl100k_base tokenizer, the real chunker and the lexical embedder, run by a WorkerPool.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "ingest/embed/local/lexical_embedder.h"
#include "ingest/parse/local/local_parser.h"
#include "ingest/pipeline/run_until_terminal.h"
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

class PipelineWorkerTest : public LocalPipelineTest {
 protected:
  void SetUp() override {
    LocalPipelineTest::SetUp();
    if (HasFatalFailure()) return;
    deps_.parser = &parser_;
  }
  void TearDown() override { LocalPipelineTest::TearDown(); }

  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/in/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  WorkerOptions Options(int threads) {
    WorkerOptions o;
    o.threads = threads;
    o.poll_interval = 10ms;
    o.worker_id = "it-worker";
    o.seed = 1;
    return o;
  }

  std::vector<store::Job> Run(WorkerPool& pool, const std::vector<std::string>& ids) {
    RunUntilTerminalOptions o;
    o.poll_interval = 10ms;
    o.timeout = 120s;
    o.on_progress = [&](const IngestProgress&) { clock_.Advance(10ms); };
    auto jobs = RunUntilTerminal(pool, *store_, ids, o);
    EXPECT_TRUE(jobs.ok()) << jobs.status().ToString();
    return jobs.ok() ? *jobs : std::vector<store::Job>{};
  }

  parse::LocalParser parser_;
};

std::string Body(int i) {
  std::string s;
  for (int p = 0; p < 6; ++p) {
    s += "Paragraph " + std::to_string(p) + " of file " + std::to_string(i) + " explains topic " +
         std::to_string(i * 7 + p) +
         " in enough words that the chunker has something to cut into pieces.\n\n";
  }
  return s;
}

TEST_F(PipelineWorkerTest, TwentyFilesCompleteWithFourWorkers) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    std::string path;
    switch (i % 3) {
      case 0:
        path = Write("doc" + std::to_string(i) + ".md",
                     "# Doc " + std::to_string(i) + "\n\n## Part\n\n" + Body(i));
        break;
      case 1:
        path = Write("doc" + std::to_string(i) + ".txt", Body(i));
        break;
      default:
        path = Write("doc" + std::to_string(i) + ".html", "<!doctype html><html><body><h1>Doc " +
                                                              std::to_string(i) + "</h1><p>" +
                                                              Body(i) + "</p></body></html>");
    }
    auto out = SubmitFile(deps_, path, "default");
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_TRUE(out->created);
    ids.push_back(out->job.id);
  }
  WorkerPool pool(deps_, Options(4));
  ASSERT_TRUE(pool.Start().ok());
  auto jobs = Run(pool, ids);
  ASSERT_EQ(jobs.size(), 20u);
  std::set<std::string> chunk_ids;
  size_t chunks = 0;
  for (const auto& j : jobs) {
    ASSERT_EQ(j.state, store::JobState::kComplete)
        << j.id << " " << j.last_error_code << ": " << j.last_error_message;
    auto doc = store_->GetDocument(j.document_id).value();
    EXPECT_EQ(doc.page_count, 1);
    EXPECT_FALSE(doc.parser.empty());
    auto cs = store_->ListChunks(j.document_id).value();
    ASSERT_GE(cs.size(), 2u) << doc.filename;
    for (const auto& c : cs) {
      EXPECT_TRUE(chunk_ids.insert(c.id).second) << "chunk stored twice: " << c.id;
      EXPECT_LE(c.token_count, 64);
      EXPECT_EQ(static_cast<size_t>(c.token_count), deps_.tokens->Count(c.text));
      auto v = store_->GetVector(embedder_->Space(), c.text_sha256).value();
      ASSERT_TRUE(v.has_value());
      EXPECT_EQ(v->values.size(), static_cast<size_t>(embedder_->Space().dimensions));
      ++chunks;
    }
  }
  size_t indexed = 0;
  ASSERT_TRUE(store_
                  ->ScanIndex(embedder_->Space(), std::nullopt,
                              [&](const store::IndexedChunk&) { ++indexed; })
                  .ok());
  EXPECT_EQ(indexed, chunks);
  pool.RequestStop();  // counters are bumped just after the final row is written: join first
  pool.Join();
  const auto c = pool.counters().Snapshot();
  EXPECT_EQ(c.documents_completed, 20);
  EXPECT_EQ(c.chunks, static_cast<int64_t>(chunks));
  EXPECT_GT(c.tokens_embedded, 0);
  EXPECT_EQ(c.leases_lost, 0);

  // Ingesting the same files again does nothing.
  for (int i = 0; i < 20; ++i) {
    const std::string ext = i % 3 == 0 ? ".md" : i % 3 == 1 ? ".txt" : ".html";
    auto out = SubmitFile(deps_, dir_ + "/in/doc" + std::to_string(i) + ext, "default");
    ASSERT_TRUE(out.ok());
    EXPECT_FALSE(out->created);
    EXPECT_EQ(out->existing, SubmitOutcome::Existing::kAlreadyComplete);
  }
}

TEST_F(PipelineWorkerTest, UnsupportedAndEmptyContentFailWithClearCodes) {
  auto binary = SubmitFile(deps_, Write("photo.pdf", std::string("\x89PNG\r\n\x1a\n\x00\x01", 10)),
                           "default");
  ASSERT_TRUE(binary.ok()) << binary.status().ToString();
  auto blank = SubmitFile(deps_, Write("blank.md", "\n\n   \n"), "default");
  ASSERT_TRUE(blank.ok());
  WorkerPool pool(deps_, Options(2));
  ASSERT_TRUE(pool.Start().ok());
  auto jobs = Run(pool, {binary->job.id, blank->job.id});
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].state, store::JobState::kFailed);
  EXPECT_EQ(jobs[0].last_error_stage, "parse");
  EXPECT_EQ(jobs[0].last_error_code, "unsupported_type");
  EXPECT_EQ(jobs[1].state, store::JobState::kFailed);
  EXPECT_EQ(jobs[1].last_error_code, "empty_document");
  pool.RequestStop();
  pool.Join();
  EXPECT_EQ(pool.counters().Snapshot().documents_failed, 2);
}

TEST_F(PipelineWorkerTest, CrashedWorkersJobIsTakenOverAfterItsLeaseExpires) {
  auto out = SubmitFile(deps_, Write("crash.md", "# Crash\n\n" + Body(1)), "default");
  ASSERT_TRUE(out.ok());
  auto a = store_->LeaseNext("worker-A", 30s, clock_.NowMillis());
  ASSERT_TRUE(a.ok() && a->has_value());
  clock_.Advance(31s);
  WorkerPool pool(deps_, Options(2));
  ASSERT_TRUE(pool.Start().ok());
  auto jobs = Run(pool, {out->job.id});
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, store::JobState::kComplete);
  EXPECT_FALSE(store_->ListChunks(out->document.id).value().empty());
}

}  // namespace
}  // namespace ingest::pipeline
