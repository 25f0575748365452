#include "ingest/text/normalize.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "ingest/text/utf8.h"

namespace ingest::text {
namespace {

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Line endings and control characters. Input is valid UTF-8; so is the output.
std::string CleanControls(std::string_view s, size_t* nul_removed) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else if (c == 0) {
      ++*nul_removed;
    } else if (c == '\v' || c == '\f') {
      out.push_back('\n');
    } else if (c < 0x20 && c != '\t' && c != '\n') {
      // Other C0 controls carry no text.
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) {
      out.push_back('\n');  // U+0085 NEL
      ++i;
    } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out.push_back('\n');  // U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR
      i += 2;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// NFC through utf8proc. utf8proc rejects ill-formed input, which is why invalid sequences are
// replaced first; STABLE keeps the result stable across Unicode versions for assigned
// characters. Returns the input unchanged if utf8proc still fails (it cannot for valid UTF-8,
// short of running out of memory).
std::string Nfc(std::string s) {
  utf8proc_uint8_t* dst = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
      &dst, static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(dst, &std::free);
  if (n < 0) return s;
  return std::string(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
}

// Trims trailing blanks of every line, drops leading/trailing blank lines and keeps at most
// one blank line between paragraphs.
std::string TidyLines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool any = false;
  bool pending_blank = false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view line = s.substr(start, end - start);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.empty()) {
      pending_blank = any;
    } else {
      if (any) out.append(pending_blank ? "\n\n" : "\n");
      out.append(line);
      any = true;
      pending_blank = false;
    }
    start = end + 1;
  }
  return out;
}

bool IsSpace(char32_t cp) {
  if (cp == ' ' || cp == '\t' || cp == '\n') return true;
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_ZS;
}

// Control, unassigned, private-use, surrogate or U+FFFD: nothing a reader could use.
bool IsBad(char32_t cp) {
  if (cp == kReplacementChar) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
      return true;
    default:
      return false;
  }
}

bool IsLetterOrDigit(char32_t cp) {
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

struct TextCounts {
  size_t non_space = 0;
  size_t bad = 0;
  size_t alnum = 0;
};

void CountText(std::string_view s, TextCounts* c) {
  size_t i = 0;
  while (i < s.size()) {
    const Utf8Decoded d = DecodeUtf8(s, i);
    i += d.length;
    const char32_t cp = d.valid ? d.code_point : kReplacementChar;
    if (cp == ' ' || cp == '\n' || cp == '\t') continue;  // fast path for ASCII blanks
    if (cp < 0x80) {
      ++c->non_space;
      if ((cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')) ++c->alnum;
      if (cp < 0x20 || cp == 0x7F) ++c->bad;
      continue;
    }
    if (IsSpace(cp)) continue;
    ++c->non_space;
    if (IsBad(cp)) ++c->bad;
    if (IsLetterOrDigit(cp)) ++c->alnum;
  }
}

}  // namespace

std::string NormalizeText(std::string_view in, NormalizeStats* stats) {
  NormalizeStats local;
  NormalizeStats& st = stats != nullptr ? *stats : local;
  st = NormalizeStats{};
  std::string cleaned;
  if (IsValidUtf8(in)) {
    cleaned = CleanControls(in, &st.nul_removed);
  } else {
    cleaned = CleanControls(ReplaceInvalidUtf8(in, &st.invalid_utf8_replaced), &st.nul_removed);
  }
  if (!IsAscii(cleaned)) cleaned = Nfc(std::move(cleaned));
  return TidyLines(cleaned);
}

Status ValidateParsedText(std::span<const store::PageText> pages, bool is_pdf) {
  TextCounts total;
  size_t pages_without_text = 0;
  for (const store::PageText& p : pages) {
    TextCounts page;
    CountText(p.text, &page);
    if (page.non_space < kMinCharsForTextPage) ++pages_without_text;
    total.non_space += page.non_space;
    total.bad += page.bad;
    total.alnum += page.alnum;
  }
  static constexpr char kNoTextLayerFix[] =
      "local OCR (parse.ocr) found no text in it either, or is off; parse it with a layout/OCR "
      "parser such as llamaparse: INGESTD_PARSER=llamaparse or auto";
  if (total.non_space == 0) {
    if (is_pdf && !pages.empty()) {
      return InvalidArgument(
          "the PDF has no text layer (scanned or image-only): " + std::to_string(pages.size()) +
              " page(s) without text; " + kNoTextLayerFix,
          "no_text_layer");
    }
    return InvalidArgument("the document contains no text", "empty_document");
  }
  if (is_pdf) {
    const double per_page =
        static_cast<double>(total.non_space) / static_cast<double>(pages.size());
    if (per_page < kMinPdfCharsPerPage) {
      return InvalidArgument(
          "the PDF has no text layer (scanned or image-only): " + std::to_string(total.non_space) +
              " characters in " + std::to_string(pages.size()) + " page(s); " + kNoTextLayerFix,
          "no_text_layer");
    }
    if (pages.size() >= kMinPagesForEmptyPageRule && pages_without_text * 2 > pages.size()) {
      return InvalidArgument("the PDF is mostly without a text layer (scanned pages): " +
                                 std::to_string(pages_without_text) + " of " +
                                 std::to_string(pages.size()) + " pages have no text; " +
                                 kNoTextLayerFix,
                             "no_text_layer");
    }
  }
  const double bad_ratio = static_cast<double>(total.bad) / static_cast<double>(total.non_space);
  if (bad_ratio > kMaxBadCodePointRatio) {
    return InvalidArgument(
        "the extracted text is garbage: " + std::to_string(static_cast<int>(bad_ratio * 100)) +
            "% of its characters are replacement, control, unassigned or private-use characters "
            "(broken encoding or font mapping)",
        "garbage_text");
  }
  if (total.alnum == 0 && total.non_space >= kMinCharsForNoAlnumRule) {
    return InvalidArgument("the extracted text is garbage: " + std::to_string(total.non_space) +
                               " characters without a single letter or digit",
                           "garbage_text");
  }
  return Status::Ok();
}

}  // namespace ingest::text
