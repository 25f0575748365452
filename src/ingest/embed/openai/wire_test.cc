#include "ingest/embed/openai/wire.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <nlohmann/json.hpp>

namespace ingest::embed::openai {
namespace {

using nlohmann::json;

http::HttpResponse Response(int status, std::string body,
                            std::multimap<std::string, std::string> headers = {}) {
  http::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

std::string OpenAiError(const std::string& message, const json& type, const json& code) {
  return json{{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}}
      .dump();
}

TEST(WireTest, RequestBodyCarriesModelInputsFormatAndOptionalDimensions) {
  std::vector<std::string> inputs = {"a", "b"};
  json body = json::parse(BuildRequestBody("text-embedding-3-small", inputs, 256, true));
  EXPECT_EQ(body["model"], "text-embedding-3-small");
  EXPECT_EQ(body["input"], json::array({"a", "b"}));
  EXPECT_EQ(body["encoding_format"], "base64");
  EXPECT_EQ(body["dimensions"], 256);
  json plain = json::parse(BuildRequestBody("m", inputs, 0, false));
  EXPECT_EQ(plain["encoding_format"], "float");
  EXPECT_FALSE(plain.contains("dimensions"));
}

TEST(WireTest, Base64DecodesLittleEndianFloatsBitExact) {
  // 1.0f = 00 00 80 3F, -2.5f = 00 00 20 C0 (little-endian) -> "AACAPwAAIMA="
  auto v = DecodeBase64Floats("AACAPwAAIMA=");
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ(std::bit_cast<uint32_t>((*v)[0]), 0x3F800000u);
  EXPECT_EQ(std::bit_cast<uint32_t>((*v)[1]), 0xC0200000u);
  // One float: 4 bytes -> 8 chars with "==" padding. 0.5f = 00 00 00 3F.
  auto half = DecodeBase64Floats("AAAAPw==");
  ASSERT_TRUE(half.ok());
  EXPECT_EQ((*half)[0], 0.5f);
}

TEST(WireTest, Base64RejectsGarbage) {
  for (const char* bad : {"AAA", "AA=A", "AAAA", "!!!!AAAA",
                          "AAAAPw=="
                          "AAAA"}) {
    EXPECT_FALSE(DecodeBase64Floats(bad).ok()) << bad;
  }
}

TEST(WireTest, ParsesFloatAndBase64ItemsPlacedByIndex) {
  json body = {{"object", "list"},
               {"data",
                {{{"object", "embedding"}, {"index", 1}, {"embedding", "AACAPwAAAAA="}},
                 {{"object", "embedding"}, {"index", 0}, {"embedding", {0.0, 1.0}}}}},
               {"model", "m"},
               {"usage", {{"prompt_tokens", 5}, {"total_tokens", 5}}}};
  auto r = ParseEmbeddingsResponse(body.dump(), 2, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->vectors[0], (std::vector<float>{0.0f, 1.0f}));
  EXPECT_EQ(r->vectors[1], (std::vector<float>{1.0f, 0.0f}));
  EXPECT_EQ(r->total_tokens, 5);
  EXPECT_EQ(r->model, "m");
}

TEST(WireTest, NormalisesVectorsThatAreNotUnitLength) {
  json body = {{"data", {{{"index", 0}, {"embedding", {3.0, 4.0}}}}}};
  auto r = ParseEmbeddingsResponse(body.dump(), 1, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_FLOAT_EQ(r->vectors[0][0], 0.6f);
  EXPECT_FLOAT_EQ(r->vectors[0][1], 0.8f);
  EXPECT_FALSE(r->total_tokens.has_value());
}

TEST(WireTest, WrongAnswersAreBadResponseNeverPlaceholders) {
  auto item = [](int index, json emb) { return json{{"index", index}, {"embedding", emb}}; };
  const json unit = {1.0, 0.0};
  struct Case {
    const char* what;
    json data;
  } cases[] = {
      {"missing", json::array({item(0, unit)})},
      {"duplicate", json::array({item(0, unit), item(0, unit)})},
      {"extra", json::array({item(0, unit), item(1, unit), item(2, unit)})},
      {"out of range", json::array({item(0, unit), item(5, unit)})},
      {"wrong size", json::array({item(0, unit), item(1, {1.0, 0.0, 0.0})})},
      {"zero vector", json::array({item(0, unit), item(1, {0.0, 0.0})})},
      {"no embedding", json::array({item(0, unit), json{{"index", 1}}})},
  };
  for (const Case& c : cases) {
    auto r = ParseEmbeddingsResponse(json{{"data", c.data}}.dump(), 2, 2);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << c.what;
    EXPECT_EQ(r.status().reason(), "bad_response") << c.what;
  }
  auto no_data = ParseEmbeddingsResponse(R"({"object":"list"})", 1, 2);
  EXPECT_EQ(no_data.status().reason(), "bad_response");
}

TEST(WireTest, TruncatedJsonIsRetryableMalformedResponse) {
  auto r = ParseEmbeddingsResponse(R"({"object":"list","data":[{"index":0,"emb)", 1, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().reason(), "malformed_response");
}

TEST(WireTest, MapsOpenAiErrors) {
  struct Case {
    int status;
    std::string body;
    StatusCode code;
    std::string reason;
    bool retryable;
    bool split;
  } cases[] = {
      {401,
       OpenAiError("Incorrect API key provided: sk-abc...wxyz.", "invalid_request_error",
                   "invalid_api_key"),
       StatusCode::kUnauthenticated, "invalid_api_key", false, false},
      {429,
       OpenAiError("You exceeded your current quota", "insufficient_quota", "insufficient_quota"),
       StatusCode::kResourceExhausted, "insufficient_quota", false, false},
      {429, OpenAiError("Spend limit", "invalid_request_error", "project_spend_limit_exceeded"),
       StatusCode::kResourceExhausted, "insufficient_quota", false, false},
      {429, OpenAiError("Credits", "insufficient_quota", "credit_balance_exhausted"),
       StatusCode::kResourceExhausted, "insufficient_quota", false, false},
      {402, "", StatusCode::kResourceExhausted, "insufficient_quota", false, false},
      {429,
       OpenAiError("Rate limit reached for text-embedding-3-small", "tokens",
                   "rate_limit_exceeded"),
       StatusCode::kUnavailable, "rate_limited", true, false},
      {429,
       OpenAiError("Request too large for text-embedding-3-small on tokens per min", "tokens",
                   "rate_limit_exceeded"),
       StatusCode::kInvalidArgument, "request_too_large", false, true},
      {400,
       OpenAiError("Requested 300001 tokens, max 300000 tokens per request",
                   "max_tokens_per_request", "max_tokens_per_request"),
       StatusCode::kInvalidArgument, "request_too_large", false, true},
      {400,
       OpenAiError("This model's maximum context length is 8192 tokens", "invalid_request_error",
                   nullptr),
       StatusCode::kInvalidArgument, "input_too_long", false, false},
      {400, OpenAiError("'$.input' is invalid", "invalid_request_error", nullptr),
       StatusCode::kInvalidArgument, "invalid_request", false, false},
      {403,
       OpenAiError("You are not allowed to generate embeddings from this model",
                   "invalid_request_error", nullptr),
       StatusCode::kFailedPrecondition, "model_not_allowed", false, false},
      {404, OpenAiError("The model `x` does not exist", "invalid_request_error", "model_not_found"),
       StatusCode::kFailedPrecondition, "model_not_found", false, false},
      // Ollama: flat body naming the model.
      {404, R"({"error":"model \"nomic\" not found, try pulling it first"})",
       StatusCode::kFailedPrecondition, "model_not_found", false, false},
      // No such route (a base URL without /v1): an empty or HTML body.
      {404, "", StatusCode::kFailedPrecondition, "endpoint_not_found", false, false},
      {404, "<html><body>Not Found</body></html>", StatusCode::kFailedPrecondition,
       "endpoint_not_found", false, false},
      {500, OpenAiError("The server had an error", "server_error", nullptr),
       StatusCode::kUnavailable, "server_error", true, false},
      {503, OpenAiError("overloaded", "service_unavailable_error", "server_is_overloaded"),
       StatusCode::kUnavailable, "server_error", true, false},
      {502, "<html><body>Bad gateway</body></html>", StatusCode::kUnavailable, "server_error", true,
       false},
      {504, "", StatusCode::kUnavailable, "server_error", true, false},
      {408, "", StatusCode::kUnavailable, "request_timeout", true, false},
      {409, "", StatusCode::kUnavailable, "server_error", true, false},
      {424, R"({"message":"backend error","code":424,"type":"backend"})", StatusCode::kUnavailable,
       "server_error", true, false},
      // TEI: flat body, integer code; 413 = batch too large.
      {413,
       R"({"message":"batch size 64 > maximum allowed batch size 32","code":413,"type":"validation"})",
       StatusCode::kInvalidArgument, "request_too_large", false, true},
      // vLLM: integer code inside the wrapper.
      {400, R"({"error":{"message":"bad","type":"BadRequestError","param":null,"code":400}})",
       StatusCode::kInvalidArgument, "invalid_request", false, false},
      // llama.cpp without --embeddings.
      {501,
       R"({"error":{"code":501,"message":"This server does not support embeddings.","type":"not_supported_error"}})",
       StatusCode::kFailedPrecondition, "embeddings_not_supported", false, false},
  };
  for (const Case& c : cases) {
    ErrorVerdict v = MapErrorResponse(Response(c.status, c.body), 0);
    EXPECT_EQ(v.status.code(), c.code) << c.status << " " << c.body;
    EXPECT_EQ(v.status.reason(), c.reason) << c.status << " " << c.body;
    EXPECT_EQ(v.retryable, c.retryable) << c.status << " " << c.body;
    EXPECT_EQ(v.split, c.split) << c.status << " " << c.body;
  }
}

TEST(WireTest, EndpointNotFoundHintsAtTheV1Prefix) {
  ErrorVerdict v = MapErrorResponse(Response(404, ""), 0);
  EXPECT_NE(v.status.message().find("does the base URL end in /v1?"), std::string::npos)
      << v.status.message();
}

TEST(WireTest, ErrorMessagesKeepProviderTextButNoKeys) {
  ErrorVerdict v = MapErrorResponse(
      // The key is built at run time so no key-shaped literal sits in the repository.
      Response(401, OpenAiError("Incorrect API key provided: sk-" + std::string("proj-") +
                                    "abcdefghijklmnop" + "qrstuvwxyz",
                                "invalid_request_error", "invalid_api_key")),
      0);
  EXPECT_NE(v.status.message().find("Incorrect API key"), std::string::npos);
  EXPECT_EQ(v.status.message().find("abcdefghijklmnop"), std::string::npos);
}

TEST(WireTest, RetryAfterAndShouldRetryHeadersAreHonoured) {
  ErrorVerdict v = MapErrorResponse(
      Response(429, OpenAiError("Rate limit reached", "requests", "rate_limit_exceeded"),
               {{"retry-after", "3"}, {"retry-after-ms", "2812"}}),
      0);
  EXPECT_TRUE(v.retryable);
  EXPECT_EQ(v.retry_after, std::chrono::milliseconds(2812));
  EXPECT_NE(v.status.message().find("retry after 2812 ms"), std::string::npos);

  ErrorVerdict no = MapErrorResponse(Response(503, "", {{"x-should-retry", "false"}}), 0);
  EXPECT_EQ(no.status.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(no.retryable);
}

}  // namespace
}  // namespace ingest::embed::openai
