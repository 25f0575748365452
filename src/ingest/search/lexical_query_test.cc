#include "ingest/search/lexical_query.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ingest/search/hybrid_search.h"

namespace ingest::search {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(LexicalTermsTest, WordsLowerCasedInOrderOnce) {
  EXPECT_THAT(LexicalTerms("Refund policy: the REFUND window, refund"),
              ElementsAre("refund", "policy", "window"));
  EXPECT_THAT(LexicalTerms("ISO-8601 v2.3"), ElementsAre("iso", "8601", "v2", "3"));
}

// Query syntax of FTS5 and of tsquery is never passed through: only the words are left.
TEST(LexicalTermsTest, QuerySyntaxBecomesPlainWords) {
  EXPECT_THAT(LexicalTerms("\"foo"), ElementsAre("foo"));
  EXPECT_THAT(LexicalTerms("AND("), ElementsAre("and"));
  EXPECT_THAT(LexicalTerms("NEAR(a b, 3) OR text:x* ^y - !z & w | v <-> u"),
              ElementsAre("near", "b", "3", "text", "x", "y", "z", "w", "v", "u"));
  EXPECT_THAT(LexicalTerms("\"\"\" ((( ))) *** :: ''' \\\\"), IsEmpty());
  EXPECT_THAT(LexicalTerms(""), IsEmpty());
}

// Function words are dropped when the query has other words (they would match nearly every
// chunk and weigh nothing), kept when it has only them.
TEST(LexicalTermsTest, StopWordsOnlyWhenNothingElse) {
  EXPECT_THAT(LexicalTerms("What is the refund policy of the shop?"),
              ElementsAre("refund", "policy", "shop"));
  EXPECT_THAT(LexicalTerms("What is it"), ElementsAre("what", "is", "it"));
  EXPECT_THAT(LexicalTerms("The Who"), ElementsAre("the", "who"));
}

TEST(LexicalTermsTest, NonAsciiLettersStayInWords) {
  EXPECT_THAT(LexicalTerms("Übergröße café naïve"),
              ElementsAre("Übergröße", "café", "naïve"));  // only ASCII is lower-cased
  EXPECT_THAT(LexicalTerms("東京 タワー"), ElementsAre("東京", "タワー"));
}

TEST(LexicalTermsTest, LimitsTermsAndTermLengthAtUtf8Boundaries) {
  std::string many;
  for (int i = 0; i < 100; ++i) many += "w" + std::to_string(i) + " ";
  auto terms = LexicalTerms(many);
  ASSERT_EQ(terms.size(), kMaxLexicalTerms);
  EXPECT_EQ(terms.front(), "w0");
  EXPECT_EQ(terms.back(), "w" + std::to_string(kMaxLexicalTerms - 1));

  std::string long_word;
  for (int i = 0; i < 40; ++i) long_word += "é";  // 2 bytes each: 80 bytes
  auto cut = LexicalTerms("a" + long_word);       // 81 bytes: the cut falls inside an é
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_LE(cut[0].size(), kMaxLexicalTermBytes);
  EXPECT_EQ(cut[0].size(), 63u);  // "a" + 31 whole é
  EXPECT_EQ(cut[0].substr(1), long_word.substr(0, 62));
}

TEST(SearchModeTest, ParsesTheThreeModesOnly) {
  EXPECT_EQ(*ParseSearchMode("vector"), SearchMode::kVector);
  EXPECT_EQ(*ParseSearchMode("lexical"), SearchMode::kLexical);
  EXPECT_EQ(*ParseSearchMode("hybrid"), SearchMode::kHybrid);
  for (const char* bad : {"", "Hybrid", "bm25", "vector "}) {
    auto m = ParseSearchMode(bad);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().reason(), "invalid_mode");
  }
  for (SearchMode m : {SearchMode::kVector, SearchMode::kLexical, SearchMode::kHybrid}) {
    EXPECT_EQ(*ParseSearchMode(SearchModeName(m)), m);
  }
  EXPECT_EQ(kDefaultSearchMode, SearchMode::kHybrid);
  EXPECT_FALSE(NeedsQueryVector(SearchMode::kLexical));
  EXPECT_TRUE(NeedsQueryVector(SearchMode::kHybrid));
}

}  // namespace
}  // namespace ingest::search
