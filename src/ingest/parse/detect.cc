#include "ingest/parse/detect.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "ingest/parse/ocr/ocr.h"
#include "ingest/parse/zip_archive.h"
#include "ingest/text/utf8.h"

namespace ingest::parse {

std::string_view DocTypeName(DocType t) {
  switch (t) {
    case DocType::kText:
      return "text";
    case DocType::kMarkdown:
      return "markdown";
    case DocType::kHtml:
      return "html";
    case DocType::kPdf:
      return "pdf";
    case DocType::kDocx:
      return "docx";
    case DocType::kPng:
      return "png";
    case DocType::kJpeg:
      return "jpeg";
    case DocType::kTiff:
      return "tiff";
    case DocType::kUnknown:
      break;
  }
  return "unknown";
}

std::string_view DocTypeMime(DocType t) {
  switch (t) {
    case DocType::kText:
      return "text/plain";
    case DocType::kMarkdown:
      return "text/markdown";
    case DocType::kHtml:
      return "text/html";
    case DocType::kPdf:
      return "application/pdf";
    case DocType::kDocx:
      return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    case DocType::kPng:
      return "image/png";
    case DocType::kJpeg:
      return "image/jpeg";
    case DocType::kTiff:
      return "image/tiff";
    case DocType::kUnknown:
      break;
  }
  return "application/octet-stream";
}

std::string LowerExtension(std::string_view filename) {
  const size_t slash = filename.find_last_of("/\\");
  if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
  const size_t dot = filename.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return "";
  std::string ext(filename.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

namespace {

bool IsPdf(std::string_view head) {
  return head.substr(0, kPdfMagicWindow).find("%PDF-") != std::string_view::npos;
}

bool IsDocxZip(std::string_view bytes) {
  Result<ZipArchive> zip = ZipArchive::Open(bytes, "docx_corrupt");
  return zip.ok() && zip->Has("[Content_Types].xml") && zip->Has("word/document.xml");
}

std::string_view SkipBomAndSpace(std::string_view s) {
  if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}

bool IsHtml(std::string_view head) {
  const std::string_view s = SkipBomAndSpace(head);
  if (!s.starts_with('<')) return false;  // markup must come first, not prose quoting a tag
  std::string lower(s.substr(0, 1024));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view tag : {"<!doctype html", "<html", "<head", "<body"}) {
    if (lower.find(tag) != std::string::npos) return true;
  }
  return false;
}

// Text-like: no NUL, and at most 30% of the bytes are ill-formed UTF-8 or control characters
// other than whitespace. That tolerates a short Latin-1 text ("crème brûlée": ~15%) or stray
// escapes, and still rejects binaries: in random bytes about 55% are bad (high bytes rarely
// form valid sequences, an eighth of the low ones are controls). A sequence cut by the end of
// `head` is not held against the text.
bool IsTextLike(std::string_view head) {
  if (head.empty() || head.find('\0') != std::string_view::npos) return false;
  size_t bad = 0;
  size_t i = 0;
  while (i < head.size()) {
    const auto c = static_cast<unsigned char>(head[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1B) ++bad;
      ++i;
      continue;
    }
    const text::Utf8Decoded d = text::DecodeUtf8(head, i);
    if (!d.valid && i + d.length < head.size()) ++bad;
    i += d.length;
  }
  return bad * 10 <= head.size() * 3;
}

// Markdown structure: an ATX heading, a code fence, or at least two of link / list / emphasis.
bool HasMarkdownSignals(std::string_view s) {
  bool link = false, list = false, emphasis = false;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view line = s.substr(start, end - start);
    size_t hashes = 0;
    while (hashes < line.size() && line[hashes] == '#') ++hashes;
    if (hashes >= 1 && hashes <= 6 && hashes < line.size() && line[hashes] == ' ') return true;
    if (line.starts_with("```") || line.starts_with("~~~")) return true;
    if (line.starts_with("- ") || line.starts_with("* ") || line.starts_with("1. ")) list = true;
    if (line.find("](") != std::string_view::npos) link = true;
    if (line.find("**") != std::string_view::npos || line.find("__") != std::string_view::npos) {
      emphasis = true;
    }
    start = end + 1;
  }
  return static_cast<int>(link) + static_cast<int>(list) + static_cast<int>(emphasis) >= 2;
}

}  // namespace

DocType DetectType(std::string_view head, std::string_view filename) {
  const std::string_view image = ImageFormatOf(head);
  if (image == "png") return DocType::kPng;
  if (image == "jpeg") return DocType::kJpeg;
  if (image == "tiff") return DocType::kTiff;
  if (IsPdf(head)) return DocType::kPdf;
  if (LooksLikeZip(head)) return IsDocxZip(head) ? DocType::kDocx : DocType::kUnknown;
  const std::string_view window = head.substr(0, kDetectHeadBytes);
  if (IsHtml(window)) return DocType::kHtml;
  if (!IsTextLike(window)) return DocType::kUnknown;
  const std::string ext = LowerExtension(filename);
  if (ext == "md" || ext == "markdown" || ext == "mdown" || ext == "mkd") {
    return DocType::kMarkdown;
  }
  if (ext == "txt" || ext == "text") return DocType::kText;  // the user said plain text
  return HasMarkdownSignals(window) ? DocType::kMarkdown : DocType::kText;
}

std::string DescribeUnsupported(std::string_view head, std::string_view filename) {
  std::string what;
  if (head.empty()) {
    what = "content is empty";
  } else if (LooksLikeZip(head)) {
    what = "content is a ZIP archive without word/document.xml";
  } else {
    what = "content is binary";
  }
  const std::string ext = LowerExtension(filename);
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kPromises = {{
      {"pdf", "a PDF"},
      {"docx", "a DOCX document"},
      {"html", "HTML"},
      {"htm", "HTML"},
      {"md", "Markdown"},
      {"markdown", "Markdown"},
      {"txt", "text"},
      {"text", "text"},
      {"png", "a PNG image"},
      {"jpg", "a JPEG image"},
      {"jpeg", "a JPEG image"},
      {"tif", "a TIFF image"},
      {"tiff", "a TIFF image"},
  }};
  for (const auto& [e, name] : kPromises) {
    if (ext == e) {
      return what + ", not " + std::string(name) + " despite the ." + ext + " extension";
    }
  }
  return what +
         "; supported types are PDF, DOCX, HTML, Markdown, UTF-8 text and (read "
         "by OCR) PNG, JPEG and TIFF images";
}

}  // namespace ingest::parse
