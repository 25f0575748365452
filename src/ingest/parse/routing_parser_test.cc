// AutoParser: local first, LlamaParse (the in-process emulator) only for thin PDFs and types
// the local parser cannot read.
#include "ingest/parse/routing_parser.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ingest/emulate/llamaparse/llamaparse_emulator.h"
#include "ingest/parse/llamaparse/llamaparse_parser.h"
#include "ingest/parse/local/local_parser.h"
#include "ingest/parse/ocr/ocr.h"
#include "ingest/parse/testing/image_pdf.h"
#include "ingest/parse/testing/minimal_pdf.h"

namespace ingest::parse {
namespace {

namespace fs = std::filesystem;

class AutoParserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("auto-parser-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    emulate::LlamaParseEmulatorOptions o;
    o.api_keys = {"llx-test"};
    o.latency_base_ms = 0;
    o.latency_per_page_ms = 0;
    emulator_ = std::make_unique<emulate::LlamaParseEmulator>(o);
    ASSERT_TRUE(emulator_->Start("127.0.0.1", 0).ok());
    LlamaParseParserOptions po;
    po.client.base_url = "http://127.0.0.1:" + std::to_string(emulator_->port());
    po.client.api_key = "llx-test";
    remote_ = std::make_unique<LlamaParseParser>(http_.get(), po);
    auto_ = std::make_unique<AutoParser>(&local_, remote_.get());
  }
  void TearDown() override {
    auto_.reset();
    remote_.reset();
    http_.reset();
    emulator_->Stop();
    fs::remove_all(dir_);
  }
  ParseInput Input(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return ParseInput{p.string(), name, "", DocType::kUnknown};
  }

  fs::path dir_;
  // Reset before the emulator stops: its keep-alive connections would hold Stop() for 5 s.
  std::unique_ptr<http::HttpClient> http_ = std::make_unique<http::HttpClient>();
  std::unique_ptr<emulate::LlamaParseEmulator> emulator_;
  LocalParser local_;
  std::unique_ptr<LlamaParseParser> remote_;
  std::unique_ptr<AutoParser> auto_;
};

TEST_F(AutoParserTest, BornDigitalPdfStaysLocalAndUploadsNothing) {
  const std::string line =
      "This born-digital page carries a real text layer with plenty of words on it.";
  auto in = Input(
      "digital.pdf",
      testing::MakePdf({testing::PdfTextAt(72, 700, line) + testing::PdfTextAt(72, 680, line),
                        testing::PdfTextAt(72, 700, line) + testing::PdfTextAt(72, 680, line)}));
  auto here = auto_->ParseWithoutRemote(in);
  ASSERT_TRUE(here.ok()) << here.status().ToString();
  ASSERT_TRUE(here->has_value());
  EXPECT_EQ((*here)->parser.rfind("local", 0), 0u) << (*here)->parser;
  EXPECT_EQ((*here)->pages.size(), 2u);
  EXPECT_EQ(emulator_->Stats().uploads, 0);
}

TEST_F(AutoParserTest, ScannedPdfAndUnreadableTypesGoRemote) {
  auto scanned =
      Input("scan.pdf", testing::MakePdf({testing::PdfRectangle(), testing::PdfRectangle()}));
  auto route = auto_->ParseWithoutRemote(scanned);
  ASSERT_TRUE(route.ok()) << route.status().ToString();
  EXPECT_FALSE(route->has_value());

  auto image = Input("photo.png", std::string("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", 16));
  auto image_route = auto_->ParseWithoutRemote(image);
  ASSERT_TRUE(image_route.ok()) << image_route.status().ToString();
  EXPECT_FALSE(image_route->has_value());

  // The synchronous form submits and polls the remote parser.
  auto parsed = auto_->Parse(image);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->parser, "llamaparse");
  EXPECT_FALSE(parsed->pages.empty());
  EXPECT_EQ(emulator_->Stats().uploads, 1);
}

