// The BlobStore contract (store/blob_store.h), run on every implementation: the folder,
// PostgreSQL and S3 (blob_factories_support.cc).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "blob_factories_support.h"
#include "ingest/common/hash.h"

namespace ingest::testing {
namespace {

namespace fs = std::filesystem;

class BlobStoreConformance : public ::testing::TestWithParam<BlobFactory> {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ingest-blobconf-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    open_ = GetParam().fresh();
    if (IsSkipped() || HasFailure()) return;
    blobs_ = open_();
    ASSERT_NE(blobs_, nullptr);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A file of `size` pseudo-random bytes (seeded: reproducible) written in 1 MiB pieces.
  std::string MakeFile(const std::string& name, int64_t size, uint32_t seed) {
    const std::string path = dir_ + "/" + name;
    std::ofstream out(path, std::ios::binary);
    std::mt19937 rng(seed);
    std::string buf;
    for (int64_t left = size; left > 0;) {
      const int64_t n = std::min<int64_t>(left, 1 << 20);
      buf.resize(static_cast<size_t>(n));
      for (char& c : buf) c = static_cast<char>(rng());
      out.write(buf.data(), static_cast<std::streamsize>(n));
      left -= n;
    }
    return path;
  }
  static std::string ReadAll(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string dir_;
  BlobStoreOpener open_;
  std::unique_ptr<store::BlobStore> blobs_;
};

TEST_P(BlobStoreConformance, PutBytesIsContentAddressedAndReadable) {
  auto key = blobs_->PutBytes("hello blobs");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(*key, Sha256Hex("hello blobs"));
  EXPECT_TRUE(blobs_->Exists(*key));
  auto path = blobs_->LocalPath(*key);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(ReadAll(*path), "hello blobs");
  // Another handle on the same store sees it: nothing is local to one process.
  auto other = open_();
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->Exists(*key));
  auto other_path = other->LocalPath(*key);
  ASSERT_TRUE(other_path.ok()) << other_path.status().ToString();
  EXPECT_EQ(ReadAll(*other_path), "hello blobs");
}

TEST_P(BlobStoreConformance, EmptyBlobRoundTrips) {
  auto key = blobs_->PutBytes("");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(blobs_->Exists(*key));
  auto path = blobs_->LocalPath(*key);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(ReadAll(*path), "");
}

TEST_P(BlobStoreConformance, PutIsIdempotentAcrossFileAndBytes) {
  const std::string file = MakeFile("a.bin", 3 * (1 << 20) + 17, 1);
  auto k1 = blobs_->PutFile(file);
  ASSERT_TRUE(k1.ok()) << k1.status().ToString();
  auto k2 = blobs_->PutFile(file);
  ASSERT_TRUE(k2.ok()) << k2.status().ToString();
  auto k3 = blobs_->PutBytes(ReadAll(file));
  ASSERT_TRUE(k3.ok()) << k3.status().ToString();
  EXPECT_EQ(*k1, *k2);
  EXPECT_EQ(*k1, *k3);
  EXPECT_EQ(*k1, *Sha256File(file));
  // One copy: a single Delete removes it.
  ASSERT_TRUE(blobs_->Delete(*k1).ok());
  EXPECT_FALSE(blobs_->Exists(*k1));
}

TEST_P(BlobStoreConformance, DistinctContentGetsDistinctKeys) {
  auto a = blobs_->PutBytes("alpha");
  auto b = blobs_->PutBytes("beta");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  ASSERT_TRUE(blobs_->Delete(*a).ok());
  EXPECT_FALSE(blobs_->Exists(*a));
  EXPECT_TRUE(blobs_->Exists(*b));
  auto path = blobs_->LocalPath(*b);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(ReadAll(*path), "beta");
}

TEST_P(BlobStoreConformance, ExistsAndDeleteOfMissingOrBadKeys) {
  const std::string missing = Sha256Hex("never stored");
  EXPECT_FALSE(blobs_->Exists(missing));
  EXPECT_TRUE(blobs_->Delete(missing).ok());
  EXPECT_FALSE(blobs_->Exists("not-a-key"));
  EXPECT_EQ(blobs_->LocalPath("../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(blobs_->Delete("ZZ").code(), StatusCode::kInvalidArgument);
  // A missing blob has no readable local copy (the folder store names a path that does not
  // exist; remote stores say kNotFound).
  auto path = blobs_->LocalPath(missing);
  if (path.ok()) {
    EXPECT_FALSE(fs::exists(*path));
  } else {
    EXPECT_EQ(path.status().code(), StatusCode::kNotFound) << path.status().ToString();
  }
}

TEST_P(BlobStoreConformance, DeletedBlobIsGoneAndCanBeStoredAgain) {
  auto key = blobs_->PutBytes("short-lived");
  ASSERT_TRUE(key.ok());
  auto before = blobs_->LocalPath(*key);  // remote stores cache a copy; Delete drops it
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(blobs_->Delete(*key).ok());
  EXPECT_FALSE(blobs_->Exists(*key));
  auto after = blobs_->LocalPath(*key);
  EXPECT_TRUE(!after.ok() || !fs::exists(*after));
  ASSERT_TRUE(blobs_->PutBytes("short-lived").ok());
  EXPECT_TRUE(blobs_->Exists(*key));
  auto again = blobs_->LocalPath(*key);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ReadAll(*again), "short-lived");
}

TEST_P(BlobStoreConformance, LargeFileRoundTripsByStreaming) {
  const int64_t size = int64_t{50} << 20;  // 50 MiB, not a multiple of the chunk size below
  const std::string file = MakeFile("large.bin", size + 12345, 7);
  const std::string want = *Sha256File(file);
  auto key = blobs_->PutFile(file);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(*key, want);
  auto other = open_();  // a fresh handle: nothing cached
  ASSERT_NE(other, nullptr);
  auto path = other->LocalPath(*key);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(*path)), size + 12345);
  EXPECT_EQ(*Sha256File(*path), want);
}

// A writer killed at any moment of a put leaves no blob visible under the key; the content
// can then be stored and read whole.
TEST_P(BlobStoreConformance, CrashMidPutNeverLeavesAVisiblePartialBlob) {
  const std::string file = MakeFile("crash.bin", int64_t{24} << 20, 11);
  const std::string key = *Sha256File(file);
  int killed_mid_put = 0;
  for (int delay_ms : {5, 40, 120, 300, 700}) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(ready[0]);
      auto mine = open_();  // its own connections
      if (mine == nullptr) ::_exit(3);
      (void)!::write(ready[1], "x", 1);
      auto put = mine->PutFile(file);
      ::_exit(put.ok() ? 0 : 4);
    }
    ::close(ready[1]);
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    int status = 0;
    const bool finished = ::waitpid(pid, &status, WNOHANG) == pid;
    if (!finished) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ++killed_mid_put;
      EXPECT_FALSE(blobs_->Exists(key)) << "after a kill " << delay_ms << " ms into the put";
    } else {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      ASSERT_TRUE(blobs_->Delete(key).ok());  // finished: start the next round empty
    }
  }
  EXPECT_GT(killed_mid_put, 0) << "every put finished before the kill: make the file larger";
  auto put = blobs_->PutFile(file);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  auto path = blobs_->LocalPath(key);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*Sha256File(*path), key);
}

