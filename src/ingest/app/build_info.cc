#include "ingest/app/build_info.h"

#include "ingest/store/migrations/migration.h"

namespace ingest::app {

int LatestSchemaVersion() {
  const auto steps = store::migrations::SqliteMigrations();
  return steps.empty() ? 0 : steps.back().version;
}

std::string VersionLine() {
  const BuildInfo& b = GetBuildInfo();
  return "ingestd " + std::string(b.version) + " (commit " + std::string(b.commit) + ", " +
         std::string(b.build_type) + ")";
}

}  // namespace ingest::app
