#include "ingest/store/blobs/blob_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "ingest/common/hash.h"

namespace ingest::store::blobs {
namespace {

namespace fs = std::filesystem;

class BlobCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ingest-cache-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // A reader serving `content` in pieces of 3 bytes, counting how often it is called.
  BlobReader Serve(const std::string& content, int* calls = nullptr) {
    return [content, calls](const ChunkSink& sink) -> Status {
      if (calls != nullptr) ++*calls;
      for (size_t off = 0; off < content.size(); off += 3) {
        INGEST_RETURN_IF_ERROR(sink(std::string_view(content).substr(off, 3)));
      }
      return Status::Ok();
    };
  }
  // Ages a cached copy's last use by `seconds`.
  static void Age(const std::string& path, int seconds) {
    const auto t = fs::last_write_time(path);
    fs::last_write_time(path, t - std::chrono::seconds(seconds));
  }
  static std::string ReadAll(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string dir_;
};

TEST_F(BlobCacheTest, MaterializesOnceThenServesTheCopy) {
  BlobCache cache({dir_ + "/c", 1 << 20, std::chrono::seconds(0)});
  int calls = 0;
  const std::string content = "the original upload";
  const std::string key = Sha256Hex(content);
  auto p1 = cache.Materialize(key, Serve(content, &calls));
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  EXPECT_EQ(ReadAll(*p1), content);
  auto p2 = cache.Materialize(key, Serve(content, &calls));
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(*p1, *p2);
  EXPECT_EQ(calls, 1);
}

TEST_F(BlobCacheTest, RefusesBytesThatDoNotMatchTheKeyAndKeepsNothing) {
  BlobCache cache({dir_ + "/c", 1 << 20, std::chrono::seconds(0)});
  const std::string key = Sha256Hex("expected");
  auto p = cache.Materialize(key, Serve("tampered"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kDataLoss);
  EXPECT_FALSE(fs::exists(dir_ + "/c/" + key));
  EXPECT_TRUE(fs::is_empty(dir_ + "/c/tmp"));
  EXPECT_EQ(cache.Bytes(), 0);
}

TEST_F(BlobCacheTest, ReaderErrorsPassThroughAndKeepNothing) {
  BlobCache cache({dir_ + "/c", 1 << 20, std::chrono::seconds(0)});
  const std::string key = Sha256Hex("x");
  auto p = cache.Materialize(key, [](const ChunkSink&) { return NotFound("gone"); });
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cache.Bytes(), 0);
}

TEST_F(BlobCacheTest, EvictsLeastRecentlyUsedBeyondTheBound) {
  // Bound: 250 bytes; three 100-byte blobs.
  BlobCache cache({dir_ + "/c", 250, std::chrono::seconds(60)});
  const std::string a(100, 'a'), b(100, 'b'), c(100, 'c');
  auto pa = cache.Materialize(Sha256Hex(a), Serve(a));
  auto pb = cache.Materialize(Sha256Hex(b), Serve(b));
  ASSERT_TRUE(pa.ok() && pb.ok());
  Age(*pa, 300);
  Age(*pb, 200);
  // Using `a` again makes `b` the least recently used.
  ASSERT_TRUE(cache.Materialize(Sha256Hex(a), Serve(a)).ok());
  auto pc = cache.Materialize(Sha256Hex(c), Serve(c));
  ASSERT_TRUE(pc.ok());
  EXPECT_TRUE(fs::exists(*pa));
  EXPECT_FALSE(fs::exists(*pb));
  EXPECT_TRUE(fs::exists(*pc));
  EXPECT_EQ(cache.Bytes(), 200);
}

TEST_F(BlobCacheTest, CopiesUsedWithinTheGraceAreNotEvicted) {
  BlobCache cache({dir_ + "/c", 150, std::chrono::seconds(60)});
  const std::string a(100, 'a'), b(100, 'b');
  auto pa = cache.Materialize(Sha256Hex(a), Serve(a));
  auto pb = cache.Materialize(Sha256Hex(b), Serve(b));
  ASSERT_TRUE(pa.ok() && pb.ok());
  // Both were just handed out: over the bound, but a parser may be about to open either.
  EXPECT_TRUE(fs::exists(*pa));
  EXPECT_TRUE(fs::exists(*pb));
  Age(*pa, 120);
  cache.Trim();
  EXPECT_FALSE(fs::exists(*pa));
  EXPECT_TRUE(fs::exists(*pb));
}

TEST_F(BlobCacheTest, ForgetDropsTheCopy) {
  BlobCache cache({dir_ + "/c", 1 << 20, std::chrono::seconds(0)});
  const std::string key = Sha256Hex("k");
  auto p = cache.Materialize(key, Serve("k"));
  ASSERT_TRUE(p.ok());
  cache.Forget(key);
  EXPECT_FALSE(fs::exists(*p));
}

}  // namespace
}  // namespace ingest::store::blobs
