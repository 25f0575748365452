#include "ingest/store/postgres/postgres_store.h"

#include <string>
#include <utility>

#include "ingest/store/migrations/migration.h"
#include "ingest/store/migrations/step_traits.h"
#include "ingest/store/postgres/postgres_store_impl.h"
#include "ingest/store/postgres/rows.h"

namespace ingest::store {

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresStoreOptions& options,
                                                 Clock* clock) {
  if (options.url.rfind("postgresql://", 0) != 0 && options.url.rfind("postgres://", 0) != 0) {
    return InvalidArgument("PostgreSQL URL must start with postgresql:// or postgres://",
                           "bad_store_url");
  }
  if (options.pool_size < 1) {
    return InvalidArgument("PostgreSQL pool size must be at least 1", "bad_pool_size");
  }
  auto store = std::make_unique<postgres::PostgresStore>(options, clock);
  INGEST_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

namespace postgres {
namespace {

// Every ingestd process migrating the same database takes this transaction-scoped advisory
// lock first, so concurrent `ingestd migrate up` runs apply each step once: the second waits,
// then re-reads the version and finds the step done. ("ingestd" in ASCII.)
constexpr int64_t kMigrationLockKey = 0x696e676573746400;

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at BIGINT NOT NULL); "
    "CREATE TABLE IF NOT EXISTS schema_expand_steps (version INTEGER PRIMARY KEY)";

// Highest applied version, 0 when the bookkeeping table does not exist (in search_path).
int ReadVersion(pqxx::work& w) {
  pqxx::row exists = w.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists[0].as<bool>()) return 0;
  pqxx::row v = w.exec1("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  return static_cast<int>(Int(v[0]));
}

}  // namespace

PostgresStore::PostgresStore(const PostgresStoreOptions& options, Clock* clock)
    : clock_(clock),
      pool_(PoolOptions{options.url, options.pool_size, options.connect_timeout, options.schema,
                        options.application_name}) {}

Status PostgresStore::Init() {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  (void)conn;
  return Status::Ok();
}

std::vector<Migration> PostgresStore::KnownMigrations() const {
  return migrations::Describe(migrations::PostgresMigrations());
}

Result<int> PostgresStore::SchemaVersion() {
  return Transact("read schema version",
                  [](pqxx::work& w) -> Result<int> { return ReadVersion(w); });
}

Result<bool> PostgresStore::NewerStepsAreExpandOnly(int known_latest) {
  return Transact("read schema expand steps", [known_latest](pqxx::work& w) -> Result<bool> {
    if (!w.exec1("SELECT to_regclass('schema_expand_steps') IS NOT NULL")[0].as<bool>()) {
      return false;
    }
    return w
        .exec_params1(
            "SELECT (SELECT count(*) FROM schema_migrations WHERE version > $1) = "
            "(SELECT count(*) FROM schema_expand_steps WHERE version > $1)",
            known_latest)[0]
        .as<bool>();
  });
}

// One step per transaction, each under the advisory lock and re-reading the version, so a
// crash between steps leaves a consistent schema and concurrent migrators never collide.
Status PostgresStore::ApplyMigrations(int version, bool allow_data_loss) {
  const auto steps = migrations::PostgresMigrations();
  INGEST_CHECK(migrations::IsDenseAscending(steps));
  const int latest = static_cast<int>(steps.size());
  if (version < 0 || version > latest) {
    return InvalidArgument("migration version " + std::to_string(version) + " out of range 0.." +
                               std::to_string(latest),
                           "bad_migration_version");
  }
  for (;;) {
    bool done = false;
    Status st = Transact("migrate", [&](pqxx::work& w) -> Status {
      w.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
      w.exec(std::string(kCreateMigrationsTable));
      const int current = ReadVersion(w);
      if (current > latest) {
        return FailedPrecondition("database schema version " + std::to_string(current) +
                                      " is newer than this build (" + std::to_string(latest) + ")",
                                  "schema_too_new");
      }
      if (current == version) {
        done = true;
        return Status::Ok();
      }
      if (current < version) {
        const migrations::MigrationStep& step = steps[current];  // version current + 1
        w.exec(std::string(step.up_sql));
        w.exec_params(
            "INSERT INTO schema_migrations (version, name, applied_at) "
            "VALUES ($1, $2, $3)",
            step.version, std::string(step.name), Now());
        if (migrations::IsExpandOnly(step.version)) {
          w.exec_params("INSERT INTO schema_expand_steps (version) VALUES ($1)", step.version);
        }
      } else {
        const migrations::MigrationStep& step = steps[current - 1];
        if (const migrations::DownLoss* loss = migrations::DownLossOf(step.version);
            loss != nullptr && !allow_data_loss) {
          const int64_t n = w.exec1(std::string(loss->count_sql))[0].as<int64_t>();
          if (n > 0) return migrations::DataLossRefused(step, *loss, n);
        }
        w.exec(std::string(step.down_sql));
        w.exec_params("DELETE FROM schema_migrations WHERE version = $1", step.version);
        w.exec_params("DELETE FROM schema_expand_steps WHERE version = $1", step.version);
      }
      return Status::Ok();
    });
    INGEST_RETURN_IF_ERROR(st);
    if (done) return Status::Ok();
  }
}

}  // namespace postgres
}  // namespace ingest::store
