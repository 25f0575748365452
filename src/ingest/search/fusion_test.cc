#include "ingest/search/fusion.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace ingest::search {
namespace {

// A ranked list of hits for texts named by `names` (chunk id "c-NAME", text hash "h-NAME"),
// best first, with descending scores.
std::vector<SearchHit> List(const std::vector<std::string>& names, float top = 1.0f) {
  std::vector<SearchHit> out;
  for (size_t i = 0; i < names.size(); ++i) {
    SearchHit h;
    h.chunk_id = "c-" + names[i];
    h.document_id = "d";
    h.text = names[i];
    h.text_sha256 = "h-" + names[i];
    h.score = top - 0.1f * static_cast<float>(i);
    out.push_back(h);
  }
  return out;
}

std::vector<std::string> Order(const std::vector<SearchHit>& hits) {
  std::vector<std::string> out;
  for (const SearchHit& h : hits) out.push_back(h.text);
  return out;
}

TEST(FuseReciprocalRankTest, ScoresAreSumsOfOneOverKPlusRank) {
  auto fused = FuseReciprocalRank(List({"a", "b", "c"}), List({"c", "d", "a"}));
  ASSERT_EQ(fused.size(), 4u);
  // a: 1/61 + 1/63; c: 1/63 + 1/61; equal, so the tie goes by best rank (both 1), then id.
  EXPECT_THAT(Order(fused), ::testing::ElementsAre("a", "c", "b", "d"));
  EXPECT_FLOAT_EQ(fused[0].score, static_cast<float>(1.0 / 61 + 1.0 / 63));
  EXPECT_FLOAT_EQ(fused[2].score, static_cast<float>(1.0 / 62));
  EXPECT_FLOAT_EQ(fused[3].score, static_cast<float>(1.0 / 62));
  // b (vector rank 2) and d (lexical rank 2) tie on score and best rank: chunk id decides.
  EXPECT_EQ(fused[0].vector_rank, 1);
  EXPECT_EQ(fused[0].lexical_rank, 3);
  EXPECT_EQ(fused[1].vector_rank, 3);
  EXPECT_EQ(fused[1].lexical_rank, 1);
  EXPECT_EQ(fused[2].lexical_rank, 0);
  EXPECT_TRUE(std::isnan(fused[2].lexical_score));
  EXPECT_EQ(fused[3].vector_rank, 0);
  EXPECT_TRUE(std::isnan(fused[3].vector_score));
  EXPECT_FLOAT_EQ(fused[3].lexical_score, 0.9f);  // the lexical list's own score is kept
}

// Agreement beats a single first place: rank 2 + rank 2 outscores rank 1 alone.
TEST(FuseReciprocalRankTest, TextsBothListsFindRankFirst) {
  auto fused = FuseReciprocalRank(List({"x", "both", "y"}), List({"z", "both", "w"}));
  EXPECT_EQ(fused[0].text, "both");
  EXPECT_EQ(fused.size(), 5u);
  // The constant matters: with k = 0, 1/2 + 1/2 only ties a lone first place (1/1), and the
  // tie goes to the better best rank.
  auto sharp = FuseReciprocalRank(List({"x", "both"}), List({"z", "both"}), /*k=*/0);
  EXPECT_THAT(Order(sharp), ::testing::ElementsAre("x", "z", "both"));
  EXPECT_FLOAT_EQ(sharp[2].score, 1.0f);
}

TEST(FuseReciprocalRankTest, EmptyListsAndOneSidedInput) {
  EXPECT_TRUE(FuseReciprocalRank({}, {}).empty());
  auto only_text = FuseReciprocalRank({}, List({"p", "q"}));
  EXPECT_THAT(Order(only_text), ::testing::ElementsAre("p", "q"));
  EXPECT_EQ(only_text[1].lexical_rank, 2);
  EXPECT_EQ(only_text[1].vector_rank, 0);
}

// One text reached through different chunks in the two lists is one result listing both.
TEST(FuseReciprocalRankTest, SameTextThroughOtherChunksIsOneResult) {
  auto vec = List({"t"});
  auto lex = List({"t"});
  lex[0].chunk_id = "c-other";
  lex[0].also_in.push_back(TextHolder{"c-third", "d3", "f3.md", 4, 4});
  vec[0].also_in.push_back(TextHolder{"c-other", "d2", "f2.md", 1, 1});
  auto fused = FuseReciprocalRank(vec, lex);
  ASSERT_EQ(fused.size(), 1u);
  EXPECT_EQ(fused[0].chunk_id, "c-t");  // the vector list's chunk
  std::vector<std::string> holders;
  for (const TextHolder& h : fused[0].also_in) holders.push_back(h.chunk_id);
  EXPECT_THAT(holders, ::testing::ElementsAre("c-other", "c-third"));
}

}  // namespace
}  // namespace ingest::search
