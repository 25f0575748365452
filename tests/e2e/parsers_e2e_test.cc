// The local parser on real documents: the PDF manuals of Debian's r-doc-pdf package.
//
// Expectations come from poppler-utils' pdftotext/pdfinfo run on the same file at test time
// (so a new package version does not break the test), plus one phrase verified by hand.
// A missing PDF skips the test on a developer machine and fails it in CI (CI is set there).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "ingest/parse/local/local_parser.h"
#include "ingest/text/normalize.h"

namespace ingest::parse {
namespace {

namespace fs = std::filesystem;

// Returns the path of an R manual, or "" when it is not installed.
std::string ManualPath(const std::string& name) {
  for (const char* dir : {"/usr/share/R/doc/manual/", "/usr/share/doc/r-doc-pdf/manual/",
                          "/usr/share/doc/r-doc-pdf/"}) {
    const std::string p = std::string(dir) + name;
    if (fs::exists(p)) return p;
  }
  return "";
}

#define REQUIRE_MANUAL(var, name)                                                          \
  const std::string var = ManualPath(name);                                                \
  if (var.empty()) {                                                                       \
    if (std::getenv("CI") != nullptr) FAIL() << name << " is missing (install r-doc-pdf)"; \
    GTEST_SKIP() << name << " not installed (apt-get install r-doc-pdf)";                  \
  }

std::string RunCommand(const std::string& cmd) {
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(cmd.c_str(), "r"), &pclose);
  if (!pipe) return "";
  std::string out;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe.get())) > 0) out.append(buf.data(), n);
  return out;
}

int PdfInfoPages(const std::string& path) {
  const std::string info = RunCommand("pdfinfo '" + path + "' 2>/dev/null");
  const size_t at = info.find("Pages:");
  return at == std::string::npos ? -1 : std::atoi(info.c_str() + at + 6);
}

// Whitespace-insensitive comparison: layout spacing is not what we are testing.
std::string Squash(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\f' || c == '\r') continue;
    out.push_back(c);
  }
  return out;
}

TEST(ParsersE2ETest, RIntroPagesMatchPdftotextPageByPage) {
  REQUIRE_MANUAL(path, "R-intro.pdf");
  auto doc = LocalParser().Parse(ParseInput{path, "R-intro.pdf", "", DocType::kUnknown});
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->type, DocType::kPdf);
  const int want_pages = PdfInfoPages(path);
  ASSERT_GT(want_pages, 50) << "pdfinfo failed";
  ASSERT_EQ(static_cast<int>(doc->pages.size()), want_pages);
  for (int n = 1; n <= want_pages; ++n) ASSERT_EQ(doc->pages[n - 1].page, n);

  // Hand-verified: the code of the loop example in chapter 9 sits on PDF page 50 only.
  const std::string phrase = "abline(lsfit(xc[[i]], yc[[i]]))";
  EXPECT_NE(doc->pages[49].text.find(phrase), std::string::npos) << doc->pages[49].text;
  EXPECT_EQ(doc->pages[48].text.find(phrase), std::string::npos);
  EXPECT_EQ(doc->pages[50].text.find(phrase), std::string::npos);
  EXPECT_NE(doc->pages[0].text.find("An Introduction to R"), std::string::npos);

  for (int n : {1, 2, 17, 50, want_pages / 2, want_pages}) {
    const std::string want = RunCommand("pdftotext -q -f " + std::to_string(n) + " -l " +
                                        std::to_string(n) + " '" + path + "' -");
    ASSERT_FALSE(Squash(want).empty()) << "pdftotext gave nothing for page " << n;
    EXPECT_EQ(Squash(doc->pages[n - 1].text), Squash(want)) << "page " << n;
  }

  // The whole manual passes the validate stage.
  std::vector<store::PageText> pages = doc->pages;
  for (auto& p : pages) p.text = text::NormalizeText(p.text);
  EXPECT_TRUE(text::ValidateParsedText(pages, true).ok());
}

TEST(ParsersE2ETest, TruncatedRealPdfIsCorrupt) {
  REQUIRE_MANUAL(path, "R-intro.pdf");
  const fs::path tmp =
      fs::temp_directory_path() / ("truncated_" + std::to_string(::getpid()) + ".pdf");
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(tmp, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  auto doc = LocalParser().Parse(ParseInput{tmp.string(), "R-intro.pdf", "", DocType::kUnknown});
  fs::remove(tmp);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.status().reason(), "pdf_corrupt");
}

TEST(ParsersE2ETest, FullRefmanAllPagesWithBoundedMemory) {
  REQUIRE_MANUAL(path, "fullrefman.pdf");
  const int want_pages = PdfInfoPages(path);
  ASSERT_GT(want_pages, 1000) << "pdfinfo failed";
  {
    auto doc = LocalParser().Parse(ParseInput{path, "fullrefman.pdf", "", DocType::kUnknown});
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    ASSERT_EQ(static_cast<int>(doc->pages.size()), want_pages);
    EXPECT_EQ(doc->pages.back().page, want_pages);
    const std::string want = RunCommand("pdftotext -q -f " + std::to_string(want_pages) + " -l " +
                                        std::to_string(want_pages) + " '" + path + "' -");
    EXPECT_EQ(Squash(doc->pages.back().text), Squash(want));
  }
  // Peak RSS of this whole test process, so an upper bound for the parse.
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const long peak_mb = ru.ru_maxrss / 1024;
  RecordProperty("peak_rss_mb", static_cast<int>(peak_mb));
  EXPECT_LT(peak_mb, 300);
}

TEST(ParsersE2ETest, PageLimitRefusesFullRefmanBeforeExtracting) {
  REQUIRE_MANUAL(path, "fullrefman.pdf");
  LocalParserOptions opts;
  opts.limits.max_pages = 100;
  auto doc = LocalParser(opts).Parse(ParseInput{path, "fullrefman.pdf", "", DocType::kUnknown});
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().reason(), "too_many_pages");
}

}  // namespace
}  // namespace ingest::parse
