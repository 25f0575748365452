#include "ingest/text/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace ingest::text {
namespace {

TEST(Utf8Test, DecodesEachSequenceLength) {
  const std::string s = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";  // a é 中 😀
  Utf8Decoded d = DecodeUtf8(s, 0);
  EXPECT_TRUE(d.valid);
  EXPECT_EQ(d.code_point, U'a');
  d = DecodeUtf8(s, 1);
  EXPECT_EQ(d.code_point, 0xE9u);
  EXPECT_EQ(d.length, 2u);
  d = DecodeUtf8(s, 3);
  EXPECT_EQ(d.code_point, 0x4E2Du);
  EXPECT_EQ(d.length, 3u);
  d = DecodeUtf8(s, 6);
  EXPECT_EQ(d.code_point, 0x1F600u);
  EXPECT_EQ(d.length, 4u);
  EXPECT_TRUE(IsValidUtf8(s));
}

TEST(Utf8Test, RejectsOverlongSurrogatesAndOutOfRange) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong 3-byte
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // U+D800 surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xE4\xB8"));  // truncated
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(Utf8Test, ReplacesMaximalSubpartsOnce) {
  size_t n = 0;
  // Truncated 3-byte sequence followed by ASCII: one replacement for the two-byte prefix.
  EXPECT_EQ(ReplaceInvalidUtf8("x\xE4\xB8y", &n), "x\xEF\xBF\xBDy");
  EXPECT_EQ(n, 1u);
  // Each byte of an overlong is its own maximal subpart (C0 can never start a sequence).
  EXPECT_EQ(ReplaceInvalidUtf8("\xC0\xAF", &n), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(n, 2u);
  // Surrogate: ED then A0 fails at the second byte, so ED, A0, 80 are three subparts.
  EXPECT_EQ(ReplaceInvalidUtf8("\xED\xA0\x80", &n).size(), 9u);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(ReplaceInvalidUtf8("ok \xC3\xA9", &n), "ok \xC3\xA9");
  EXPECT_EQ(n, 0u);
}

TEST(Utf8Test, AppendRoundTripsAndRejectsSurrogates) {
  for (char32_t cp : {U'A', char32_t{0xE9}, char32_t{0x4E2D}, char32_t{0x1F600}}) {
    std::string s;
    AppendUtf8(cp, &s);
    const Utf8Decoded d = DecodeUtf8(s, 0);
    EXPECT_TRUE(d.valid);
    EXPECT_EQ(d.code_point, cp);
    EXPECT_EQ(d.length, s.size());
  }
  std::string s;
  AppendUtf8(0xD800, &s);
  EXPECT_EQ(s, "\xEF\xBF\xBD");
}

TEST(Utf8Test, BoundaryNeverSplitsASequence) {
  const std::string s =
      "a\xE4\xB8\xAD"
      "b";  // a 中 b
  EXPECT_EQ(Utf8BoundaryAtOrBefore(s, 0), 0u);
  EXPECT_EQ(Utf8BoundaryAtOrBefore(s, 1), 1u);
  EXPECT_EQ(Utf8BoundaryAtOrBefore(s, 2), 1u);
  EXPECT_EQ(Utf8BoundaryAtOrBefore(s, 3), 1u);
  EXPECT_EQ(Utf8BoundaryAtOrBefore(s, 4), 4u);
  EXPECT_EQ(Utf8BoundaryAtOrBefore(s, 99), s.size());
}

}  // namespace
}  // namespace ingest::text
