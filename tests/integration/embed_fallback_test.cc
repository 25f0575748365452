// The embedding fallback (embed/fallback_embedder.h) with two OpenAI emulators over loopback:
// the primary down (5xx after its retries, or refusing connections) sends the call to the
// fallback endpoint serving the same model, whose vectors are bit-identical to what the primary
// would have returned; throttling and auth errors do not fall back; spaces must match; and
// App::Open wires it from config.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ingest/app/app.h"
#include "ingest/embed/fallback_embedder.h"
#include "ingest/embed/openai/openai_embedder.h"
#include "ingest/emulate/openai/openai_emulator.h"
#include "ingest/text/tokenizer.h"

namespace ingest {
namespace {

using embed::FallbackEmbedder;
using embed::OpenAiEmbedder;
using embed::OpenAiEmbedderOptions;
using emulate::FaultKind;
using emulate::OpenAiEmulator;
using emulate::OpenAiEmulatorOptions;

const text::Tokenizer* Cl100k() {
  return text::Tokenizer::Get(text::Encoding::kCl100kBase).value();
}

std::vector<std::string> Texts() {
  return {"the primary endpoint is down", "the fallback serves the same model",
          "vectors land in one space"};
}

class EmbedFallbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    primary_ = Emulator(primary_faults_);
    secondary_ = Emulator({});
  }

  std::unique_ptr<OpenAiEmulator> Emulator(emulate::FaultConfig faults) {
    OpenAiEmulatorOptions o;
    o.api_keys = {key_};
    o.faults = std::move(faults);
    auto e = std::make_unique<OpenAiEmulator>(std::move(o), Cl100k());
    EXPECT_TRUE(e->Start("127.0.0.1", 0).ok());
    return e;
  }

  OpenAiEmbedderOptions Options(int port, std::string model = "text-embedding-3-small",
                                int dims = 0) const {
    OpenAiEmbedderOptions o;
    o.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
    o.api_key = key_;
    o.model = std::move(model);
    o.dimensions = dims;
    o.token_counter = Cl100k();
    o.initial_backoff = std::chrono::milliseconds(2);
    o.max_backoff = std::chrono::milliseconds(5);
    return o;
  }
  std::unique_ptr<embed::Embedder> Client(OpenAiEmbedderOptions o) const {
    return OpenAiEmbedder::Create(std::move(o)).value();
  }

  const std::string key_ = "embed-fallback-test-key";
  emulate::FaultConfig primary_faults_ = [] {
    emulate::FaultConfig f;
    f.every_n[FaultKind::kServerError500] = 1;  // the primary answers every request with 500
    return f;
  }();
  std::unique_ptr<OpenAiEmulator> primary_;
  std::unique_ptr<OpenAiEmulator> secondary_;
};

TEST_F(EmbedFallbackTest, PrimaryDownUsesTheFallbackWithIdenticalVectors) {
  FakeClock clock;
  embed::FallbackEmbedderOptions fo;
  fo.clock = &clock;
  auto both = FallbackEmbedder::Create(Client(Options(primary_->port())),
                                       Client(Options(secondary_->port())), fo);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  auto out = (*both)->Embed(Texts());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->vectors.size(), 3u);
  // The primary was tried 3 times (1 + 2 retries), all 500, nothing billed there.
  EXPECT_EQ(primary_->Stats().by_status.at(500), 3);
  EXPECT_EQ(primary_->Stats().billed_tokens, 0);
  // The fallback billed exactly the usage the call reports.
  EXPECT_EQ(secondary_->Stats().billed_requests, 1);
  EXPECT_EQ(out->usage.tokens, secondary_->Stats().billed_tokens);
  EXPECT_EQ(out->usage.requests, 1);
  // Same model, same vectors: a healthy endpoint returns bit-identical values.
  auto direct = Client(Options(secondary_->port()))->Embed(Texts());
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(out->vectors, direct->vectors);
  EXPECT_EQ((*both)->Space().model, "text-embedding-3-small");
  EXPECT_EQ((*both)->Provider(), "openai");

  // Within primary_retry_after the primary is not asked again; after it, it is.
  ASSERT_TRUE((*both)->Embed(Texts()).ok());
  EXPECT_EQ(primary_->Stats().requests, 3);
  clock.Advance(std::chrono::seconds(31));
  ASSERT_TRUE((*both)->Embed(Texts()).ok());
  EXPECT_EQ(primary_->Stats().requests, 6);
}

TEST_F(EmbedFallbackTest, ConnectionRefusedFallsBackButAuthErrorsDoNot) {
  const int closed_port = primary_->port();
  primary_->Stop();
  auto both =
      FallbackEmbedder::Create(Client(Options(closed_port)), Client(Options(secondary_->port())));
  ASSERT_TRUE(both.ok());
  ASSERT_TRUE((*both)->Embed(Texts()).ok());
  EXPECT_EQ(secondary_->Stats().billed_requests, 1);

  // A wrong key on the primary is a configuration error, not an outage: returned as it is.
  auto fresh = Emulator({});
  OpenAiEmbedderOptions bad = Options(fresh->port());
  bad.api_key = "not-the-key";
  auto auth = FallbackEmbedder::Create(Client(bad), Client(Options(secondary_->port())));
  ASSERT_TRUE(auth.ok());
  auto refused = (*auth)->Embed(Texts());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(secondary_->Stats().billed_requests, 1);  // unchanged
  EXPECT_FALSE(FallbackEmbedder::PrimaryUnavailable(Unavailable("429", "rate_limited")));
  EXPECT_TRUE(FallbackEmbedder::PrimaryUnavailable(Unavailable("open", "circuit_open")));
}

TEST_F(EmbedFallbackTest, DifferentSpacesAreRefused) {
  auto model =
      FallbackEmbedder::Create(Client(Options(secondary_->port())),
                               Client(Options(secondary_->port(), "text-embedding-3-large")));
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().reason(), "fallback_space_mismatch");
  auto dims =
      FallbackEmbedder::Create(Client(Options(secondary_->port(), "text-embedding-3-small", 512)),
                               Client(Options(secondary_->port())));
  ASSERT_FALSE(dims.ok());
  EXPECT_EQ(dims.status().reason(), "fallback_space_mismatch");
}

TEST_F(EmbedFallbackTest, AppWiresTheFallbackFromConfig) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("ingestd_embed_fallback_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  config::LoadOptions lo;
  lo.use_process_env = false;
  lo.env = {{"INGESTD_DATA_DIR", dir.string()},
            {"INGESTD_EMBEDDER", "openai"},
            {"OPENAI_API_KEY", key_},
            {"OPENAI_BASE_URL", "http://127.0.0.1:" + std::to_string(primary_->port()) + "/v1"},
            {"INGESTD_EMBED_FALLBACK_BASE_URL",
             "http://127.0.0.1:" + std::to_string(secondary_->port()) + "/v1"},
            {"INGESTD_EMBED_FALLBACK_MODEL", "text-embedding-3-small"}};
  auto config = config::LoadConfig(lo);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto app = app::App::Open(*config);
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  EXPECT_NE((*app)->embedder().Describe().find("with fallback"), std::string::npos);
  auto out = (*app)->embedder().Embed(Texts());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(secondary_->Stats().billed_requests, 1);
  app->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ingest
