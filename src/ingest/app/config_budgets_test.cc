#include "ingest/app/config_budgets.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ingest/store/sqlite/sqlite_store.h"

namespace ingest::app {
namespace {

class ConfigBudgetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ingestd-config-budgets.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = store::OpenSqliteStore(dir_ + "/ingestd.db", Clock::Real());
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    ASSERT_TRUE(store_->MigrateTo(store_->KnownMigrations().back().version).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string Write(const std::string& toml) {
    const std::string path = dir_ + "/ingestd.toml";
    std::ofstream(path, std::ios::trunc) << toml;
    return path;
  }
  std::vector<store::BudgetStatus> Budgets() {
    auto list = store_->ListBudgetStatus(Clock::Real()->NowMillis());
    EXPECT_TRUE(list.ok());
    return list.ok() ? *list : std::vector<store::BudgetStatus>{};
  }
  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(ConfigBudgetsTest, TablesAndProfileTablesReplaceTheFiles) {
  const std::string path = Write(R"(
[[budget]]
scope = "global"
period = "day"
hard = "50.00"

[[budget]]
scope = "service"
key = "llamaparse"
period = "month"
hard = "400"
soft = 0.5

[[profile.staging.budget]]
hard = "5"
)");
  auto t = LoadBudgetTables(path, "development");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].scope, "global");
  EXPECT_EQ((*t)[0].hard, "50.00");
  EXPECT_DOUBLE_EQ((*t)[0].soft, 0.8);
  EXPECT_EQ((*t)[1].key, "llamaparse");
  EXPECT_EQ((*t)[1].period, "month");
  EXPECT_DOUBLE_EQ((*t)[1].soft, 0.5);
  EXPECT_EQ((*t)[1].where.rfind(path + ":", 0), 0u) << (*t)[1].where;
  auto staging = LoadBudgetTables(path, "staging");
  ASSERT_TRUE(staging.ok()) << staging.status().ToString();
  ASSERT_EQ(staging->size(), 1u);
  EXPECT_EQ((*staging)[0].hard, "5");
  EXPECT_EQ((*staging)[0].period, "day");
  EXPECT_TRUE(LoadBudgetTables("", "development")->empty());
  // The rest of the configuration accepts the tables (no "unknown key budget").
  config::LoadOptions o;
  o.file = path;
  o.env = {{"X", "1"}};
  o.use_process_env = false;
  EXPECT_TRUE(config::LoadConfig(o).ok());
}

TEST_F(ConfigBudgetsTest, BadTablesNameTheLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"[[budget]]\nscope = \"planet\"\nhard = \"1\"\n", "scope must be"},
      {"[[budget]]\nscope = \"tenant\"\nhard = \"1\"\n", "needs a key"},
      {"[[budget]]\nkey = \"acme\"\nhard = \"1\"\n", "global budget has no key"},
      {"[[budget]]\nperiod = \"week\"\nhard = \"1\"\n", "period must be"},
      {"[[budget]]\nperiod = \"day\"\n", "needs hard"},
      {"[[budget]]\nhard = \"1.0000000001\"\n", "hard:"},
      {"[[budget]]\nhard = 5\n", "must be a string"},
      {"[[budget]]\nhard = \"1\"\nsoft = 1.5\n", "soft must be"},
      {"[[budget]]\nhard = \"1\"\nceiling = \"2\"\n", "unknown key ceiling"},
      {"[[budget]]\nhard = \"1\"\n[[budget]]\nhard = \"2\"\n", "duplicates"},
      {"budget = \"x\"\n", "array of tables"},
  };
  for (const auto& [body, want] : cases) {
    const std::string path = Write(body);
    auto t = LoadBudgetTables(path, "development");
    ASSERT_FALSE(t.ok()) << body;
    EXPECT_NE(t.status().message().find(want), std::string::npos)
        << body << " -> " << t.status().message();
    EXPECT_NE(t.status().message().find(path + ":"), std::string::npos) << t.status().message();
  }
}

TEST_F(ConfigBudgetsTest, TheFileWinsAtStartForTheBudgetsItLists) {
  auto tables = LoadBudgetTables(Write(R"(
[[budget]]
hard = "50.00"
[[budget]]
scope = "tenant"
key = "acme"
period = "month"
hard = "12.5"
soft = 0.5
)"),
                                 "development");
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  ASSERT_TRUE(ApplyBudgetTables(*tables, *store_, Clock::Real()).ok());
  auto list = Budgets();
  ASSERT_EQ(list.size(), 2u);
  for (const auto& s : list) {
    if (s.budget.scope == store::BudgetScope::kGlobal) {
      EXPECT_EQ(s.budget.hard_nanos, 50'000'000'000);
    } else {
      EXPECT_EQ(s.budget.scope_key, "acme");
      EXPECT_EQ(s.budget.period, store::BudgetPeriod::kMonth);
      EXPECT_EQ(s.budget.hard_nanos, 12'500'000'000);
      EXPECT_DOUBLE_EQ(s.budget.soft_ratio, 0.5);
    }
  }
  // `ingestd budget set` raises the global one and adds a service budget the file does not list.
  store::Budget raised;
  raised.hard_nanos = 80'000'000'000;
  ASSERT_TRUE(store_->PutBudget(raised).ok());
  store::Budget cli_only;
  cli_only.scope = store::BudgetScope::kService;
  cli_only.scope_key = "openai";
  cli_only.hard_nanos = 3'000'000'000;
  ASSERT_TRUE(store_->PutBudget(cli_only).ok());
  // The next start: the file's value is back, the CLI-only budget is untouched.
  ASSERT_TRUE(ApplyBudgetTables(*tables, *store_, Clock::Real()).ok());
  list = Budgets();
  ASSERT_EQ(list.size(), 3u);
  for (const auto& s : list) {
    if (s.budget.scope == store::BudgetScope::kGlobal) {
      EXPECT_EQ(s.budget.hard_nanos, 50'000'000'000);
    }
    if (s.budget.scope == store::BudgetScope::kService) {
      EXPECT_EQ(s.budget.hard_nanos, 3'000'000'000);
    }
  }
}

TEST_F(ConfigBudgetsTest, NoTablesChangeNothing) {
  store::Budget cli_only;
  cli_only.hard_nanos = 1'000'000'000;
  ASSERT_TRUE(store_->PutBudget(cli_only).ok());
  auto none = LoadBudgetTables(Write("[log]\nlevel = \"warn\"\n"), "development");
  ASSERT_TRUE(none.ok());
  ASSERT_TRUE(ApplyBudgetTables(*none, *store_, Clock::Real()).ok());
  auto list = Budgets();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].budget.hard_nanos, 1'000'000'000);
}

}  // namespace
}  // namespace ingest::app
