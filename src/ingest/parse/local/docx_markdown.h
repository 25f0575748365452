// DOCX (WordprocessingML) to Markdown with libzip + pugixml.
//
// Reads word/document.xml only: paragraphs (w:p) and their runs (w:t text, w:tab, w:br/w:cr),
// headings from the paragraph style (Title -> '#', Heading1..6 -> '#'..'######'), numbered or
// bulleted paragraphs (w:numPr) -> "- " indented by level, tables (w:tbl) -> pipe tables.
// Deleted revisions (w:del, w:delText) and field codes (w:instrText) are not text. Content
// controls (w:sdt) are unwrapped. pugixml does not resolve external entities, so XXE does not
// apply. Pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/common/result.h"

namespace ingest::parse {

// Errors: invalid_argument[docx_corrupt] (not a ZIP, no word/document.xml, bad XML, failed
// inflate), resource_exhausted[docx_too_large] when declared or actual uncompressed sizes
// pass `max_uncompressed_bytes` or document.xml inflates more than `max_compression_ratio`
// times its compressed size (0: no ratio limit; see ZipArchive::ReadEntry), both checked before
// and while inflating. Deeply nested XML is walked without recursion (the DOM itself is built
// iteratively by pugixml), so nesting depth costs heap, not stack.
Result<std::string> DocxToMarkdown(std::string_view bytes, int64_t max_uncompressed_bytes,
                                   int64_t max_compression_ratio = 0);

}  // namespace ingest::parse
