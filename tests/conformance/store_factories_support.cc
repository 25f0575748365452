#include "store_factories_support.h"

#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <string>

#include "ingest/common/check.h"
#include "ingest/store/sqlite/sqlite_store.h"

namespace ingest::testing {
namespace {

// Temporary folders created for the run, removed at exit (a store may still be open until its
// test's TearDown, so removal waits for process end).
class TempDirs {
 public:
  ~TempDirs() {
    for (const std::string& d : dirs_) {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
  }
  std::string Make() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ingest-store-XXXXXX").string();
    INGEST_CHECK(::mkdtemp(tmpl.data()) != nullptr);
    std::lock_guard<std::mutex> lock(mu_);
    dirs_.push_back(tmpl);
    return tmpl;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> dirs_;
};

TempDirs& Dirs() {
  static TempDirs dirs;
  return dirs;
}

std::unique_ptr<store::Store> MakeSqlite(Clock* clock) {
  auto st = store::OpenSqliteStore(Dirs().Make() + "/ingest.db", clock);
  INGEST_CHECK(st.ok());
  return std::move(st).value();
}

}  // namespace

std::vector<StoreFactory> StoreFactories() {
  std::vector<StoreFactory> out;
  out.push_back({"sqlite", MakeSqlite});
  return out;
}

}  // namespace ingest::testing
