// PDF text extraction with poppler-cpp: one page of text per PDF page, in reading order.
//
// Reading order is poppler's "non-raw, non-physical" layout, the mode pdftotext uses by
// default: text is grouped into blocks and flows, so the columns of a two-column paper come
// out one after the other instead of interleaved line by line (physical layout), and lines are
// not left in content-stream order (raw order), which some generators scramble.
//
// Thread safety: ExtractPdfPages may run concurrently on different files; each call (and each
// of its threads) owns its poppler document. Poppler's diagnostics are silenced process-wide on
// first use (they go to stderr otherwise and say nothing a user can act on; our Status does).
#pragma once

#include <string>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/store/types.h"

namespace ingest::parse {

// Opens the PDF at `path`, checks its page count against `max_pages` before extracting any
// text, then extracts page by page (each poppler page is freed before the next is made, which
// keeps memory near one page's worth per thread on huge documents). Pages keep their 1-based
// numbers; a page without text yields an empty PageText rather than being dropped.
// `threads` > 1 spreads one document's pages over that many threads (at most one per 16
// pages), each with its own poppler document of the file; pages are returned in order and the
// text is the same as with one thread. A failing page fails the call.
// Errors: invalid_argument[pdf_corrupt] (not a PDF, truncated beyond repair, no pages),
// invalid_argument[pdf_encrypted] (needs a password), resource_exhausted[too_many_pages],
// not_found when the file cannot be read.
Result<std::vector<store::PageText>> ExtractPdfPages(const std::string& path, int max_pages,
                                                     int threads = 1);

}  // namespace ingest::parse
