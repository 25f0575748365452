// PostgreSQL-specific Store behaviour the conformance suite cannot see: the pool surviving
// dropped connections, lease exclusivity across threads on the real server, batched bulk
// writes, concurrent migrators and an unreachable server. Needs INGESTD_TEST_PG_URL (set by
// scripts/test.sh); skipped without it, except under CI=true, where it fails.
#include "ingest/store/postgres/postgres_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ingest/common/hash.h"
#include "ingest/common/ids.h"

namespace ingest::store {
namespace {

constexpr Duration kTtl{30'000};

const char* PgUrl() {
  const char* url = ::getenv("INGESTD_TEST_PG_URL");
  return (url != nullptr && *url != '\0') ? url : nullptr;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (PgUrl() == nullptr) {
      const char* ci = ::getenv("CI");
      if (ci != nullptr && std::strcmp(ci, "true") == 0) {
        FAIL() << "CI=true but INGESTD_TEST_PG_URL is unset (scripts/test.sh starts PostgreSQL)";
      }
      GTEST_SKIP() << "INGESTD_TEST_PG_URL is unset; PostgreSQL tests skipped";
    }
    static std::atomic<int> counter{0};
    std::random_device rd;
    const std::string suffix = std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                               std::to_string(rd() % 100000);
    schema_ = "pgtest_" + suffix;
    app_name_ = "ingestd_pgtest_" + suffix;
    pqxx::connection conn(PgUrl());
    pqxx::nontransaction tx(conn);
    tx.exec("CREATE SCHEMA " + conn.quote_name(schema_));
  }

  void TearDown() override {
    if (schema_.empty()) return;
    store_.reset();
    try {
      pqxx::connection conn(PgUrl());
      pqxx::nontransaction tx(conn);
      tx.exec("DROP SCHEMA IF EXISTS " + conn.quote_name(schema_) + " CASCADE");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "dropping schema " << schema_ << ": " << e.what();
    }
  }

  PostgresStoreOptions Options(int pool_size = 8) const {
    PostgresStoreOptions o;
    o.url = PgUrl();
    o.schema = schema_;
    o.application_name = app_name_;
    o.pool_size = pool_size;
    return o;
  }

  Store* OpenMigrated(int pool_size = 8) {
    auto st = OpenPostgresStore(Options(pool_size), &clock_);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) return nullptr;
    store_ = std::move(st).value();
    Status m = store_->MigrateTo(store_->KnownMigrations().back().version);
    EXPECT_TRUE(m.ok()) << m.ToString();
    return store_.get();
  }

  SubmitResult Submit(const std::string& name) {
    Document d;
    d.sha256 = Sha256Hex(name);
    d.id = DocumentId(d.tenant, d.sha256);
    d.filename = name;
    Job j;
    j.id = JobId(d.id);
    j.document_id = d.id;
    j.next_attempt_at = clock_.NowMillis();
    auto r = store_->SubmitDocument(d, j);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : SubmitResult{};
  }

  // Terminates every server connection of this test's store (by application_name, so other
  // suites running in parallel on the same database are untouched). Returns how many.
  int TerminateStoreConnections() {
    pqxx::connection conn(PgUrl());
    pqxx::nontransaction tx(conn);
    pqxx::result r = tx.exec_params(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
        "current_database() AND pid <> pg_backend_pid() AND application_name = $1",
        app_name_);
    return static_cast<int>(r.size());
  }

