#include "ingest/parse/routing_parser.h"

#include <algorithm>
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

namespace {

std::string RouteKey(const ParseInput& input) {
  return input.sha256.empty() ? input.path : input.sha256;
}

// 1-based pages -> LlamaParse's 0-based target_pages list ("0,3-4").
std::string TargetPagesList(const std::vector<int>& pages) {
  std::string out;
  for (size_t i = 0; i < pages.size();) {
    size_t j = i;
    while (j + 1 < pages.size() && pages[j + 1] == pages[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(pages[i] - 1);
    if (j > i) out += "-" + std::to_string(pages[j] - 1);
    i = j + 1;
  }
  return out;
}

// Pages local OCR read poorly or not at all, ascending.
std::vector<int> PagesOcrCouldNotRead(const ParsedDocument& doc) {
  std::vector<int> pages;
  nlohmann::json d = nlohmann::json::parse(doc.detail_json, nullptr, false);
  if (!d.is_object()) return pages;
  for (const auto& p : d.value("ocr_low_confidence_pages", nlohmann::json::array())) {
    if (p.is_number_integer()) pages.push_back(p.get<int>());
  }
  for (const auto& f : d.value("ocr_failed_pages", nlohmann::json::array())) {
    if (f.is_object() && f.contains("page")) pages.push_back(f.value("page", 0));
  }
  std::sort(pages.begin(), pages.end());
  pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
  return pages;
}

}  // namespace

Result<std::optional<AutoParser::Routed>> AutoParser::Route(const ParseInput& input,
                                                            ParsedDocument* local_doc) const {
  using Out = std::optional<Routed>;
  Result<ParsedDocument> local = local_->Parse(input);
  if (!local.ok()) {
    if (local.status().code() == StatusCode::kInvalidArgument &&
        local.status().reason() == "unsupported_type") {
      obs::LogInfo("auto routing: not readable locally, sending to the remote parser",
                   {{"file", input.filename},
                    {"remote", remote_->Name()},
                    {"local_error", local.status().message()}});
      return Out(Routed{});
    }
    return local.status();
  }
  // Pages OCR read poorly go remote alone; only a document that is thin without them (no OCR,
  // or OCR found nothing) goes remote whole.
  std::vector<int> poor = PagesOcrCouldNotRead(*local);
  if (local->type == DocType::kPdf && !poor.empty()) {
    obs::LogInfo("auto routing: pages local OCR could not read well go to the remote parser",
                 {{"file", input.filename},
                  {"remote", remote_->Name()},
                  {"pages", TargetPagesList(poor)},
                  {"of", local->pages.size()}});
    return Out(Routed{std::move(*local), std::move(poor)});
  }
  if (local->type == DocType::kPdf && PdfTextLayerIsPoor(*local, options_.min_chars_per_page)) {
    obs::LogInfo(
        "auto routing: thin PDF text layer, sending to the remote parser",
        {{"file", input.filename}, {"remote", remote_->Name()}, {"pages", local->pages.size()}});
    return Out(Routed{});
  }
  *local_doc = std::move(*local);
  return Out();
}

Result<AutoParser::Routed> AutoParser::RoutedFor(const ParseInput& input) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = routed_.find(RouteKey(input)); it != routed_.end()) return it->second;
  }
  ParsedDocument unused;
  INGEST_ASSIGN_OR_RETURN(std::optional<Routed> routed, Route(input, &unused));
  if (!routed) return Routed{};  // routing changed its mind (it cannot: deterministic)
  std::lock_guard<std::mutex> lock(mu_);
  return routed_.emplace(RouteKey(input), std::move(*routed)).first->second;
}

Result<ParseInput> AutoParser::WithTargets(const ParseInput& input) const {
  INGEST_ASSIGN_OR_RETURN(Routed routed, RoutedFor(input));
  ParseInput out = input;
  if (!routed.remote_pages.empty()) out.target_pages = TargetPagesList(routed.remote_pages);
  return out;
}

Result<std::string> AutoParser::Submit(const ParseInput& input) const {
  INGEST_ASSIGN_OR_RETURN(ParseInput routed, WithTargets(input));
  return remote_->Submit(routed);
}

