#include "ingest/parse/local/pdf_text.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ingest/parse/testing/minimal_pdf.h"

namespace ingest::parse {
namespace {

namespace fs = std::filesystem;
using testing::MakePdf;
using testing::PdfRectangle;
using testing::PdfTextAt;

class PdfTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pdf_text_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  fs::path dir_;
};

TEST_F(PdfTextTest, OnePageTextPerPageWithNumbers) {
  const std::string path = Write("three.pdf", MakePdf({PdfTextAt(72, 700, "alpha page one"),
                                                       PdfTextAt(72, 700, "bravo page two"),
                                                       PdfTextAt(72, 700, "charlie page three")}));
  auto pages = ExtractPdfPages(path, 10);
  ASSERT_TRUE(pages.ok()) << pages.status().ToString();
  ASSERT_EQ(pages->size(), 3u);
  EXPECT_EQ((*pages)[0].page, 1);
  EXPECT_EQ((*pages)[2].page, 3);
  EXPECT_NE((*pages)[0].text.find("alpha page one"), std::string::npos);
  EXPECT_NE((*pages)[1].text.find("bravo page two"), std::string::npos);
  EXPECT_EQ((*pages)[1].text.find("alpha"), std::string::npos);
  EXPECT_NE((*pages)[2].text.find("charlie page three"), std::string::npos);
}

// One document's pages spread over threads (each with its own poppler document) come back in
// order, numbered, with the same text as a single-threaded extraction.
TEST_F(PdfTextTest, ThreadsSplitPagesAndKeepOrderAndText) {
  std::vector<std::string> contents;
  for (int i = 1; i <= 70; ++i) {
    contents.push_back(PdfTextAt(72, 700, "marker page " + std::to_string(i)) +
                       PdfTextAt(72, 600, "body text of page " + std::to_string(i)));
  }
  const std::string path = Write("seventy.pdf", MakePdf(contents));
  auto one = ExtractPdfPages(path, 100, 1);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  for (int threads : {2, 3, 4, 16}) {
    auto many = ExtractPdfPages(path, 100, threads);
    ASSERT_TRUE(many.ok()) << many.status().ToString();
    ASSERT_EQ(many->size(), 70u);
    for (size_t i = 0; i < many->size(); ++i) {
      EXPECT_EQ((*many)[i].page, static_cast<int>(i) + 1) << threads;
      EXPECT_EQ((*many)[i].text, (*one)[i].text) << "page " << i + 1 << ", " << threads;
      EXPECT_NE((*many)[i].text.find("marker page " + std::to_string(i + 1) + "\n"),
                std::string::npos)
          << (*many)[i].text;
    }
  }
  // The page limit is still checked first, whatever the threads.
  EXPECT_EQ(ExtractPdfPages(path, 69, 4).status().reason(), "too_many_pages");
}

// Two columns whose lines sit at the same heights: a physical-layout extraction interleaves
// them ("left 1 ... right 1"), reading order must give the whole left column first.
TEST_F(PdfTextTest, TwoColumnsComeOutOneAfterTheOther) {
  std::string content;
  for (int i = 0; i < 12; ++i) {
    const double y = 700 - 14 * i;
    content += PdfTextAt(56, y, "left column sentence number " + std::to_string(i) + " ends");
    content += PdfTextAt(320, y, "right column sentence number " + std::to_string(i) + " ends");
  }
  auto pages = ExtractPdfPages(Write("cols.pdf", MakePdf({content})), 10);
  ASSERT_TRUE(pages.ok()) << pages.status().ToString();
  const std::string& text = (*pages)[0].text;
  const size_t last_left = text.find("left column sentence number 11");
  const size_t first_right = text.find("right column sentence number 0");
  ASSERT_NE(last_left, std::string::npos) << text;
  ASSERT_NE(first_right, std::string::npos) << text;
  EXPECT_LT(last_left, first_right) << text;
}

TEST_F(PdfTextTest, ImageOnlyPageYieldsEmptyTextNotAnError) {
  auto pages = ExtractPdfPages(Write("scan.pdf", MakePdf({PdfRectangle(), PdfRectangle()})), 10);
  ASSERT_TRUE(pages.ok()) << pages.status().ToString();
  ASSERT_EQ(pages->size(), 2u);
  EXPECT_EQ((*pages)[0].text.find_first_not_of(" \n\f"), std::string::npos);
  EXPECT_EQ((*pages)[1].page, 2);
}

TEST_F(PdfTextTest, PageLimitIsCheckedBeforeExtraction) {
  const std::string path =
      Write("many.pdf",
            MakePdf({PdfTextAt(72, 700, "a"), PdfTextAt(72, 700, "b"), PdfTextAt(72, 700, "c")}));
  auto pages = ExtractPdfPages(path, 2);
  ASSERT_FALSE(pages.ok());
  EXPECT_EQ(pages.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(pages.status().reason(), "too_many_pages");
  EXPECT_NE(pages.status().message().find("3 pages"), std::string::npos);
}

TEST_F(PdfTextTest, GarbageAndEmptyFilesAreCorrupt) {
  for (const std::string& bytes :
       {std::string(), std::string("%PDF-1.4\nnothing else here\n"), std::string(5000, '\x9C')}) {
    auto pages = ExtractPdfPages(Write("bad.pdf", bytes), 10);
    ASSERT_FALSE(pages.ok());
    EXPECT_EQ(pages.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(pages.status().reason(), "pdf_corrupt") << pages.status().ToString();
  }
}

TEST_F(PdfTextTest, PasswordProtectedIsEncrypted) {
  // Standard security handler, revision 2, whose /U entry matches no password we know: poppler
  // fails the empty user password and the document stays locked.
  const std::string hex32(64, 'A');
  const std::string encrypt = "/Encrypt << /Filter /Standard /V 1 /R 2 /O <" + hex32 + "> /U <" +
                              hex32 +
                              "> /P -4 >> /ID [<0123456789ABCDEF0123456789ABCDEF> "
                              "<0123456789ABCDEF0123456789ABCDEF>]";
  auto pages =
      ExtractPdfPages(Write("locked.pdf", MakePdf({PdfTextAt(72, 700, "secret")}, encrypt)), 10);
  ASSERT_FALSE(pages.ok());
  EXPECT_EQ(pages.status().reason(), "pdf_encrypted") << pages.status().ToString();
}

TEST_F(PdfTextTest, MissingFileIsNotFound) {
  auto pages = ExtractPdfPages((dir_ / "absent.pdf").string(), 10);
  ASSERT_FALSE(pages.ok());
  EXPECT_EQ(pages.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ingest::parse
