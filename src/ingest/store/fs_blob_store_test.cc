#include "ingest/store/fs_blob_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ingest/common/hash.h"

namespace ingest::store {
namespace {

namespace fs = std::filesystem;

class FsBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ingest-blob-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/blobs";
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }
  std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  static std::string ReadAll(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  size_t CountFiles(const std::string& under) {
    size_t n = 0;
    std::error_code ec;
    if (!fs::exists(under, ec)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(under)) n += e.is_regular_file();
    return n;
  }

  std::string dir_, root_;
};

TEST_F(FsBlobStoreTest, PutBytesIsContentAddressed) {
  FsBlobStore blobs(root_);
  auto key = blobs.PutBytes("hello world");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(*key, Sha256Hex("hello world"));
  EXPECT_TRUE(blobs.Exists(*key));
  auto path = blobs.LocalPath(*key);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, root_ + "/" + key->substr(0, 2) + "/" + key->substr(2, 2) + "/" + *key);
  EXPECT_EQ(ReadAll(*path), "hello world");
}

TEST_F(FsBlobStoreTest, PutFileMatchesPutBytesAndIsIdempotent) {
  FsBlobStore blobs(root_);
  std::string big(3 * 1024 * 1024 + 17, '\0');  // spans several read blocks
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 % 251);
  const std::string src = WriteFile("big.bin", big);
  auto k1 = blobs.PutFile(src);
  ASSERT_TRUE(k1.ok()) << k1.status().ToString();
  EXPECT_EQ(*k1, Sha256Hex(big));
  auto k2 = blobs.PutFile(src);
  auto k3 = blobs.PutBytes(big);
  ASSERT_TRUE(k2.ok() && k3.ok());
  EXPECT_EQ(*k2, *k1);
  EXPECT_EQ(*k3, *k1);
  EXPECT_EQ(ReadAll(*blobs.LocalPath(*k1)), big);
  // One blob, no temporaries left behind.
  EXPECT_EQ(CountFiles(root_), 1u);
  EXPECT_EQ(CountFiles(root_ + "/tmp"), 0u);
}

TEST_F(FsBlobStoreTest, EmptyContentIsABlob) {
  FsBlobStore blobs(root_);
  auto key = blobs.PutBytes("");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, Sha256Hex(""));
  EXPECT_TRUE(blobs.Exists(*key));
}

TEST_F(FsBlobStoreTest, MissingSourceFailsWithoutPartialFiles) {
  FsBlobStore blobs(root_);
  auto key = blobs.PutFile(dir_ + "/does-not-exist");
  EXPECT_EQ(key.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(CountFiles(root_), 0u);
}

// Reading a directory fails after the temporary file exists: it must be removed.
TEST_F(FsBlobStoreTest, ReadErrorMidCopyLeavesNoTemporary) {
  FsBlobStore blobs(root_);
  ASSERT_TRUE(blobs.PutBytes("seed").ok());  // creates root/tmp
  auto key = blobs.PutFile(dir_);
  EXPECT_FALSE(key.ok());
  EXPECT_EQ(CountFiles(root_ + "/tmp"), 0u);
  EXPECT_EQ(CountFiles(root_), 1u);
}

TEST_F(FsBlobStoreTest, UnwritableRootFailsWithoutPartialFiles) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores permissions";
  FsBlobStore blobs(root_);
  ASSERT_TRUE(blobs.PutBytes("first").ok());
  fs::permissions(root_, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                  fs::perm_options::remove);
  fs::permissions(root_ + "/tmp", fs::perms::owner_write, fs::perm_options::remove);
  const std::string src = WriteFile("x.txt", "second");
  auto key = blobs.PutFile(src);
  EXPECT_FALSE(key.ok());
  fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add);
  fs::permissions(root_ + "/tmp", fs::perms::owner_all, fs::perm_options::add);
  EXPECT_FALSE(blobs.Exists(Sha256Hex("second")));
  EXPECT_EQ(CountFiles(root_ + "/tmp"), 0u);
  EXPECT_EQ(CountFiles(root_), 1u);
}

TEST_F(FsBlobStoreTest, RejectsMalformedKeys) {
  FsBlobStore blobs(root_);
  EXPECT_EQ(blobs.LocalPath("../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(blobs.LocalPath(std::string(64, 'A')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(blobs.Exists("abc"));
}

TEST_F(FsBlobStoreTest, ConcurrentPutsOfSameContent) {
  FsBlobStore blobs(root_);
  const std::string content(100000, 'z');
  std::vector<std::thread> threads;
  std::vector<std::string> keys(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto k = blobs.PutBytes(content);
      keys[i] = k.ok() ? *k : k.status().ToString();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& k : keys) EXPECT_EQ(k, Sha256Hex(content));
  EXPECT_EQ(ReadAll(*blobs.LocalPath(keys[0])), content);
  EXPECT_EQ(CountFiles(root_ + "/tmp"), 0u);
}

}  // namespace
}  // namespace ingest::store
