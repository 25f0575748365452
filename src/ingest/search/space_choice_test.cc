#include "ingest/search/space_choice.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace ingest::search {
namespace {

using store::IndexedSpace;
using store::VectorSpace;
using ::testing::HasSubstr;

const VectorSpace kLexical{"lexical-v1", 384};
const VectorSpace kSmall{"text-embedding-3-small", 1536};

TEST(ChooseSearchSpace, EmptyStoreSaysSo) {
  std::vector<IndexedSpace> held;
  auto r = ChooseSearchSpace(held, std::nullopt, "choose");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "store_empty");
  EXPECT_EQ(ChooseSearchSpace(held, kLexical, "choose").status().reason(), "store_empty");
}

TEST(ChooseSearchSpace, TheOnlySpaceIsTheDefault) {
  std::vector<IndexedSpace> held = {{kSmall, 5}};
  auto r = ChooseSearchSpace(held, std::nullopt, "choose");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, kSmall);
}

TEST(ChooseSearchSpace, SeveralSpacesNeedAChoiceNamingThem) {
  std::vector<IndexedSpace> held = {{kSmall, 5}, {kLexical, 1}};
  auto r = ChooseSearchSpace(held, std::nullopt, "set embed.model");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "ambiguous_space");
  EXPECT_THAT(r.status().message(),
              HasSubstr("text-embedding-3-small (1536 dims, 5 documents), lexical-v1 (384 dims, "
                        "1 document)"));
  EXPECT_THAT(r.status().message(), HasSubstr("set embed.model"));
}

TEST(ChooseSearchSpace, WantedSpaceMustBeHeld) {
  std::vector<IndexedSpace> held = {{kSmall, 5}, {kLexical, 1}};
  auto chosen = ChooseSearchSpace(held, kLexical, "x");
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(*chosen, kLexical);
  // Dimensions 0: the model's held space, whatever its size.
  auto by_model = ChooseSearchSpace(held, VectorSpace{"text-embedding-3-small", 0}, "x");
  ASSERT_TRUE(by_model.ok());
  EXPECT_EQ(*by_model, kSmall);
  auto missing = ChooseSearchSpace(held, VectorSpace{"text-embedding-3-large", 3072}, "pick one");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().reason(), "space_not_indexed");
  EXPECT_THAT(missing.status().message(), HasSubstr("text-embedding-3-large (3072 dims)"));
  EXPECT_THAT(missing.status().message(), HasSubstr("lexical-v1 (384 dims, 1 document)"));
  EXPECT_THAT(missing.status().message(), HasSubstr("pick one"));
  // Same model, other dimensions: a different space.
  EXPECT_EQ(ChooseSearchSpace(held, VectorSpace{"lexical-v1", 256}, "x").status().reason(),
            "space_not_indexed");
}

}  // namespace
}  // namespace ingest::search
