#include "ingest/store/blobs/layered_blob_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "ingest/common/hash.h"
#include "ingest/store/fs_blob_store.h"

namespace ingest::store {
namespace {

namespace fs = std::filesystem;

class LayeredBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ingest-layered-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static std::string ReadAll(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string dir_;
};

TEST_F(LayeredBlobStoreTest, WritesNewReadsBothDeletesBoth) {
  // A blob stored before the switch, in the old folder.
  FsBlobStore old_folder(dir_ + "/old");
  auto old_key = old_folder.PutBytes("stored before the upgrade");
  ASSERT_TRUE(old_key.ok());

  LayeredBlobStore blobs(std::make_unique<FsBlobStore>(dir_ + "/new"),
                         std::make_unique<FsBlobStore>(dir_ + "/old"));
  EXPECT_TRUE(blobs.Exists(*old_key));
  auto path = blobs.LocalPath(*old_key);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(ReadAll(*path), "stored before the upgrade");

  auto new_key = blobs.PutBytes("stored after");
  ASSERT_TRUE(new_key.ok());
  EXPECT_TRUE(FsBlobStore(dir_ + "/new").Exists(*new_key));
  EXPECT_FALSE(old_folder.Exists(*new_key));
  EXPECT_EQ(ReadAll(*blobs.LocalPath(*new_key)), "stored after");

  ASSERT_TRUE(blobs.Delete(*old_key).ok());
  EXPECT_FALSE(blobs.Exists(*old_key));
  EXPECT_FALSE(old_folder.Exists(*old_key));
  EXPECT_NE(blobs.Describe().find("also reading folder " + dir_ + "/old"), std::string::npos);
}

}  // namespace
}  // namespace ingest::store
