// The validate stage's text rules (DESIGN §1): normalise, then reject empty or garbage output.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/status.h"
#include "ingest/store/types.h"

namespace ingest::text {

struct NormalizeStats {
  size_t invalid_utf8_replaced = 0;  // ill-formed sequences replaced by U+FFFD
  size_t nul_removed = 0;
};

// CRLF/CR -> LF, invalid UTF-8 -> U+FFFD (one per maximal ill-formed subpart), NUL and other
// C0 controls except \t and \n removed, Unicode NFC, trailing spaces trimmed, runs of blank
// lines collapsed to one. Output is valid UTF-8.
// Also: vertical tab, form feed (PDF page breaks), U+0085, U+2028 and U+2029 become LF so the
// words on either side stay apart; leading and trailing blank lines are dropped and the result
// has no final newline. Thread-safe (pure).
std::string NormalizeText(std::string_view in, NormalizeStats* stats = nullptr);

// Thresholds of ValidateParsedText, public so tests and docs can name them.
// A PDF averaging fewer non-space characters per page than this has no usable text layer.
inline constexpr double kMinPdfCharsPerPage = 16.0;
// A PDF page with fewer non-space characters than this counts as "without text"; when more than
// half the pages of a PDF of at least kMinPagesForEmptyPageRule pages are like that, the
// document is mostly scanned and local extraction would silently drop most of it.
inline constexpr size_t kMinCharsForTextPage = 3;
inline constexpr size_t kMinPagesForEmptyPageRule = 4;
// Text is garbage when more than this fraction of its non-space code points are U+FFFD,
// controls, unassigned, private-use or surrogates...
inline constexpr double kMaxBadCodePointRatio = 0.30;
// ...or when a text of at least this many non-space code points has no letter or digit.
inline constexpr size_t kMinCharsForNoAlnumRule = 64;

// Checks normalised pages. Fails with kInvalidArgument and reason:
//   "empty_document": no text at all;
//   "no_text_layer": a PDF whose pages carry no text (message says a layout/OCR parser such as
//                    llamaparse is needed);
//   "garbage_text": mostly replacement characters / control or unprintable symbols.
// Thread-safe (pure).
Status ValidateParsedText(std::span<const store::PageText> pages, bool is_pdf);

}  // namespace ingest::text
