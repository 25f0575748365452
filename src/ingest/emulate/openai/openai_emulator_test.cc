#include "ingest/emulate/openai/openai_emulator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ingest/emulate/openai/openai_test_fixture.h"

namespace ingest::emulate {
namespace {

using nlohmann::json;
using openai_test::OpenAiEmulatorTest;

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

TEST_F(OpenAiEmulatorTest, ListsModels) {
  StartWith({});
  auto r = client_->Get("/v1/models", {{"Authorization", "Bearer sk-test-key-1234"}});
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["data"].size(), 3u);
}

}  // namespace
}  // namespace ingest::emulate
