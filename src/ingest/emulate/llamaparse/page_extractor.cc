#include "ingest/emulate/llamaparse/page_extractor.h"

#include <poppler-document.h>
#include <poppler-page.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>

#include "ingest/common/hash.h"
#include "ingest/emulate/common/fault_injector.h"

namespace ingest::emulate::llamaparse {
namespace {

std::string TrimRight(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

Result<std::vector<ExtractedPage>> PdfPages(std::string_view bytes) {
  // poppler takes a mutable buffer and keeps pointing at it while the document lives.
  std::vector<char> data(bytes.begin(), bytes.end());
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(data.data(), static_cast<int>(data.size())));
  if (!doc) return InvalidArgument("the PDF could not be opened", "UNKNOWN_ERROR");
  if (doc->is_locked()) return FailedPrecondition("the PDF is encrypted", "PDF_IS_PROTECTED");
  std::vector<ExtractedPage> pages;
  for (int i = 0; i < doc->pages(); ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    std::string text;
    if (page) {
      const auto utf8 = page->text().to_utf8();
      text.assign(utf8.begin(), utf8.end());
    }
    text = TrimRight(std::move(text));
    pages.push_back({text, text});
  }
  return pages;
}

constexpr std::string_view kWords[] = {
    "ledger",  "invoice", "policy",   "section", "revenue", "contract", "clause", "summary",
    "quarter", "account", "schedule", "table",   "figure",  "report",   "annex",  "party",
    "term",    "payment", "balance",  "notice",  "region",  "growth",   "risk",   "customer"};

// Seeded prose: same bytes and page → same text, on every platform.
ExtractedPage SeededPage(std::string_view filename, const std::string& sha, int page) {
  uint64_t state = 0;
  std::from_chars(sha.data(), sha.data() + 16, state, 16);
  state ^= static_cast<uint64_t>(page + 1) * 0x9e3779b97f4a7c15ULL;
  std::string body;
  for (int sentence = 0; sentence < 4; ++sentence) {
    const int words = 6 + static_cast<int>(SplitMix64(state) % 8);
    for (int w = 0; w < words; ++w) {
      std::string word(kWords[SplitMix64(state) % std::size(kWords)]);
      if (w == 0) word[0] = static_cast<char>(std::toupper(word[0]));
      body += word;
      body += w + 1 == words ? ". " : " ";
    }
  }
  body = TrimRight(std::move(body));
  const std::string title = std::string(filename) + ", page " + std::to_string(page + 1);
  return {title + "\n\n" + body, "# " + title + "\n\n" + body};
}

}  // namespace

std::string ExtensionOf(std::string_view filename) {
  const size_t dot = filename.rfind('.');
  if (dot == std::string_view::npos || filename.find('/', dot) != std::string_view::npos) {
    return "";
  }
  std::string ext(filename.substr(dot));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

Result<std::vector<ExtractedPage>> ExtractPages(std::string_view filename, std::string_view bytes,
                                                int64_t non_pdf_page_bytes) {
  const std::string ext = ExtensionOf(filename);
  if (ext == ".pdf") return PdfPages(bytes);
  if (non_pdf_page_bytes > 0) {
    std::vector<ExtractedPage> pages;
    if (ext == ".txt" || ext == ".md") {
      size_t pos = 0;
      while (pos < bytes.size()) {
        size_t end = std::min(bytes.size(), pos + static_cast<size_t>(non_pdf_page_bytes));
        // Back up to a UTF-8 lead byte so no character is cut in two.
        while (end < bytes.size() && end > pos + 1 &&
               (static_cast<unsigned char>(bytes[end]) & 0xC0) == 0x80) {
          --end;
        }
        std::string text(bytes.substr(pos, end - pos));
        pages.push_back({text, text});
        pos = end;
      }
      if (pages.empty()) pages.push_back({"", ""});
      return pages;
    }
    const std::string sha = Sha256Hex(bytes);
    const int64_t count = std::max<int64_t>(
        1, (static_cast<int64_t>(bytes.size()) + non_pdf_page_bytes - 1) / non_pdf_page_bytes);
    for (int64_t i = 0; i < count; ++i) {
      pages.push_back(SeededPage(filename, sha, static_cast<int>(i)));
    }
    return pages;
  }
  if (ext == ".txt" || ext == ".md") {
    std::string text(bytes);
    return std::vector<ExtractedPage>{{text, text}};
  }
  // Other formats: one page per started 100 KiB, at most 50, so bigger files cost more.
  const std::string sha = Sha256Hex(bytes);
  const int count = std::min<int>(50, 1 + static_cast<int>(bytes.size() / (100 * 1024)));
  std::vector<ExtractedPage> pages;
  for (int i = 0; i < count; ++i) pages.push_back(SeededPage(filename, sha, i));
  return pages;
}

}  // namespace ingest::emulate::llamaparse
