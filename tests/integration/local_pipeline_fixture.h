// A test fixture base for integration tests that run the real pipeline on one machine: a fresh
// temporary directory with a migrated SQLite store, filesystem blobs, the cl100k_base tokenizer
// and the lexical embedder, wired into deps_ (no parser: each test picks its own). Retries are
// fast (1-4 ms backoff, 3 attempts) and chunks small (64 tokens) so tests exercise several.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "ingest/common/clock.h"
#include "ingest/embed/local/lexical_embedder.h"
#include "ingest/pipeline/pipeline_deps.h"
#include "ingest/store/fs_blob_store.h"
#include "ingest/store/sqlite/sqlite_store.h"
#include "ingest/text/tokenizer.h"

namespace ingest::pipeline {

class LocalPipelineTest : public ::testing::Test {
 protected:
  // Derived SetUp() calls this first and returns if HasFatalFailure().
  void SetUp() override {
    namespace fs = std::filesystem;
    std::string tmpl = (fs::temp_directory_path() / "ingest-it-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto s = store::OpenSqliteStore(dir_ + "/ingest.db", &clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->MigrateTo(static_cast<int>(store_->KnownMigrations().size())).ok());
    blobs_ = std::make_unique<store::FsBlobStore>(dir_ + "/blobs");
    auto tok = text::Tokenizer::Get(text::Encoding::kCl100kBase);
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    auto emb = embed::LexicalEmbedder::Create(embed::LexicalOptions{});
    ASSERT_TRUE(emb.ok()) << emb.status().ToString();
    embedder_ = std::move(*emb);
    deps_.store = store_.get();
    deps_.blobs = blobs_.get();
    deps_.embedder = embedder_.get();
    deps_.tokens = *tok;
    deps_.clock = &clock_;
    deps_.chunker.max_tokens = 64;
    deps_.retry.base = Duration(1);
    deps_.retry.cap = Duration(4);
    deps_.retry.max_attempts = 3;
    std::filesystem::create_directories(dir_ + "/in");
  }

  // Derived TearDown() releases what uses the store first, then calls this.
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::FsBlobStore> blobs_;
  std::unique_ptr<embed::LexicalEmbedder> embedder_;
  PipelineDeps deps_;
};

}  // namespace ingest::pipeline
