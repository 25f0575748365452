#include "ingest/emulate/openai/openai_emulator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ingest/emulate/common/base64.h"

namespace ingest::emulate {
namespace {

using nlohmann::json;

// Counts whitespace-separated words: predictable token counts for the tests.
class WordCounter : public text::TokenCounter {
 public:
  size_t Count(std::string_view text) const override {
    size_t n = 0;
    bool in_word = false;
    for (char c : text) {
      const bool space = c == ' ' || c == '\n' || c == '\t';
      if (!space && !in_word) ++n;
      in_word = !space;
    }
    return n;
  }
};

class OpenAiEmulatorTest : public ::testing::Test {
 protected:
  void StartWith(OpenAiEmulatorOptions options) {
    if (options.api_keys.empty()) options.api_keys = {"sk-test-key-1234"};
    if (options.clock == Clock::Real()) options.clock = &clock_;
    emulator_ = std::make_unique<OpenAiEmulator>(std::move(options), &counter_);
    ASSERT_TRUE(emulator_->Start("127.0.0.1", 0).ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", emulator_->port());
    client_->set_read_timeout(std::chrono::seconds(10));
  }

  httplib::Result Embed(const json& body, const std::string& key = "sk-test-key-1234") {
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    return client_->Post("/v1/embeddings", headers, body.dump(), "application/json");
  }

  static json ErrorOf(const httplib::Result& r) { return json::parse(r->body).at("error"); }

  static std::vector<float> Floats(const json& embedding) {
    if (embedding.is_string()) {
      const auto bytes = Base64Decode(embedding.get<std::string>());
      EXPECT_TRUE(bytes.has_value());
      std::vector<float> v(bytes->size() / 4);
      for (size_t i = 0; i < v.size(); ++i) {
        uint32_t bits = 0;
        for (int b = 0; b < 4; ++b) {
          bits |= static_cast<uint32_t>(static_cast<uint8_t>((*bytes)[i * 4 + b])) << (8 * b);
        }
        std::memcpy(&v[i], &bits, 4);
      }
      return v;
    }
    std::vector<float> v;
    for (const auto& x : embedding) v.push_back(static_cast<float>(x.get<double>()));
    return v;
  }

  static double Norm(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += static_cast<double>(x) * x;
    return std::sqrt(s);
  }

  FakeClock clock_;
  WordCounter counter_;
  std::unique_ptr<OpenAiEmulator> emulator_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(OpenAiEmulatorTest, ReturnsUnitVectorsInInputOrderWithExactUsage) {
  StartWith({});
  auto r = Embed(
      {{"model", "text-embedding-3-small"}, {"input", {"hello world", "one two three", "x"}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(r->has_header("x-request-id"));
  EXPECT_TRUE(r->has_header("openai-processing-ms"));
  const json body = json::parse(r->body);
  EXPECT_EQ(body["object"], "list");
  EXPECT_EQ(body["model"], "text-embedding-3-small");
  ASSERT_EQ(body["data"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(body["data"][i]["index"], i);
    EXPECT_EQ(body["data"][i]["object"], "embedding");
    const auto v = Floats(body["data"][i]["embedding"]);
    EXPECT_EQ(v.size(), 1536u);
    EXPECT_NEAR(Norm(v), 1.0, 1e-5);
  }
  EXPECT_EQ(body["usage"]["prompt_tokens"], 2 + 3 + 1);
  EXPECT_EQ(body["usage"]["total_tokens"], 6);
  EXPECT_EQ(emulator_->Stats().billed_tokens, 6);
  EXPECT_EQ(emulator_->Stats().billed_requests, 1);
}

TEST_F(OpenAiEmulatorTest, VectorsAreDeterministicAndDependOnModelAndText) {
  StartWith({});
  auto a = json::parse(Embed({{"model", "text-embedding-3-small"}, {"input", "same"}})->body);
  auto b =
      json::parse(Embed({{"model", "text-embedding-3-small"}, {"input", {"same", "other"}}})->body);
  auto c = json::parse(Embed({{"model", "text-embedding-ada-002"}, {"input", "same"}})->body);
  EXPECT_EQ(a["data"][0]["embedding"], b["data"][0]["embedding"]);
  EXPECT_NE(b["data"][0]["embedding"], b["data"][1]["embedding"]);
  EXPECT_NE(a["data"][0]["embedding"], c["data"][0]["embedding"]);
}

TEST_F(OpenAiEmulatorTest, Base64IsBitExactLittleEndianFloat32OfTheFloatFormat) {
  StartWith({});
  auto f = json::parse(Embed({{"model", "text-embedding-3-large"}, {"input", "bits"}})->body);
  auto b = json::parse(
      Embed({{"model", "text-embedding-3-large"}, {"input", "bits"}, {"encoding_format", "base64"}})
          ->body);
  ASSERT_TRUE(b["data"][0]["embedding"].is_string());
  const auto vf = Floats(f["data"][0]["embedding"]);
  const auto vb = Floats(b["data"][0]["embedding"]);
  ASSERT_EQ(vf.size(), 3072u);
  ASSERT_EQ(vb.size(), 3072u);
  EXPECT_EQ(std::memcmp(vf.data(), vb.data(), vf.size() * 4), 0);
}

TEST_F(OpenAiEmulatorTest, DimensionsShortenAndRenormaliseThePrefix) {
  StartWith({});
  auto full = json::parse(Embed({{"model", "text-embedding-3-small"}, {"input", "m"}})->body);
  auto short_r = Embed({{"model", "text-embedding-3-small"}, {"input", "m"}, {"dimensions", 64}});
  ASSERT_EQ(short_r->status, 200);
  const auto vf = Floats(full["data"][0]["embedding"]);
  const auto vs = Floats(json::parse(short_r->body)["data"][0]["embedding"]);
  ASSERT_EQ(vs.size(), 64u);
  EXPECT_NEAR(Norm(vs), 1.0, 1e-5);
  double prefix_norm = 0;
  for (int i = 0; i < 64; ++i) prefix_norm += static_cast<double>(vf[i]) * vf[i];
  prefix_norm = std::sqrt(prefix_norm);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(vs[i], vf[i] / prefix_norm, 1e-6);
}

TEST_F(OpenAiEmulatorTest, TokenIdInputsCountTheirLength) {
  StartWith({});
  auto one = Embed({{"model", "text-embedding-3-small"}, {"input", {1, 2, 3, 4}}});
  ASSERT_EQ(one->status, 200) << one->body;
  EXPECT_EQ(json::parse(one->body)["usage"]["total_tokens"], 4);
  EXPECT_EQ(json::parse(one->body)["data"].size(), 1u);
  auto many = Embed({{"model", "text-embedding-3-small"}, {"input", {{1, 2}, {3, 4, 5}}}});
  ASSERT_EQ(many->status, 200) << many->body;
  EXPECT_EQ(json::parse(many->body)["usage"]["total_tokens"], 5);
  EXPECT_EQ(json::parse(many->body)["data"].size(), 2u);
}

TEST_F(OpenAiEmulatorTest, ValidationErrorsUseTheRealStatusTypeAndCode) {
  OpenAiEmulatorOptions o;
  o.limits.max_tokens_per_input = 5;
  o.limits.max_tokens_per_request = 8;
  StartWith(o);
  struct Case {
    json body;
    std::string key;
    int status;
    std::string type;
    json code;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {{{"model", "text-embedding-3-small"}, {"input", "a"}},
       "",
       401,
       "invalid_request_error",
       nullptr,
       "You didn't provide an API key"},
      {{{"model", "text-embedding-3-small"}, {"input", "a"}},
       "sk-wrong-key-abcd",
       401,
       "invalid_request_error",
       "invalid_api_key",
       "Incorrect API key provided: sk-...abcd"},
      {{{"model", "nope-model"}, {"input", "a"}},
       "sk-test-key-1234",
       404,
       "invalid_request_error",
       "model_not_found",
       "The model `nope-model` does not exist"},
      {{{"model", "gpt-4o"}, {"input", "a"}},
       "sk-test-key-1234",
       403,
       "invalid_request_error",
       nullptr,
       "You are not allowed to generate embeddings from this model"},
      {{{"model", "text-embedding-3-small"}, {"input", ""}},
       "sk-test-key-1234",
       400,
       "invalid_request_error",
       nullptr,
       "'$.input' is invalid"},
      {{{"model", "text-embedding-3-small"}, {"input", {"a", ""}}},
       "sk-test-key-1234",
       400,
       "invalid_request_error",
       nullptr,
       "'$.input' is invalid"},
      {{{"model", "text-embedding-3-small"}, {"input", json::array()}},
       "sk-test-key-1234",
       400,
       "invalid_request_error",
       nullptr,
       "'$.input' is invalid"},
      {{{"model", "text-embedding-3-small"}, {"input", "a b c d e f"}},
       "sk-test-key-1234",
       400,
       "invalid_request_error",
       nullptr,
       "This model's maximum context length is 5 tokens, however you requested 6 tokens (6 in "
       "your prompt; 0 for the completion)"},
      {{{"model", "text-embedding-3-small"}, {"input", {"a b c d", "a b c d", "a"}}},
       "sk-test-key-1234",
       400,
       "max_tokens_per_request",
       "max_tokens_per_request",
       "Requested 9 tokens, max 8 tokens per request"},
      {{{"model", "text-embedding-ada-002"}, {"input", "a"}, {"dimensions", 8}},
       "sk-test-key-1234",
       400,
       "invalid_request_error",
       nullptr,
       "This model does not support specifying dimensions."},
      {{{"model", "text-embedding-3-small"}, {"input", "a"}, {"dimensions", 1537}},
       "sk-test-key-1234",
       400,
       "invalid_request_error",
       nullptr,
       "dimensions"},
      {{{"model", "text-embedding-3-small"}, {"input", "a"}, {"encoding_format", "hex"}},
       "sk-test-key-1234",
       400,
       "invalid_request_error",
       nullptr,
       "encoding_format"},
  };
  for (const auto& c : cases) {
    auto r = Embed(c.body, c.key);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, c.status) << c.body.dump();
    const json e = ErrorOf(r);
    EXPECT_EQ(e["type"], c.type) << c.body.dump();
    EXPECT_EQ(e["code"], c.code) << c.body.dump();
    EXPECT_TRUE(e.contains("param"));
    EXPECT_THAT(e["message"].get<std::string>(), ::testing::HasSubstr(c.message_part));
    EXPECT_TRUE(r->has_header("x-request-id"));
  }
  auto bad_json = client_->Post("/v1/embeddings", {{"Authorization", "Bearer sk-test-key-1234"}},
                                "{not json", "application/json");
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_THAT(ErrorOf(bad_json)["message"].get<std::string>(),
              ::testing::HasSubstr("We could not parse the JSON body"));
  EXPECT_EQ(emulator_->Stats().billed_requests, 0);
  EXPECT_EQ(emulator_->Stats().billed_tokens, 0);
}

TEST_F(OpenAiEmulatorTest, MoreThanMaxInputsIsRejected) {
  StartWith({});
  json inputs = json::array();
  for (int i = 0; i < 2049; ++i) inputs.push_back("w");
  auto r = Embed({{"model", "text-embedding-3-small"}, {"input", inputs}});
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(ErrorOf(r)["message"].get<std::string>(),
              ::testing::HasSubstr("array length must be 2048 or less"));
  inputs.erase(inputs.begin());
  auto ok = Embed({{"model", "text-embedding-3-small"}, {"input", inputs}, {"dimensions", 4}});
  EXPECT_EQ(ok->status, 200);
}

TEST_F(OpenAiEmulatorTest, RequestsPerMinuteLimitAnswers429AndRecovers) {
  OpenAiEmulatorOptions o;
  o.rpm = 2;
  StartWith(o);
  const json req = {{"model", "text-embedding-3-small"}, {"input", "a"}};
  auto first = Embed(req);
  ASSERT_EQ(first->status, 200);
  EXPECT_EQ(first->get_header_value("x-ratelimit-limit-requests"), "2");
  EXPECT_EQ(first->get_header_value("x-ratelimit-remaining-requests"), "1");
  EXPECT_EQ(first->get_header_value("x-ratelimit-reset-requests"), "30s");
  ASSERT_EQ(Embed(req)->status, 200);
  auto limited = Embed(req);
  ASSERT_EQ(limited->status, 429);
  const json e = ErrorOf(limited);
  EXPECT_EQ(e["type"], "requests");
  EXPECT_EQ(e["code"], "rate_limit_exceeded");
  EXPECT_THAT(e["message"].get<std::string>(),
              ::testing::HasSubstr("on requests per min (RPM): Limit 2, Used 2, Requested 1. "
                                   "Please try again in 30s."));
  EXPECT_EQ(limited->get_header_value("retry-after"), "30");
  EXPECT_EQ(limited->get_header_value("retry-after-ms"), "30000");
  EXPECT_EQ(limited->get_header_value("x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(limited->get_header_value("x-ratelimit-reset-requests"), "1m0s");
  clock_.Advance(std::chrono::seconds(30));
  EXPECT_EQ(Embed(req)->status, 200);
  const auto stats = emulator_->Stats();
  EXPECT_EQ(stats.rate_limited, 1);
  EXPECT_EQ(stats.billed_requests, 3);
}

TEST_F(OpenAiEmulatorTest, TokensPerMinuteLimitAndRequestTooLarge) {
  OpenAiEmulatorOptions o;
  o.tpm = 10;
  StartWith(o);
  ASSERT_EQ(Embed({{"model", "text-embedding-3-small"}, {"input", "a b c d e f"}})->status, 200);
  auto limited = Embed({{"model", "text-embedding-3-small"}, {"input", "a b c d e"}});
  ASSERT_EQ(limited->status, 429);
  EXPECT_EQ(ErrorOf(limited)["type"], "tokens");
  EXPECT_THAT(ErrorOf(limited)["message"].get<std::string>(),
              ::testing::HasSubstr("on tokens per min (TPM): Limit 10, Used 6, Requested 5. "
                                   "Please try again in 6s."));
  EXPECT_EQ(limited->get_header_value("retry-after-ms"), "6000");
  EXPECT_EQ(limited->get_header_value("x-ratelimit-remaining-tokens"), "4");
  auto too_large = Embed({{"model", "text-embedding-3-small"}, {"input", "a b c d e f g h i j k"}});
  ASSERT_EQ(too_large->status, 429);
  EXPECT_THAT(ErrorOf(too_large)["message"].get<std::string>(),
              ::testing::HasSubstr("Request too large for text-embedding-3-small"));
  EXPECT_EQ(too_large->get_header_value("x-should-retry"), "false");
  clock_.Advance(std::chrono::seconds(6));
  EXPECT_EQ(Embed({{"model", "text-embedding-3-small"}, {"input", "a b c d e"}})->status, 200);
}

TEST_F(OpenAiEmulatorTest, QuotaExhaustionIsInsufficientQuota) {
  OpenAiEmulatorOptions o;
  o.quota_tokens = 5;
  StartWith(o);
  ASSERT_EQ(Embed({{"model", "text-embedding-3-small"}, {"input", "a b c d"}})->status, 200);
  auto r = Embed({{"model", "text-embedding-3-small"}, {"input", "a b"}});
  ASSERT_EQ(r->status, 429);
  EXPECT_EQ(ErrorOf(r)["type"], "insufficient_quota");
  EXPECT_EQ(ErrorOf(r)["code"], "insufficient_quota");
  EXPECT_EQ(Embed({{"model", "text-embedding-3-small"}, {"input", "a"}})->status, 200);
  EXPECT_EQ(emulator_->Stats().billed_tokens, 5);
}

TEST_F(OpenAiEmulatorTest, RejectAllKeysSwitch) {
  OpenAiEmulatorOptions o;
  o.reject_all_keys = true;
  StartWith(o);
  auto r = Embed({{"model", "text-embedding-3-small"}, {"input", "a"}});
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(ErrorOf(r)["code"], "invalid_api_key");
}

// Each fault kind on every request: the response has the fault's shape and nothing is billed.
TEST_F(OpenAiEmulatorTest, EachFaultKindHasItsShapeAndIsNeverBilled) {
  const json req = {{"model", "text-embedding-3-small"}, {"input", {"a b", "c", "d"}}};
  for (FaultKind kind :
       {FaultKind::kRateLimit429, FaultKind::kServerError500, FaultKind::kUnavailable503,
        FaultKind::kBadGatewayHtml502, FaultKind::kSlow, FaultKind::kMalformedJson,
        FaultKind::kMissingItem, FaultKind::kDropConnection}) {
    SCOPED_TRACE(std::string(FaultKindName(kind)));
    OpenAiEmulatorOptions o;
    o.faults.every_n[kind] = 1;
    o.faults.slow_ms = 300;
    StartWith(o);
    if (kind == FaultKind::kSlow) client_->set_read_timeout(std::chrono::milliseconds(100));
    auto r = Embed(req);
    switch (kind) {
      case FaultKind::kRateLimit429:
        ASSERT_EQ(r->status, 429);
        EXPECT_EQ(ErrorOf(r)["code"], "slow_down");
        EXPECT_TRUE(r->has_header("retry-after"));
        break;
      case FaultKind::kServerError500:
        ASSERT_EQ(r->status, 500);
        EXPECT_EQ(ErrorOf(r)["type"], "server_error");
        break;
      case FaultKind::kUnavailable503:
        ASSERT_EQ(r->status, 503);
        EXPECT_EQ(ErrorOf(r)["type"], "service_unavailable_error");
        break;
      case FaultKind::kBadGatewayHtml502:
        ASSERT_EQ(r->status, 502);
        EXPECT_THAT(r->body, ::testing::HasSubstr("<html>"));
        EXPECT_TRUE(json::parse(r->body, nullptr, false).is_discarded());
        break;
      case FaultKind::kSlow:
        EXPECT_FALSE(r);  // the client gave up first
        break;
      case FaultKind::kMalformedJson:
        ASSERT_EQ(r->status, 200);
        EXPECT_TRUE(json::parse(r->body, nullptr, false).is_discarded());
        break;
      case FaultKind::kMissingItem: {
        ASSERT_EQ(r->status, 200);
        const json body = json::parse(r->body);
        ASSERT_EQ(body["data"].size(), 2u);
        EXPECT_EQ(body["data"][0]["index"], 0);
        EXPECT_EQ(body["data"][1]["index"], 2);
        break;
      }
      case FaultKind::kDropConnection:
        EXPECT_FALSE(r);
        break;
      default:
        break;
    }
    if (kind == FaultKind::kSlow) std::this_thread::sleep_for(std::chrono::milliseconds(400));
    const auto stats = emulator_->Stats();
    EXPECT_EQ(stats.billed_requests, 0);
    EXPECT_EQ(stats.billed_tokens, 0);
    EXPECT_EQ(stats.faults_injected, 1);
    emulator_->Stop();
  }
}

std::vector<int> StatusSequence(OpenAiEmulatorTest* t, httplib::Client* client, int n) {
  (void)t;
  std::vector<int> out;
  for (int i = 0; i < n; ++i) {
    auto r = client->Post("/v1/embeddings", {{"Authorization", "Bearer sk-test-key-1234"}},
                          R"({"model":"text-embedding-3-small","input":"a"})", "application/json");
    out.push_back(r ? r->status : -1);
  }
  return out;
}

TEST_F(OpenAiEmulatorTest, SeededFaultsAreDeterministicAndScheduleIsExact) {
  OpenAiEmulatorOptions o;
  o.faults.seed = 42;
  o.faults.rates = {{FaultKind::kServerError500, 0.3}, {FaultKind::kUnavailable503, 0.2}};
  StartWith(o);
  const auto first = StatusSequence(this, client_.get(), 40);
  StartWith(o);
  const auto second = StatusSequence(this, client_.get(), 40);
  EXPECT_EQ(first, second);
  const auto ok = std::count(first.begin(), first.end(), 200);
  EXPECT_GT(ok, 5);
  EXPECT_LT(ok, 35);
  EXPECT_EQ(emulator_->Stats().billed_requests, ok);
  o.faults.seed = 43;
  StartWith(o);
  EXPECT_NE(StatusSequence(this, client_.get(), 40), first);

  OpenAiEmulatorOptions every;
  every.faults.every_n[FaultKind::kServerError500] = 3;
  StartWith(every);
  EXPECT_THAT(StatusSequence(this, client_.get(), 6),
              ::testing::ElementsAre(200, 200, 500, 200, 200, 500));
  emulator_->Reset();
  EXPECT_THAT(StatusSequence(this, client_.get(), 3), ::testing::ElementsAre(200, 200, 500));
}

TEST_F(OpenAiEmulatorTest, BillingLogLinesMatchStats) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("openai_billing_" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  OpenAiEmulatorOptions o;
  o.billing_log_path = path.string();
  o.faults.every_n[FaultKind::kServerError500] = 2;
  StartWith(o);
  for (int i = 0; i < 5; ++i) {
    Embed({{"model", "text-embedding-3-small"}, {"input", {"a b", "c"}}});
  }
  Embed({{"model", "bad-model"}, {"input", "a"}});  // request 6: a fault (every 2nd)
  Embed({{"model", "bad-model"}, {"input", "a"}});  // request 7: 404, not billed
  std::ifstream in(path);
  std::string line;
  int64_t lines = 0, tokens = 0;
  while (std::getline(in, line)) {
    const json j = json::parse(line);
    ++lines;
    tokens += j["tokens"].get<int64_t>();
    EXPECT_EQ(j["model"], "text-embedding-3-small");
    EXPECT_EQ(j["inputs"], 2);
    EXPECT_TRUE(j["request_id"].get<std::string>().starts_with("req_"));
  }
  const auto stats = emulator_->Stats();
  EXPECT_EQ(lines, 3);
  EXPECT_EQ(stats.billed_requests, lines);
  EXPECT_EQ(stats.billed_tokens, tokens);
  EXPECT_EQ(tokens, 9);
  EXPECT_EQ(stats.by_status.at(500), 3);
  EXPECT_EQ(stats.by_status.at(404), 1);
  EXPECT_EQ(stats.requests, 7);

  auto http_stats = client_->Get("/_emulator/stats");
  ASSERT_EQ(http_stats->status, 200);
  EXPECT_EQ(json::parse(http_stats->body)["billed_tokens"], 9);
  ASSERT_EQ(client_->Post("/_emulator/reset", "", "application/json")->status, 200);
  EXPECT_EQ(emulator_->Stats().requests, 0);
  std::filesystem::remove(path);
}

TEST_F(OpenAiEmulatorTest, ListsModels) {
  StartWith({});
  auto r = client_->Get("/v1/models", {{"Authorization", "Bearer sk-test-key-1234"}});
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["data"].size(), 3u);
}

}  // namespace
}  // namespace ingest::emulate
