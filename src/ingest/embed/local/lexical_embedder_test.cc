#include "ingest/embed/local/lexical_embedder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace ingest::embed {
namespace {

std::unique_ptr<LexicalEmbedder> Make(int dims = 384) {
  auto e = LexicalEmbedder::Create({dims});
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return std::move(e).value();
}

std::vector<float> Vec(const LexicalEmbedder& e, const std::string& text) {
  int64_t words = 0;
  auto v = e.EmbedText(text, &words);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? v.value() : std::vector<float>{};
}

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += static_cast<double>(a[i]) * b[i];
  return dot;
}

TEST(LexicalEmbedderTest, DescribesItselfAsLexical) {
  auto e = Make();
  EXPECT_EQ(e->Provider(), "local");
  EXPECT_EQ(e->Space(), (store::VectorSpace{"lexical-v1", 384}));
  EXPECT_NE(e->Describe().find("not a semantic model"), std::string::npos);
}

TEST(LexicalEmbedderTest, DeterministicAcrossInstancesAndCalls) {
  auto a = Make();
  auto b = Make();
  const std::string text = "The worker leases a job from the queue.";
  EXPECT_EQ(Vec(*a, text), Vec(*b, text));
  EXPECT_EQ(Vec(*a, text), Vec(*a, text));
}

TEST(LexicalEmbedderTest, VectorsAreUnitLengthAndNotConstant) {
  auto e = Make();
  for (const std::string text : {"a", "Hello, world!", "漢字とかなの文章です", "x1 x2 x3 x4 x5"}) {
    auto v = Vec(*e, text);
    ASSERT_EQ(v.size(), 384u);
    double n2 = 0;
    int nonzero = 0;
    for (float x : v) {
      n2 += static_cast<double>(x) * x;
      nonzero += x != 0;
    }
    EXPECT_NEAR(n2, 1.0, 1e-5) << text;
    EXPECT_GE(nonzero, 2) << text;
  }
}

TEST(LexicalEmbedderTest, CaseFoldedUnicode) {
  auto e = Make();
  EXPECT_EQ(Vec(*e, "Straße ÉCOLE Hello"), Vec(*e, "STRASSE école hello"));
}

TEST(LexicalEmbedderTest, RelatedTextsScoreHigherThanUnrelated) {
  auto e = Make();
  auto query = Vec(*e, "how to configure the rate limiter for embeddings");
  auto related = Vec(*e, "Configuring rate limits: the limiter shares embedding request budgets.");
  auto unrelated = Vec(*e, "Paris is the capital of France and sits on the Seine river.");
  EXPECT_GT(Cosine(query, related), Cosine(query, unrelated) + 0.1);
  // Sub-word features: an inflected form is closer than an unrelated word.
  auto parse = Vec(*e, "parsing");
  EXPECT_GT(Cosine(parse, Vec(*e, "parser")), Cosine(parse, Vec(*e, "budget")));
  // Word order matters through bigrams, but only partly.
  auto ab = Vec(*e, "vector search index");
  auto ba = Vec(*e, "index search vector");
  EXPECT_LT(Cosine(ab, ba), 0.999);
  EXPECT_GT(Cosine(ab, ba), 0.5);
}

TEST(LexicalEmbedderTest, DimensionsOption) {
  auto e = Make(64);
  EXPECT_EQ(e->Space().dimensions, 64);
  EXPECT_EQ(Vec(*e, "some text").size(), 64u);
  for (int bad : {0, -1, 65537}) {
    auto r = LexicalEmbedder::Create({bad});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().reason(), "invalid_config");
    // Constructed directly, it fails every call instead of returning a wrong-sized vector.
    LexicalEmbedder direct({bad});
    std::vector<std::string> texts = {"some text"};
    auto out = direct.Embed(texts);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().reason(), "invalid_config");
  }
}

TEST(LexicalEmbedderTest, SymbolOnlyTextStillEmbeds) {
  // Regression: a chunk of R code such as "}" in fullrefman.pdf failed the whole document.
  auto e = Make();
  std::vector<std::string> texts = {"}", "... --- !!! ???", "<- ->"};
  auto out = e->Embed(texts);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->vectors.size(), 3u);
  double norm = 0;
  for (float v : out->vectors[1]) norm += static_cast<double>(v) * v;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_NE(out->vectors[0], out->vectors[2]);
}

TEST(LexicalEmbedderTest, TextWithoutWordsIsAnErrorNotAZeroVector) {
  auto e = Make();
  for (const std::string text : {"", "   \n\t", " \r\n "}) {
    std::vector<std::string> texts = {"fine text", text};
    auto out = e->Embed(texts);
    ASSERT_FALSE(out.ok()) << "[" << text << "]";
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(out.status().reason(), "empty_text");
    EXPECT_NE(out.status().message().find("input 1"), std::string::npos);
  }
}

TEST(LexicalEmbedderTest, BatchUsageCountsWords) {
  auto e = Make();
  std::vector<std::string> texts = {"one two three", "Four, five!", "漢字"};
  auto out = e->Embed(texts);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->vectors.size(), 3u);
  EXPECT_EQ(out->vectors[1], Vec(*e, "Four, five!"));
  EXPECT_EQ(out->usage.tokens, 3 + 2 + 2);
  EXPECT_EQ(out->usage.requests, 0);
}

}  // namespace
}  // namespace ingest::embed
