// OpenAiEmbedder against the in-process OpenAI emulator (port 0): usage equals what the emulator
// billed, and every injected fault ends in the outcome the governor expects.
#include "ingest/embed/openai/openai_embedder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ingest/emulate/openai/openai_emulator.h"
#include "ingest/text/tokenizer.h"

namespace ingest {
namespace {

using embed::OpenAiEmbedder;
using embed::OpenAiEmbedderOptions;
using emulate::FaultKind;
using emulate::OpenAiEmulator;
using emulate::OpenAiEmulatorOptions;

constexpr char kKey[] = "sk-emulator-test-key";

const text::Tokenizer* Cl100k() {
  auto t = text::Tokenizer::Get(text::Encoding::kCl100kBase);
  return t.ok() ? *t : nullptr;
}

std::string TokensOf(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += " a";
  return s;
}

std::vector<std::string> Texts(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("chunk number " + std::to_string(i) + " of the test");
  return out;
}

class OpenAiEmbedderIntegrationTest : public ::testing::Test {
 protected:
  void StartEmulator(OpenAiEmulatorOptions options = {}) {
    if (options.api_keys.empty()) options.api_keys = {kKey};
    emulator_ = std::make_unique<OpenAiEmulator>(std::move(options), Cl100k());
    ASSERT_TRUE(emulator_->Start("127.0.0.1", 0).ok());
  }

  OpenAiEmbedderOptions ClientOptions() const {
    OpenAiEmbedderOptions o;
    o.base_url = "http://127.0.0.1:" + std::to_string(emulator_->port()) + "/v1";
    o.api_key = kKey;
    o.model = "text-embedding-3-small";
    o.token_counter = Cl100k();
    o.initial_backoff = std::chrono::milliseconds(5);
    o.max_backoff = std::chrono::milliseconds(20);
    o.http.total_timeout = std::chrono::seconds(20);
    return o;
  }

  std::unique_ptr<OpenAiEmbedder> Client(OpenAiEmbedderOptions o) const {
    auto e = OpenAiEmbedder::Create(std::move(o));
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(e).value() : nullptr;
  }
  std::unique_ptr<OpenAiEmbedder> Client() const { return Client(ClientOptions()); }

  static int64_t CountTokens(const std::vector<std::string>& texts) {
    int64_t n = 0;
    for (const auto& t : texts) n += static_cast<int64_t>(Cl100k()->Count(t));
    return n;
  }

  std::unique_ptr<OpenAiEmulator> emulator_;
};

TEST_F(OpenAiEmbedderIntegrationTest, UsageEqualsWhatTheEmulatorBilled) {
  OpenAiEmulatorOptions eo;
  eo.rpm = 1000;
  eo.tpm = 1'000'000;
  StartEmulator(eo);
  auto client = Client();
  const auto texts = Texts(50);
  auto out = client->Embed(texts);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->vectors.size(), texts.size());
  for (const auto& v : out->vectors) {
    ASSERT_EQ(v.size(), 1536u);
    double norm = 0;
    for (float x : v) norm += static_cast<double>(x) * x;
    EXPECT_NEAR(norm, 1.0, 1e-3);
  }
  const auto stats = emulator_->Stats();
  EXPECT_EQ(out->usage.tokens, stats.billed_tokens);
  EXPECT_EQ(out->usage.tokens, CountTokens(texts));
  EXPECT_EQ(out->usage.requests, 1);
  EXPECT_EQ(stats.billed_requests, 1);
  ASSERT_EQ(out->usage.request_ids.size(), 1u);
  EXPECT_FALSE(out->usage.request_ids[0].empty());
  // Vectors are placed by input: the same text alone gets the same vector.
  std::vector<std::string> one = {texts[7]};
  auto single = client->Embed(one);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->vectors[0], out->vectors[7]);
  // The rate-limit headers were read.
  auto rl = client->LastRateLimit();
  ASSERT_TRUE(rl.has_value());
  EXPECT_EQ(rl->limit_requests, 1000);
  EXPECT_EQ(rl->limit_tokens, 1'000'000);
  EXPECT_TRUE(rl->remaining_tokens.has_value());
  EXPECT_TRUE(rl->reset_tokens.has_value());
}

TEST_F(OpenAiEmbedderIntegrationTest, Base64AndFloatResponsesAreBitIdentical) {
  StartEmulator();
  auto b64 = Client();
  auto float_options = ClientOptions();
  float_options.base64 = false;
  auto floats = Client(float_options);
  const auto texts = Texts(5);
  auto a = b64->Embed(texts);
  auto b = floats->Embed(texts);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_EQ(a->vectors[i].size(), b->vectors[i].size());
    for (size_t d = 0; d < a->vectors[i].size(); ++d) {
      ASSERT_EQ(std::bit_cast<uint32_t>(a->vectors[i][d]),
                std::bit_cast<uint32_t>(b->vectors[i][d]))
          << "input " << i << " dim " << d;
    }
  }
}

