#include "ingest/embed/openai/openai_embedder.h"

#include <gtest/gtest.h>

#include "ingest/text/tokenizer.h"

namespace ingest::embed {
namespace {

const text::TokenCounter* Cl100k() {
  auto t = text::Tokenizer::Get(text::Encoding::kCl100kBase);
  return t.ok() ? *t : nullptr;
}

OpenAiEmbedderOptions Options(std::string model, int dimensions) {
  OpenAiEmbedderOptions o;
  o.model = std::move(model);
  o.dimensions = dimensions;
  o.api_key = "sk-test";
  // Nothing listens here; tests that reach the network would fail fast, and none should.
  o.base_url = "http://127.0.0.1:1/v1";
  o.max_retries = 0;
  o.token_counter = Cl100k();
  return o;
}

TEST(OpenAiEmbedderTest, SpaceAndDescribeUseNativeDimensionsWhenZero) {
  struct Case {
    const char* model;
    int dims;
    int want;
  } cases[] = {{"text-embedding-3-small", 0, 1536},
               {"text-embedding-3-large", 0, 3072},
               {"text-embedding-ada-002", 0, 1536},
               {"text-embedding-3-small", 256, 256},
               {"nomic-embed-text", 768, 768}};
  for (const Case& c : cases) {
    auto e = OpenAiEmbedder::Create(Options(c.model, c.dims));
    ASSERT_TRUE(e.ok()) << c.model << ": " << e.status().ToString();
    EXPECT_EQ((*e)->Space().model, c.model);
    EXPECT_EQ((*e)->Space().dimensions, c.want);
    EXPECT_EQ((*e)->Provider(), "openai");
    EXPECT_EQ((*e)->Describe(),
              "openai " + std::string(c.model) + " (" + std::to_string(c.want) + " dims)");
  }
}

TEST(OpenAiEmbedderTest, ImpossibleConfigurationsFailAtConstruction) {
  std::vector<OpenAiEmbedderOptions> bad = {
      Options("some-unknown-model", 0),         // unknown size
      Options("text-embedding-3-small", 2048),  // above native
      Options("text-embedding-ada-002", 512),   // ada cannot shorten
      Options("", 0),
  };
  auto no_counter = Options("text-embedding-3-small", 0);
  no_counter.token_counter = nullptr;
  bad.push_back(no_counter);
  auto no_retries = Options("text-embedding-3-small", 0);
  no_retries.max_retries = -1;
  bad.push_back(no_retries);
  for (const auto& o : bad) {
    auto e = OpenAiEmbedder::Create(o);
    ASSERT_FALSE(e.ok()) << o.model << " " << o.dimensions;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(e.status().reason(), "invalid_config");
  }
}

TEST(OpenAiEmbedderTest, OverlongOrEmptyInputFailsBeforeAnyRequest) {
  auto e = OpenAiEmbedder::Create(Options("text-embedding-3-small", 0));
  ASSERT_TRUE(e.ok());
  std::string too_long;
  for (int i = 0; i < 8193; ++i) too_long += " a";
  std::vector<std::string> texts = {"fine", too_long};
  auto r = (*e)->Embed(texts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().reason(), "input_too_long");

  std::vector<std::string> empty = {"fine", ""};
  r = (*e)->Embed(empty);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "empty_input");
  EXPECT_FALSE((*e)->LastRateLimit().has_value());  // no response was ever seen
}

TEST(OpenAiEmbedderTest, NoTextsNoRequest) {
  auto e = OpenAiEmbedder::Create(Options("text-embedding-3-small", 0));
  ASSERT_TRUE(e.ok());
  auto r = (*e)->Embed({});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->vectors.empty());
  EXPECT_EQ(r->usage.requests, 0);
}

TEST(OpenAiEmbedderTest, ConnectionRefusedIsTransientUnavailable) {
  auto o = Options("text-embedding-3-small", 0);
  o.max_retries = 1;
  o.initial_backoff = std::chrono::milliseconds(1);
  auto e = OpenAiEmbedder::Create(o);
  ASSERT_TRUE(e.ok());
  std::vector<std::string> texts = {"hello"};
  auto r = (*e)->Embed(texts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().reason(), "connection_failed");
}

}  // namespace
}  // namespace ingest::embed
