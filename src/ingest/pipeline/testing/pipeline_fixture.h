// Test support for the pipeline: in-test fakes of Parser, Embedder and TokenCounter, and a
// fixture wiring them to a real SQLite store and FsBlobStore in a fresh temporary directory.
// Header-only so it never ends up in the ingest_pipeline library. Not for production use.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ingest/common/hash.h"
#include "ingest/pipeline/pipeline_deps.h"
#include "ingest/store/fs_blob_store.h"
#include "ingest/store/sqlite/sqlite_store.h"

namespace ingest::pipeline::testing {

// Reads the file as one Markdown page. `hook`, when set, runs first; a non-ok Status it returns
// is the parse result (scripted failures). Counts calls. Thread-safe.
class FakeParser final : public parse::Parser {
 public:
  std::string_view Name() const override { return "fake"; }
  std::string ConfigHash() const override { return "cfg1"; }
  Result<parse::ParsedDocument> Parse(const parse::ParseInput& input) const override {
    const int call = calls.fetch_add(1) + 1;
    if (hook) {
      Status s = hook(input, call);
      if (!s.ok()) return s;
    }
    std::ifstream in(input.path, std::ios::binary);
    if (!in) return NotFound("cannot open " + input.path);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    parse::ParsedDocument d;
    d.pages.push_back(store::PageText{1, bytes});
    d.type = parse::DocType::kMarkdown;
    d.parser = "fake:markdown";
    d.detail_json = R"({"fake":true})";
    return d;
  }

  std::function<Status(const parse::ParseInput&, int call)> hook;
  mutable std::atomic<int> calls{0};
};

// Deterministic 4-dimensional unit vectors from the text's hash; usage.tokens = bytes / 4 + 1
// per text. `hook` may fail a call. Counts texts embedded. Thread-safe.
class FakeEmbedder final : public embed::Embedder {
 public:
  std::string_view Provider() const override { return "fake"; }
  std::string Describe() const override { return "fake embedder"; }
  const store::VectorSpace& Space() const override { return space_; }
  Result<embed::EmbedOutput> Embed(std::span<const std::string> texts) const override {
    const int call = calls.fetch_add(1) + 1;
    if (hook) {
      Status s = hook(texts, call);
      if (!s.ok()) return s;
    }
    embed::EmbedOutput out;
    for (const auto& t : texts) {
      const uint64_t h = Fnv1a64(t);
      std::vector<float> v(4);
      float norm = 0;
      for (int i = 0; i < 4; ++i) {
        v[i] = static_cast<float>((h >> (i * 16)) & 0xffff) + 1.0f;
        norm += v[i] * v[i];
      }
      for (float& x : v) x /= std::sqrt(norm);
      out.vectors.push_back(std::move(v));
      out.usage.tokens += static_cast<int64_t>(t.size() / 4 + 1);
    }
    out.usage.requests = 1;
    out.usage.request_ids = {"req-" + std::to_string(call)};
    texts_embedded.fetch_add(static_cast<int>(texts.size()));
    return out;
  }

  std::function<Status(std::span<const std::string>, int call)> hook;
  mutable std::atomic<int> calls{0};
  mutable std::atomic<int> texts_embedded{0};

 private:
  store::VectorSpace space_{"fake-v1", 4};
};

// One token per whitespace-separated word.
class WordCounter final : public text::TokenCounter {
 public:
  size_t Count(std::string_view text) const override {
    size_t n = 0;
    bool in_word = false;
    for (char c : text) {
      const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
      if (!space && !in_word) ++n;
      in_word = !space;
    }
    return n;
  }
};

// Fresh temp dir, migrated SQLite store, blob store, fake clock and fakes, wired into deps_.
class PipelineFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ingest-pipeline-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto s = store::OpenSqliteStore(dir_ + "/ingest.db", &clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->MigrateTo(static_cast<int>(store_->KnownMigrations().size())).ok());
    blobs_ = std::make_unique<store::FsBlobStore>(dir_ + "/blobs");
    deps_.store = store_.get();
    deps_.blobs = blobs_.get();
    deps_.parser = &parser_;
    deps_.embedder = &embedder_;
    deps_.tokens = &counter_;
    deps_.clock = &clock_;
    deps_.chunker.max_tokens = 32;
    deps_.retry.base = Duration(1);
    deps_.retry.cap = Duration(4);
    deps_.retry.max_attempts = 3;
    deps_.embed_batch_size = 4;
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Writes `content` to dir_/files/name and returns the path.
  std::string WriteFile(const std::string& name, const std::string& content) {
    std::filesystem::create_directories(dir_ + "/files");
    const std::string path = dir_ + "/files/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::string dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::FsBlobStore> blobs_;
  FakeParser parser_;
  FakeEmbedder embedder_;
  WordCounter counter_;
  PipelineDeps deps_;
};

}  // namespace ingest::pipeline::testing
