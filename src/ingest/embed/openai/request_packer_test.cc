#include "ingest/embed/openai/request_packer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/common/check.h"
#include "ingest/text/tokenizer.h"

namespace ingest::embed::openai {
namespace {

const text::Tokenizer& Cl100k() {
  auto t = text::Tokenizer::Get(text::Encoding::kCl100kBase);
  INGEST_CHECK(t.ok());
  return **t;
}

// " a" repeated n times is exactly n cl100k tokens; checked with the real tokenizer below.
std::string TextOfTokens(int n) {
  std::string s;
  s.reserve(2 * n);
  for (int i = 0; i < n; ++i) s += " a";
  return s;
}

std::vector<int64_t> Counts(const std::vector<std::string>& texts) {
  std::vector<int64_t> out;
  for (const auto& t : texts) out.push_back(static_cast<int64_t>(Cl100k().Count(t)));
  return out;
}

TEST(RequestPackerTest, RepeatedSpaceAIsOneTokenEach) {
  EXPECT_EQ(Cl100k().Count(TextOfTokens(1)), 1u);
  EXPECT_EQ(Cl100k().Count(TextOfTokens(8192)), 8192u);
  EXPECT_EQ(Cl100k().Count(TextOfTokens(8193)), 8193u);
}

TEST(RequestPackerTest, ExactlyMaxInputsFitInOneRequestAndOneMoreStartsAnother) {
  std::vector<std::string> texts(2048, "hello");
  auto spans = PackRequests(Counts(texts), RequestLimits{});
  ASSERT_TRUE(spans.ok());
  ASSERT_EQ(spans->size(), 1u);
  EXPECT_EQ((*spans)[0].size(), 2048u);
  EXPECT_EQ((*spans)[0].tokens, 2048);

  texts.push_back("hello");
  spans = PackRequests(Counts(texts), RequestLimits{});
  ASSERT_TRUE(spans.ok());
  ASSERT_EQ(spans->size(), 2u);
  EXPECT_EQ((*spans)[0].size(), 2048u);
  EXPECT_EQ((*spans)[1].begin, 2048u);
  EXPECT_EQ((*spans)[1].size(), 1u);
}

TEST(RequestPackerTest, InputOfExactlyMaxTokensIsAcceptedOneMoreIsRejected) {
  auto ok = PackRequests(Counts({TextOfTokens(8192)}), RequestLimits{});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[0].tokens, 8192);

  auto too_long = PackRequests(Counts({"short", TextOfTokens(8193)}), RequestLimits{});
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_long.status().reason(), "input_too_long");
  EXPECT_NE(too_long.status().message().find("input 1"), std::string::npos);
}

TEST(RequestPackerTest, ExactlyMaxTokensPerRequestFitAndOneMoreTokenSplits) {
  // 36 inputs of 8192 tokens + one of 300000 - 36*8192 = 5088 tokens = exactly 300,000.
  std::vector<std::string> texts(36, TextOfTokens(8192));
  texts.push_back(TextOfTokens(300'000 - 36 * 8192));
  auto counts = Counts(texts);
  int64_t sum = 0;
  for (auto c : counts) sum += c;
  ASSERT_EQ(sum, 300'000);
  auto spans = PackRequests(counts, RequestLimits{});
  ASSERT_TRUE(spans.ok());
  ASSERT_EQ(spans->size(), 1u);
  EXPECT_EQ((*spans)[0].tokens, 300'000);

  texts.push_back(TextOfTokens(1));
  spans = PackRequests(Counts(texts), RequestLimits{});
  ASSERT_TRUE(spans.ok());
  ASSERT_EQ(spans->size(), 2u);
  EXPECT_EQ((*spans)[0].tokens, 300'000);
  EXPECT_EQ((*spans)[1].tokens, 1);
  EXPECT_EQ((*spans)[1].begin, 37u);
}

TEST(RequestPackerTest, PacksGreedilyInOrderAndCoversEveryInput) {
  RequestLimits limits{
      .max_inputs_per_request = 3, .max_tokens_per_input = 10, .max_tokens_per_request = 12};
  std::vector<int64_t> tokens = {5, 5, 3, 1, 1, 1, 10, 2};
  auto spans = PackRequests(tokens, limits);
  ASSERT_TRUE(spans.ok());
  // [5,5] (next 3 would make 13), [3,1,1] (3 inputs), [1,10], [2]
  ASSERT_EQ(spans->size(), 4u);
  EXPECT_EQ((*spans)[0].begin, 0u);
  EXPECT_EQ((*spans)[0].end, 2u);
  EXPECT_EQ((*spans)[1].end, 5u);
  EXPECT_EQ((*spans)[2].end, 7u);
  EXPECT_EQ((*spans)[2].tokens, 11);
  EXPECT_EQ((*spans)[3].end, 8u);
}

TEST(RequestPackerTest, EmptyInputAndBadLimitsAreRejected) {
  std::vector<int64_t> with_empty = {3, 0};
  auto r = PackRequests(with_empty, RequestLimits{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "empty_input");

  std::vector<int64_t> one = {1};
  RequestLimits zero;
  zero.max_inputs_per_request = 0;
  auto bad = PackRequests(one, zero);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "invalid_config");
}

TEST(RequestPackerTest, NoInputsNoRequests) {
  auto spans = PackRequests({}, RequestLimits{});
  ASSERT_TRUE(spans.ok());
  EXPECT_TRUE(spans->empty());
}

}  // namespace
}  // namespace ingest::embed::openai