TEST_F(AutoParserTest, LocalErrorsOtherThanUnsupportedTypeAreNotRouted) {
  auto empty = Input("empty.txt", "");
  auto r = auto_->ParseWithoutRemote(empty);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "empty_document");
  EXPECT_EQ(emulator_->Stats().uploads, 0);
}

// Per-page routing (issue 19): text layer -> local OCR -> LlamaParse only for the pages OCR read
// with low confidence. The threshold is set above what any page reaches, so the scanned page
// is "low confidence" deterministically; the born-digital pages stay local and are not billed.
TEST_F(AutoParserTest, LowConfidenceOcrPagesAloneGoRemoteWithTargetPages) {
  if (!OcrBuiltIn() || !CheckOcrLanguages([] {
                          OcrOptions o;
                          o.enabled = true;
                          return o;
                        }())
                            .ok()) {
    GTEST_SKIP() << "no OCR or no tesseract-ocr-eng";
  }
  const std::string line =
      "This born-digital page carries a real text layer with plenty of words on it.";
  const std::string text_pdf = (dir_ / "t.pdf").string();
  std::ofstream(text_pdf, std::ios::binary)
      << testing::MakePdf({testing::PdfTextAt(72, 700, "A scanned contract page, signed.")});
  testing::TestPage first, scan, last;
  first.content = testing::PdfTextAt(72, 700, line) + testing::PdfTextAt(72, 680, line);
  scan.image = testing::RenderPdfPage(text_pdf, 1, 150);
  last.content = testing::PdfTextAt(72, 700, line) + testing::PdfTextAt(72, 680, line);
  auto in = Input("mixed.pdf", testing::MakePdfWithScans({first, scan, last}));

  LocalParserOptions lo;
  lo.ocr.enabled = true;
  lo.ocr.min_confidence = 100;  // every OCR'd page is low confidence
  LocalParser local(lo);
  AutoParser routed(&local, remote_.get());
  auto here = routed.ParseWithoutRemote(in);
  ASSERT_TRUE(here.ok()) << here.status().ToString();
  EXPECT_FALSE(here->has_value());
  auto est = routed.EstimateSubmit(in);
  ASSERT_TRUE(est.ok()) << est.status().ToString();
  EXPECT_EQ(est->pages, 1);  // only the scanned page is reserved and bounded
  EXPECT_TRUE(est->fixed_selection);

  auto doc = routed.Parse(in);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(emulator_->Stats().uploads, 1);
  EXPECT_EQ(emulator_->Stats().pages_billed, 1);
  ASSERT_EQ(doc->pages.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(doc->pages[static_cast<size_t>(i)].page, i + 1);
  EXPECT_NE(doc->pages[0].text.find("born-digital"), std::string::npos);
  EXPECT_NE(doc->pages[2].text.find("born-digital"), std::string::npos);
  EXPECT_EQ(doc->parser, "llamaparse");  // the bill is settled under the remote's name
  auto detail = nlohmann::json::parse(doc->detail_json);
  EXPECT_EQ(detail["page_parsers"],
            nlohmann::json::array({"local:pdf", "llamaparse", "local:pdf"}));
  EXPECT_EQ(detail["ocr_routed_pages"], nlohmann::json::array({2}));
  EXPECT_TRUE(detail.contains("remote_job_id"));
}

TEST(PdfTextLayerTest, ThinAverageOrMostlyEmptyPagesArePoor) {
  ParsedDocument doc;
  doc.pages = {{1, std::string(150, 'x')}, {2, std::string(150, 'y')}};
  EXPECT_FALSE(PdfTextLayerIsPoor(doc, 100));
  EXPECT_TRUE(PdfTextLayerIsPoor(doc, 200));
  ParsedDocument mostly_empty;
  mostly_empty.pages = {{1, std::string(1000, 'x')}, {2, " "}, {3, ""}, {4, "\n"}};
  EXPECT_TRUE(PdfTextLayerIsPoor(mostly_empty, 100));
  EXPECT_TRUE(PdfTextLayerIsPoor(ParsedDocument{}, 100));
}

}  // namespace
}  // namespace ingest::parse
