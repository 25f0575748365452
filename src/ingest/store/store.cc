#include "ingest/store/store.h"

#include <string>

namespace ingest::store {

Status Store::CheckSchemaCurrent() {
  INGEST_ASSIGN_OR_RETURN(int current, SchemaVersion());
  const std::vector<Migration> known = KnownMigrations();
  const int latest = known.empty() ? 0 : known.back().version;
  if (current == latest) return Status::Ok();
  if (current > latest) {
    INGEST_ASSIGN_OR_RETURN(bool compatible, NewerStepsAreExpandOnly(latest));
    if (compatible) return Status::Ok();
    return FailedPrecondition("database schema is at version " + std::to_string(current) +
                                  ", newer than this build knows (" + std::to_string(latest) +
                                  "); upgrade ingestd",
                              "schema_too_new");
  }
  return FailedPrecondition("database schema is at version " + std::to_string(current) +
                                ", latest is " + std::to_string(latest) +
                                "; run `ingestd migrate up`",
                            "schema_outdated");
}

Status Store::ScanIndex(const VectorSpace& space, std::optional<std::string_view> tenant,
                        const std::function<void(const IndexedChunk&)>& fn) {
  IndexFilter filter;
  if (tenant) filter.tenant = std::string(*tenant);
  return ScanIndex(space, filter, fn);
}

}  // namespace ingest::store
