// Modes at App::Open (DESIGN §4, docs/providers.md "Modes"): API keys in the environment alone
// never select a paid provider; mode mock starts in-process emulators on loopback and runs the
// whole remote path through them, and everything it produces is labelled "mock:" so it cannot
// share a vector space, a parse-cache entry or a ledger service with real data in the same store.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ingest/app/app.h"
#include "ingest/embed/embedder.h"
#include "ingest/parse/parser.h"
#include "ingest/pipeline/pipeline_deps.h"
#include "ingest/pipeline/run_until_terminal.h"
#include "ingest/pipeline/submit.h"
#include "ingest/pipeline/worker_pool.h"

namespace ingest::app {
namespace {

namespace fs = std::filesystem;

class ModesAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ingestd_modes_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result<config::Config> Load(std::map<std::string, std::string> env) {
    env["INGESTD_DATA_DIR"] = (dir_ / "data").string();
    config::LoadOptions o;
    o.env = std::move(env);
    o.use_process_env = false;
    return config::LoadConfig(o);
  }

  fs::path dir_;
  // Not key-shaped: what matters is that it is present, and never sent in mode mock.
  const std::string openai_key_ = "env-openai-key";
  const std::string llama_key_ = "env-llama-key";
};

TEST_F(ModesAppTest, KeysInTheEnvironmentAloneSelectNothingPaid) {
  auto c = Load({{"OPENAI_API_KEY", openai_key_}, {"LLAMA_CLOUD_API_KEY", llama_key_}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto app = App::Open(*c);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  EXPECT_EQ((*app)->parser().Name(), "local");
  EXPECT_EQ(dynamic_cast<const parse::RemoteParser*>(&(*app)->parser()), nullptr);
  EXPECT_EQ((*app)->embedder().Provider(), "local");
}

TEST_F(ModesAppTest, ProductionProfileRefusesMock) {
  auto c = Load({{"INGESTD_MODE", "mock"}, {"INGESTD_PROFILE", "production"}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().reason(), "config_invalid");
  EXPECT_NE(c.status().message().find("refused in the production profile"), std::string::npos);
}

TEST_F(ModesAppTest, HybridWrapsTheRemoteParserWithTheLocalFallback) {
  auto c = Load({{"INGESTD_MODE", "hybrid"},
                 {"OPENAI_API_KEY", openai_key_},
                 {"OPENAI_BASE_URL", "http://127.0.0.1:9/v1"},
                 {"LLAMA_CLOUD_API_KEY", llama_key_},
                 {"LLAMA_CLOUD_BASE_URL", "http://127.0.0.1:9"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->parse.fallback, "local");
  auto app = App::Open(*c);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  EXPECT_EQ((*app)->parser().Name(), "auto");
  // The fallback changes no cache key: same hash as auto routing without it.
  auto plain = Load({{"INGESTD_MODE", "real"},
                     {"OPENAI_API_KEY", openai_key_},
                     {"LLAMA_CLOUD_API_KEY", llama_key_}});
  ASSERT_TRUE(plain.ok());
  plain->store.data_dir = (dir_ / "plain").string();
  plain->store.url = "sqlite:" + (dir_ / "plain" / "ingestd.db").string();
  auto real = App::Open(*plain);
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  EXPECT_EQ((*real)->parser().ConfigHash(), (*app)->parser().ConfigHash());
}

// INGESTD_MODE=mock with INGESTD_PARSER=llamaparse: both services are in-process emulators, a
// document goes through upload, polling and embedding over loopback, and its data is labelled.
TEST_F(ModesAppTest, MockRunsTheRemotePathOnInProcessEmulatorsAndKeepsItsDataApart) {
  auto c = Load({{"INGESTD_MODE", "mock"},
                 {"INGESTD_PARSER", "llamaparse"},
                 {"OPENAI_API_KEY", openai_key_},
                 {"LLAMA_CLOUD_API_KEY", llama_key_}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->embed.provider, "openai");
  auto opened = App::Open(*c);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  App& app = **opened;
  EXPECT_EQ(app.parser().Name(), "mock:llamaparse");
  EXPECT_EQ(app.embedder().Provider(), "mock:openai");
  EXPECT_EQ(app.embedder().Space().model, "mock:text-embedding-3-small");
  EXPECT_EQ(app.embedder().Space().dimensions, 1536);

  const std::string path = (dir_ / "mock.md").string();
  std::ofstream(path) << "# Mock mode\n\nEvery byte goes to an emulator on loopback.\n\n"
                         "Nothing here is billed, and nothing mixes with real data.\n";
  pipeline::PipelineDeps deps = app.Deps();
  auto submitted = pipeline::SubmitFile(deps, path, "default");
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  pipeline::WorkerOptions wo;
  wo.threads = 2;
  pipeline::WorkerPool pool(deps, wo);
  ASSERT_TRUE(pool.Start().ok());
  const std::vector<std::string> ids = {submitted->job.id};
  pipeline::RunUntilTerminalOptions ro;
  ro.poll_interval = std::chrono::milliseconds(50);
  ro.timeout = std::chrono::seconds(60);
  auto done = pipeline::RunUntilTerminal(pool, app.store(), ids, ro);
  pool.RequestStop();
  pool.Join();
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_EQ((*done)[0].state, store::JobState::kComplete) << (*done)[0].last_error_message;
  EXPECT_FALSE((*done)[0].remote_job_id.empty());  // it really went through an upload

  const store::Document doc = app.store().GetDocument((*done)[0].document_id).value();
  EXPECT_EQ(doc.parser, "mock:llamaparse");
  // Ledger: units as the emulators reported them, under mock services, at no cost.
  const auto ledger = app.store().ListLedger(doc.id).value();
  int parse_rows = 0, embed_rows = 0;
  for (const auto& e : ledger) {
    EXPECT_EQ(e.cost_nanos, 0) << e.service;
    if (e.service == "mock:llamaparse") {
      ++parse_rows;
      EXPECT_EQ(e.credits, 3);
      EXPECT_EQ(e.pages, 1);
    } else {
      EXPECT_EQ(e.service, "mock:openai");
      EXPECT_GT(e.tokens, 0);
      ++embed_rows;
    }
  }
  EXPECT_EQ(parse_rows, 1);
  EXPECT_GE(embed_rows, 1);
  // The vectors are in the mock space only: a real run sharing this store would embed again.
  std::vector<std::string> hashes;
  for (const auto& chunk : app.store().ListChunks(doc.id).value())
    hashes.push_back(chunk.text_sha256);
  ASSERT_FALSE(hashes.empty());
  store::VectorSpace real{.model = "text-embedding-3-small", .dimensions = 1536};
  EXPECT_EQ(app.store().MissingVectors(real, hashes).value().size(), hashes.size());
  EXPECT_TRUE(app.store().MissingVectors(app.embedder().Space(), hashes).value().empty());
  // And the mock parse is not in the real parser's cache entry.
  EXPECT_FALSE(app.store()
                   .GetParse(doc.sha256, "llamaparse", app.parser().ConfigHash())
                   .value()
                   .has_value());
}

}  // namespace
}  // namespace ingest::app
