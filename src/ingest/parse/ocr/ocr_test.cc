#include "ingest/parse/ocr/ocr.h"

#include <gtest/gtest.h>
#if INGEST_HAVE_OCR
#include <leptonica/allheaders.h>
#endif
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ingest/parse/local/local_parser.h"
#include "ingest/parse/testing/image_pdf.h"
#include "ingest/parse/testing/minimal_pdf.h"

namespace ingest::parse {
namespace {

namespace fs = std::filesystem;
using testing::TestPage;

#define REQUIRE_OCR()                                                           \
  if (!OcrBuiltIn()) GTEST_SKIP() << "built without OCR (INGEST_WITH_OCR=OFF)"; \
  if (!CheckOcrLanguages(EnglishOcr()).ok()) {                                  \
    if (std::getenv("CI") != nullptr) FAIL() << "tesseract-ocr-eng is missing"; \
    GTEST_SKIP() << "tesseract-ocr-eng not installed";                          \
  }

OcrOptions EnglishOcr() {
  OcrOptions o;
  o.enabled = true;
  o.languages = "eng";
  return o;
}

// Sentences printed on the synthetic pages: the ground truth OCR must give back.
const std::vector<std::string> kLines = {
    "The quarterly report was signed by both parties on Tuesday.",
    "Insurance claims must be filed within thirty days of the incident.",
    "Please return the completed form to the address printed below.",
    "Scanned pages are read locally before anything is paid for.",
};

std::string TextContent(const std::vector<std::string>& lines) {
  std::string content;
  double y = 700;
  for (const auto& l : lines) {
    content += testing::PdfTextAt(72, y, l);
    y -= 24;
  }
  return content;
}

class OcrTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ocr_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // A born-digital page with kLines, "scanned": rendered at `dpi` and put back as an image.
  testing::GreyImage ScanOfTextPage(double dpi) {
    const std::string text_pdf = Write("text.pdf", testing::MakePdf({TextContent(kLines)}));
    return testing::RenderPdfPage(text_pdf, 1, dpi);
  }

  fs::path dir_;
};

bool HasLetters(const std::string& s) {
  for (unsigned char c : s) {
    if (std::isalnum(c)) return true;
  }
  return false;
}

std::string Joined() {
  std::string all;
  for (const auto& l : kLines) all += l + "\n";
  return all;
}

TEST_F(OcrTest, ImageOnlyPdfReadsBackItsText) {
  REQUIRE_OCR();
  TestPage scan;
  scan.image = ScanOfTextPage(200);
  const std::string pdf = Write("scan.pdf", testing::MakePdfWithScans({scan}));
  LocalParserOptions options;
  options.ocr = EnglishOcr();
  auto doc = LocalParser(options).Parse(ParseInput{pdf, "scan.pdf", "", DocType::kUnknown});
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->pages.size(), 1u);
  EXPECT_EQ(doc->parser, "local:ocr");
  EXPECT_LT(testing::CharErrorRate(Joined(), doc->pages[0].text), 0.02) << doc->pages[0].text;
  auto detail = nlohmann::json::parse(doc->detail_json);
  EXPECT_EQ(detail["page_parsers"], nlohmann::json::array({"local:ocr"}));
  const auto& page = detail["ocr"]["pages"][0];
  EXPECT_GT(page["confidence"].get<double>(), 80);
  EXPECT_GE(page["words"].get<int>(), 40);
  EXPECT_EQ(page["dpi"].get<int>(), 300);
  EXPECT_TRUE(detail["ocr_low_confidence_pages"].empty());
}

TEST_F(OcrTest, OcrOffLeavesAScannedPageEmpty) {
  TestPage scan;
  scan.image = ScanOfTextPage(100);
  const std::string pdf = Write("scan.pdf", testing::MakePdfWithScans({scan}));
  auto doc = LocalParser().Parse(ParseInput{pdf, "scan.pdf", "", DocType::kUnknown});
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->parser, "local:pdf");
  EXPECT_FALSE(HasLetters(doc->pages[0].text)) << doc->pages[0].text;
}

