#include "ingest/parse/local/local_parser.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ingest/parse/detect.h"
#include "ingest/parse/testing/minimal_pdf.h"
#include "ingest/parse/testing/zip_writer.h"
#include "ingest/text/normalize.h"

namespace ingest::parse {
namespace {

namespace fs = std::filesystem;

class LocalParserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("local_parser_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ParseInput Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return ParseInput{path, name, "", DocType::kUnknown};
  }

  fs::path dir_;
};

TEST_F(LocalParserTest, TextIsOnePageKeptAsIs) {
  const std::string bytes = "line one\r\nline two  \n\n\n\nend";
  auto doc = LocalParser().Parse(Write("notes.txt", bytes));
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->type, DocType::kText);
  EXPECT_EQ(doc->parser, "local:text");
  ASSERT_EQ(doc->pages.size(), 1u);
  EXPECT_EQ(doc->pages[0].page, 1);
  EXPECT_EQ(doc->pages[0].text, bytes);  // normalisation is the validate stage's job
  EXPECT_NE(doc->detail_json.find("\"type\":\"text\""), std::string::npos);
}

TEST_F(LocalParserTest, MarkdownPassesThrough) {
  const std::string md = "# Title\n\n- a\n- b\n";
  auto doc = LocalParser().Parse(Write("README.md", md));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->type, DocType::kMarkdown);
  EXPECT_EQ(doc->pages[0].text, md);
}

TEST_F(LocalParserTest, HtmlBecomesMarkdown) {
  auto doc = LocalParser().Parse(
      Write("page.html", "<!DOCTYPE html><html><body><h2>Hello</h2><p>World</p></body></html>"));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->type, DocType::kHtml);
  EXPECT_EQ(doc->pages[0].text, "## Hello\n\nWorld");
}

TEST_F(LocalParserTest, PdfPagesKeepTheirNumbers) {
  auto doc = LocalParser().Parse(
      Write("two.pdf", testing::MakePdf({testing::PdfTextAt(72, 700, "first page words"),
                                         testing::PdfTextAt(72, 700, "second page words")})));
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->type, DocType::kPdf);
  EXPECT_EQ(doc->parser, "local:pdf");
  ASSERT_EQ(doc->pages.size(), 2u);
  EXPECT_EQ(doc->pages[1].page, 2);
  EXPECT_NE(doc->pages[1].text.find("second page words"), std::string::npos);
}

TEST_F(LocalParserTest, DocxBecomesMarkdownWhateverItsName) {
  auto doc = LocalParser().Parse(
      Write("upload.bin", testing::MakeDocx(testing::DocxParagraph("Results", "Heading1") +
                                            testing::DocxParagraph("All good."))));
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->type, DocType::kDocx);
  EXPECT_EQ(doc->pages[0].text, "# Results\n\nAll good.");
}

TEST_F(LocalParserTest, LargeDocxIsDetectedFromTheWholeFile) {
  // An incompressible image makes the file bigger than the detection head, so the ZIP
  // directory is beyond it.
  std::mt19937 rng(7);
  std::string image(200 * 1024, '\0');
  for (char& c : image) c = static_cast<char>(rng());
  const std::string xml =
      "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
      "<w:body><w:p><w:r><w:t>with a picture</w:t></w:r></w:p></w:body></w:document>";
  auto input =
      Write("big.docx", testing::MakeZip({{"[Content_Types].xml", testing::kDocxContentTypes},
                                          {"word/media/image1.png", image},
                                          {"word/document.xml", xml}}));
  ASSERT_GT(fs::file_size(input.path), kDetectHeadBytes);
  auto doc = LocalParser().Parse(input);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->type, DocType::kDocx);
  EXPECT_EQ(doc->pages[0].text, "with a picture");
}

TEST_F(LocalParserTest, RandomBytesNamedPdfAreUnsupported) {
  std::mt19937 rng(42);
  std::string junk(8192, '\0');
  for (char& c : junk) c = static_cast<char>(rng());
  auto doc = LocalParser().Parse(Write("paper.pdf", junk));
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.status().reason(), "unsupported_type");
  EXPECT_EQ(doc.status().message(), "content is binary, not a PDF despite the .pdf extension");
}

