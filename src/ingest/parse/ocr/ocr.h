// Local OCR (issue 19): page images recognised with Tesseract 5 through its C++ API, for PDF
// pages without a usable text layer (rendered by poppler at a configured DPI) and for image
// uploads (PNG, JPEG, TIFF, decoded by Leptonica).
//
// Resources are bounded per page, whatever the document's size: a page is rendered at
// `dpi` unless that would exceed `max_page_pixels`, in which case it is rendered at the highest
// DPI that fits (recorded per page); recognition of one page stops at `page_timeout`. A page
// that cannot be rendered or recognised fails alone: its result carries an error code and no
// text, the other pages go on. Pages are recognised on at most `threads` threads, each with its
// own Tesseract engine and its own poppler document (neither is shared between threads), and
// come back in the order asked for.
//
// Built without Tesseract (CMake INGEST_WITH_OCR=OFF), every entry point returns
// failed_precondition[ocr_not_built].
//
// Thread-safe: the functions share no state between calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::parse {

struct OcrOptions {
  bool enabled = false;
  // Tesseract language packs joined by '+', e.g. "eng" or "eng+jpn" (config parse.ocr_languages).
  std::string languages = "eng";
  int dpi = 300;
  // Mean word confidence (0-100) below which a page is "low confidence": routed to the remote
  // parser when one is configured, else kept with a warning.
  double min_confidence = 60;
  int threads = 1;
  std::chrono::milliseconds page_timeout{60000};
  // Largest rendered page (pixels); 40 Mpx is an A3 page at 400 DPI, ~40 MB as 8-bit grey.
  int64_t max_page_pixels = 40'000'000;
  // A PDF page whose text layer has fewer non-space characters than this is OCR'd (and the
  // OCR text kept when it is longer than the layer's).
  int min_chars_per_page = 20;
  // Tesseract's data directory ("" = the library's default, e.g.
  // /usr/share/tesseract-ocr/5/tessdata on Debian).
  std::string tessdata_dir;
  // Called once per document with the number of pages about to be OCR'd, before any is (the
  // parse subprocess extends its time limits with it). Not part of the configuration.
  std::function<void(int pages)> before_ocr;
};

struct OcrPageResult {
  int page = 0;            // 1-based
  std::string text;        // UTF-8, Tesseract's reading order; empty on error
  double confidence = 0;   // mean word confidence 0-100 (0 when there are no words)
  int words = 0;           // recognised words
  int dpi = 0;             // resolution actually used
  double seconds = 0;      // render + recognition wall time
  std::string error_code;  // "" = ok; ocr_page_timeout, ocr_page_too_large, ocr_render_failed
  std::string error_message;
};

// True when this binary was built with Tesseract.
bool OcrBuiltIn();
// "tesseract 5.3.0" (the library's version), "" when not built in.
std::string OcrEngineVersion();

// Loads every language of options.languages, as a worker would. failed_precondition
// [ocr_language_missing] names the missing packs and where they were looked for
// (`ingestd doctor` runs it).
Status CheckOcrLanguages(const OcrOptions& options);

// Renders and recognises `pages` (1-based, any order) of the PDF at `path`. Per-page failures
// are in the results; the call fails only when the PDF cannot be opened (invalid_argument
// [pdf_corrupt]) or the engine cannot start (failed_precondition[ocr_language_missing]).
Result<std::vector<OcrPageResult>> OcrPdfPages(const std::string& path,
                                               const std::vector<int>& pages,
                                               const OcrOptions& options);

// Image formats OCR reads, detected by magic bytes; "" when `head` is none of them.
std::string_view ImageFormatOf(std::string_view head);  // "png", "jpeg", "tiff"

// Recognises an image file: one page, or every page of a multi-page TIFF (at most max_pages:
// resource_exhausted[too_many_pages]). invalid_argument[image_corrupt] when it cannot be
// decoded; resource_exhausted[image_too_large] when its header declares more than
// max_page_pixels (checked before decoding: a decompression bomb is refused unread).
Result<std::vector<OcrPageResult>> OcrImage(std::string_view bytes, int max_pages,
                                            const OcrOptions& options);

}  // namespace ingest::parse
