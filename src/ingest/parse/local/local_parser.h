// The local parser: text, Markdown, HTML, PDF and DOCX on this machine, for free.
//
// Parse() checks the file size before reading anything, detects the type from content (unless
// the input names one), and dispatches to one converter per format:
//   text, markdown -> the bytes as one page (normalising is the validate stage's job);
//   html           -> html_markdown.h, one page;
//   pdf            -> pdf_text.h, one page per PDF page, page limit checked first; with OCR
//                     on, pages whose text layer is (nearly) empty are rendered and OCR'd
//                     (ocr/ocr.h), so a scanned page reads like a born-digital one;
//   docx           -> docx_markdown.h, one page, zip-bomb limits enforced;
//   png/jpeg/tiff  -> OCR, one page per image (per TIFF page); unsupported_type with OCR off.
//
// Which parser produced each page is in detail_json: "page_parsers" lists one name per page
// ("local:pdf" or "local:ocr"), "ocr" holds the per-page confidence, timing and errors, and
// "ocr_low_confidence_pages" the pages whose mean word confidence is below
// ocr.min_confidence (kept: auto routing may send them to a remote parser). The document's
// parser is "local:pdf", "local:ocr" (every page OCR'd) or "local:pdf+ocr" (mixed).
// Thread-safe: Parse() is const and keeps no state between calls.
#pragma once

#include <string>
#include <string_view>

#include "ingest/parse/ocr/ocr.h"
#include "ingest/parse/parser.h"

namespace ingest::parse {

struct LocalParserOptions {
  ParseLimits limits;
  OcrOptions ocr;  // ocr.enabled false: no OCR (scanned pages stay empty, images unsupported)
  // Text extraction threads for one PDF (ExtractPdfPages); the output does not depend on it,
  // so it is not part of ConfigHash.
  int pdf_threads = 1;
};

class LocalParser final : public Parser {
 public:
  // Bump when any converter's output changes for the same input: it invalidates cached parses.
  static constexpr int kVersion = 1;
  static constexpr int kOcrVersion = 1;  // bump when the OCR merge rules change

  explicit LocalParser(LocalParserOptions options = {});

  std::string_view Name() const override { return "local"; }
  // Covers the version and every option that changes the output. Limits are deliberately not
  // part of it: they only decide whether a parse runs, and a successful parse is the same
  // under any limits, so raising a limit must not invalidate the cache.
  std::string ConfigHash() const override;
  // Errors (reason in brackets): not_found (unreadable file), resource_exhausted[file_too_large],
  // invalid_argument[empty_document] (0 bytes), invalid_argument[unsupported_type] (binary or
  // unknown content; the message says what it is and what the extension claimed), and the
  // format errors of pdf_text.h and docx_markdown.h.
  Result<ParsedDocument> Parse(const ParseInput& input) const override;

 private:
  LocalParserOptions options_;
};

}  // namespace ingest::parse