Result<RemoteParser::SubmitEstimate> AutoParser::EstimateSubmit(const ParseInput& input) const {
  INGEST_ASSIGN_OR_RETURN(ParseInput routed, WithTargets(input));
  return remote_->EstimateSubmit(routed);
}

Result<RemoteParseStatus> AutoParser::Poll(const ParseInput& input,
                                           std::string_view remote_job_id) const {
  INGEST_ASSIGN_OR_RETURN(RemoteParseStatus status, remote_->Poll(input, remote_job_id));
  if (!status.done()) return status;
  INGEST_ASSIGN_OR_RETURN(ParsedDocument merged, MergeRouted(input, std::move(*status.document)));
  status.document = std::move(merged);
  return status;
}

Result<ParsedDocument> AutoParser::MergeRouted(const ParseInput& input,
                                               ParsedDocument remote) const {
  INGEST_ASSIGN_OR_RETURN(Routed routed, RoutedFor(input));
  {
    std::lock_guard<std::mutex> lock(mu_);
    routed_.erase(RouteKey(input));
  }
  if (routed.remote_pages.empty()) return remote;  // the whole document went remote
  // Merge: the local document with the routed pages replaced by the remote's. The remote
  // numbers target_pages pages by their place in the file.
  std::map<int, std::string> remote_text;
  for (auto& p : remote.pages) remote_text[p.page] = std::move(p.text);
  nlohmann::json local_detail = nlohmann::json::parse(routed.local.detail_json, nullptr, false);
  nlohmann::json detail = nlohmann::json::parse(remote.detail_json, nullptr, false);
  if (!detail.is_object()) detail = nlohmann::json::object();
  std::vector<std::string> page_parsers;
  if (local_detail.is_object() && local_detail.contains("page_parsers")) {
    page_parsers = local_detail["page_parsers"].get<std::vector<std::string>>();
  }
  page_parsers.resize(routed.local.pages.size(), routed.local.parser);
  nlohmann::json routed_pages = nlohmann::json::array();
  for (int page : routed.remote_pages) {
    auto it = remote_text.find(page);
    if (it == remote_text.end()) continue;  // the remote returned nothing: keep the OCR text
    for (auto& p : routed.local.pages) {
      if (p.page == page) p.text = std::move(it->second);
    }
    page_parsers[static_cast<size_t>(page - 1)] = remote.parser;
    routed_pages.push_back(page);
  }
  detail["page_parsers"] = page_parsers;
  detail["ocr_routed_pages"] = routed_pages;
  if (local_detail.is_object()) {
    for (const char* key : {"ocr", "ocr_low_confidence_pages", "ocr_failed_pages"}) {
      if (local_detail.contains(key)) detail[key] = local_detail[key];
    }
  }
  // The parser name stays the remote's: the parse stage settles the remote job's bill under
  // it (and "page_parsers" says which pages it produced).
  remote.pages = std::move(routed.local.pages);
  remote.type = routed.local.type;
  remote.detail_json = detail.dump();
  return remote;
}

Result<std::optional<ParsedDocument>> AutoParser::ParseWithoutRemote(
    const ParseInput& input) const {
  using Out = std::optional<ParsedDocument>;
  ParsedDocument local;
  INGEST_ASSIGN_OR_RETURN(std::optional<Routed> routed, Route(input, &local));
  if (!routed) return Out(std::move(local));
  std::lock_guard<std::mutex> lock(mu_);
  routed_[RouteKey(input)] = std::move(*routed);
  return Out();
}

Result<ParsedDocument> AutoParser::Parse(const ParseInput& input) const {
  INGEST_ASSIGN_OR_RETURN(auto here, ParseWithoutRemote(input));
  if (here) return std::move(*here);
  INGEST_ASSIGN_OR_RETURN(ParseInput routed, WithTargets(input));
  INGEST_ASSIGN_OR_RETURN(ParsedDocument remote, remote_->Parse(routed));
  return MergeRouted(input, std::move(remote));
}

}  // namespace ingest::parse
