#include "ingest/parse/contained/parse_wire.h"

#include <gtest/gtest.h>

#include <string>

namespace ingest::parse {
namespace {

ParsedDocument SampleDocument() {
  ParsedDocument doc;
  doc.type = DocType::kPdf;
  doc.parser = "local:pdf";
  doc.detail_json = R"({"pages":4,"type":"pdf"})";
  // Gaps in page numbers, an empty page, NULs and bytes that are not UTF-8 all survive.
  doc.pages.push_back({1, "# Title\n\nfirst page"});
  doc.pages.push_back({2, ""});
  doc.pages.push_back({7, std::string("nul\0inside\xff\xfe end", 18)});
  doc.pages.push_back({9, std::string(100000, 'x')});
  return doc;
}

TEST(ParseWireTest, DocumentRoundTripsExactly) {
  const ParsedDocument doc = SampleDocument();
  const std::string bytes = EncodeParseResult(doc);
  auto decoded = DecodeParseResult(bytes);
  ASSERT_TRUE(decoded.has_value());
  ASSERT_TRUE(decoded->ok()) << decoded->status().ToString();
  const ParsedDocument& got = **decoded;
  EXPECT_EQ(got.type, doc.type);
  EXPECT_EQ(got.parser, doc.parser);
  EXPECT_EQ(got.detail_json, doc.detail_json);
  ASSERT_EQ(got.pages.size(), doc.pages.size());
  for (size_t i = 0; i < doc.pages.size(); ++i) {
    EXPECT_EQ(got.pages[i].page, doc.pages[i].page);
    EXPECT_EQ(got.pages[i].text, doc.pages[i].text);
  }
}

TEST(ParseWireTest, EmptyDocumentRoundTrips) {
  auto decoded = DecodeParseResult(EncodeParseResult(ParsedDocument{}));
  ASSERT_TRUE(decoded.has_value() && decoded->ok());
  EXPECT_TRUE((*decoded)->pages.empty());
  EXPECT_EQ((*decoded)->type, DocType::kUnknown);
}

TEST(ParseWireTest, ErrorsRoundTripWithCodeReasonAndMessage) {
  auto decoded = DecodeParseResult(
      EncodeParseResult(InvalidArgument("the PDF cannot be opened", "pdf_corrupt")));
  ASSERT_TRUE(decoded.has_value());
  ASSERT_FALSE(decoded->ok());
  EXPECT_EQ(decoded->status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(decoded->status().reason(), "pdf_corrupt");
  EXPECT_EQ(decoded->status().message(), "the PDF cannot be opened");

  // No reason stays no reason (reason() then names the code).
  decoded = DecodeParseResult(EncodeParseResult(NotFound("cannot read x")));
  ASSERT_TRUE(decoded.has_value() && !decoded->ok());
  EXPECT_FALSE(decoded->status().has_reason());
  EXPECT_EQ(decoded->status().code(), StatusCode::kNotFound);
}

// A child killed while writing leaves a prefix of the frame: every prefix is rejected, as is
// anything appended after the end marker.
TEST(ParseWireTest, EveryTruncationIsRejected) {
  ParsedDocument doc = SampleDocument();
  doc.pages.pop_back();  // keep the loop below short
  const std::string bytes = EncodeParseResult(doc);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeParseResult(std::string_view(bytes).substr(0, n)).has_value()) << n;
  }
  EXPECT_FALSE(DecodeParseResult(bytes + "x").has_value());
  const std::string err = EncodeParseResult(Internal("boom", "x"));
  for (size_t n = 0; n < err.size(); ++n) {
    EXPECT_FALSE(DecodeParseResult(std::string_view(err).substr(0, n)).has_value()) << n;
  }
}

TEST(ParseWireTest, GarbageIsRejected) {
  EXPECT_FALSE(DecodeParseResult("").has_value());
  EXPECT_FALSE(DecodeParseResult("hello world").has_value());
  std::string bytes = EncodeParseResult(SampleDocument());
  bytes[16] = 'Q';  // unknown kind
  EXPECT_FALSE(DecodeParseResult(bytes).has_value());
  // A page count far beyond the bytes that follow is refused without allocating for it.
  std::string huge = "INGESTD-PARSE/1\nD";
  huge.push_back(static_cast<char>(DocType::kText));
  huge.append(8, '\0');  // parser ""
  huge.append(8, '\0');  // detail ""
  huge.append(8, '\xff');
  huge += "END\n";
  EXPECT_FALSE(DecodeParseResult(huge).has_value());
}

}  // namespace
}  // namespace ingest::parse
