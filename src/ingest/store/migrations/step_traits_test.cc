// Step traits (step_traits.h). The rollback guard: every down step that drops or rewrites
// stored data says how to count what it would destroy, the counts run on the schema they are
// meant for, and a lossy step is refused unless allowed. The upgrade window: a schema newer
// than the build by expand-only steps is accepted, any other newer schema is not.
#include "ingest/store/migrations/step_traits.h"

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

// Down steps that drop only what nothing needs after a rollback: embed_claims (leases that
// expire within seconds), fts (the full-text index, derived from chunks, rebuilt by its up step).
const std::set<int> kTransient = {4, 10};

bool DropsOrRewrites(std::string_view sql) {
  for (std::string_view w : {"DROP TABLE", "DROP COLUMN", "UPDATE ", "DELETE ", "TRUNCATE"}) {
    if (sql.find(w) != std::string_view::npos) return true;
  }
  return false;
}

TEST(DownLossesTest, EveryLossyLookingDownStepIsCountedOrTransient) {
  for (auto steps : {migrations::SqliteMigrations(), migrations::PostgresMigrations()}) {
    for (const auto& s : steps) {
      if (!DropsOrRewrites(s.down_sql)) continue;
      EXPECT_TRUE(migrations::DownLossOf(s.version) != nullptr || kTransient.contains(s.version))
          << "migration " << s.version << " (" << s.name
          << ") drops or rewrites data on the way down: add it to step_traits.cc with a count "
             "of what it destroys, or to kTransient here if nothing it drops is kept data";
    }
  }
  for (const auto& l : migrations::DownLosses()) {
    EXPECT_LE(l.version, static_cast<int>(migrations::SqliteMigrations().size()));
    EXPECT_LE(l.version, static_cast<int>(migrations::PostgresMigrations().size()));
    EXPECT_FALSE(l.what.empty());
  }
}

class DownLossesSqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ingest-loss-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/ingest.db";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Runs `sql` on a raw connection; returns the first column of the first row (or -1).
  int64_t Query(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    int64_t v = -1;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db);
    const int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
  }
  FakeClock clock_;
  std::string dir_, path_;
};

// Each count is valid SQL on the schema just before its down step (the version itself).
TEST_F(DownLossesSqliteTest, CountsRunOnTheirSchema) {
  auto store = OpenSqliteStore(path_, &clock_);
  ASSERT_TRUE(store.ok());
  for (const auto& l : migrations::DownLosses()) {
    ASSERT_TRUE((*store)->MigrateTo(l.version, /*allow_data_loss=*/true).ok());
    EXPECT_EQ(Query(std::string(l.count_sql)), 0) << "migration " << l.version;
  }
}

TEST_F(DownLossesSqliteTest, LossyStepIsRefusedUnlessAllowed) {
  auto store = OpenSqliteStore(path_, &clock_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->MigrateTo(6).ok());
  Query(
      "INSERT INTO budgets (scope, scope_key, period, limit_nanos, soft_ratio, updated_at, "
      "stopped_at, stop_reason) VALUES ('global', '', 'day', 1000000, 0.8, 1, 5, 'overrun') "
      "RETURNING 1");
  ASSERT_EQ(Query("SELECT count(*) FROM budgets"), 1);

  Status refused = (*store)->MigrateTo(5);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.reason(), "data_loss_refused");
  EXPECT_NE(refused.message().find("budget_stops"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("--allow-data-loss"), std::string::npos);
  EXPECT_EQ(*(*store)->SchemaVersion(), 6);
  EXPECT_EQ(Query("SELECT stopped_at FROM budgets"), 5);

  // Nothing stopped any more: the step loses nothing and runs.
  Query("UPDATE budgets SET stopped_at = 0, stop_reason = '' RETURNING 1");
  ASSERT_TRUE((*store)->MigrateTo(5).ok());
  ASSERT_TRUE((*store)->MigrateTo(6).ok());

  Query("UPDATE budgets SET stopped_at = 7 RETURNING 1");
  ASSERT_TRUE((*store)->MigrateTo(5, /*allow_data_loss=*/true).ok());
  EXPECT_EQ(*(*store)->SchemaVersion(), 5);
  EXPECT_EQ(Query("SELECT count(*) FROM budgets"), 1);
}

// The audit log is append-only in the database itself (migration 9's triggers), and step 9
// down is refused while it holds rows.
TEST_F(DownLossesSqliteTest, AuditLogRefusesUpdateAndDelete) {
  auto store = OpenSqliteStore(path_, &clock_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->MigrateTo(9).ok());
  AuditEntry e;
  e.actor = "cli:tester";
  e.action = "key.create";
  e.source = "cli";
  e.result = "ok";
  ASSERT_TRUE((*store)->AppendAudit(e).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  for (const char* sql : {"UPDATE audit_log SET result = 'forged'", "DELETE FROM audit_log"}) {
    char* err = nullptr;
    EXPECT_NE(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << sql;
    EXPECT_NE(std::string(err != nullptr ? err : "").find("append-only"), std::string::npos);
    sqlite3_free(err);
  }
  sqlite3_close(db);
  EXPECT_EQ(Query("SELECT count(*) FROM audit_log WHERE result = 'ok'"), 1);
  EXPECT_EQ((*store)->MigrateTo(8).reason(), "data_loss_refused");
  EXPECT_EQ(Query("SELECT count(*) FROM audit_log"), 1);
}

// A newer release applied step L+1. This build (latest L) runs on it only when the newer
// binary recorded the step as expand-only.
TEST_F(DownLossesSqliteTest, NewerSchemaIsAcceptedOnlyWhenExpandOnly) {
  auto store = OpenSqliteStore(path_, &clock_);
  ASSERT_TRUE(store.ok());
  const int latest = static_cast<int>((*store)->KnownMigrations().size());
  ASSERT_TRUE((*store)->MigrateTo(latest).ok());
  EXPECT_TRUE((*store)->CheckSchemaCurrent().ok());
  // The runner recorded this build's expand-only steps.
  for (int v = 1; v <= latest; ++v) {
    EXPECT_EQ(
        Query("SELECT count(*) FROM schema_expand_steps WHERE version = " + std::to_string(v)),
        migrations::IsExpandOnly(v) ? 1 : 0)
        << "migration " << v;
  }
  const std::string next = std::to_string(latest + 1);
  Query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (" + next +
        ", 'from_the_future', 1) RETURNING 1");
  Status too_new = (*store)->CheckSchemaCurrent();
  EXPECT_EQ(too_new.reason(), "schema_too_new") << too_new.ToString();
  Query("INSERT INTO schema_expand_steps (version) VALUES (" + next + ") RETURNING 1");
  EXPECT_TRUE((*store)->CheckSchemaCurrent().ok());
  // This build still never migrates a schema it does not know.
  EXPECT_EQ((*store)->MigrateTo(latest).reason(), "schema_too_new");
  // Down steps forget what they undo.
  Query("DELETE FROM schema_migrations WHERE version = " + next + " RETURNING 1");
  Query("DELETE FROM schema_expand_steps WHERE version = " + next + " RETURNING 1");
  ASSERT_TRUE((*store)->MigrateTo(1, /*allow_data_loss=*/true).ok());
  EXPECT_EQ(Query("SELECT count(*) FROM schema_expand_steps"), 0);
}

}  // namespace
}  // namespace ingest::store
