#include "blob_factories_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <vector>

#include "ingest/common/check.h"
#include "ingest/common/ids.h"
#include "ingest/store/blobs/postgres_blob_store.h"
#include "ingest/store/blobs/s3_blob_store.h"
#include "ingest/store/fs_blob_store.h"
#include "ingest/store/migrations/migration.h"
#include "ingest/store/postgres/postgres_store.h"
#include "store_factories_support.h"

extern char** environ;

namespace ingest::testing {
namespace {

namespace fs = std::filesystem;

std::mutex temp_mu;
std::vector<std::string>* temp_dirs = new std::vector<std::string>();  // removed at the end

std::string NewTempDir() {
  std::string tmpl = (fs::temp_directory_path() / "ingest-blobs-XXXXXX").string();
  INGEST_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  std::lock_guard<std::mutex> lock(temp_mu);
  temp_dirs->push_back(tmpl);
  return tmpl;
}

store::blobs::BlobCacheOptions CacheIn(const std::string& dir) {
  store::blobs::BlobCacheOptions cache;
  cache.dir = dir + "/cache";
  cache.max_bytes = int64_t{256} << 20;
  return cache;
}

void MissingService(const std::string& what) {
  if (TestsInCi()) {
    ADD_FAILURE() << "CI=true but " << what;
  } else {
    GTEST_SKIP() << what;
  }
}

BlobStoreOpener FreshFolder() {
  return [root = NewTempDir() + "/blobs"]() -> std::unique_ptr<store::BlobStore> {
    return std::make_unique<store::FsBlobStore>(root);
  };
}

// A migrated schema of its own: the blob tables come with the store's migrations.
BlobStoreOpener FreshPostgres() {
  if (TestPostgresUrl() == nullptr) {
    MissingService(
        "INGESTD_TEST_PG_URL is unset: the PostgreSQL BlobStore is not tested (scripts/test.sh "
        "starts a server)");
    return [] { return std::unique_ptr<store::BlobStore>(); };
  }
  const std::string schema = NewPostgresSchema();
  if (schema.empty()) {
    ADD_FAILURE() << "cannot create a schema on INGESTD_TEST_PG_URL";
    return [] { return std::unique_ptr<store::BlobStore>(); };
  }
  store::PostgresStoreOptions so;
  so.url = TestPostgresUrl();
  so.schema = schema;
  auto st = store::OpenPostgresStore(so, Clock::Real());
  if (!st.ok()) {
    ADD_FAILURE() << "OpenPostgresStore: " << st.status().ToString();
    return [] { return std::unique_ptr<store::BlobStore>(); };
  }
  Status migrated =
      (*st)->MigrateTo(static_cast<int>(store::migrations::PostgresMigrations().size()));
  if (!migrated.ok()) {
    ADD_FAILURE() << "migrate: " << migrated.ToString();
    return [] { return std::unique_ptr<store::BlobStore>(); };
  }
  return [schema, dir = NewTempDir()]() -> std::unique_ptr<store::BlobStore> {
    store::PostgresBlobStoreOptions o;
    o.url = TestPostgresUrl();
    o.schema = schema;
    o.cache = CacheIn(dir);
    auto blobs = store::OpenPostgresBlobStore(o);
    if (!blobs.ok()) return nullptr;
    return std::move(blobs).value();
  };
}

// One s3rver for the whole run, started on first use, stopped by the environment below (and by
// itself when this process's end closes its stdin).
class S3rverProcess {
 public:
  static constexpr const char* kBucket = "ingestd-test";

  // The endpoint ("http://127.0.0.1:PORT"), or "" with `why` set.
  std::string Endpoint(std::string* why) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!endpoint_.empty() || !why_.empty()) {
      *why = why_;
      return endpoint_;
    }
    const fs::path dir = fs::path(INGEST_SOURCE_DIR) / "tests" / "s3";
    if (!fs::exists(dir / "node_modules" / "s3rver")) {
      why_ = "tests/s3/node_modules is missing (npm ci --prefix tests/s3; scripts/test.sh does)";
      *why = why_;
      return "";
    }
    int out[2], in[2];
    INGEST_CHECK(::pipe2(out, O_CLOEXEC) == 0 && ::pipe2(in, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    data_dir_ = NewTempDir();
    const std::string script = (dir / "s3rver.mjs").string();
    std::vector<std::string> args = {"node", script, data_dir_, kBucket};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawnp(&pid_, "node", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    ::close(in[0]);
    stdin_ = in[1];  // kept open: s3rver exits when it closes
    if (rc != 0) {
      pid_ = -1;
      ::close(out[0]);
      why_ = "cannot run node";
      *why = why_;
      return "";
    }
    FILE* f = ::fdopen(out[0], "r");
    char line[256] = {0};
    int port = 0;
    if (f != nullptr && std::fgets(line, sizeof line, f) != nullptr) {
      std::sscanf(line, "s3rver listening %d", &port);
    }
    if (f != nullptr) std::fclose(f);
    if (port <= 0) {
      why_ = "s3rver did not start";
      *why = why_;
      return "";
    }
    endpoint_ = "http://127.0.0.1:" + std::to_string(port);
    return endpoint_;
  }

  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    if (!data_dir_.empty()) {
      std::error_code ec;
      fs::remove_all(data_dir_, ec);
    }
  }

 private:
  std::mutex mu_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::string endpoint_, why_, data_dir_;
};

S3rverProcess& S3rver() {
  static S3rverProcess* p = new S3rverProcess();  // outlives static destruction
  return *p;
}

class CleanUpAtEnd : public ::testing::Environment {
 public:
  void TearDown() override {
    S3rver().Stop();
    std::lock_guard<std::mutex> lock(temp_mu);
    for (const std::string& d : *temp_dirs) {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
    temp_dirs->clear();
  }
};
[[maybe_unused]] ::testing::Environment* const kCleanUp =
    ::testing::AddGlobalTestEnvironment(new CleanUpAtEnd);

// A fresh prefix in the s3rver bucket, with s3rver's default credentials.
BlobStoreOpener FreshS3() {
  std::string why;
  const std::string endpoint = S3rver().Endpoint(&why);
  if (endpoint.empty()) {
    MissingService("no s3rver: " + why);
    return [] { return std::unique_ptr<store::BlobStore>(); };
  }
  return [endpoint, prefix = "t/" + UuidV4(),
          dir = NewTempDir()]() -> std::unique_ptr<store::BlobStore> {
    store::S3BlobStoreOptions o;
    o.bucket = S3rverProcess::kBucket;
    o.prefix = prefix;
    o.endpoint = endpoint;
    o.access_key_id = "S3RVER";
    o.secret_access_key = "S3RVER";
    o.cache = CacheIn(dir);
    auto blobs = store::OpenS3BlobStore(o);
    if (!blobs.ok()) return nullptr;
    return std::move(blobs).value();
  };
}

}  // namespace

std::vector<BlobFactory> BlobFactories() {
  return {{"folder", FreshFolder}, {"postgres", FreshPostgres}, {"s3", FreshS3}};
}

}  // namespace ingest::testing
