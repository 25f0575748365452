#include "ingest/store/migrations/migration.h"

#include <string>

namespace ingest::store::migrations {

std::vector<Migration> Describe(std::span<const MigrationStep> steps) {
  std::vector<Migration> out;
  out.reserve(steps.size());
  for (const MigrationStep& s : steps) out.push_back({s.version, std::string(s.name)});
  return out;
}

bool IsDenseAscending(std::span<const MigrationStep> steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].version != static_cast<int>(i) + 1) return false;
  }
  return true;
}

}  // namespace ingest::store::migrations
