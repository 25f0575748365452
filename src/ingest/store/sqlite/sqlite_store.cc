#include "ingest/store/sqlite/sqlite_store.h"

#include <string>
#include <utility>

#include "ingest/store/migrations/migration.h"
#include "ingest/store/migrations/step_traits.h"
#include "ingest/store/sqlite/sqlite_store_impl.h"

namespace ingest::store {

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteStoreOptions& options, Clock* clock) {
  auto store = std::make_unique<sqlite::SqliteStore>(options, clock);
  INGEST_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, Clock* clock) {
  SqliteStoreOptions options;
  options.path = path;
  return OpenSqliteStore(options, clock);
}

namespace sqlite {
namespace {

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at INTEGER NOT NULL); "
    "CREATE TABLE IF NOT EXISTS schema_expand_steps (version INTEGER PRIMARY KEY)";

// Highest applied version on `conn`, 0 when the bookkeeping table does not exist yet.
Result<int> ReadVersion(Connection& conn) {
  INGEST_ASSIGN_OR_RETURN(Stmt exists,
                          conn.Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                                       "name='schema_migrations'"));
  INGEST_ASSIGN_OR_RETURN(bool has_table, exists.Step());
  if (!has_table) return 0;
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn.Prepare("SELECT COALESCE(MAX(version), 0) FROM "
                                               "schema_migrations"));
  INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return 0;
  return static_cast<int>(q.Int(0));
}

}  // namespace

Status SqliteStore::Init() {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  (void)conn;
  return Status::Ok();
}

Result<SqliteStore::WriteScope> SqliteStore::BeginWrite() {
  std::unique_lock<std::mutex> lock(write_mu_);
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(std::unique_ptr<Txn> txn, Txn::Begin(&*conn, Txn::Kind::kWrite));
  return WriteScope{std::move(lock), std::move(conn), std::move(txn)};
}

std::vector<Migration> SqliteStore::KnownMigrations() const {
  return migrations::Describe(migrations::SqliteMigrations());
}

Result<int> SqliteStore::SchemaVersion() {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  return ReadVersion(*conn);
}

Result<bool> SqliteStore::NewerStepsAreExpandOnly(int known_latest) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(Stmt exists,
                          conn->Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                                        "name='schema_expand_steps'"));
  INGEST_ASSIGN_OR_RETURN(bool has_table, exists.Step());
  if (!has_table) return false;
  INGEST_ASSIGN_OR_RETURN(
      Stmt q, conn->Prepare("SELECT (SELECT count(*) FROM schema_migrations WHERE version > ?1) = "
                            "(SELECT count(*) FROM schema_expand_steps WHERE version > ?1)"));
  INGEST_ASSIGN_OR_RETURN(bool row, q.Bind(1, known_latest).Step());
  return row && q.Int(0) == 1;
}

// One step per transaction, re-reading the version inside each so two processes migrating at
// once never apply a step twice: the second waits for the write lock and then sees the work done.
Status SqliteStore::ApplyMigrations(int version, bool allow_data_loss) {
  const auto steps = migrations::SqliteMigrations();
  INGEST_CHECK(migrations::IsDenseAscending(steps));
  const int latest = static_cast<int>(steps.size());
  if (version < 0 || version > latest) {
    return InvalidArgument("migration version " + std::to_string(version) + " out of range 0.." +
                               std::to_string(latest),
                           "bad_migration_version");
  }
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
    INGEST_RETURN_IF_ERROR(w->ExecScript(kCreateMigrationsTable));
    INGEST_ASSIGN_OR_RETURN(int current, ReadVersion(*w.conn));
    if (current > latest) {
      return FailedPrecondition("database schema version " + std::to_string(current) +
                                    " is newer than this build (" + std::to_string(latest) + ")",
                                "schema_too_new");
    }
    if (current == version) return w.txn->Commit();
    if (current < version) {
      const migrations::MigrationStep& step = steps[current];  // version current + 1
      INGEST_RETURN_IF_ERROR(w->ExecScript(step.up_sql)
                                 .WithContext("migration " + std::to_string(step.version) + " up"));
      INGEST_ASSIGN_OR_RETURN(Stmt ins, w->Prepare("INSERT INTO schema_migrations (version, "
                                                   "name, applied_at) VALUES (?, ?, ?)"));
      INGEST_RETURN_IF_ERROR(ins.Bind(1, step.version).Bind(2, step.name).Bind(3, Now()).Exec());
      if (migrations::IsExpandOnly(step.version)) {
        INGEST_ASSIGN_OR_RETURN(Stmt expand,
                                w->Prepare("INSERT INTO schema_expand_steps (version) VALUES (?)"));
        INGEST_RETURN_IF_ERROR(expand.Bind(1, step.version).Exec());
      }
    } else {
      const migrations::MigrationStep& step = steps[current - 1];
      if (const migrations::DownLoss* loss = migrations::DownLossOf(step.version);
          loss != nullptr && !allow_data_loss) {
        INGEST_ASSIGN_OR_RETURN(Stmt count, w->Prepare(loss->count_sql));
        INGEST_ASSIGN_OR_RETURN(bool row, count.Step());
        const int64_t n = row ? count.Int(0) : 0;
        if (n > 0) return migrations::DataLossRefused(step, *loss, n);
      }
      INGEST_RETURN_IF_ERROR(
          w->ExecScript(step.down_sql)
              .WithContext("migration " + std::to_string(step.version) + " down"));
      INGEST_ASSIGN_OR_RETURN(Stmt del,
                              w->Prepare("DELETE FROM schema_migrations WHERE version = ?"));
      INGEST_RETURN_IF_ERROR(del.Bind(1, step.version).Exec());
      INGEST_ASSIGN_OR_RETURN(Stmt unexpand,
                              w->Prepare("DELETE FROM schema_expand_steps WHERE version = ?"));
      INGEST_RETURN_IF_ERROR(unexpand.Bind(1, step.version).Exec());
    }
    INGEST_RETURN_IF_ERROR(w.txn->Commit());
  }
}

}  // namespace sqlite
}  // namespace ingest::store
