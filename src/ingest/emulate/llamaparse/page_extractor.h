// Per-page content for the LlamaParse emulator (spec §12 item 5): real text for PDFs (poppler),
// the file's own text for .txt/.md, and seeded deterministic prose for everything else, so
// parse results are a pure function of the uploaded bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::emulate::llamaparse {

struct ExtractedPage {
  std::string text;
  std::string md;
};

// Pages of `bytes`, page 0 first; `filename` selects the method by extension. A PDF poppler
// cannot open is kInvalidArgument (reason "UNKNOWN_ERROR"); a locked PDF is kFailedPrecondition
// (reason "PDF_IS_PROTECTED"). The reasons are the job error codes the emulator reports.
// `non_pdf_page_bytes` > 0: every non-PDF file has one page per started that many bytes (text
// and Markdown split into real text at UTF-8 boundaries, other types seeded prose).
Result<std::vector<ExtractedPage>> ExtractPages(std::string_view filename, std::string_view bytes,
                                                int64_t non_pdf_page_bytes = 0);

// Lower-case extension including the dot (".pdf"), or "" when there is none.
std::string ExtensionOf(std::string_view filename);

}  // namespace ingest::emulate::llamaparse
