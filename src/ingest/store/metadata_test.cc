#include "ingest/store/metadata.h"

#include <gtest/gtest.h>

#include <string>

namespace ingest::store {
namespace {

TEST(MetadataTest, NormalizesToCompactSortedJson) {
  auto m = NormalizeMetadata(R"({ "team": "claims", "year": 2024, "tags": ["a", 1, true, null] })");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*m, R"({"tags":["a",1,true,null],"team":"claims","year":2024})");
  EXPECT_EQ(*NormalizeMetadata("{}"), "{}");
}

TEST(MetadataTest, RefusesWhatCannotBeFilteredOrIsTooLarge) {
  for (const char* bad : {"", "[1]", "\"x\"", "{", R"({"a": {"b": 1}})", R"({"a": [[1]]})",
                          R"({"": 1})", R"({"a\"b": 1})", R"({"a\\b": 1})"}) {
    auto m = NormalizeMetadata(bad);
    EXPECT_FALSE(m.ok()) << bad;
    if (!m.ok()) {
      EXPECT_EQ(m.status().reason(), "invalid_metadata") << bad;
    }
  }
  std::string many = "{";
  for (size_t i = 0; i <= kMaxMetadataKeys; ++i) {
    many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  }
  many += "}";
  EXPECT_FALSE(NormalizeMetadata(many).ok());
  const std::string big = R"({"a":")" + std::string(kMaxMetadataBytes, 'x') + R"("})";
  EXPECT_FALSE(NormalizeMetadata(big).ok());
  const std::string key(kMaxMetadataKeyBytes + 1, 'k');
  EXPECT_FALSE(NormalizeMetadata("{\"" + key + "\":1}").ok());
}

TEST(MetadataTest, WordsAreTypedAsJsonReadsThem) {
  EXPECT_EQ(ScalarJsonFromWord("claims"), R"("claims")");
  EXPECT_EQ(ScalarJsonFromWord("2024"), "2024");
  EXPECT_EQ(ScalarJsonFromWord("-1.5"), "-1.5");
  EXPECT_EQ(ScalarJsonFromWord("true"), "true");
  EXPECT_EQ(ScalarJsonFromWord("null"), "null");
  EXPECT_EQ(ScalarJsonFromWord(R"("2024")"), R"("2024")");
  EXPECT_EQ(ScalarJsonFromWord("2024-01-01"), R"("2024-01-01")");  // not a number
  EXPECT_EQ(ScalarJsonFromWord(""), R"("")");
}

TEST(MetadataTest, KeyEqualsValue) {
  auto m = ParseMetadataEquals("team=claims=x");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->key, "team");
  EXPECT_EQ(m->value_json, R"("claims=x")");
  EXPECT_EQ(ParseMetadataEquals("noequals").status().reason(), "invalid_filter");
  EXPECT_EQ(ParseMetadataEquals("=x").status().reason(), "invalid_filter");
  auto set = SetMetadataValue(R"({"a":1})", "b", "true");
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(*set, R"({"a":1,"b":true})");
}

TEST(MetadataTest, ExternalIds) {
  EXPECT_TRUE(ValidateExternalId("s3://bucket/a b.pdf").ok());
  EXPECT_FALSE(ValidateExternalId("").ok());
  EXPECT_FALSE(ValidateExternalId("a\nb").ok());
  EXPECT_FALSE(ValidateExternalId(std::string(kMaxExternalIdBytes + 1, 'x')).ok());
}

}  // namespace
}  // namespace ingest::store
