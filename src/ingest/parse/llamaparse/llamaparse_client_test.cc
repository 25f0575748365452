// LlamaParseClient and LlamaParseParser against the in-process LlamaParse emulator (port 0, a
// FakeClock drives job latency, so nothing sleeps).
#include "ingest/parse/llamaparse/llamaparse_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ingest/emulate/llamaparse/llamaparse_emulator.h"
#include "ingest/parse/llamaparse/llamaparse_parser.h"
#include "ingest/parse/testing/minimal_pdf.h"

namespace ingest::parse {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class LlamaParseClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lp-client-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    client_.reset();
    http_.reset();
    if (emulator_) emulator_->Stop();
    fs::remove_all(dir_);
  }

  void StartWith(emulate::LlamaParseEmulatorOptions o = {}) {
    o.api_keys = {"llx-test"};
    o.clock = &clock_;
    emulator_ = std::make_unique<emulate::LlamaParseEmulator>(std::move(o));
    ASSERT_TRUE(emulator_->Start("127.0.0.1", 0).ok());
    client_ = std::make_unique<LlamaParseClient>(http_.get(), Options("llx-test"));
  }
  LlamaParseClientOptions Options(std::string key) const {
    LlamaParseClientOptions o;
    o.base_url = "http://127.0.0.1:" + std::to_string(emulator_->port()) + "/";
    o.api_key = std::move(key);
    return o;
  }
  std::string Write(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  std::string ThreePagePdf() {
    return Write("report.pdf", testing::MakePdf({testing::PdfTextAt(72, 700, "Alpha page one"),
                                                 testing::PdfTextAt(72, 700, "Bravo page two"),
                                                 testing::PdfTextAt(72, 700, "Charlie three")}));
  }

  FakeClock clock_;
  // Reset before the emulator stops: its keep-alive connections would hold Stop() for 5 s.
  std::unique_ptr<http::HttpClient> http_ = std::make_unique<http::HttpClient>();
  fs::path dir_;
  std::unique_ptr<emulate::LlamaParseEmulator> emulator_;
  std::unique_ptr<LlamaParseClient> client_;
};

TEST_F(LlamaParseClientTest, UploadStatusAndJsonPagesKeepPageNumbersAndBilling) {
  StartWith();
  auto id = client_->Upload(ThreePagePdf(), "report.pdf", {});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto pending = client_->GetStatus(*id);
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_EQ(pending->state, LlamaParseJobState::kPending);
  EXPECT_FALSE(pending->terminal());

  clock_.Advance(std::chrono::minutes(5));
  auto done = client_->GetStatus(*id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, LlamaParseJobState::kSuccess);

  auto result = client_->GetMarkdownPages(*id);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->pages.size(), 3u);
  EXPECT_EQ(result->pages[0].page, 1);
  EXPECT_EQ(result->pages[2].page, 3);
  EXPECT_THAT(result->pages[0].md, HasSubstr("Alpha page one"));
  EXPECT_THAT(result->pages[1].md, HasSubstr("Bravo page two"));
  EXPECT_EQ(result->metadata.job_pages, 3);
  EXPECT_DOUBLE_EQ(result->metadata.credits_charged, 9.0);  // 3 pages x 3 (default mode)
  EXPECT_FALSE(result->metadata.cache_hit);
  EXPECT_EQ(emulator_->Stats().uploads, 1);
  EXPECT_DOUBLE_EQ(emulator_->Stats().credits_billed, 9.0);
}

TEST_F(LlamaParseClientTest, ParseModeIsSentAndChangesTheCharge) {
  StartWith();
  LlamaParseUploadOptions fast;
  fast.parse_mode = "parse_page_without_llm";
  auto id = client_->Upload(ThreePagePdf(), "report.pdf", fast);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  clock_.Advance(std::chrono::minutes(5));
  auto result = client_->GetMarkdownPages(*id);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_DOUBLE_EQ(result->metadata.credits_charged, 3.0);  // 1 credit per page

  LlamaParseUploadOptions bogus;
  bogus.parse_mode = "parse_with_magic";
  auto rejected = client_->Upload(ThreePagePdf(), "report.pdf", bogus);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LlamaParseClientTest, SecondUploadOfTheSameFileIsAFreeCacheHit) {
  StartWith();
  const std::string path = ThreePagePdf();
  auto first = client_->Upload(path, "report.pdf", {});
  ASSERT_TRUE(first.ok());
  clock_.Advance(std::chrono::minutes(5));
  auto second = client_->Upload(path, "report.pdf", {});
  ASSERT_TRUE(second.ok());
  clock_.Advance(std::chrono::minutes(5));
  auto result = client_->GetMarkdownPages(*second);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->metadata.cache_hit);
  EXPECT_DOUBLE_EQ(result->metadata.credits_charged, 0.0);
  EXPECT_DOUBLE_EQ(result->metadata.credits_used, 9.0);  // the original price, not a charge
  EXPECT_EQ(result->metadata.job_pages, 0);
  EXPECT_EQ(result->pages.size(), 3u);
  EXPECT_DOUBLE_EQ(emulator_->Stats().credits_billed, 9.0);
}

