#include "store_factories_support.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <pqxx/pqxx>
#include <random>
#include <string>

#include "ingest/common/check.h"
#include "ingest/store/postgres/postgres_store.h"
#include "ingest/store/sqlite/sqlite_store.h"

namespace ingest::testing {
namespace {

// Temporary folders created for the run, removed at exit (a store may still be open until its
// test's TearDown, so removal waits for process end).
class TempDirs {
 public:
  ~TempDirs() {
    for (const std::string& d : dirs_) {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
  }
  std::string Make() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ingest-store-XXXXXX").string();
    INGEST_CHECK(::mkdtemp(tmpl.data()) != nullptr);
    std::lock_guard<std::mutex> lock(mu_);
    dirs_.push_back(tmpl);
    return tmpl;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> dirs_;
};

TempDirs& Dirs() {
  static TempDirs dirs;
  return dirs;
}

StoreOpener FreshSqlite() {
  return [path = Dirs().Make() + "/ingest.db"](Clock* clock) -> std::unique_ptr<store::Store> {
    auto st = store::OpenSqliteStore(path, clock);
    INGEST_CHECK(st.ok());
    return std::move(st).value();
  };
}

std::unique_ptr<store::Store> MakeSqlite(Clock* clock) { return FreshSqlite()(clock); }

const char* PostgresUrl() {
  const char* url = ::getenv("INGESTD_TEST_PG_URL");
  return (url != nullptr && *url != '\0') ? url : nullptr;
}

bool InCi() {
  const char* ci = ::getenv("CI");
  return ci != nullptr && std::strcmp(ci, "true") == 0;
}

// One empty schema per store, so tests (and parallel test processes) sharing the database
// never see each other's rows; all are dropped when the test run ends.
class PostgresSchemas {
 public:
  void DropAll() {
    std::lock_guard<std::mutex> lock(mu_);
    if (schemas_.empty()) return;
    try {
      pqxx::connection conn(PostgresUrl());
      for (const std::string& s : schemas_) {
        pqxx::nontransaction tx(conn);
        tx.exec("DROP SCHEMA IF EXISTS " + conn.quote_name(s) + " CASCADE");
      }
    } catch (const std::exception& e) {
      std::cerr << "dropping test schemas: " << e.what() << "\n";
    }
    schemas_.clear();
  }
  // Creates a fresh schema; empty on failure (logged).
  std::string Make() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    const std::string name = "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
                             "_" + std::to_string(rd() % 100000);
    try {
      pqxx::connection conn(PostgresUrl());
      pqxx::nontransaction tx(conn);
      tx.exec("CREATE SCHEMA " + conn.quote_name(name));
    } catch (const std::exception& e) {
      std::cerr << "cannot create test schema on INGESTD_TEST_PG_URL: " << e.what() << "\n";
      return "";
    }
    std::lock_guard<std::mutex> lock(mu_);
    schemas_.push_back(name);
    return name;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> schemas_;
};

PostgresSchemas& Schemas() {
  static PostgresSchemas schemas;
  return schemas;
}

// Drops the schemas inside RUN_ALL_TESTS. Not in a static destructor: at exit libpqxx's own
// statics may already be gone (that crashed with SIGSEGV after every test had passed).
class DropSchemasAtEnd : public ::testing::Environment {
 public:
  void TearDown() override { Schemas().DropAll(); }
};
// gtest wants environments registered before RUN_ALL_TESTS; static initialisation is.
[[maybe_unused]] ::testing::Environment* const kDropSchemas =
    ::testing::AddGlobalTestEnvironment(new DropSchemasAtEnd);

void SkipWithoutPostgres() {
  GTEST_SKIP() << "INGESTD_TEST_PG_URL is unset: PostgreSQL conformance skipped (scripts/test.sh "
                  "starts a server; CI=true makes this a failure)";
}

// A fresh schema on INGESTD_TEST_PG_URL; the opener yields nullptr when the schema cannot be
// created or the server does not answer (the calling test then fails).
StoreOpener FreshPostgres() {
  if (PostgresUrl() == nullptr) {
    return [](Clock*) -> std::unique_ptr<store::Store> { return nullptr; };
  }
  return [schema = Schemas().Make()](Clock* clock) -> std::unique_ptr<store::Store> {
    if (schema.empty()) return nullptr;
    store::PostgresStoreOptions options;
    options.url = PostgresUrl();
    options.schema = schema;
    options.application_name = "ingestd_conformance";
    auto st = store::OpenPostgresStore(options, clock);
    if (!st.ok()) {
      std::cerr << "OpenPostgresStore: " << st.status().ToString() << "\n";
      return nullptr;
    }
    return std::move(st).value();
  };
}

// Registered even without INGESTD_TEST_PG_URL: ctest lists the suite's tests when it is built,
// before scripts/test.sh starts PostgreSQL, so a factory added only when the variable is set
// would never run under ctest. Without a URL the test is skipped (CI=true: failed); gtest then
// skips the body once SetUp returns, and SetUp only needs some store to migrate, so a
// throwaway SQLite store stands in. With a URL, nullptr (the test fails) when the server is
// unreachable: a configured PostgreSQL that does not answer is an error, not a reason to skip.
std::unique_ptr<store::Store> MakePostgres(Clock* clock) {
  if (PostgresUrl() == nullptr) {
    if (InCi()) {
      ADD_FAILURE() << "CI=true but INGESTD_TEST_PG_URL is unset: run the suite through "
                       "scripts/test.sh, which starts PostgreSQL";
      return nullptr;
    }
    SkipWithoutPostgres();
    return MakeSqlite(clock);
  }
  return FreshPostgres()(clock);
}

}  // namespace

const char* TestPostgresUrl() { return PostgresUrl(); }
bool TestsInCi() { return InCi(); }
std::string NewPostgresSchema() { return Schemas().Make(); }

std::vector<StoreFactory> StoreFactories() {
  std::vector<StoreFactory> out;
  out.push_back({"sqlite", MakeSqlite, FreshSqlite});
  // Runs on the server scripts/test.sh (start-test-services.sh) or the developer provides.
  out.push_back({"postgres", MakePostgres, FreshPostgres});
  return out;
}

}  // namespace ingest::testing

// CI must run the PostgreSQL backend, not skip it: without a server this fails the suite.
TEST(StoreBackends, PostgresRequiredInCi) {
  if (!ingest::testing::InCi()) {
    GTEST_SKIP() << "CI is not true; PostgreSQL conformance runs when INGESTD_TEST_PG_URL is set";
  }
  EXPECT_NE(ingest::testing::PostgresUrl(), nullptr)
      << "CI=true but INGESTD_TEST_PG_URL is unset: run the suite through scripts/test.sh, which "
         "starts PostgreSQL (scripts/start-test-services.sh)";
}
