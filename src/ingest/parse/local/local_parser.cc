#include "ingest/parse/local/local_parser.h"

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

}  // namespace

LocalParser::LocalParser(LocalParserOptions options) : options_(std::move(options)) {}

std::string LocalParser::ConfigHash() const {
  return Sha256Hex("local@" + std::to_string(kVersion) +
                   ";pdf=poppler-reading-order;html=gumbo-md;docx=pugixml-md");
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
  switch (type) {
    case DocType::kPdf: {
      INGEST_ASSIGN_OR_RETURN(doc.pages, ExtractPdfPages(input.path, limits.max_pages));
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
  doc.detail_json = detail.dump();
  return doc;
}

}  // namespace ingest::parse