  FakeClock clock_;
  std::string schema_;
  std::string app_name_;
  std::unique_ptr<Store> store_;
};

TEST_F(PostgresStoreTest, PoolReconnectsAfterServerDropsConnections) {
  Store* store = OpenMigrated(4);
  ASSERT_NE(store, nullptr);
  SubmitResult r = Submit("survivor.txt");
  // Open several pooled connections so more than one is killed.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) EXPECT_TRUE(store->GetJob(r.job.id).ok());
    });
  }
  for (auto& th : threads) th.join();

  ASSERT_GE(TerminateStoreConnections(), 1);
  // Give the backends a moment to exit so the idle sockets see the hang-up.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  // Every call now either succeeds on a fresh connection, or fails once with kUnavailable
  // (the pipeline's retry signal) and succeeds on the next try. Never a hard error.
  for (int i = 0; i < 8; ++i) {
    auto job = store->GetJob(r.job.id);
    if (!job.ok()) {
      EXPECT_EQ(job.status().code(), StatusCode::kUnavailable) << job.status().ToString();
      EXPECT_EQ(job.status().reason(), "database_unavailable");
      job = store->GetJob(r.job.id);
    }
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    EXPECT_EQ(job->id, r.job.id);
  }
  // Writes work too, and the data from before the drop is intact.
  auto lease = store->LeaseNext("w", kTtl, clock_.NowMillis());
  if (!lease.ok()) lease = store->LeaseNext("w", kTtl, clock_.NowMillis());
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  ASSERT_TRUE(lease->has_value());
  EXPECT_EQ((*lease)->job.id, r.job.id);
}

TEST_F(PostgresStoreTest, FourThreadsLeaseEachJobExactlyOnce) {
  Store* store = OpenMigrated(8);
  ASSERT_NE(store, nullptr);
  constexpr int kJobs = 200;
  for (int i = 0; i < kJobs; ++i) Submit("job-" + std::to_string(i));

  std::mutex mu;
  std::map<std::string, int> leased;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  const UnixMillis now = clock_.NowMillis();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string owner = "worker-" + std::to_string(t);
      for (;;) {
        auto l = store->LeaseNext(owner, kTtl, now);
        if (!l.ok()) {
          ++errors;
          continue;
        }
        if (!l->has_value()) break;
        EXPECT_EQ((*l)->job.lease_owner, owner);
        std::lock_guard<std::mutex> lock(mu);
        ++leased[(*l)->job.id];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(leased.size(), static_cast<size_t>(kJobs));
  for (const auto& [id, n] : leased) EXPECT_EQ(n, 1) << id;
}

TEST_F(PostgresStoreTest, BulkWritesTenThousandChunksAndVectorsInBatches) {
  Store* store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  SubmitResult r = Submit("big.md");
  constexpr int kChunks = 10'000;
  constexpr int kDims = 64;
  std::vector<Chunk> chunks;
  std::vector<StoredVector> vectors;
  chunks.reserve(kChunks);
  for (int i = 0; i < kChunks; ++i) {
    Chunk c;
    c.id = ChunkId(r.document.id, "bulk@1", i);
    c.document_id = r.document.id;
    c.ordinal = i;
    // Quotes, backslashes, tabs and newlines: the quoting must survive all of them.
    c.text = "chunk " + std::to_string(i) + " it's a \"test\"\t\\n\n\xC3\xA9";
    c.text_sha256 = Sha256Hex(c.text);
    c.token_count = 12;
    c.heading_path = "Big > Part " + std::to_string(i / 100);
    chunks.push_back(c);
    StoredVector v;
    v.text_sha256 = c.text_sha256;
    v.provider = "local";
    for (int d = 0; d < kDims; ++d) v.values.push_back(static_cast<float>(i) + d * 0.5f);
    vectors.push_back(std::move(v));
  }

  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(store->ReplaceChunks(r.document.id, chunks).ok());
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(store->PutVectors({"lexical-v1", kDims}, vectors).ok());
  auto t2 = std::chrono::steady_clock::now();
  const double chunk_s = std::chrono::duration<double>(t1 - t0).count();
  const double vector_s = std::chrono::duration<double>(t2 - t1).count();
  std::printf(
      "[ bulk     ] %d chunks in %.3f s (%.0f rows/s); %d vectors x %d dims in %.3f s "
      "(%.0f rows/s)\n",
      kChunks, chunk_s, kChunks / chunk_s, kChunks, kDims, vector_s, kChunks / vector_s);

  auto t3 = std::chrono::steady_clock::now();
  auto listed = store->ListChunks(r.document.id);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), static_cast<size_t>(kChunks));
  EXPECT_EQ((*listed)[1234].text, chunks[1234].text);
  EXPECT_EQ((*listed)[9999].heading_path, "Big > Part 99");
  auto v = store->GetVector({"lexical-v1", kDims}, chunks[4321].text_sha256);
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ((*v)->values, vectors[4321].values);
  std::vector<std::string> hashes;
  for (const Chunk& c : chunks) hashes.push_back(c.text_sha256);
  auto t4 = std::chrono::steady_clock::now();
  EXPECT_TRUE(store->MissingVectors({"lexical-v1", kDims}, hashes)->empty());
  auto t5 = std::chrono::steady_clock::now();

  // Indexed and streamed back through the cursor, in batches, in ordinal order.
  ASSERT_TRUE(store->MarkIndexed(r.document.id, {"lexical-v1", kDims}, clock_.NowMillis()).ok());
  auto t6 = std::chrono::steady_clock::now();
  int seen = 0;
  bool ordered = true;
  ASSERT_TRUE(store
                  ->ScanIndex({"lexical-v1", kDims}, std::nullopt,
                              [&](const IndexedChunk& c) {
                                ordered = ordered && c.chunk->ordinal == seen &&
                                          c.vector[0] == static_cast<float>(seen);
                                ++seen;
                              })
                  .ok());
  auto t7 = std::chrono::steady_clock::now();
  auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  std::printf(
      "[ bulk     ] list %.3f s, missing-vectors %.3f s, mark-indexed %.3f s, scan %.3f s\n",
      secs(t3, t4), secs(t4, t5), secs(t5, t6), secs(t6, t7));
  EXPECT_EQ(seen, kChunks);
  EXPECT_TRUE(ordered);
  // Regression guard: without fresh statistics the planner chose quadratic nested loops here
  // (7 s to mark indexed, 44 s to scan); with them both take well under a second.
  EXPECT_LT(secs(t5, t6), 5.0) << "MarkIndexed plan regressed";
  EXPECT_LT(secs(t6, t7), 15.0) << "ScanIndex plan regressed";
}