TEST_P(BlobStoreConformance, ConcurrentPutsOfTheSameContentStoreOneBlob) {
  const std::string file = MakeFile("same.bin", int64_t{5} << 20, 3);
  const std::string want = *Sha256File(file);
  constexpr int kWriters = 4;
  std::vector<std::unique_ptr<store::BlobStore>> handles;
  for (int i = 0; i < kWriters; ++i) handles.push_back(open_());
  std::vector<Result<std::string>> keys(kWriters, Result<std::string>(Internal("unset")));
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      // Half through one shared handle, half through their own.
      store::BlobStore* b = (i % 2 == 0) ? blobs_.get() : handles[static_cast<size_t>(i)].get();
      keys[static_cast<size_t>(i)] = b->PutFile(file);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& k : keys) {
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    EXPECT_EQ(*k, want);
  }
  auto path = open_()->LocalPath(want);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*Sha256File(*path), want);
  ASSERT_TRUE(blobs_->Delete(want).ok());
  EXPECT_FALSE(blobs_->Exists(want));
}

TEST_P(BlobStoreConformance, DescribesItselfAndIsReachable) {
  EXPECT_FALSE(blobs_->Describe().empty());
  EXPECT_TRUE(blobs_->CheckReachable().ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobStoreConformance, ::testing::ValuesIn(BlobFactories()),
                         [](const ::testing::TestParamInfo<BlobFactory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace ingest::testing
