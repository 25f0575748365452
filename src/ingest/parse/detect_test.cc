#include "ingest/parse/detect.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ingest/parse/testing/minimal_pdf.h"
#include "ingest/parse/testing/zip_writer.h"

namespace ingest::parse {
namespace {

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

struct Case {
  std::string name;
  std::string head;
  std::string filename;
  DocType want;
};

TEST(DetectTypeTest, Table) {
  const std::string pdf = testing::MakePdf({testing::PdfTextAt(72, 700, "hi")});
  const std::vector<Case> cases = {
      {"pdf", pdf, "a.pdf", DocType::kPdf},
      {"pdf without extension", pdf, "blob", DocType::kPdf},
      {"pdf after junk", std::string(500, 'x') + pdf, "a.bin", DocType::kPdf},
      {"pdf magic too late", std::string(2000, '\x01') + pdf, "a.pdf", DocType::kUnknown},
      {"random bytes named pdf", RandomBytes(4096, 1), "paper.pdf", DocType::kUnknown},
      {"docx", testing::MakeDocx(testing::DocxParagraph("x")), "a.docx", DocType::kDocx},
      {"docx named txt", testing::MakeDocx(testing::DocxParagraph("x")), "a.txt", DocType::kDocx},
      {"zip that is not docx", testing::MakeZip({{"a.txt", "hello"}}), "a.docx", DocType::kUnknown},
      {"truncated zip", testing::MakeDocx(testing::DocxParagraph("x")).substr(0, 60), "a.docx",
       DocType::kUnknown},
      {"html doctype", "<!DOCTYPE html><html><body>x</body></html>", "a", DocType::kHtml},
      {"html bom and space", "\xEF\xBB\xBF\n  <HTML><p>x</p></HTML>", "a.txt", DocType::kHtml},
      {"html fragment with body", "<body><p>x</p></body>", "x.htm", DocType::kHtml},
      {"prose quoting a tag", "Use the <html> tag to start.", "notes", DocType::kText},
      {"markdown by extension", "plain words", "README.md", DocType::kMarkdown},
      {"markdown by heading", "intro\n# Title\n\nbody", "notes", DocType::kMarkdown},
      {"markdown by fence", "```\ncode\n```\n", "notes", DocType::kMarkdown},
      {"txt stays text", "# not a heading here\n", "notes.TXT", DocType::kText},
      {"plain text", "Just some words.\nAnother line.\n", "notes", DocType::kText},
      {"utf8 text", "Привет, мир. 你好，世界。", "greeting", DocType::kText},
      {"latin1 text",
       "caf\xE9 cr\xE8me br\xFBl\xE9"
       "e is a dessert made of custard",
       "menu", DocType::kText},
      {"text with nul", std::string("abc\0def", 7), "a.txt", DocType::kUnknown},
      {"empty", "", "a.txt", DocType::kUnknown},
      {"elf binary",
       std::string("\x7F"
                   "ELF\x02\x01\x01",
                   7) +
           RandomBytes(1000, 2),
       "tool", DocType::kUnknown},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DocTypeName(DetectType(c.head, c.filename)), DocTypeName(c.want)) << c.name;
  }
}

TEST(DetectTypeTest, UnsupportedDescriptionNamesThePromise) {
  EXPECT_EQ(DescribeUnsupported(RandomBytes(100, 3), "scan.PDF"),
            "content is binary, not a PDF despite the .pdf extension");
  EXPECT_EQ(DescribeUnsupported(testing::MakeZip({{"a", "b"}}), "x.docx"),
            "content is a ZIP archive without word/document.xml, not a DOCX document despite the "
            ".docx extension");
  EXPECT_NE(DescribeUnsupported(RandomBytes(100, 4), "x.bin").find("supported types"),
            std::string::npos);
}

TEST(DetectTypeTest, NamesAndMimes) {
  EXPECT_EQ(DocTypeName(DocType::kPdf), "pdf");
  EXPECT_EQ(DocTypeMime(DocType::kPdf), "application/pdf");
  EXPECT_EQ(DocTypeMime(DocType::kMarkdown), "text/markdown");
  EXPECT_EQ(DocTypeMime(DocType::kDocx),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  EXPECT_EQ(DocTypeMime(DocType::kUnknown), "application/octet-stream");
  EXPECT_EQ(LowerExtension("dir.v2/Report.Final.PDF"), "pdf");
  EXPECT_EQ(LowerExtension(".bashrc"), "");
  EXPECT_EQ(LowerExtension("noext"), "");
}

}  // namespace
}  // namespace ingest::parse
