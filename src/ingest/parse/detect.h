// Document type detection from content (DESIGN §1, parse stage).
//
// Content decides; the file name is only a tie-break (Markdown vs plain text) and context for
// error messages. A file named report.pdf that does not start like a PDF is not parsed as one.
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ingest/parse/parser.h"

namespace ingest::parse {

// How many leading bytes detection looks at (ZIP archives excepted, see DetectType).
inline constexpr size_t kDetectHeadBytes = 64 * 1024;
// PDF readers accept junk before "%PDF-" within the first KiB; so do we.
inline constexpr size_t kPdfMagicWindow = 1024;

// Detects the type from the first bytes of a file:
//   "%PDF-" within the first KiB -> kPdf;
//   a ZIP holding [Content_Types].xml and word/document.xml -> kDocx (for ZIP content `head`
//     must be the whole file: the ZIP directory sits at its end; any other ZIP -> kUnknown);
//   <!doctype html / <html / <head / <body near the start of markup -> kHtml;
//   mostly well-formed UTF-8 without NUL bytes -> kMarkdown (extension .md/.markdown, or
//     Markdown structure such as "# " headings or ``` fences) else kText;
//   anything else (binary, empty) -> kUnknown.
DocType DetectType(std::string_view head, std::string_view filename);

// For a kUnknown result: a sentence saying what the content is and, when the extension
// promised something else, that too, e.g. "content is binary, not a PDF despite the .pdf
// extension".
std::string DescribeUnsupported(std::string_view head, std::string_view filename);

// Lower-case extension without the dot ("pdf"), or "" when there is none.
std::string LowerExtension(std::string_view filename);

}  // namespace ingest::parse