TEST_F(OpenAiEmbedderIntegrationTest, ShortenedDimensionsAreRequested) {
  StartEmulator();
  auto o = ClientOptions();
  o.dimensions = 256;
  auto client = Client(o);
  auto out = client->Embed(Texts(3));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->vectors[0].size(), 256u);
  EXPECT_EQ(client->Space().dimensions, 256);
}

// 2049 inputs at 16 dimensions: the packing is what is tested. At the native 1536 dimensions
// the answers weigh ~16 MB of base64, whose transfer and decoding on a loaded machine outlasted
// the client's 20 s total timeout (a stress run failed it that way).
TEST_F(OpenAiEmbedderIntegrationTest, PacksByInputCount) {
  StartEmulator();
  auto o = ClientOptions();
  o.dimensions = 16;
  auto client = Client(o);
  std::vector<std::string> texts(2049, "x");
  auto out = client->Embed(texts);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->vectors.size(), 2049u);
  EXPECT_EQ(out->vectors[0].size(), 16u);
  EXPECT_EQ(emulator_->Stats().billed_requests, 2);
  EXPECT_EQ(out->usage.requests, 2);
  EXPECT_EQ(out->usage.tokens, 2049);
}

TEST_F(OpenAiEmbedderIntegrationTest, RateLimitFaultIsRetriedThenSucceeds) {
  OpenAiEmulatorOptions eo;
  eo.faults.every_n[FaultKind::kRateLimit429] = 2;  // the 2nd, 4th, ... request
  StartEmulator(eo);
  auto client = Client();
  ASSERT_TRUE(client->Embed(Texts(2)).ok());  // request 1
  auto out = client->Embed(Texts(3));         // request 2 is refused, request 3 succeeds
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->usage.requests, 1);  // billed requests only: the refused one is not billed
  const auto stats = emulator_->Stats();
  EXPECT_EQ(stats.requests, 3);
  EXPECT_EQ(stats.by_status.at(429), 1);
  EXPECT_EQ(stats.billed_requests, 2);
  EXPECT_EQ(stats.billed_tokens, CountTokens(Texts(2)) + CountTokens(Texts(3)));
  auto rl = client->LastRateLimit();
  ASSERT_TRUE(rl.has_value());
}

TEST_F(OpenAiEmbedderIntegrationTest, PersistentRateLimitIsUnavailableRateLimitedAfterRetries) {
  OpenAiEmulatorOptions eo;
  eo.faults.every_n[FaultKind::kRateLimit429] = 1;
  StartEmulator(eo);
  auto o = ClientOptions();
  o.max_retries = 2;
  auto client = Client(o);
  auto out = client->Embed(Texts(1));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(out.status().reason(), "rate_limited");
  EXPECT_NE(out.status().message().find("retry after 1000 ms"), std::string::npos)
      << out.status().message();
  EXPECT_EQ(emulator_->Stats().requests, 3);  // 1 + max_retries
  EXPECT_EQ(emulator_->Stats().billed_requests, 0);
  auto rl = client->LastRateLimit();
  ASSERT_TRUE(rl.has_value());
  EXPECT_EQ(rl->retry_after, std::chrono::milliseconds(1000));
  EXPECT_EQ(rl->http_status, 429);
}

TEST_F(OpenAiEmbedderIntegrationTest, ServerErrorsAreRetried) {
  for (FaultKind kind : {FaultKind::kServerError500, FaultKind::kUnavailable503,
                         FaultKind::kBadGatewayHtml502, FaultKind::kDropConnection}) {
    OpenAiEmulatorOptions eo;
    eo.faults.every_n[kind] = 2;
    StartEmulator(eo);
    auto client = Client();
    ASSERT_TRUE(client->Embed(Texts(1)).ok());
    auto out = client->Embed(Texts(4));
    ASSERT_TRUE(out.ok()) << emulate::FaultKindName(kind) << ": " << out.status().ToString();
    EXPECT_EQ(emulator_->Stats().requests, 3) << emulate::FaultKindName(kind);
    EXPECT_EQ(emulator_->Stats().billed_requests, 2) << emulate::FaultKindName(kind);
    EXPECT_EQ(out->usage.tokens, CountTokens(Texts(4)));
    client.reset();  // closes its keep-alive connections, so Stop does not wait them out
    emulator_->Stop();
  }
}

