// The embedded Store backend: one SQLite database file in WAL mode (DESIGN §9, one machine).
#pragma once

#include <memory>
#include <string>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/store/store.h"

namespace ingest::store {

struct SqliteStoreOptions {
  std::string path;  // database file; created if missing
  // How long a write waits for another process holding SQLite's write lock before failing with
  // kUnavailable.
  int busy_timeout_ms = 5000;
};

// Opens (creating if needed) the database. Does not migrate: call MigrateTo (`ingestd migrate
// up`) or CheckSchemaCurrent. `clock` must outlive the store and stamps rows whose time the
// caller left at 0. The returned Store is thread-safe and safe to share with other processes
// opening the same file.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteStoreOptions& options, Clock* clock);
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, Clock* clock);

}  // namespace ingest::store