TEST_F(PostgresStoreTest, ConcurrentMigratorsApplyEachStepOnce) {
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < 4; ++i) {
    auto st = OpenPostgresStore(Options(2), &clock_);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    stores.push_back(std::move(st).value());
  }
  const int latest = stores[0]->KnownMigrations().back().version;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (auto& s : stores) {
    threads.emplace_back([&, store = s.get()] {
      Status st = store->MigrateTo(latest);
      if (!st.ok()) {
        ++failures;
        ADD_FAILURE() << st.ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*stores[0]->SchemaVersion(), latest);
  pqxx::connection conn(PgUrl());
  pqxx::nontransaction tx(conn);
  pqxx::row n = tx.exec1("SELECT COUNT(*) FROM " + conn.quote_name(schema_) + ".schema_migrations");
  EXPECT_EQ(n[0].as<int>(), latest);
}

// Migration 5 (micro- to nano-dollars) on a populated database: x1000 up, exact back down.
TEST_F(PostgresStoreTest, NanoDollarMigrationConvertsEveryAmount) {
  auto st = OpenPostgresStore(Options(2), &clock_);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  store_ = std::move(st).value();
  ASSERT_TRUE(store_->MigrateTo(4).ok());
  pqxx::connection conn(PgUrl());
  const std::string s = conn.quote_name(schema_);
  auto one = [&](const std::string& sql) -> int64_t {
    pqxx::nontransaction tx(conn);
    return tx.exec1(sql)[0].as<int64_t>();
  };
  {
    pqxx::work tx(conn);
    tx.exec("INSERT INTO " + s +
            ".ledger (id, service, operation, cost_micros, estimate_micros, state, created_at, "
            "updated_at) SELECT 'r' || i, 'openai', 'embed', i * 7 + 1, i * 11, "
            "(ARRAY['settled','reserved','released'])[i % 3 + 1], 1, 1 "
            "FROM generate_series(0, 999) AS i");
    tx.exec("INSERT INTO " + s +
            ".budgets (scope, scope_key, period, limit_micros, soft_ratio, updated_at) VALUES "
            "('global', '', 'day', 50000, 0.8, 1)");
    tx.commit();
  }
  const int64_t cost = one("SELECT SUM(cost_micros) FROM " + s + ".ledger");
  const int64_t estimate = one("SELECT SUM(estimate_micros) FROM " + s + ".ledger");
  ASSERT_TRUE(store_->MigrateTo(store_->KnownMigrations().back().version).ok());
  EXPECT_EQ(one("SELECT SUM(cost_nanos) FROM " + s + ".ledger"), cost * 1000);
  EXPECT_EQ(one("SELECT SUM(estimate_nanos) FROM " + s + ".ledger"), estimate * 1000);
  EXPECT_EQ(one("SELECT limit_nanos FROM " + s + ".budgets"), 50000000);
  auto budgets = store_->ListBudgetStatus(1);
  ASSERT_TRUE(budgets.ok()) << budgets.status().ToString();
  ASSERT_EQ(budgets->size(), 1u);
  EXPECT_EQ((*budgets)[0].budget.hard_nanos, 50000000);
  ASSERT_TRUE(store_->MigrateTo(4).ok());
  EXPECT_EQ(one("SELECT SUM(cost_micros) FROM " + s + ".ledger"), cost);
  EXPECT_EQ(one("SELECT SUM(estimate_micros) FROM " + s + ".ledger"), estimate);
  EXPECT_EQ(one("SELECT limit_micros FROM " + s + ".budgets"), 50000);
}

// The audit log is append-only in the database itself: UPDATE, DELETE and TRUNCATE are
// refused by triggers (migration 9), whoever connects; only dropping the table (migrate down,
// refused while rows exist unless --allow-data-loss) removes rows.
TEST_F(PostgresStoreTest, AuditLogRefusesUpdateDeleteAndTruncate) {
  ASSERT_NE(OpenMigrated(2), nullptr);
  AuditEntry e;
  e.actor = "cli:tester";
  e.action = "key.create";
  e.target = "key_x";
  e.source = "cli";
  e.result = "ok";
  ASSERT_TRUE(store_->AppendAudit(e).ok());
  pqxx::connection conn(PgUrl());
  const std::string s = conn.quote_name(schema_);
  for (const std::string& sql :
       {"UPDATE " + s + ".audit_log SET result = 'forged'", "DELETE FROM " + s + ".audit_log",
        "TRUNCATE " + s + ".audit_log"}) {
    pqxx::work tx(conn);
    EXPECT_THROW(tx.exec(sql), pqxx::sql_error) << sql;
  }
  auto rows = store_->ListAudit({});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].result, "ok");
  EXPECT_EQ(store_->MigrateTo(8).reason(), "data_loss_refused");
  EXPECT_TRUE(store_->MigrateTo(8, /*allow_data_loss=*/true).ok());
}

TEST_F(PostgresStoreTest, UnreachableServerIsUnavailable) {
  PostgresStoreOptions o = Options();
  o.url = "postgresql://postgres@127.0.0.1:1/ingestd_test";  // nothing listens on port 1
  o.connect_timeout = std::chrono::milliseconds(2000);
  auto st = OpenPostgresStore(o, &clock_);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(st.status().reason(), "database_unavailable");

  o.url = "mysql://localhost/db";
  EXPECT_EQ(OpenPostgresStore(o, &clock_).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PostgresStoreTest, MissingSchemaIsAnErrorNotNotFound) {
  auto st = OpenPostgresStore(Options(), &clock_);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(*(*st)->SchemaVersion(), 0);
  Status current = (*st)->CheckSchemaCurrent();
  EXPECT_EQ(current.code(), StatusCode::kFailedPrecondition);
  auto job = (*st)->GetJob("nope");
  EXPECT_EQ(job.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(job.status().reason(), "schema_missing");
}

}  // namespace
}  // namespace ingest::store
