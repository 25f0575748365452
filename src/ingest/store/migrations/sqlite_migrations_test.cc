// Migrations on SQLite, checked against the file itself (the conformance suite only sees the
// Store interface).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <set>
#include <string>

#include "ingest/store/migrations/migration.h"
#include "ingest/store/sqlite/sqlite_store.h"

namespace ingest::store {
namespace {

namespace fs = std::filesystem;

class SqliteMigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ingest-mig-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/ingest.db";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Names of user tables and indexes, read with a separate raw connection.
  std::set<std::string> Objects(const char* type) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT name FROM sqlite_master WHERE type = ? AND name NOT "
                                 "LIKE 'sqlite_%'",
                                 -1, &st, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    std::set<std::string> out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      out.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }

  FakeClock clock_;
  std::string dir_, path_;
};

TEST_F(SqliteMigrationsTest, ListIsDenseAndNamed) {
  auto steps = migrations::SqliteMigrations();
  ASSERT_GE(steps.size(), 3u);
  EXPECT_TRUE(migrations::IsDenseAscending(steps));
  for (const auto& s : steps) {
    EXPECT_FALSE(s.name.empty());
    EXPECT_FALSE(s.up_sql.empty());
    EXPECT_FALSE(s.down_sql.empty());
  }
}

TEST_F(SqliteMigrationsTest, UpCreatesEveryTableAndDownRemovesThem) {
  auto store = OpenSqliteStore(path_, &clock_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*(*store)->SchemaVersion(), 0);
  ASSERT_TRUE((*store)->MigrateTo(3).ok());

  const std::set<std::string> expected = {
      "schema_migrations", "documents", "jobs",    "stage_timings", "parses", "chunks", "vectors",
      "document_index",    "ledger",    "budgets", "limits",        "events", "workers"};
  std::set<std::string> expected3 = expected;
  expected3.insert("provider_state");
  EXPECT_EQ(Objects("table"), expected3);
  EXPECT_TRUE(Objects("index").contains("ledger_reserved_expiry"));
  EXPECT_TRUE(Objects("index").contains("ledger_created"));
  EXPECT_TRUE(Objects("index").contains("jobs_runnable"));
  EXPECT_TRUE(Objects("index").contains("chunks_document"));
  EXPECT_TRUE(Objects("index").contains("ledger_job_state"));

  ASSERT_TRUE((*store)->MigrateTo(2).ok());
  EXPECT_EQ(Objects("table"), expected);
  EXPECT_FALSE(Objects("index").contains("ledger_reserved_expiry"));
  EXPECT_FALSE(Objects("index").contains("ledger_created"));
  EXPECT_TRUE(Objects("index").contains("ledger_job_state"));

  ASSERT_TRUE((*store)->MigrateTo(1).ok());
  EXPECT_FALSE(Objects("index").contains("ledger_job_state"));
  EXPECT_TRUE(Objects("table").contains("jobs"));

  ASSERT_TRUE((*store)->MigrateTo(0).ok());
  EXPECT_EQ(Objects("table"), std::set<std::string>{"schema_migrations"});
  EXPECT_TRUE(Objects("index").empty());
  EXPECT_EQ(*(*store)->SchemaVersion(), 0);
}

// Migration 3 adds columns to tables that hold data; down must remove exactly those columns and
// keep the rows.
TEST_F(SqliteMigrationsTest, GovernorColumnsComeAndGoWithTheirRows) {
  auto store = OpenSqliteStore(path_, &clock_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->MigrateTo(2).ok());
  // AppendLedger of this build writes migration 3's columns, so insert with raw SQL at v2.
  auto exec = [&](const char* sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  };
  exec(
      "INSERT INTO ledger (id, service, operation, cost_micros, state, created_at, updated_at) "
      "VALUES ('kept', 'openai', 'embed', 42, 'settled', 1, 1)");
  exec(
      "INSERT INTO limits (provider_key, kind, capacity, available, refill_per_sec, "
      "updated_at) VALUES ('k', 'requests', 10, 10, 1, 1)");
  ASSERT_TRUE((*store)->MigrateTo(3).ok());
  auto rows = (*store)->ListLedger(std::nullopt);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].cost_micros, 42);
  EXPECT_EQ((*rows)[0].estimate_micros, 0);
  EXPECT_EQ((*rows)[0].expires_at, 0);
  EXPECT_EQ((*rows)[0].note, "");
  auto buckets = (*store)->ListRateBuckets(1);
  ASSERT_TRUE(buckets.ok()) << buckets.status().ToString();
  ASSERT_EQ(buckets->size(), 1u);
  EXPECT_EQ((*buckets)[0].blocked_until, 0);

  ASSERT_TRUE((*store)->MigrateTo(2).ok());
  EXPECT_FALSE(Objects("table").contains("provider_state"));
  // Back at v2 the new columns are gone (an insert naming them fails) and the rows remain.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "SELECT note FROM ledger", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "SELECT blocked_until FROM limits", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT cost_micros FROM ledger WHERE id = 'kept'", -1, &st, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(st, 0), 42);
  sqlite3_finalize(st);
  sqlite3_close(db);
  ASSERT_TRUE((*store)->MigrateTo(3).ok());  // and up again
}

TEST_F(SqliteMigrationsTest, SchemaVersionIsSharedAcrossOpens) {
  {
    auto store = OpenSqliteStore(path_, &clock_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->MigrateTo(static_cast<int>((*store)->KnownMigrations().size())).ok());
  }
  auto again = OpenSqliteStore(path_, &clock_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->SchemaVersion(), static_cast<int>((*again)->KnownMigrations().size()));
  EXPECT_TRUE((*again)->CheckSchemaCurrent().ok());
}

TEST_F(SqliteMigrationsTest, RefusesDatabaseNewerThanBuild) {
  auto store = OpenSqliteStore(path_, &clock_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->MigrateTo(2).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO schema_migrations (version, name, applied_at) VALUES "
                         "(99, 'future', 0)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Status st = (*store)->CheckSchemaCurrent();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.reason(), "schema_too_new");
  EXPECT_EQ((*store)->MigrateTo(2).code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteMigrationsTest, OpenFailsOnUnwritablePath) {
  auto store = OpenSqliteStore(dir_ + "/no/such/dir/ingest.db", &clock_);
  EXPECT_FALSE(store.ok());
}

}  // namespace
}  // namespace ingest::store