TEST_F(LocalParserTest, TextWithNulIsBinary) {
  auto doc = LocalParser().Parse(Write("a.txt", std::string("abc\0\0\0def", 9)));
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().reason(), "unsupported_type");
}

TEST_F(LocalParserTest, InvalidUtf8TextParsesAndNormalisesToValidText) {
  auto doc = LocalParser().Parse(Write("latin1.txt",
                                       "caf\xE9 au lait, cr\xE8me br\xFBl\xE9"
                                       "e"));
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  text::NormalizeStats st;
  const std::string norm = text::NormalizeText(doc->pages[0].text, &st);
  EXPECT_EQ(st.invalid_utf8_replaced, 4u);
  EXPECT_EQ(norm,
            "caf\xEF\xBF\xBD au lait, cr\xEF\xBF\xBDme br\xEF\xBF\xBDl\xEF\xBF\xBD"
            "e");
}

TEST_F(LocalParserTest, ZeroByteFileIsEmpty) {
  auto doc = LocalParser().Parse(Write("empty.pdf", ""));
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().reason(), "empty_document");
}

TEST_F(LocalParserTest, SizeLimitBeforeReading) {
  LocalParserOptions opts;
  opts.limits.max_bytes = 10;
  auto doc = LocalParser(opts).Parse(Write("big.txt", std::string(11, 'x')));
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(doc.status().reason(), "file_too_large");
  EXPECT_TRUE(LocalParser(opts).Parse(Write("ok.txt", std::string(10, 'x'))).ok());
}

TEST_F(LocalParserTest, PageAndDocxLimitsComeFromOptions) {
  LocalParserOptions opts;
  opts.limits.max_pages = 1;
  opts.limits.max_uncompressed_bytes = 1000;
  auto pdf = LocalParser(opts).Parse(Write(
      "two.pdf",
      testing::MakePdf({testing::PdfTextAt(72, 700, "a"), testing::PdfTextAt(72, 700, "b")})));
  EXPECT_EQ(pdf.status().reason(), "too_many_pages");
  auto docx = LocalParser(opts).Parse(
      Write("big.docx", testing::MakeDocx(testing::DocxParagraph(std::string(5000, 'z')))));
  EXPECT_EQ(docx.status().reason(), "docx_too_large");
}

TEST_F(LocalParserTest, MissingFileIsNotFound) {
  auto doc = LocalParser().Parse(ParseInput{(dir_ / "nope").string(), "nope", "", {}});
  EXPECT_EQ(doc.status().code(), StatusCode::kNotFound);
}

TEST_F(LocalParserTest, ImageOnlyPdfFailsValidationWithNoTextLayer) {
  auto doc = LocalParser().Parse(
      Write("scan.pdf", testing::MakePdf({testing::PdfRectangle(), testing::PdfRectangle()})));
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  std::vector<store::PageText> pages = doc->pages;
  for (auto& p : pages) p.text = text::NormalizeText(p.text);
  const Status st = text::ValidateParsedText(pages, doc->type == DocType::kPdf);
  EXPECT_EQ(st.reason(), "no_text_layer");
  EXPECT_NE(st.message().find("llamaparse"), std::string::npos);
}

TEST_F(LocalParserTest, GivenTypeSkipsDetection) {
  auto input = Write("data", "# not markdown, the caller says text");
  input.type = DocType::kText;
  auto doc = LocalParser().Parse(input);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->type, DocType::kText);
}

TEST_F(LocalParserTest, ConfigHashIsStableHex) {
  const std::string h = LocalParser().ConfigHash();
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h, LocalParser().ConfigHash());
  EXPECT_EQ(LocalParser().Name(), "local");
}

TEST_F(LocalParserTest, ConcurrentParsesAgree) {
  std::vector<std::string> contents;
  for (int i = 0; i < 6; ++i) {
    contents.push_back(testing::PdfTextAt(72, 700, "page " + std::to_string(i) + " text"));
  }
  const ParseInput input = Write("c.pdf", testing::MakePdf(contents));
  const LocalParser parser;
  auto want = parser.Parse(input);
  ASSERT_TRUE(want.ok());
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 20; ++r) {
        auto got = parser.Parse(input);
        if (!got.ok() || got->pages.size() != want->pages.size() ||
            got->pages[5].text != want->pages[5].text) {
          ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace ingest::parse
