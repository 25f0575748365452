#include "ingest/search/toc.h"

#include <gtest/gtest.h>

namespace ingest::search {
namespace {

TEST(TableOfContentsTest, DotLeadersAndIndexPagesAreRecognised) {
  EXPECT_TRUE(LooksLikeTableOfContents(
      "1 Introduction and preliminaries . . . . . . . . . . . . . . 2\n"
      "1.1 The R environment . . . . . . . . . . . . . . . . . . . . 2\n"
      "1.2 Related software and documentation . . . . . . . . . . . 2\n"
      "1.3 R and statistics ............................................ 3\n"));
  EXPECT_TRUE(LooksLikeTableOfContents(
      "Preface \xE2\x80\xA6\xE2\x80\xA6\xE2\x80\xA6 vii\nContents \xE2\x80\xA6\xE2\x80\xA6 ix\n"
      "Budgets \xE2\x80\xA6\xE2\x80\xA6 12\n"));
  EXPECT_TRUE(
      LooksLikeTableOfContents("lapply, 45, 47\nlength, 12, 19, 33\nlevels 22, 23\n"
                               "library, 80, 81\n"));
}

TEST(TableOfContentsTest, ProseListsAndTablesAreNot) {
  EXPECT_FALSE(LooksLikeTableOfContents(
      "R is an integrated suite of software facilities for data manipulation, calculation and\n"
      "graphical display. It includes an effective data handling and storage facility, a suite\n"
      "of operators for calculations on arrays, in particular matrices.\n"));
  EXPECT_FALSE(LooksLikeTableOfContents("1. First step\n2. Second step\n3. Third step\n"));
  EXPECT_FALSE(
      LooksLikeTableOfContents("| year | value |\n|---|---|\n| 2023 | 12 |\n| 2024 | 15 |\n"));
  EXPECT_FALSE(LooksLikeTableOfContents("Chapter 1 . . . . 3\n"));  // fewer than 3 lines
  // Mostly prose with one leader line.
  EXPECT_FALSE(LooksLikeTableOfContents(
      "See the summary . . . . 4\nThe rest of this section explains why.\nIt has prose.\n"
      "And more prose here.\n"));
  EXPECT_FALSE(
      LooksLikeTableOfContents("Version 4.2.1, released 2022\nx <- c(1, 2, 3)\n"
                               "y <- c(10, 20)\n"));
}

}  // namespace
}  // namespace ingest::search