TEST_F(OpenAiEmbedderIntegrationTest, MalformedJsonIsRetried) {
  OpenAiEmulatorOptions eo;
  eo.faults.every_n[FaultKind::kMalformedJson] = 2;
  StartEmulator(eo);
  auto client = Client();
  ASSERT_TRUE(client->Embed(Texts(1)).ok());
  auto out = client->Embed(Texts(2));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->usage.requests, 1);  // the malformed answer was not billed
  EXPECT_EQ(emulator_->Stats().requests, 3);
  // The emulator does not bill a faulted answer; our usage reports only the answer we used.
  EXPECT_EQ(emulator_->Stats().billed_requests, 2);
  EXPECT_EQ(out->usage.tokens, CountTokens(Texts(2)));
  ASSERT_EQ(out->usage.request_ids.size(), 1u);
}

TEST_F(OpenAiEmbedderIntegrationTest, MissingEmbeddingIsAnErrorNotAPlaceholder) {
  OpenAiEmulatorOptions eo;
  eo.faults.every_n[FaultKind::kMissingItem] = 1;
  StartEmulator(eo);
  auto client = Client();
  auto out = client->Embed(Texts(4));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(out.status().reason(), "bad_response");
  EXPECT_EQ(emulator_->Stats().requests, 1);  // a wrong answer is not retried blindly
}

TEST_F(OpenAiEmbedderIntegrationTest, InvalidKeyIsUnauthenticatedWithoutRetries) {
  StartEmulator();
  auto o = ClientOptions();
  o.api_key = "sk-wrong-key-000000";
  auto client = Client(o);
  auto out = client->Embed(Texts(2));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(out.status().reason(), "invalid_api_key");
  EXPECT_EQ(out.status().message().find("wrong-key-000000"), std::string::npos);
  EXPECT_EQ(emulator_->Stats().requests, 1);
}

TEST_F(OpenAiEmbedderIntegrationTest, QuotaExhaustionStopsAfterTheFirstRefusal) {
  OpenAiEmulatorOptions eo;
  const auto first = Texts(3);
  eo.quota_tokens = CountTokens(first);  // exactly one call's worth
  StartEmulator(eo);
  auto client = Client();
  auto ok = client->Embed(first);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto out = client->Embed(Texts(3));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(out.status().reason(), "insufficient_quota");
  const auto stats = emulator_->Stats();
  EXPECT_EQ(stats.requests, 2);  // the refusal was not retried
  EXPECT_EQ(stats.billed_tokens, CountTokens(first));
}

TEST_F(OpenAiEmbedderIntegrationTest, OversizeRequestIsSplitNeverDropped) {
  OpenAiEmulatorOptions eo;
  eo.limits.max_tokens_per_request = 100;  // the server's cap, lower than our packer's
  StartEmulator(eo);
  auto client = Client();
  std::vector<std::string> texts;
  for (int i = 0; i < 10; ++i) texts.push_back(TokensOf(29) + " " + std::to_string(i));
  const int64_t total = CountTokens(texts);
  ASSERT_GT(total, 200);
  auto out = client->Embed(texts);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->vectors.size(), texts.size());
  const auto stats = emulator_->Stats();
  EXPECT_GE(stats.by_status.at(400), 2);  // the full request and at least one half
  EXPECT_EQ(stats.billed_tokens, total);  // every input billed exactly once
  EXPECT_EQ(out->usage.tokens, total);
  EXPECT_EQ(static_cast<int64_t>(out->usage.request_ids.size()), stats.billed_requests);
  // Each vector is the one its text gets on its own.
  for (size_t i : {size_t{0}, size_t{9}}) {
    std::vector<std::string> one = {texts[i]};
    auto single = client->Embed(one);
    ASSERT_TRUE(single.ok());
    EXPECT_EQ(single->vectors[0], out->vectors[i]);
  }
}

TEST_F(OpenAiEmbedderIntegrationTest, UnknownModelIsAConfigurationError) {
  StartEmulator();
  auto o = ClientOptions();
  o.model = "no-such-embedding-model";
  o.dimensions = 64;
  auto client = Client(o);
  auto out = client->Embed(Texts(1));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(out.status().reason(), "model_not_found");
}

TEST_F(OpenAiEmbedderIntegrationTest, EightThreadsShareOneEmbedder) {
  StartEmulator();
  auto client = Client();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto out = client->Embed(Texts(10));
        if (out.ok() && out->vectors.size() == 10) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(emulator_->Stats().billed_requests, 40);
  EXPECT_EQ(emulator_->Stats().billed_tokens, 40 * CountTokens(Texts(10)));
}

}  // namespace
}  // namespace ingest
