#include "ingest/text/normalize.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/text/utf8.h"

namespace ingest::text {
namespace {

using store::PageText;

TEST(NormalizeTextTest, LineEndingsBecomeLf) {
  EXPECT_EQ(NormalizeText("a\r\nb\rc\nd"), "a\nb\nc\nd");
  EXPECT_EQ(NormalizeText("a\fb"), "a\nb");  // PDF page break keeps words apart
  EXPECT_EQ(NormalizeText("a\xE2\x80\xA8"
                          "b"),
            "a\nb");
}

TEST(NormalizeTextTest, InvalidUtf8IsReplacedAndCounted) {
  NormalizeStats st;
  const std::string out = NormalizeText("caf\xE9 \xFF\xFE ok", &st);
  EXPECT_EQ(out, "caf\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD ok");
  EXPECT_EQ(st.invalid_utf8_replaced, 3u);
  EXPECT_TRUE(IsValidUtf8(out));
}

TEST(NormalizeTextTest, NulAndControlsRemovedTabKept) {
  NormalizeStats st;
  EXPECT_EQ(NormalizeText(std::string("a\0b\x01\x1B"
                                      "c\td",
                                      8),
                          &st),
            "abc\td");
  EXPECT_EQ(st.nul_removed, 1u);
}

TEST(NormalizeTextTest, ComposesToNfc) {
  EXPECT_EQ(NormalizeText("e\xCC\x81"), "\xC3\xA9");                // e + U+0301 -> é
  EXPECT_EQ(NormalizeText("A\xCC\x8A"), "\xC3\x85");                // A + ring -> Å
  EXPECT_EQ(NormalizeText("\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB"),  // Hangul jamo -> 한
            "\xED\x95\x9C");
  // Already-NFC CJK and Cyrillic pass through unchanged.
  EXPECT_EQ(NormalizeText("中文 текст"), "中文 текст");
  // Cyrillic й decomposed (и + U+0306) composes.
  EXPECT_EQ(NormalizeText("\xD0\xB8\xCC\x86"), "\xD0\xB9");
}

TEST(NormalizeTextTest, TrimsTrailingSpacesAndCollapsesBlankLines) {
  EXPECT_EQ(NormalizeText("\n\n  title  \n\n\n\npara one\t \nline two\n \n\n"),
            "  title\n\npara one\nline two");
  EXPECT_EQ(NormalizeText(""), "");
  EXPECT_EQ(NormalizeText(" \n\t\n"), "");
}

TEST(NormalizeTextTest, IdempotentOnMixedInput) {
  const std::string once = NormalizeText("x\r\n\r\n\r\ny\xC3 e\xCC\x81 \0z  \n");
  EXPECT_EQ(NormalizeText(once), once);
}

std::vector<PageText> Pages(std::vector<std::string> texts) {
  std::vector<PageText> out;
  int n = 1;
  for (auto& t : texts) out.push_back({n++, std::move(t)});
  return out;
}

TEST(ValidateParsedTextTest, AcceptsOrdinaryText) {
  EXPECT_TRUE(ValidateParsedText(Pages({"Hello, world. This is a document."}), false).ok());
  EXPECT_TRUE(ValidateParsedText(Pages({"这是一个中文文档，用于测试。"}), false).ok());
  EXPECT_TRUE(ValidateParsedText(Pages({"Это русский текст для проверки."}), false).ok());
}

TEST(ValidateParsedTextTest, EmptyDocument) {
  Status st = ValidateParsedText(Pages({"", "  \n "}), false);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.reason(), "empty_document");
  st = ValidateParsedText({}, true);
  EXPECT_EQ(st.reason(), "empty_document");
}

TEST(ValidateParsedTextTest, PdfWithoutTextNamesTheFix) {
  Status st = ValidateParsedText(Pages({"", "", ""}), true);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.reason(), "no_text_layer");
  EXPECT_NE(st.message().find("INGESTD_PARSER=llamaparse"), std::string::npos);
  // A page number per page is not a text layer.
  st = ValidateParsedText(Pages({"1", "2", "3", "4"}), true);
  EXPECT_EQ(st.reason(), "no_text_layer");
  // The same text in a non-PDF is just short, which is fine.
  EXPECT_TRUE(ValidateParsedText(Pages({"1", "2", "3", "4"}), false).ok());
}

TEST(ValidateParsedTextTest, MostlyScannedPdfIsRejected) {
  const std::string full(3000, 'w');
  // One text page among five: average is high, but four pages would be silently dropped.
  Status st = ValidateParsedText(Pages({full, "", "", "", ""}), true);
  EXPECT_EQ(st.reason(), "no_text_layer");
  EXPECT_NE(st.message().find("4 of 5"), std::string::npos);
  // Two blank pages of five (covers, separators) are normal.
  EXPECT_TRUE(ValidateParsedText(Pages({"", full, full, full, ""}), true).ok());
}

TEST(ValidateParsedTextTest, ReplacementCharactersAreGarbage) {
  std::string text = "some words ";
  for (int i = 0; i < 20; ++i) text += "\xEF\xBF\xBD";
  Status st = ValidateParsedText(Pages({text}), false);
  EXPECT_EQ(st.reason(), "garbage_text");
  // Below the threshold: a few bad characters in real text pass.
  EXPECT_TRUE(
      ValidateParsedText(Pages({"A normal sentence with one \xEF\xBF\xBD in it."}), false).ok());
}

TEST(ValidateParsedTextTest, PrivateUseAndControlsAreGarbage) {
  std::string text = "ab ";
  for (int i = 0; i < 10; ++i) text += "\xEE\x80\x80";  // U+E000, private use
  EXPECT_EQ(ValidateParsedText(Pages({text}), false).reason(), "garbage_text");
  std::string c1 = "ab ";
  for (int i = 0; i < 10; ++i) c1 += "\xC2\x90";  // U+0090, a C1 control
  EXPECT_EQ(ValidateParsedText(Pages({c1}), false).reason(), "garbage_text");
}

TEST(ValidateParsedTextTest, LongTextWithoutLettersIsGarbage) {
  EXPECT_EQ(ValidateParsedText(Pages({std::string(200, '-')}), false).reason(), "garbage_text");
  // Short punctuation-only text is left alone (could be a divider in a tiny file).
  EXPECT_TRUE(ValidateParsedText(Pages({"---"}), false).ok());
}

}  // namespace
}  // namespace ingest::text
