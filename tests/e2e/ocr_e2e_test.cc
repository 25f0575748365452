// Local OCR on real pages (issue 19): pages of Debian's R manuals are rendered (as a scanner
// would see the print), put back into a PDF as pictures, OCR'd, and compared with the page's
// own text layer, in-process and inside the contained parse subprocess.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ingest/parse/contained/contained_parser.h"
#include "ingest/parse/local/local_parser.h"
#include "ingest/parse/local/pdf_text.h"
#include "ingest/parse/ocr/ocr.h"
#include "ingest/parse/testing/image_pdf.h"

namespace ingest::parse {
namespace {

namespace fs = std::filesystem;

std::string ManualPath(const std::string& name) {
  for (const char* dir : {"/usr/share/R/doc/manual/", "/usr/share/doc/r-doc-pdf/manual/"}) {
    const std::string p = std::string(dir) + name;
    if (fs::exists(p)) return p;
  }
  return "";
}

#define REQUIRE_OCR_AND_MANUAL(var, name)                                                  \
  if (!OcrBuiltIn()) GTEST_SKIP() << "built without OCR";                                  \
  const std::string var = ManualPath(name);                                                \
  if (var.empty()) {                                                                       \
    if (std::getenv("CI") != nullptr) FAIL() << name << " is missing (install r-doc-pdf)"; \
    GTEST_SKIP() << name << " not installed";                                              \
  }

class OcrE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ocr_e2e_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Pages `pages` of `manual` scanned at `dpi` into one image-only PDF; returns its path.
  std::string ScanPages(const std::string& manual, const std::vector<int>& pages, double dpi) {
    std::vector<testing::TestPage> scans;
    for (int p : pages) {
      testing::TestPage t;
      t.image = testing::RenderPdfPage(manual, p, dpi);
      t.width_pt = t.image.width * 72.0 / dpi;
      t.height_pt = t.image.height * 72.0 / dpi;
      scans.push_back(std::move(t));
    }
    const std::string path = (dir_ / "scan.pdf").string();
    std::ofstream(path, std::ios::binary) << testing::MakePdfWithScans(scans);
    return path;
  }

  fs::path dir_;
};

OcrOptions English() {
  OcrOptions o;
  o.enabled = true;
  return o;
}

// Body pages of R-intro (prose, code, a heading): the OCR text of the scan must match the
// born-digital text layer of the same page closely. Measured: ~0.5-1.5% CER per page at 300 DPI
// (most of it layout: running heads and code indentation).
TEST_F(OcrE2eTest, ScannedManualPagesMatchTheirTextLayer) {
  REQUIRE_OCR_AND_MANUAL(manual, "R-intro.pdf");
  const std::vector<int> pages = {10, 20, 30};
  auto layer = ExtractPdfPages(manual, 5000);
  ASSERT_TRUE(layer.ok());
  const std::string scan = ScanPages(manual, pages, 200);
  LocalParserOptions options;
  options.ocr = English();
  options.ocr.threads = 2;
  auto doc = LocalParser(options).Parse(ParseInput{scan, "scan.pdf", "", DocType::kUnknown});
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->pages.size(), pages.size());
  EXPECT_EQ(doc->parser, "local:ocr");
  for (size_t i = 0; i < pages.size(); ++i) {
    const std::string& truth = (*layer)[static_cast<size_t>(pages[i] - 1)].text;
    const double cer = testing::CharErrorRate(truth, doc->pages[i].text);
    EXPECT_LT(cer, 0.03) << "page " << pages[i] << "\n--- OCR:\n" << doc->pages[i].text;
    RecordProperty("cer_page_" + std::to_string(pages[i]), std::to_string(cer));
  }
}

// The same document through the contained parse subprocess (the ingestd binary's
// __parse-document): OCR runs there, under its limits, and the result is the in-process one.
TEST_F(OcrE2eTest, OcrRunsInsideTheParseSubprocess) {
  REQUIRE_OCR_AND_MANUAL(manual, "R-intro.pdf");
  const std::string scan = ScanPages(manual, {12}, 150);
  ContainedParserOptions contained;
  contained.local.ocr = English();
  contained.sandbox.executable = INGESTD_BINARY;
  contained.sandbox.timeout = std::chrono::seconds(5);  // the OCR budget extends it per page
  contained.sandbox.cpu_seconds = 5;
  contained.sandbox.ocr_budget = std::chrono::seconds(600);
  auto child =
      ContainedParser(contained).Parse(ParseInput{scan, "scan.pdf", "", DocType::kUnknown});
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  auto here =
      LocalParser(contained.local).Parse(ParseInput{scan, "scan.pdf", "", DocType::kUnknown});
  ASSERT_TRUE(here.ok());
  ASSERT_EQ(child->pages.size(), 1u);
  EXPECT_EQ(child->pages[0].text, here->pages[0].text);
  EXPECT_EQ(child->parser, "local:ocr");
  EXPECT_EQ(ContainedParser(contained).ConfigHash(), LocalParser(contained.local).ConfigHash());
  auto detail = nlohmann::json::parse(child->detail_json);
  EXPECT_EQ(detail["ocr"]["pages_recognised"], 1);
}

// A missing language pack inside the subprocess is the document's configuration error, with
// the code doctor uses, not a crash.
TEST_F(OcrE2eTest, MissingLanguageInTheSubprocessIsReported) {
  REQUIRE_OCR_AND_MANUAL(manual, "R-intro.pdf");
  const std::string scan = ScanPages(manual, {12}, 100);
  ContainedParserOptions contained;
  contained.local.ocr = English();
  contained.local.ocr.languages = "zzz";
  contained.sandbox.executable = INGESTD_BINARY;
  auto child =
      ContainedParser(contained).Parse(ParseInput{scan, "scan.pdf", "", DocType::kUnknown});
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().reason(), "ocr_language_missing") << child.status().ToString();
}

}  // namespace
}  // namespace ingest::parse