TEST_F(OcrTest, MixedPdfRoutesPerPageWithPageNumbers) {
  REQUIRE_OCR();
  TestPage first, scan, last;
  first.content = TextContent({"First page has a real text layer with enough characters."});
  scan.image = ScanOfTextPage(200);
  last.content = TextContent({"Third page is born digital as well, and keeps its layer."});
  const std::string pdf = Write("mixed.pdf", testing::MakePdfWithScans({first, scan, last}));
  LocalParserOptions options;
  options.ocr = EnglishOcr();
  options.ocr.threads = 2;
  auto doc = LocalParser(options).Parse(ParseInput{pdf, "mixed.pdf", "", DocType::kUnknown});
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->pages.size(), 3u);
  EXPECT_EQ(doc->parser, "local:pdf+ocr");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(doc->pages[static_cast<size_t>(i)].page, i + 1);
  EXPECT_NE(doc->pages[0].text.find("First page"), std::string::npos);
  EXPECT_LT(testing::CharErrorRate(Joined(), doc->pages[1].text), 0.02) << doc->pages[1].text;
  EXPECT_NE(doc->pages[2].text.find("Third page"), std::string::npos);
  auto detail = nlohmann::json::parse(doc->detail_json);
  EXPECT_EQ(detail["page_parsers"], nlohmann::json::array({"local:pdf", "local:ocr", "local:pdf"}));
  EXPECT_EQ(detail["ocr"]["pages_recognised"], 1);
  EXPECT_EQ(detail["ocr"]["pages"][0]["page"], 2);
}

TEST_F(OcrTest, PagesComeBackInOrderWhateverTheThreadCount) {
  REQUIRE_OCR();
  TestPage a, b, c;
  const std::string pdf_text =
      Write("t.pdf", testing::MakePdf({TextContent({kLines[0]}), TextContent({kLines[1]}),
                                       TextContent({kLines[2]})}));
  a.image = testing::RenderPdfPage(pdf_text, 1, 150);
  b.image = testing::RenderPdfPage(pdf_text, 2, 150);
  c.image = testing::RenderPdfPage(pdf_text, 3, 150);
  const std::string pdf = Write("scans.pdf", testing::MakePdfWithScans({a, b, c}));
  OcrOptions options = EnglishOcr();
  options.threads = 3;
  auto pages = OcrPdfPages(pdf, {3, 1, 2}, options);
  ASSERT_TRUE(pages.ok()) << pages.status().ToString();
  ASSERT_EQ(pages->size(), 3u);
  const int want[] = {3, 1, 2};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*pages)[i].page, want[i]);
    EXPECT_LT(testing::CharErrorRate(kLines[static_cast<size_t>(want[i] - 1)], (*pages)[i].text),
              0.05)
        << (*pages)[i].text;
  }
}

TEST_F(OcrTest, RenderedSizeIsBoundedByLoweringTheDpi) {
  REQUIRE_OCR();
  TestPage scan;
  scan.image = ScanOfTextPage(100);
  const std::string pdf = Write("scan.pdf", testing::MakePdfWithScans({scan}));
  OcrOptions options = EnglishOcr();
  options.max_page_pixels = 2'000'000;  // a letter page fits at ~166 DPI
  auto pages = OcrPdfPages(pdf, {1}, options);
  ASSERT_TRUE(pages.ok());
  EXPECT_LE((*pages)[0].dpi, 147);  // sqrt(2e6 / (8.5 x 11 in^2)) = 146.2
  EXPECT_GE((*pages)[0].dpi, 140);
  EXPECT_TRUE((*pages)[0].error_code.empty());

  // A page too large for 50 DPI within the bound fails alone, with a reason.
  TestPage huge;
  huge.content = "0.5 g 0 0 10 10 re f\n";
  huge.width_pt = 14400;
  huge.height_pt = 14400;
  const std::string big = Write("big.pdf", testing::MakePdfWithScans({huge}));
  auto failed = OcrPdfPages(big, {1}, options);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ((*failed)[0].error_code, "ocr_page_too_large");
  EXPECT_TRUE((*failed)[0].text.empty());
}

TEST_F(OcrTest, PageTimeoutFailsThatPageOnly) {
  REQUIRE_OCR();
  TestPage scan;
  scan.image = ScanOfTextPage(200);
  const std::string pdf = Write("scan.pdf", testing::MakePdfWithScans({scan}));
  LocalParserOptions options;
  options.ocr = EnglishOcr();
  options.ocr.page_timeout = std::chrono::milliseconds(1);
  auto doc = LocalParser(options).Parse(ParseInput{pdf, "scan.pdf", "", DocType::kUnknown});
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->pages.size(), 1u);  // kept (without text), never dropped
  EXPECT_FALSE(HasLetters(doc->pages[0].text)) << doc->pages[0].text;
  auto detail = nlohmann::json::parse(doc->detail_json);
  ASSERT_EQ(detail["ocr_failed_pages"].size(), 1u);
  EXPECT_EQ(detail["ocr_failed_pages"][0]["code"], "ocr_page_timeout");
  EXPECT_EQ(detail["ocr_failed_pages"][0]["page"], 1);
}

