#include "ingest/app/ingest_files.h"

#include <algorithm>
#include <filesystem>
#include <set>

namespace ingest::app {

namespace fs = std::filesystem;

FoundFiles FindFiles(const std::vector<std::string>& paths) {
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
    for (const auto& f : found) add(f);
  }
  return out;
}

}  // namespace ingest::app
