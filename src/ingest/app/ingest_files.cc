#include "ingest/app/ingest_files.h"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <set>

#include "ingest/parse/detect.h"

namespace ingest::app {

namespace fs = std::filesystem;

namespace {

// Extensions of the types the parsers read: a file claiming one is always submitted.
constexpr std::array<std::string_view, 13> kDocumentExtensions = {
    "pdf",  "docx", "md",  "markdown", "html", "htm", "txt",
    "text", "png",  "jpg", "jpeg",     "tif",  "tiff"};

// A ZIP is read whole (its directory is at the end) up to this size; larger ones are not DOCX
// candidates worth reading here (the parse stage still enforces parse.max_bytes).
constexpr std::uintmax_t kMaxZipProbeBytes = 64u << 20;

// `glob` against the path as found, the path relative to the folder given, and the base name.
bool Matches(const std::string& glob, const fs::path& path, const fs::path& root) {
  const std::string relative = path.lexically_relative(root).string();
  return fnmatch(glob.c_str(), path.c_str(), 0) == 0 ||
         fnmatch(glob.c_str(), relative.c_str(), 0) == 0 ||
         fnmatch(glob.c_str(), path.filename().c_str(), 0) == 0;
}

}  // namespace

std::string UnsupportedReason(const std::string& path) {
  const std::string ext = parse::LowerExtension(path);
  if (std::find(kDocumentExtensions.begin(), kDocumentExtensions.end(), ext) !=
      kDocumentExtensions.end()) {
    return "";
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";  // unreadable: submission reports it
  std::string head(parse::kDetectHeadBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.rfind("PK\x03\x04", 0) == 0 && head.size() == parse::kDetectHeadBytes) {
    std::error_code ec;
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec || size > kMaxZipProbeBytes) return "";
    std::string rest(static_cast<size_t>(size) - head.size(), '\0');
    in.read(rest.data(), static_cast<std::streamsize>(rest.size()));
    rest.resize(static_cast<size_t>(in.gcount()));
    head += rest;
  }
  if (head.empty()) return "";  // an empty file: submission reports empty_document
  if (parse::DetectType(head, path) != parse::DocType::kUnknown) return "";
  return "unsupported type: " + parse::DescribeUnsupported(head, path);
}

FoundFiles FindFiles(const std::vector<std::string>& paths, const FindOptions& options) {
  FoundFiles out;
  std::set<std::string> seen;
  auto add = [&](const std::string& p) {
    if (seen.insert(p).second) out.files.push_back(p);
  };
  for (const std::string& p : paths) {
    std::error_code ec;
    fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      out.errors.push_back(p + ": no such file or directory");
      continue;
    }
    if (fs::is_regular_file(st)) {
      add(p);
      continue;
    }
    if (!fs::is_directory(st)) {
      out.errors.push_back(p + ": not a regular file or directory");
      continue;
    }
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      out.errors.push_back(p + ": " + ec.message());
      continue;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) {
        out.errors.push_back(p + ": " + ec.message());
        break;
      }
      const fs::path& entry = it->path();
      if (entry.filename().string().rfind('.', 0) == 0) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (it->is_symlink(ec) && it->is_directory(ec)) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file(ec)) found.push_back(entry.string());
    }
    std::sort(found.begin(), found.end());
    for (const auto& f : found) {
      if (seen.count(f) > 0) continue;
      const fs::path fp(f);
      if (!options.include.empty() &&
          std::none_of(options.include.begin(), options.include.end(),
                       [&](const std::string& g) { return Matches(g, fp, p); })) {
        out.skipped.push_back({f, "not matched by --include"});
        continue;
      }
      auto excluded = std::find_if(options.exclude.begin(), options.exclude.end(),
                                   [&](const std::string& g) { return Matches(g, fp, p); });
      if (excluded != options.exclude.end()) {
        out.skipped.push_back({f, "excluded by --exclude " + *excluded});
        continue;
      }
      if (std::string why = UnsupportedReason(f); !why.empty()) {
        out.skipped.push_back({f, why});
        continue;
      }
      add(f);
    }
  }
  return out;
}

}  // namespace ingest::app
