// SQLite-specific Store behaviour the conformance suite cannot see: several processes sharing
// one file, lock contention mapped to kUnavailable, and the on-disk vector format.
#include "ingest/store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ingest/common/hash.h"
#include "ingest/common/ids.h"

namespace ingest::store {
namespace {

namespace fs = std::filesystem;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ingest-sqlite-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/ingest.db";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<Store> OpenMigrated(int busy_timeout_ms = 5000) {
    SqliteStoreOptions opts;
    opts.path = path_;
    opts.busy_timeout_ms = busy_timeout_ms;
    auto s = OpenSqliteStore(opts, &clock_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return nullptr;
    EXPECT_TRUE((*s)->MigrateTo(static_cast<int>((*s)->KnownMigrations().size())).ok());
    return std::move(s).value();
  }

  void SubmitJobs(Store& store, int n) {
    for (int i = 0; i < n; ++i) {
      Document d;
      d.sha256 = Sha256Hex("doc" + std::to_string(i));
      d.id = DocumentId(d.tenant, d.sha256);
      d.filename = "doc" + std::to_string(i);
      Job j;
      j.id = JobId(d.id);
      j.next_attempt_at = clock_.NowMillis();
      ASSERT_TRUE(store.SubmitDocument(d, j).ok());
    }
  }

  FakeClock clock_;
  std::string dir_, path_;
};

// Four processes × two threads race for the same jobs through one database file: SQLite's file
// lock (not the in-process mutex) is what keeps leases exclusive here.
TEST_F(SqliteStoreTest, LeasesAreExclusiveAcrossProcesses) {
  constexpr int kJobs = 150;
  constexpr int kProcs = 4;
  {
    auto store = OpenMigrated();
    ASSERT_NE(store, nullptr);
    SubmitJobs(*store, kJobs);
  }  // closed before fork: children must not inherit open connections

  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      FakeClock clock;
      auto store = OpenSqliteStore(path_, &clock);
      if (!store.ok()) ::_exit(2);
      std::ofstream out(dir_ + "/leased-" + std::to_string(p));
      std::mutex mu;
      int failures = 0;
      auto work = [&](int t) {
        const std::string owner = "p" + std::to_string(p) + "t" + std::to_string(t);
        for (int empty = 0; empty < 3;) {
          auto l = (*store)->LeaseNext(owner, Duration(60'000), clock.NowMillis());
          std::lock_guard<std::mutex> lock(mu);
          if (!l.ok()) {
            if (l.status().code() != StatusCode::kUnavailable) ++failures;
            continue;
          }
          if (!l->has_value()) {
            ++empty;
            continue;
          }
          empty = 0;
          out << (*l)->job.id << "\n";
        }
      };
      std::thread a(work, 0), b(work, 1);
      a.join();
      b.join();
      out.close();
      ::_exit(failures == 0 ? 0 : 3);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  std::map<std::string, int> times;
  for (int p = 0; p < kProcs; ++p) {
    std::ifstream in(dir_ + "/leased-" + std::to_string(p));
    for (std::string id; std::getline(in, id);) ++times[id];
  }
  EXPECT_EQ(times.size(), static_cast<size_t>(kJobs));
  for (const auto& [id, n] : times) EXPECT_EQ(n, 1) << id;
}

TEST_F(SqliteStoreTest, WriteLockHeldElsewhereIsUnavailable) {
  auto store = OpenMigrated(/*busy_timeout_ms=*/50);
  ASSERT_NE(store, nullptr);
  SubmitJobs(*store, 1);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto l = store->LeaseNext("w", Duration(1000), clock_.NowMillis());
  EXPECT_EQ(l.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(l.status().reason(), "database_busy");
  // Readers are not blocked by a writer (WAL).
  EXPECT_TRUE(store->ListJobs({}).ok());
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  auto again = store->LeaseNext("w", Duration(1000), clock_.NowMillis());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->has_value());
}

TEST_F(SqliteStoreTest, VectorsAreFloat32LittleEndianBlobs) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  const VectorSpace space{"m", 2};
  std::vector<StoredVector> v = {{"h", "local", {1.0f, -2.5f}}};
  ASSERT_TRUE(store->PutVectors(space, v).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT vector FROM vectors", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  ASSERT_EQ(sqlite3_column_bytes(st, 0), 8);
  const auto* b = static_cast<const unsigned char*>(sqlite3_column_blob(st, 0));
  // 1.0f = 0x3f800000, -2.5f = 0xc0200000, least significant byte first.
  const unsigned char want[8] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0};
  EXPECT_EQ(std::memcmp(b, want, 8), 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, ConnectionSettings) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
  // Foreign keys are enforced: chunks of an unknown document are rejected.
  Chunk c;
  c.id = "c1";
  c.text = "x";
  c.text_sha256 = Sha256Hex("x");
  std::vector<Chunk> chunks = {c};
  EXPECT_EQ(store->ReplaceChunks("no-such-document", chunks).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ingest::store
