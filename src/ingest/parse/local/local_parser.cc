#include "ingest/parse/local/local_parser.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "ingest/common/hash.h"
#include "ingest/parse/detect.h"
#include "ingest/parse/local/docx_markdown.h"
#include "ingest/parse/local/html_markdown.h"
#include "ingest/parse/local/pdf_text.h"
#include "ingest/parse/zip_archive.h"

namespace ingest::parse {
namespace {

Result<std::string> ReadPrefix(const std::string& path, uint64_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read the document file " + path);
  std::string out(static_cast<size_t>(n), '\0');
  in.read(out.data(), static_cast<std::streamsize>(n));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

// Code points that are not ASCII whitespace (UTF-8 continuation bytes are not counted).
size_t NonSpaceChars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) == 0x80) continue;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') continue;
    ++n;
  }
  return n;
}

// What OCR did to a document, for detail_json (see local_parser.h).
struct OcrOutcome {
  std::vector<std::string> page_parsers;  // one per page
  nlohmann::json pages = nlohmann::json::array();
  nlohmann::json low_confidence = nlohmann::json::array();
  nlohmann::json failed = nlohmann::json::array();
  double seconds = 0;
  int64_t ocr_pages = 0;  // pages recognised (successfully or not)
};

void Record(const OcrPageResult& r, bool used, const OcrOptions& options, OcrOutcome* o) {
  ++o->ocr_pages;
  o->seconds += r.seconds;
  nlohmann::json page = {
      {"page", r.page}, {"confidence", std::round(r.confidence * 10) / 10}, {"words", r.words},
      {"dpi", r.dpi},   {"seconds", std::round(r.seconds * 1000) / 1000},   {"used", used}};
  if (!r.error_code.empty()) {
    page["error"] = r.error_code;
    o->failed.push_back({{"page", r.page}, {"code", r.error_code}, {"message", r.error_message}});
  } else if (used && r.words > 0 && r.confidence < options.min_confidence) {
    o->low_confidence.push_back(r.page);
  }
  o->pages.push_back(std::move(page));
}

// OCRs the pages of a PDF whose text layer is thin; an OCR text replaces the layer's when it
// has more characters (a page with a few stray glyphs over a scan keeps the scan's words).
Status OcrThinPdfPages(const std::string& path, const OcrOptions& options,
                       std::vector<store::PageText>* pages, OcrOutcome* o) {
  std::vector<int> thin;
  o->page_parsers.assign(pages->size(), "local:pdf");
  for (const auto& p : *pages) {
    if (NonSpaceChars(p.text) < static_cast<size_t>(options.min_chars_per_page)) {
      thin.push_back(p.page);
    }
  }
  if (thin.empty()) return Status::Ok();
  INGEST_ASSIGN_OR_RETURN(std::vector<OcrPageResult> results, OcrPdfPages(path, thin, options));
  for (auto& r : results) {
    store::PageText& page = (*pages)[static_cast<size_t>(r.page - 1)];
    const bool used = r.error_code.empty() && NonSpaceChars(r.text) > NonSpaceChars(page.text);
    if (used) {
      page.text = std::move(r.text);
      o->page_parsers[static_cast<size_t>(r.page - 1)] = "local:ocr";
    }
    Record(r, used, options, o);
  }
  return Status::Ok();
}

void AddOcrDetail(const OcrOutcome& o, const OcrOptions& options, nlohmann::json* detail) {
  (*detail)["page_parsers"] = o.page_parsers;
  if (o.ocr_pages == 0) return;
  (*detail)["ocr"] = {{"engine", OcrEngineVersion()},
                      {"languages", options.languages},
                      {"min_confidence", options.min_confidence},
                      {"pages_recognised", o.ocr_pages},
                      {"seconds", std::round(o.seconds * 1000) / 1000},
                      {"pages", o.pages}};
  (*detail)["ocr_low_confidence_pages"] = o.low_confidence;
  if (!o.failed.empty()) (*detail)["ocr_failed_pages"] = o.failed;
}

std::string ParserOfPages(const std::vector<std::string>& page_parsers, std::string fallback) {
  bool any_ocr = false, all_ocr = !page_parsers.empty();
  for (const auto& p : page_parsers) {
    any_ocr = any_ocr || p == "local:ocr";
    all_ocr = all_ocr && p == "local:ocr";
  }
  if (all_ocr) return "local:ocr";
  if (any_ocr) return fallback + "+ocr";
  return fallback;
}

}  // namespace

LocalParser::LocalParser(LocalParserOptions options) : options_(std::move(options)) {}

