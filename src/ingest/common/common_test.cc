#include <gtest/gtest.h>

#include "ingest/common/clock.h"
#include "ingest/common/hash.h"
#include "ingest/common/ids.h"
#include "ingest/common/result.h"

namespace ingest {
namespace {

TEST(HashTest, Sha256KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 streaming;
  streaming.Update("a");
  streaming.Update("bc");
  EXPECT_EQ(streaming.FinishHex(), Sha256Hex("abc"));
}

TEST(HashTest, HmacSha256Rfc4231AndConstantTimeEquals) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(IdsTest, UuidV5MatchesRfc4122Example) {
  // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") == 886313e1-3b8a-5372-9b90-0c9aee199e5d
  EXPECT_EQ(UuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d");
}

TEST(IdsTest, DocumentIdsAreDeterministicAndTenantScoped) {
  std::string sha = Sha256Hex("doc");
  EXPECT_EQ(DocumentId("t1", sha), DocumentId("t1", sha));
  EXPECT_NE(DocumentId("t1", sha), DocumentId("t2", sha));
  std::string doc = DocumentId("t1", sha);
  EXPECT_NE(ChunkId(doc, "markdown@1", 0), ChunkId(doc, "markdown@1", 1));
  EXPECT_EQ(ChunkId(doc, "markdown@1", 3), ChunkId(doc, "markdown@1", 3));
  EXPECT_EQ(UuidV4().size(), 36u);
  EXPECT_NE(UuidV4(), UuidV4());
}

TEST(StatusTest, ReasonFallsBackToCodeName) {
  Status s = InvalidArgument("bad pdf", "pdf_corrupt");
  EXPECT_EQ(s.reason(), "pdf_corrupt");
  EXPECT_EQ(s.ToString(), "invalid_argument[pdf_corrupt]: bad pdf");
  EXPECT_EQ(Unavailable("x").reason(), "unavailable");
  EXPECT_EQ(s.WithContext("a.pdf").message(), "a.pdf: bad pdf");
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  INGEST_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(ResultTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_FALSE(Quarter(6).ok());
  EXPECT_EQ(Quarter(6).status().message(), "odd");
}

TEST(ClockTest, FakeClockAdvancesAndFormats) {
  FakeClock clock(0);
  clock.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.NowMillis(), 1500);
  EXPECT_EQ(FormatIso8601(1500), "1970-01-01T00:00:01.500Z");
}

}  // namespace
}  // namespace ingest
