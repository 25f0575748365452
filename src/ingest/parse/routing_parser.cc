#include "ingest/parse/routing_parser.h"

#include <nlohmann/json.hpp>

#include "ingest/common/hash.h"
#include "ingest/obs/log.h"
#include "ingest/text/normalize.h"

namespace ingest::parse {
namespace {

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

}  // namespace

bool PdfTextLayerIsPoor(const ParsedDocument& doc, double min_chars_per_page) {
  if (doc.pages.empty()) return true;
  size_t total = 0;
  size_t empty = 0;
  for (const auto& p : doc.pages) {
    const size_t n = NonSpaceChars(p.text);
    total += n;
    if (n < text::kMinCharsForTextPage) ++empty;
  }
  const double average = static_cast<double>(total) / static_cast<double>(doc.pages.size());
  if (average < min_chars_per_page) return true;
  return doc.pages.size() >= text::kMinPagesForEmptyPageRule && empty * 2 > doc.pages.size();
}

AutoParser::AutoParser(const Parser* local, const RemoteParser* remote, AutoParserOptions options)
    : local_(local), remote_(remote), options_(options) {}

AutoParser::AutoParser(std::unique_ptr<const Parser> local,
                       std::unique_ptr<const RemoteParser> remote, AutoParserOptions options)
    : owned_local_(std::move(local)),
      owned_remote_(std::move(remote)),
      local_(owned_local_.get()),
      remote_(owned_remote_.get()),
      options_(options) {}

std::string AutoParser::ConfigHash() const {
  return Sha256Hex("auto@1;local=" + local_->ConfigHash() +
                   ";remote=" + std::string(remote_->Name()) + ":" + remote_->ConfigHash() +
                   ";min_chars_per_page=" + std::to_string(options_.min_chars_per_page));
}

Result<std::optional<ParsedDocument>> AutoParser::ParseWithoutRemote(
    const ParseInput& input) const {
  using Out = std::optional<ParsedDocument>;
  Result<ParsedDocument> local = local_->Parse(input);
  if (!local.ok()) {
    if (local.status().code() == StatusCode::kInvalidArgument &&
        local.status().reason() == "unsupported_type") {
      obs::LogInfo("auto routing: not readable locally, sending to the remote parser",
                   {{"file", input.filename},
                    {"remote", remote_->Name()},
                    {"local_error", local.status().message()}});
      return Out();
    }
    return local.status();
  }
  if (local->type == DocType::kPdf && PdfTextLayerIsPoor(*local, options_.min_chars_per_page)) {
    obs::LogInfo(
        "auto routing: thin PDF text layer, sending to the remote parser",
        {{"file", input.filename}, {"remote", remote_->Name()}, {"pages", local->pages.size()}});
    return Out();
  }
  return Out(std::move(*local));
}

Result<ParsedDocument> AutoParser::Parse(const ParseInput& input) const {
  INGEST_ASSIGN_OR_RETURN(auto here, ParseWithoutRemote(input));
  if (here) return std::move(*here);
  return remote_->Parse(input);
}

}  // namespace ingest::parse
