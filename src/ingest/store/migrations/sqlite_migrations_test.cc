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

  const std::set<std::string> expected = {"schema_migrations",
                                          "schema_expand_steps",
                                          "documents",
                                          "jobs",
                                          "stage_timings",
                                          "parses",
                                          "chunks",
                                          "vectors",
                                          "document_index",
                                          "ledger",
                                          "budgets",
                                          "limits",
                                          "events",
                                          "workers"};
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
  EXPECT_EQ(Objects("table"), (std::set<std::string>{"schema_migrations", "schema_expand_steps"}));
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
  // The store of this build reads the latest schema (nano-dollars since migration 5).
  ASSERT_TRUE((*store)->MigrateTo(static_cast<int>((*store)->KnownMigrations().size())).ok());
  auto rows = (*store)->ListLedger(std::nullopt);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].cost_nanos, 42000);
  EXPECT_EQ((*rows)[0].estimate_nanos, 0);
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

// Migration 5 (micro- to nano-dollars) on a populated database: every amount x1000 going up,
// back exactly going down (all values were whole micro-dollars), and a nano amount that is not a
// whole micro-dollar rounds up (ledger) or down (budget limit) when going down.
TEST_F(SqliteMigrationsTest, NanoDollarMigrationConvertsEveryAmount) {
  auto store = OpenSqliteStore(path_, &clock_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->MigrateTo(4).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  auto exec = [&](const std::string& sql) {
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db);
  };
  auto int_of = [&](const std::string& sql) -> int64_t {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db);
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  };
  // 1000 rows: settled, reserved and released, estimates set, as micro-dollars.
  exec("BEGIN");
  for (int i = 0; i < 1000; ++i) {
    const char* state = i % 3 == 0 ? "settled" : (i % 3 == 1 ? "reserved" : "released");
    exec(
        "INSERT INTO ledger (id, service, operation, cost_micros, estimate_micros, state, "
        "created_at, updated_at) VALUES ('r" +
        std::to_string(i) + "', 'openai', 'embed', " + std::to_string(i * 7 + 1) + ", " +
        std::to_string(i * 11) + ", '" + state + "', 1, 1)");
  }
  exec("COMMIT");
  exec(
      "INSERT INTO budgets (scope, scope_key, period, limit_micros, soft_ratio, updated_at) "
      "VALUES ('global', '', 'day', 50000, 0.8, 1), ('tenant', 'a', 'month', 1, 0.5, 1)");
  const int64_t cost_sum = int_of("SELECT SUM(cost_micros) FROM ledger");
  const int64_t estimate_sum = int_of("SELECT SUM(estimate_micros) FROM ledger");

  ASSERT_TRUE((*store)->MigrateTo(static_cast<int>((*store)->KnownMigrations().size())).ok());
  EXPECT_EQ(int_of("SELECT SUM(cost_nanos) FROM ledger"), cost_sum * 1000);
  EXPECT_EQ(int_of("SELECT SUM(estimate_nanos) FROM ledger"), estimate_sum * 1000);
  EXPECT_EQ(int_of("SELECT cost_nanos FROM ledger WHERE id = 'r999'"), (999 * 7 + 1) * 1000);
  EXPECT_EQ(int_of("SELECT limit_nanos FROM budgets WHERE scope = 'global'"), 50000000);
  EXPECT_EQ(int_of("SELECT limit_nanos FROM budgets WHERE scope = 'tenant'"), 1000);
  // The store reads the converted rows: the budget's spend is in nanos too.
  auto rows = (*store)->ListLedger(std::nullopt);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1000u);
  auto budgets = (*store)->ListBudgetStatus(1);
  ASSERT_TRUE(budgets.ok()) << budgets.status().ToString();
  ASSERT_EQ(budgets->size(), 2u);
  EXPECT_EQ((*budgets)[0].budget.hard_nanos, 50000000);

  ASSERT_TRUE((*store)->MigrateTo(4).ok());  // lossless down
  EXPECT_EQ(int_of("SELECT SUM(cost_micros) FROM ledger"), cost_sum);
  EXPECT_EQ(int_of("SELECT SUM(estimate_micros) FROM ledger"), estimate_sum);
  EXPECT_EQ(int_of("SELECT limit_micros FROM budgets WHERE scope = 'global'"), 50000);

  ASSERT_TRUE((*store)->MigrateTo(5).ok());  // a sub-micro amount cannot go down exactly
  exec("UPDATE ledger SET cost_nanos = 15560 WHERE id = 'r0'");
  exec("UPDATE budgets SET limit_nanos = 1999 WHERE scope = 'tenant'");
  // That loses precision: refused unless allowed (migrations/step_traits.h).
  EXPECT_EQ((*store)->MigrateTo(4).reason(), "data_loss_refused");
  ASSERT_TRUE((*store)->MigrateTo(4, /*allow_data_loss=*/true).ok());
  EXPECT_EQ(int_of("SELECT cost_micros FROM ledger WHERE id = 'r0'"), 16);          // never below
  EXPECT_EQ(int_of("SELECT limit_micros FROM budgets WHERE scope = 'tenant'"), 1);  // never above
  sqlite3_close(db);
}

// Migration ledger_sent (issue 12): rows of older binaries, which never mark a send, read as
// "not recorded" and are therefore presumed sent (an orphan is settled, never released); the
// down step refuses while a reservation that was never sent is open.
TEST_F(SqliteMigrationsTest, LedgerSentDefaultsToNotRecordedAndItsDownCountsUnsentReservations) {
  auto store = OpenSqliteStore(path_, &clock_);
  ASSERT_TRUE(store.ok());
  int sent_step = 0;
  for (const auto& m : (*store)->KnownMigrations()) {
    if (m.name == "ledger_sent") sent_step = m.version;
  }
  ASSERT_GT(sent_step, 0);
  ASSERT_TRUE((*store)->MigrateTo(sent_step - 1).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO ledger (id, service, operation, cost_nanos, estimate_nanos, "
                         "state, created_at, updated_at, expires_at) VALUES ('old', 'openai', "
                         "'embed', 5, 5, 'reserved', 1, 1, 2)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  ASSERT_TRUE((*store)->MigrateTo(sent_step).ok());
  auto rows = (*store)->ListLedger(std::nullopt);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].sent_at, kSentUnknown);

  LedgerEntry fresh;
  fresh.id = "fresh";
  fresh.service = "openai";
  fresh.operation = "embed";
  fresh.cost_nanos = 7;
  ASSERT_TRUE((*store)->Reserve(fresh, 10)->reserved);
  EXPECT_EQ((*store)->MigrateTo(sent_step - 1).reason(), "data_loss_refused");
  ASSERT_TRUE((*store)->MarkLedgerSent("fresh", 11).ok());
  ASSERT_TRUE((*store)->MigrateTo(sent_step - 1).ok());
  ASSERT_TRUE((*store)->MigrateTo(sent_step).ok());
  rows = (*store)->ListLedger(std::nullopt);
  ASSERT_TRUE(rows.ok());
  for (const LedgerEntry& e : *rows) EXPECT_EQ(e.sent_at, kSentUnknown) << e.id;
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