TEST_F(LlamaParseClientTest, HttpErrorsMapToStatusCodes) {
  emulate::LlamaParseEmulatorOptions o;
  o.credits_cap = 5;  // a 3-page PDF at 3 credits/page costs 9
  o.upload_rate_limit = 1;
  o.upload_rate_window_ms = 10'000;
  StartWith(o);
  const std::string pdf = ThreePagePdf();

  LlamaParseClient bad_key(http_.get(), Options("llx-wrong"));
  auto unauth = bad_key.Upload(pdf, "report.pdf", {});
  EXPECT_EQ(unauth.status().code(), StatusCode::kUnauthenticated);

  auto quota = client_->Upload(pdf, "report.pdf", {});
  ASSERT_FALSE(quota.ok());
  EXPECT_EQ(quota.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(quota.status().reason(), "insufficient_quota");

  auto limited = client_->Upload(pdf, "report.pdf", {});
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(limited.status().reason(), "rate_limited");
  EXPECT_THAT(limited.status().message(), HasSubstr("retry after"));

  clock_.Advance(std::chrono::seconds(30));
  auto exe = client_->Upload(Write("tool.exe", "MZ\x90"), "tool.exe", {});
  ASSERT_FALSE(exe.ok());
  EXPECT_EQ(exe.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(exe.status().reason(), "unsupported_type");

  auto unknown = client_->GetStatus("00000000-0000-0000-0000-000000000000");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(unknown.status().reason(), "remote_job_not_found");

  auto missing = client_->Upload((dir_ / "nope.pdf").string(), "nope.pdf", {});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(emulator_->Stats().uploads, 0);
}

TEST_F(LlamaParseClientTest, ServerErrorsAreUnavailable) {
  emulate::LlamaParseEmulatorOptions o;
  o.faults.every_n[emulate::FaultKind::kServerError500] = 1;
  StartWith(o);
  auto r = client_->GetStatus("any");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().reason(), "server_error");
}

TEST_F(LlamaParseClientTest, JobErrorsMapByErrorCode) {
  auto err = [](const char* code) {
    LlamaParseJobStatus s;
    s.state = LlamaParseJobState::kError;
    s.error_code = code;
    return LlamaParseClient::JobError("j", s);
  };
  EXPECT_EQ(err("EXPIRED").code(), StatusCode::kUnavailable);
  EXPECT_EQ(err("UNSUPPORTED_FILE_TYPE").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(err("UNSUPPORTED_FILE_TYPE").reason(), "unsupported_type");
  EXPECT_EQ(err("PDF_IS_PROTECTED").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(err("NO_DATA_FOUND_IN_FILE").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(err("INTERNAL_ERROR").code(), StatusCode::kUnavailable);
  LlamaParseJobStatus cancelled;
  cancelled.state = LlamaParseJobState::kCancelled;
  EXPECT_EQ(LlamaParseClient::JobError("j", cancelled).code(), StatusCode::kCancelled);
}

TEST_F(LlamaParseClientTest, ExpiredJobIsReportedAsUnavailable) {
  emulate::LlamaParseEmulatorOptions o;
  o.latency_per_page_ms = 10'000'000;
  StartWith(o);
  LlamaParseParserOptions po;
  po.client = Options("llx-test");
  po.upload.job_timeout_s = 120;
  LlamaParseParser parser(http_.get(), po);
  ParseInput in{ThreePagePdf(), "report.pdf", "", DocType::kUnknown};
  auto id = parser.Submit(in);
  ASSERT_TRUE(id.ok());
  auto pending = parser.Poll(in, *id);
  ASSERT_TRUE(pending.ok());
  EXPECT_FALSE(pending->done());
  clock_.Advance(std::chrono::seconds(121));
  auto expired = parser.Poll(in, *id);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(expired.status().reason(), "remote_job_expired");
}

TEST_F(LlamaParseClientTest, ParserPollBuildsPagesAndBillingDetail) {
  StartWith();
  LlamaParseParserOptions po;
  po.client = Options("llx-test");
  LlamaParseParser parser(http_.get(), po);
  ParseInput in{ThreePagePdf(), "report.pdf", "", DocType::kUnknown};
  auto id = parser.Submit(in);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  clock_.Advance(std::chrono::minutes(5));
  auto st = parser.Poll(in, *id);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_TRUE(st->done());
  const ParsedDocument& doc = *st->document;
  EXPECT_EQ(doc.parser, "llamaparse");
  EXPECT_EQ(doc.type, DocType::kPdf);
  ASSERT_EQ(doc.pages.size(), 3u);
  EXPECT_EQ(doc.pages[1].page, 2);
  EXPECT_THAT(doc.pages[1].text, HasSubstr("Bravo"));
  const auto detail = nlohmann::json::parse(doc.detail_json);
  EXPECT_EQ(detail["remote_job_id"], *id);
  EXPECT_EQ(detail["job_pages"], 3);
  EXPECT_EQ(detail["credits"], 9.0);
  EXPECT_EQ(detail["cache_hit"], false);

  LlamaParseParserOptions other = po;
  other.upload.parse_mode = "parse_page_with_agent";
  EXPECT_NE(LlamaParseParser(http_.get(), other).ConfigHash(), parser.ConfigHash());
  LlamaParseParserOptions other_key = po;
  other_key.client.api_key = "llx-other";
  EXPECT_EQ(LlamaParseParser(http_.get(), other_key).ConfigHash(), parser.ConfigHash());
}

TEST(RemotePollDelayTest, OneSecondGrowingByOneToFive) {
  using std::chrono::milliseconds;
  EXPECT_EQ(RemotePollDelay(milliseconds(0)), milliseconds(1000));
  EXPECT_EQ(RemotePollDelay(milliseconds(1000)), milliseconds(2000));  // looks at 1 s, 3 s, ...
  EXPECT_EQ(RemotePollDelay(milliseconds(3000)), milliseconds(3000));
  EXPECT_EQ(RemotePollDelay(milliseconds(6000)), milliseconds(4000));
  EXPECT_EQ(RemotePollDelay(milliseconds(10000)), milliseconds(5000));
  EXPECT_EQ(RemotePollDelay(milliseconds(3'600'000)), milliseconds(5000));
}

}  // namespace
}  // namespace ingest::parse
