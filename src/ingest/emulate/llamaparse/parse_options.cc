#include "ingest/emulate/llamaparse/parse_options.h"

#include <charconv>

namespace ingest::emulate::llamaparse {
namespace {

bool Truthy(const std::map<std::string, std::string>& f, const std::string& name) {
  auto it = f.find(name);
  return it != f.end() && (it->second == "true" || it->second == "True" || it->second == "1");
}

bool ParseInt(std::string_view s, int64_t* out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::map<std::string, double> DefaultCreditsPerPage() {
  return {{"parse_page_without_llm", 1},     {"fast_mode", 1},
          {"parse_page_with_llm", 3},        {"parse_page_with_lvm", 3},
          {"parse_document_with_llm", 3},    {"parse_document_with_lvm", 3},
          {"parse_page_with_agent", 10},     {"parse_page_with_layout_agent", 10},
          {"parse_document_with_agent", 10}, {"premium_mode", 45}};
}

std::string ParseOptions::CacheKey(std::string_view file_sha256) const {
  return std::string(file_sha256) + "|" + mode + "|" + target_pages_spec + "|" +
         std::to_string(max_pages);
}

Result<std::set<int>> ParseTargetPages(std::string_view spec) {
  std::set<int> pages;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string_view::npos) comma = spec.size();
    std::string_view part = spec.substr(pos, comma - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    const size_t dash = part.find('-');
    int64_t lo = 0, hi = 0;
    const bool ok = dash == std::string_view::npos ? ParseInt(part, &lo) && ((hi = lo), true)
                                                   : ParseInt(part.substr(0, dash), &lo) &&
                                                         ParseInt(part.substr(dash + 1), &hi);
    if (!ok || lo < 0 || hi < lo || hi > 100'000) {
      return InvalidArgument("Invalid target_pages: '" + std::string(spec) + "'");
    }
    for (int64_t p = lo; p <= hi; ++p) pages.insert(static_cast<int>(p));
    pos = comma + 1;
  }
  return pages;
}

Result<ParseOptions> ReadParseOptions(const std::map<std::string, std::string>& f,
                                      const std::map<std::string, double>& credits_per_page) {
  ParseOptions o;
  if (Truthy(f, "fast_mode")) {
    o.mode = "fast_mode";
  } else if (Truthy(f, "premium_mode")) {
    o.mode = "premium_mode";
  } else if (auto it = f.find("parse_mode"); it != f.end() && !it->second.empty()) {
    o.mode = it->second;
  }
  auto credit = credits_per_page.find(o.mode);
  if (credit == credits_per_page.end()) {
    return InvalidArgument("Invalid parse_mode: '" + o.mode + "'");
  }
  o.credits_per_page = credit->second;
  if (auto it = f.find("target_pages"); it != f.end() && !it->second.empty()) {
    o.target_pages_spec = it->second;
    INGEST_ASSIGN_OR_RETURN(o.target_pages, ParseTargetPages(it->second));
  }
  if (auto it = f.find("max_pages"); it != f.end() && !it->second.empty()) {
    if (!ParseInt(it->second, &o.max_pages) || o.max_pages < 0) {
      return InvalidArgument("Invalid max_pages: '" + it->second + "'");
    }
  }
  if (auto it = f.find("page_separator"); it != f.end()) o.page_separator = it->second;
  if (auto it = f.find("webhook_url"); it != f.end()) o.webhook_url = it->second;
  if (auto it = f.find("job_timeout_in_seconds"); it != f.end() && !it->second.empty()) {
    double seconds = 0;
    const auto [ptr, ec] =
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), seconds);
    if (ec != std::errc() || seconds < 120) {
      return InvalidArgument("job_timeout_in_seconds must be a number >= 120");
    }
    o.job_timeout_s = static_cast<int64_t>(seconds);
  }
  o.invalidate_cache = Truthy(f, "invalidate_cache");
  o.do_not_cache = Truthy(f, "do_not_cache");
  return o;
}

const std::set<std::string>& SupportedExtensions() {
  static const std::set<std::string> kExts = {
      ".pdf",   ".doc",  ".docx", ".docm", ".dot",  ".dotm",    ".rtf",  ".txt",  ".xml",  ".epub",
      ".pages", ".key",  ".hwp",  ".wpd",  ".wps",  ".abw",     ".zabw", ".602",  ".cgm",  ".cwk",
      ".lwp",   ".mw",   ".mcw",  ".pbd",  ".sda",  ".sdd",     ".sdp",  ".sdw",  ".sgl",  ".sti",
      ".sxi",   ".sxw",  ".stw",  ".sxg",  ".uof",  ".uop",     ".uot",  ".vor",  ".ppt",  ".pptm",
      ".pptx",  ".pot",  ".potm", ".potx", ".jpg",  ".jpeg",    ".png",  ".gif",  ".bmp",  ".svg",
      ".tiff",  ".webp", ".htm",  ".html", ".xlsx", ".xls",     ".xlsm", ".xlsb", ".xlw",  ".csv",
      ".tsv",   ".dif",  ".sylk", ".slk",  ".prn",  ".numbers", ".et",   ".ods",  ".fods", ".uos1",
      ".uos2",  ".dbf",  ".wk1",  ".wk2",  ".wk3",  ".wk4",     ".wks",  ".123",  ".wq1",  ".wq2",
      ".wb1",   ".wb2",  ".wb3",  ".qpw",  ".xlr",  ".eth",     ".mp3",  ".mp4",  ".mpeg", ".mpga",
      ".m4a",   ".wav",  ".webm", ".md"};
  return kExts;
}

bool IsSupportedExtension(std::string_view ext) {
  return SupportedExtensions().count(std::string(ext)) > 0;
}

}  // namespace ingest::emulate::llamaparse
