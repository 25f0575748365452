// Parser: bytes of one document in, Markdown pages out (DESIGN §1, parse stage).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/store/types.h"

namespace ingest::parse {

// Detected from content first (magic bytes, structure), the extension only as a tie-break.
enum class DocType { kText, kMarkdown, kHtml, kPdf, kDocx, kUnknown };
std::string_view DocTypeName(DocType t);  // "text", "markdown", "html", "pdf", "docx", "unknown"
std::string_view DocTypeMime(DocType t);  // "text/plain", ...

// Limits checked before any parsing work starts (and enforced during it where only parsing can
// tell, e.g. the page count of a PDF or the uncompressed size of a DOCX).
struct ParseLimits {
  int64_t max_bytes = 256ll << 20;             // file size
  int max_pages = 5000;                        // PDF pages
  int64_t max_uncompressed_bytes = 512ll << 20;  // DOCX (zip bomb guard)
};

struct ParseInput {
  std::string path;      // local file with the document's bytes (a blob)
  std::string filename;  // original name, for the extension tie-break and messages
  std::string sha256;    // of the bytes
  DocType type = DocType::kUnknown;  // kUnknown: the parser detects
};

struct ParsedDocument {
  std::vector<store::PageText> pages;  // ascending page numbers, 1-based
  DocType type = DocType::kUnknown;
  std::string parser;   // "local:pdf", "llamaparse", ...
  std::string detail_json = "{}";  // billing facts etc.
};

// Thread-safe; shared by all workers. Errors use Status reasons users can act on, e.g.
// invalid_argument[pdf_corrupt], invalid_argument[unsupported_type],
// resource_exhausted[too_many_pages], resource_exhausted[file_too_large].
class Parser {
 public:
  virtual ~Parser() = default;
  // Cache key part: "local", "llamaparse".
  virtual std::string_view Name() const = 0;
  // Hash of every setting that changes the output (parse cache key).
  virtual std::string ConfigHash() const = 0;
  virtual Result<ParsedDocument> Parse(const ParseInput& input) const = 0;
};

}  // namespace ingest::parse
