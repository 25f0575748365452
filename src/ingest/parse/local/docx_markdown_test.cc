#include "ingest/parse/local/docx_markdown.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "ingest/parse/testing/zip_writer.h"

namespace ingest::parse {
namespace {

using testing::DocxParagraph;
using testing::MakeDocx;

constexpr int64_t kLimit = 64ll << 20;

std::string ListItem(const std::string& text, int level) {
  return "<w:p><w:pPr><w:numPr><w:ilvl w:val=\"" + std::to_string(level) +
         "\"/><w:numId w:val=\"1\"/></w:numPr></w:pPr><w:r><w:t>" + text + "</w:t></w:r></w:p>";
}

TEST(DocxToMarkdownTest, HeadingsParagraphsAndRuns) {
  const std::string body =
      DocxParagraph("Annual report", "Title") + DocxParagraph("Scope", "Heading2") +
      "<w:p><w:r><w:t>Bold</w:t></w:r><w:r><w:t xml:space=\"preserve\"> </w:t></w:r>"
      "<w:r><w:t>words</w:t><w:tab/><w:t>tabbed</w:t><w:br/><w:t>next line</w:t></w:r></w:p>"
      "<w:p/>" +
      DocxParagraph("Deep", "heading 6");
  auto md = DocxToMarkdown(MakeDocx(body), kLimit);
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  EXPECT_EQ(*md, "# Annual report\n\n## Scope\n\nBold words\ttabbed\nnext line\n\n###### Deep");
}

TEST(DocxToMarkdownTest, ListsTablesHyperlinksAndRevisions) {
  const std::string body =
      DocxParagraph("Intro") + ListItem("first", 0) + ListItem("nested", 1) +
      ListItem("second", 0) +
      "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Name</w:t></w:r></w:p></w:tc>"
      "<w:tc><w:p><w:r><w:t>Qty</w:t></w:r></w:p></w:tc></w:tr>"
      "<w:tr><w:tc><w:p><w:r><w:t>apples</w:t></w:r></w:p><w:p><w:r><w:t>red</w:t></w:r></w:p>"
      "</w:tc><w:tc><w:p><w:r><w:t>3</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
      "<w:p><w:hyperlink><w:r><w:t>linked</w:t></w:r></w:hyperlink>"
      "<w:del><w:r><w:delText>removed</w:delText></w:r></w:del>"
      "<w:r><w:instrText>PAGEREF x</w:instrText></w:r><w:ins><w:r><w:t> added</w:t></w:r></w:ins>"
      "</w:p>"
      "<w:sdt><w:sdtContent>" +
      DocxParagraph("in a content control") + "</w:sdtContent></w:sdt>";
  auto md = DocxToMarkdown(MakeDocx(body), kLimit);
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  EXPECT_EQ(*md,
            "Intro\n\n- first\n  - nested\n- second\n\n"
            "| Name | Qty |\n| --- | --- |\n| apples red | 3 |\n\n"
            "linked added\n\nin a content control");
}

TEST(DocxToMarkdownTest, CompressedBombIsRefusedBeforeInflating) {
  // 4 MiB of text deflates to a few KiB; with a 1 MiB limit the declared size already fails.
  const std::string body = DocxParagraph(std::string(4 << 20, 'a'));
  auto md = DocxToMarkdown(MakeDocx(body), 1 << 20);
  ASSERT_FALSE(md.ok());
  EXPECT_EQ(md.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(md.status().reason(), "docx_too_large");
  EXPECT_NE(md.status().message().find("declares"), std::string::npos);
}

TEST(DocxToMarkdownTest, TotalOfAllEntriesCounts) {
  const std::string doc = std::string(
      "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
      "<w:body><w:p><w:r><w:t>small</w:t></w:r></w:p></w:body></w:document>");
  const std::string zip = testing::MakeZip({{"[Content_Types].xml", testing::kDocxContentTypes},
                                            {"word/document.xml", doc},
                                            {"word/media/huge.bin", std::string(2 << 20, '\0')}});
  auto md = DocxToMarkdown(zip, 1 << 20);
  ASSERT_FALSE(md.ok());
  EXPECT_EQ(md.status().reason(), "docx_too_large");
  EXPECT_TRUE(DocxToMarkdown(zip, 4 << 20).ok());
}

// Rewrites the declared uncompressed size of `name` in both the local header and the central
// directory, so the archive stays self-consistent but lies about how much it inflates to.
void PatchDeclaredSize(std::string* zip, const std::string& name, uint32_t size) {
  auto put32 = [&](size_t at) { std::memcpy(zip->data() + at, &size, 4); };  // little-endian host
  for (size_t i = 0; i + 46 < zip->size(); ++i) {
    if (zip->compare(i, 4, "PK\x03\x04") == 0 && zip->compare(i + 30, name.size(), name) == 0) {
      put32(i + 22);
    } else if (zip->compare(i, 4, "PK\x01\x02") == 0 &&
               zip->compare(i + 46, name.size(), name) == 0) {
      put32(i + 24);
    }
  }
}

TEST(DocxToMarkdownTest, LyingDeclaredSizeStillCapped) {
  std::string zip = MakeDocx(DocxParagraph(std::string(4 << 20, 'b')));
  PatchDeclaredSize(&zip, "word/document.xml", 100);
  auto md = DocxToMarkdown(zip, 1 << 20);
  ASSERT_FALSE(md.ok());
  // The declared sizes pass the checks; only the cap on bytes actually inflated stops it.
  EXPECT_EQ(md.status().reason(), "docx_too_large") << md.status().ToString();
  EXPECT_NE(md.status().message().find("inflates past"), std::string::npos);
}

// Issue #20: document.xml nested hundreds of thousands deep is walked without recursion.
TEST(DocxToMarkdownTest, DeeplyNestedXmlIsWalkedIteratively) {
  constexpr int kDepth = 200000;
  std::string runs, body;
  for (int i = 0; i < kDepth; ++i) runs += "<w:hyperlink>";
  runs += "<w:r><w:t>deep run</w:t></w:r>";
  for (int i = 0; i < kDepth; ++i) runs += "</w:hyperlink>";
  for (int i = 0; i < kDepth; ++i) body += "<w:customXml>";
  body += DocxParagraph("deep paragraph");
  for (int i = 0; i < kDepth; ++i) body += "</w:customXml>";
  auto md = DocxToMarkdown(MakeDocx("<w:p>" + runs + "</w:p>" + body), kLimit);
  ASSERT_TRUE(md.ok()) << md.status().ToString();
  EXPECT_EQ(*md, "deep run\n\ndeep paragraph");
}

// A deflate bomb inside the size limit is stopped by the ratio limit while inflating.
TEST(DocxToMarkdownTest, CompressionRatioIsCheckedWhileInflating) {
  const std::string zip = MakeDocx(DocxParagraph(std::string(24 << 20, ' ') + "x"));
  auto md = DocxToMarkdown(zip, 512ll << 20, 100);
  ASSERT_FALSE(md.ok());
  EXPECT_EQ(md.status().reason(), "docx_too_large");
  EXPECT_NE(md.status().message().find("ratio"), std::string::npos) << md.status().ToString();
  // Without the ratio limit the same file is within the size limit and converts.
  auto plain = DocxToMarkdown(zip, 512ll << 20, 0);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->back(), 'x');
  // Ordinary documents are far below any sensible ratio.
  EXPECT_TRUE(DocxToMarkdown(MakeDocx(DocxParagraph("normal text")), kLimit, 100).ok());
}

TEST(DocxToMarkdownTest, CorruptInputs) {
  EXPECT_EQ(DocxToMarkdown("not a zip at all", kLimit).status().reason(), "docx_corrupt");
  EXPECT_EQ(DocxToMarkdown(testing::MakeZip({{"a.txt", "x"}}), kLimit).status().reason(),
            "docx_corrupt");
  const std::string bad_xml = testing::MakeZip(
      {{"[Content_Types].xml", testing::kDocxContentTypes}, {"word/document.xml", "<w:document"}});
  auto md = DocxToMarkdown(bad_xml, kLimit);
  EXPECT_EQ(md.status().reason(), "docx_corrupt");
  EXPECT_NE(md.status().message().find("not well-formed"), std::string::npos);
  const std::string whole = MakeDocx(DocxParagraph("x"));
  EXPECT_EQ(DocxToMarkdown(whole.substr(0, whole.size() / 2), kLimit).status().reason(),
            "docx_corrupt");
}

}  // namespace
}  // namespace ingest::parse
