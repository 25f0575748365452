#include "ingest/pipeline/document_json.h"

#include <gtest/gtest.h>

namespace ingest::pipeline {
namespace {

TEST(DocumentJsonTest, CursorRoundTrips) {
  store::Document d;
  d.id = "0b1c-uuid";
  d.created_at = 1700000000123;
  auto c = ParseDocumentCursor(DocumentCursor(d));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->first, d.created_at);
  EXPECT_EQ(c->second, d.id);
  for (const char* bad : {"", "x_y", "12", "12_", "_id"}) {
    EXPECT_EQ(ParseDocumentCursor(bad).status().reason(), "invalid_cursor") << bad;
  }
}

TEST(DocumentJsonTest, TimeBounds) {
  EXPECT_EQ(*ParseTimeBound("1700000000123"), 1700000000123);
  EXPECT_EQ(*ParseTimeBound("2024-01-02"), 1704153600000);
  EXPECT_EQ(*ParseTimeBound("2024-01-02T03:04:05Z"), 1704164645000);
  EXPECT_EQ(*ParseTimeBound("2024-01-02T03:04:05.250Z"), 1704164645250);
  for (const char* bad : {"", "yesterday", "2024-13-01", "2024-01-02T03:04:05", "2024-01-02 x"}) {
    EXPECT_EQ(ParseTimeBound(bad).status().reason(), "invalid_time") << bad;
  }
}

TEST(DocumentJsonTest, MetadataIsAnObjectAndChunksInheritIt) {
  store::Document d;
  d.id = "doc";
  d.metadata_json = R"({"team":"claims"})";
  d.external_id = "a/b";
  d.version = 3;
  nlohmann::json j = DocumentJson(d, std::nullopt);
  EXPECT_EQ(j["metadata"]["team"], "claims");
  EXPECT_EQ(j["external_id"], "a/b");
  EXPECT_EQ(j["version"], 3);
  EXPECT_FALSE(j.contains("state"));
  EXPECT_EQ(MetadataObject("not json"), nlohmann::json::object());
  store::Chunk c;
  c.id = "c";
  EXPECT_EQ(ChunkJson(c, j["metadata"])["metadata"]["team"], "claims");
}

}  // namespace
}  // namespace ingest::pipeline