std::string LocalParser::ConfigHash() const {
  std::string config = "local@" + std::to_string(kVersion) +
                       ";pdf=poppler-reading-order;html=gumbo-md;docx=pugixml-md";
  // OCR changes the text of scanned pages; its threads and timeouts, like the limits, only
  // decide whether a page is read, not what it reads.
  const OcrOptions& ocr = options_.ocr;
  if (ocr.enabled) {
    config += ";ocr@" + std::to_string(kOcrVersion) + "=" + OcrEngineVersion() +
              ",langs=" + ocr.languages + ",dpi=" + std::to_string(ocr.dpi) +
              ",min_chars=" + std::to_string(ocr.min_chars_per_page) +
              ",min_conf=" + std::to_string(ocr.min_confidence) +
              ",max_px=" + std::to_string(ocr.max_page_pixels);
  }
  return Sha256Hex(config);
}

Result<ParsedDocument> LocalParser::Parse(const ParseInput& input) const {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(input.path, ec);
  if (ec) return NotFound("cannot read the document file " + input.path + ": " + ec.message());
  const ParseLimits& limits = options_.limits;
  if (size > static_cast<uintmax_t>(limits.max_bytes)) {
    return ResourceExhausted("the file is " + std::to_string(size) + " bytes, over the limit of " +
                                 std::to_string(limits.max_bytes),
                             "file_too_large");
  }
  if (size == 0) return InvalidArgument("the file is empty (0 bytes)", "empty_document");

  // Whole-file formats are read once; PDFs stay on disk and poppler reads what it needs.
  INGEST_ASSIGN_OR_RETURN(std::string head, ReadPrefix(input.path, kDetectHeadBytes));
  std::string bytes;
  const bool whole_in_head = head.size() == size;
  DocType type = input.type;
  if (type == DocType::kUnknown) {
    if (LooksLikeZip(head) && !whole_in_head) {
      INGEST_ASSIGN_OR_RETURN(bytes, ReadPrefix(input.path, size));
      type = DetectType(bytes, input.filename);  // the ZIP directory is at the end
    } else {
      type = DetectType(head, input.filename);
    }
  }
  if (type == DocType::kUnknown) {
    return InvalidArgument(DescribeUnsupported(head, input.filename), "unsupported_type");
  }
  const bool image = type == DocType::kPng || type == DocType::kJpeg || type == DocType::kTiff;
  if (image && !options_.ocr.enabled) {
    return InvalidArgument("the file is a " + std::string(DocTypeName(type)) +
                               " image, and images are read only by OCR, which is off "
                               "(parse.ocr = false, or this build has no OCR)",
                           "unsupported_type");
  }
  if (type != DocType::kPdf && bytes.empty()) {
    if (whole_in_head) {
      bytes = std::move(head);
    } else {
      INGEST_ASSIGN_OR_RETURN(bytes, ReadPrefix(input.path, size));
    }
  }

  ParsedDocument doc;
  doc.type = type;
  doc.parser = "local:" + std::string(DocTypeName(type));
  OcrOutcome ocr;
  switch (type) {
    case DocType::kPdf: {
      INGEST_ASSIGN_OR_RETURN(doc.pages,
                              ExtractPdfPages(input.path, limits.max_pages, options_.pdf_threads));
      if (options_.ocr.enabled) {
        INGEST_RETURN_IF_ERROR(OcrThinPdfPages(input.path, options_.ocr, &doc.pages, &ocr));
        doc.parser = ParserOfPages(ocr.page_parsers, doc.parser);
      }
      break;
    }
    case DocType::kPng:
    case DocType::kJpeg:
    case DocType::kTiff: {
      INGEST_ASSIGN_OR_RETURN(std::vector<OcrPageResult> results,
                              OcrImage(bytes, limits.max_pages, options_.ocr));
      for (auto& r : results) {
        const bool used = r.error_code.empty();
        doc.pages.push_back({r.page, used ? r.text : std::string()});
        ocr.page_parsers.push_back("local:ocr");
        Record(r, used, options_.ocr, &ocr);
      }
      doc.parser = "local:ocr";
      break;
    }
    case DocType::kText:
    case DocType::kMarkdown:
      doc.pages.push_back({1, std::move(bytes)});
      break;
    case DocType::kHtml:
      doc.pages.push_back({1, HtmlToMarkdown(bytes)});
      break;
    case DocType::kDocx: {
      INGEST_ASSIGN_OR_RETURN(std::string md, DocxToMarkdown(bytes, limits.max_uncompressed_bytes,
                                                             limits.max_compression_ratio));
      doc.pages.push_back({1, std::move(md)});
      break;
    }
    case DocType::kUnknown:
      break;  // handled above
  }
  nlohmann::json detail = {{"type", DocTypeName(type)},
                           {"mime", DocTypeMime(type)},
                           {"bytes", size},
                           {"pages", doc.pages.size()},
                           {"parser_version", kVersion}};
  if (!ocr.page_parsers.empty()) AddOcrDetail(ocr, options_.ocr, &detail);
  doc.detail_json = detail.dump();
  return doc;
}

}  // namespace ingest::parse
