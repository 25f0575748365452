// The scale-out Store backend: PostgreSQL 15+ through libpqxx (DESIGN §9). Several processes
// on several machines share one database; job claims use FOR UPDATE SKIP LOCKED.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/store/store.h"

namespace ingest::store {

struct PostgresStoreOptions {
  std::string url;  // postgresql://USER[:PASSWORD]@HOST:PORT/DB[?PARAMS] (libpq URI)
  // Most connections the store holds open at once. A call waits for a free one (up to
  // connect_timeout) and then fails with kUnavailable "pool_exhausted".
  int pool_size = 8;
  std::chrono::milliseconds connect_timeout{5000};
  // When set, every connection runs with search_path = schema, so one database can hold
  // several independent ingestd deployments (and tests get an empty schema each). The schema
  // must already exist.
  std::string schema;
  // Shown in pg_stat_activity; lets operators (and tests) tell ingestd's connections apart.
  std::string application_name = "ingestd";
};

// Connects once eagerly so a bad URL or an unreachable server fails at open time
// (kUnavailable "database_unavailable"; kInvalidArgument when the URL is not postgresql:// or
// postgres://, or pool_size < 1). Does not migrate: run `ingestd migrate up` (MigrateTo)
// first, and check with CheckSchemaCurrent.
// `clock` must outlive the store and stamps rows whose time the caller left at 0. The returned
// Store is thread-safe; connections broken by a server restart are discarded and re-opened on
// next use, and the call that hit the broken connection returns kUnavailable.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresStoreOptions& options, Clock* clock);

}  // namespace ingest::store