#if INGEST_HAVE_OCR
// Encodes a grey image as `format` (IFF_PNG, IFF_TIFF_G4, ...) with Leptonica.
std::string Encode(const testing::GreyImage& img, int format) {
  PIX* pix = pixCreate(img.width, img.height, 8);
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      pixSetPixel(pix, x, y,
                  static_cast<unsigned char>(img.pixels[static_cast<size_t>(y) * img.width + x]));
    }
  }
  pixSetResolution(pix, 200, 200);
  l_uint8* data = nullptr;
  size_t size = 0;
  if (format == IFF_TIFF_G4) {
    PIX* bin = pixThresholdToBinary(pix, 128);
    pixWriteMem(&data, &size, bin, format);
    pixDestroy(&bin);
  } else {
    pixWriteMem(&data, &size, pix, format);
  }
  pixDestroy(&pix);
  std::string out(reinterpret_cast<const char*>(data), size);
  lept_free(data);
  return out;
}

TEST_F(OcrTest, PngJpegAndTiffUploadsAreOcrd) {
  REQUIRE_OCR();
  const testing::GreyImage scan = ScanOfTextPage(200);
  LocalParserOptions options;
  options.ocr = EnglishOcr();
  const LocalParser parser(options);
  for (auto [name, format, type] : {std::tuple{"form.png", IFF_PNG, DocType::kPng},
                                    std::tuple{"form.jpg", IFF_JFIF_JPEG, DocType::kJpeg},
                                    std::tuple{"fax.tif", IFF_TIFF_G4, DocType::kTiff}}) {
    const std::string path = Write(name, Encode(scan, format));
    auto doc = parser.Parse(ParseInput{path, name, "", DocType::kUnknown});
    ASSERT_TRUE(doc.ok()) << name << ": " << doc.status().ToString();
    EXPECT_EQ(doc->type, type) << name;
    EXPECT_EQ(doc->parser, "local:ocr") << name;
    ASSERT_EQ(doc->pages.size(), 1u) << name;
    EXPECT_LT(testing::CharErrorRate(Joined(), doc->pages[0].text), 0.03) << name;
  }
}

TEST_F(OcrTest, CorruptAndOversizedImagesFailWithAReason) {
  REQUIRE_OCR();
  LocalParserOptions options;
  options.ocr = EnglishOcr();
  const LocalParser parser(options);
  const std::string png = Encode(ScanOfTextPage(100), IFF_PNG);
  const std::string truncated = Write("cut.png", png.substr(0, png.size() / 3));
  auto cut = parser.Parse(ParseInput{truncated, "cut.png", "", DocType::kUnknown});
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().reason(), "image_corrupt") << cut.status().ToString();

  const std::string junk =
      Write("junk.png", std::string("\x89PNG\r\n\x1a\n", 8) + std::string(4000, '\x42'));
  auto bad = parser.Parse(ParseInput{junk, "junk.png", "", DocType::kUnknown});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "image_corrupt");

  LocalParserOptions small = options;
  small.ocr.max_page_pixels = 100'000;
  const std::string ok_png = Write("ok.png", png);
  auto big = LocalParser(small).Parse(ParseInput{ok_png, "ok.png", "", DocType::kUnknown});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().reason(), "image_too_large");

  // With OCR off an image is not a document ingestd reads.
  auto off = LocalParser().Parse(ParseInput{ok_png, "ok.png", "", DocType::kUnknown});
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.status().reason(), "unsupported_type");
}

#endif  // INGEST_HAVE_OCR

TEST_F(OcrTest, MissingLanguagePackIsAConfigurationError) {
  if (!OcrBuiltIn()) GTEST_SKIP() << "built without OCR";
  OcrOptions options = EnglishOcr();
  options.languages = "eng+zzz";
  Status s = CheckOcrLanguages(options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.reason(), "ocr_language_missing");
  EXPECT_NE(s.message().find("eng+zzz"), std::string::npos);
}

TEST_F(OcrTest, ConfigHashFollowsOcrSettings) {
  LocalParserOptions off, on, other;
  on.ocr = EnglishOcr();
  other.ocr = EnglishOcr();
  other.ocr.languages = "eng+deu";
  LocalParserOptions threads = on;
  threads.ocr.threads = 4;
  EXPECT_NE(LocalParser(off).ConfigHash(), LocalParser(on).ConfigHash());
  EXPECT_NE(LocalParser(on).ConfigHash(), LocalParser(other).ConfigHash());
  EXPECT_EQ(LocalParser(on).ConfigHash(), LocalParser(threads).ConfigHash());
}

}  // namespace
}  // namespace ingest::parse
