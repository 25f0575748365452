#include "ingest/emulate/llamaparse/llamaparse_emulator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace ingest::emulate {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// A minimal valid PDF with one Helvetica text line per page, so poppler extracts known text.
std::string MakePdf(const std::vector<std::string>& page_texts) {
  const int n = static_cast<int>(page_texts.size());
  const int font = 3 + 2 * n;
  std::vector<std::string> objects;
  std::string kids;
  for (int i = 0; i < n; ++i) kids += std::to_string(3 + 2 * i) + " 0 R ";
  objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  objects.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>");
  for (int i = 0; i < n; ++i) {
    const std::string stream = "BT /F1 18 Tf 72 700 Td (" + page_texts[i] + ") Tj ET";
    objects.push_back(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font "
        "<< /F1 " +
        std::to_string(font) + " 0 R >> >> /Contents " + std::to_string(4 + 2 * i) + " 0 R >>");
    objects.push_back("<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream +
                      "\nendstream");
  }
  objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  std::string pdf = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char line[32];
    std::snprintf(line, sizeof(line), "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\n";
  pdf += "startxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

class LlamaParseEmulatorTest : public ::testing::Test {
 protected:
  void StartWith(LlamaParseEmulatorOptions o) {
    if (o.api_keys.empty()) o.api_keys = {"llx-test"};
    o.clock = &clock_;
    emulator_ = std::make_unique<LlamaParseEmulator>(std::move(o));
    ASSERT_TRUE(emulator_->Start("127.0.0.1", 0).ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", emulator_->port());
    client_->set_read_timeout(std::chrono::seconds(10));
  }

  httplib::Result Upload(const std::string& filename, const std::string& content,
                         const std::map<std::string, std::string>& fields = {},
                         const std::string& prefix = "/api/v1/parsing",
                         const std::string& key = "llx-test") {
    httplib::MultipartFormDataItems items;
    if (!filename.empty()) items.push_back({"file", content, filename, "application/octet-stream"});
    for (const auto& [k, v] : fields) items.push_back({k, v, "", ""});
    return client_->Post(prefix + "/upload", {{"Authorization", "Bearer " + key}}, items);
  }

  json Get(const std::string& path, int expect_status = 200) {
    auto r = client_->Get(path, {{"Authorization", "Bearer llx-test"}});
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, expect_status) << path << " " << r->body;
    return json::parse(r->body, nullptr, false);
  }

  // Uploads, checks PENDING, advances past the latency and returns the job id.
  std::string UploadAndFinish(const std::string& filename, const std::string& content,
                              const std::map<std::string, std::string>& fields = {}) {
    auto r = Upload(filename, content, fields);
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 200) << r->body;
    const json body = json::parse(r->body);
    EXPECT_EQ(body["status"], "PENDING");
    EXPECT_TRUE(body["error_code"].is_null());
    clock_.Advance(std::chrono::minutes(10));
    return body["id"];
  }

  FakeClock clock_;
  std::unique_ptr<LlamaParseEmulator> emulator_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(LlamaParseEmulatorTest, PdfUploadGoesPendingThenSuccessWithRealPageText) {
  LlamaParseEmulatorOptions o;
  o.latency_base_ms = 1000;
  o.latency_per_page_ms = 500;
  StartWith(o);
  const std::string pdf = MakePdf({"Alpha page one", "Bravo page two", "Charlie page three"});
  auto r = Upload("report.pdf", pdf, {}, "/api/parsing");  // the classic client's prefix
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string id = json::parse(r->body)["id"];
  EXPECT_EQ(Get("/api/parsing/job/" + id)["status"], "PENDING");
  clock_.Advance(std::chrono::milliseconds(2499));  // base + 3 × per-page = 2500 ms
  EXPECT_EQ(Get("/api/v1/parsing/job/" + id)["status"], "PENDING");
  Get("/api/v1/parsing/job/" + id + "/result/markdown", 400);
  clock_.Advance(std::chrono::milliseconds(1));
  const json status = Get("/api/v1/parsing/job/" + id);
  EXPECT_EQ(status["status"], "SUCCESS");
  EXPECT_TRUE(status["error_code"].is_null());

  const json md = Get("/api/v1/parsing/job/" + id + "/result/markdown");
  EXPECT_EQ(md["markdown"], "Alpha page one\n---\nBravo page two\n---\nCharlie page three");
  EXPECT_EQ(md["job_metadata"]["job_pages"], 3);
  EXPECT_EQ(md["job_metadata"]["job_is_cache_hit"], false);
  EXPECT_EQ(md["job_metadata"]["job_credits_usage"], 9.0);  // 3 pages × 3 credits (default)
  EXPECT_EQ(md["job_metadata"]["job_auto_mode_triggered_pages"], 0);
  EXPECT_EQ(Get("/api/parsing/job/" + id + "/result/text")["text"],
            "Alpha page one\n---\nBravo page two\n---\nCharlie page three");
  const json pages = Get("/api/v1/parsing/job/" + id + "/result/json")["pages"];
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0]["page"], 1);
  EXPECT_EQ(pages[2]["page"], 3);
  EXPECT_EQ(pages[1]["md"], "Bravo page two");
  EXPECT_EQ(pages[1]["status"], "OK");

  const auto stats = emulator_->Stats();
  EXPECT_EQ(stats.uploads, 1);
  EXPECT_EQ(stats.pages_billed, 3);
  EXPECT_DOUBLE_EQ(stats.credits_billed, 9);
  EXPECT_EQ(stats.jobs_by_status.at("SUCCESS"), 1);
  EXPECT_EQ(stats.by_status.at(400), 1);  // the early result request
  EXPECT_EQ(stats.by_status.at(200), stats.requests - 1);
  EXPECT_EQ(stats.by_outcome.at("ok"), stats.requests - 1);
  Get("/api/v1/parsing/job/no-such-job", 404);
}

TEST_F(LlamaParseEmulatorTest, V2ListIsAuthenticatedAndPagesNewestFirst) {
  LlamaParseEmulatorOptions o;
  o.latency_base_ms = 1000;
  StartWith(o);
  EXPECT_EQ(Get("/api/v2/parse?page_size=1")["items"].size(), 0u);
  auto wrong = client_->Get("/api/v2/parse", {{"Authorization", "Bearer llx-wrong"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  const std::string first = json::parse(Upload("a.pdf", MakePdf({"One"}))->body)["id"];
  clock_.Advance(std::chrono::milliseconds(5));
  const std::string second = json::parse(Upload("b.pdf", MakePdf({"Two"}))->body)["id"];
  json page = Get("/api/v2/parse?page_size=1");
  ASSERT_EQ(page["items"].size(), 1u);
  EXPECT_EQ(page["items"][0]["id"], second);
  EXPECT_EQ(page["items"][0]["status"], "PENDING");
  ASSERT_TRUE(page["next_page_token"].is_string());
  clock_.Advance(std::chrono::milliseconds(2000));
  page = Get("/api/v2/parse?page_size=1&page_token=" + page["next_page_token"].get<std::string>());
  ASSERT_EQ(page["items"].size(), 1u);
  EXPECT_EQ(page["items"][0]["id"], first);
  EXPECT_EQ(page["items"][0]["status"], "COMPLETED");
  EXPECT_TRUE(page["next_page_token"].is_null());
  Get("/api/v2/parse?page_size=0", 422);
}

TEST_F(LlamaParseEmulatorTest, TargetPagesAreZeroBasedAndSeparatorIsTemplated) {
  StartWith({});
  const std::string pdf = MakePdf({"One", "Two", "Three"});
  const std::string id = UploadAndFinish(
      "r.pdf", pdf, {{"target_pages", "0,2"}, {"page_separator", "\n<{page_number}>\n"}});
  const json md = Get("/api/v1/parsing/job/" + id + "/result/markdown");
  EXPECT_EQ(md["markdown"], "One\n<3>\nThree");
  EXPECT_EQ(md["job_metadata"]["job_pages"], 2);
  const json pages = Get("/api/v1/parsing/job/" + id + "/result/json")["pages"];
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[1]["page"], 3);

  const std::string past = UploadAndFinish("r.pdf", pdf, {{"target_pages", "5-9"}});
  const json status = Get("/api/v1/parsing/job/" + past);
  EXPECT_EQ(status["status"], "ERROR");
  EXPECT_EQ(status["error_code"], "NO_DATA_FOUND_IN_FILE");
  Get("/api/v1/parsing/job/" + past + "/result/markdown", 400);
  EXPECT_EQ(emulator_->Stats().pages_billed, 2);  // the failed job is not billed
}

TEST_F(LlamaParseEmulatorTest, CacheHitIsFreeUnlessInvalidated) {
  StartWith({});
  const std::string pdf = MakePdf({"Cached", "Twice"});
  UploadAndFinish("c.pdf", pdf);
  const std::string hit = UploadAndFinish("c.pdf", pdf);
  const json meta = Get("/api/v1/parsing/job/" + hit + "/result/markdown")["job_metadata"];
  EXPECT_EQ(meta["job_is_cache_hit"], true);
  EXPECT_EQ(meta["job_pages"], 0);
  EXPECT_EQ(meta["job_credits_usage"], 0.0);
  EXPECT_EQ(meta["credits_used"], 6.0);
  EXPECT_DOUBLE_EQ(emulator_->Stats().credits_billed, 6);
  const std::string fresh = UploadAndFinish("c.pdf", pdf, {{"invalidate_cache", "true"}});
  EXPECT_EQ(
      Get("/api/v1/parsing/job/" + fresh + "/result/text")["job_metadata"]["job_is_cache_hit"],
      false);
  EXPECT_DOUBLE_EQ(emulator_->Stats().credits_billed, 12);
  // Past 48 h the entry is gone.
  clock_.Advance(std::chrono::hours(49));
  UploadAndFinish("c.pdf", pdf);
  EXPECT_DOUBLE_EQ(emulator_->Stats().credits_billed, 18);
}

TEST_F(LlamaParseEmulatorTest, CreditsPerPageFollowTheMode) {
  StartWith({});
  const std::vector<std::pair<std::map<std::string, std::string>, double>> cases = {
      {{{"fast_mode", "true"}}, 1},
      {{{"parse_mode", "parse_page_without_llm"}}, 1},
      {{}, 3},
      {{{"parse_mode", "parse_page_with_agent"}}, 10},
      {{{"premium_mode", "true"}}, 45},
  };
  for (const auto& [fields, credits] : cases) {
    const std::string id = UploadAndFinish("notes.md", "# Notes\n\nsame text", fields);
    const json res = Get("/api/v1/parsing/job/" + id + "/result/markdown");
    EXPECT_EQ(res["markdown"], "# Notes\n\nsame text");
    EXPECT_EQ(res["job_metadata"]["job_credits_usage"], credits);
  }
  EXPECT_DOUBLE_EQ(emulator_->Stats().credits_billed, 60);
  auto bad = Upload("notes.md", "x", {{"parse_mode", "parse_with_magic"}});
  EXPECT_EQ(bad->status, 400);
}

TEST_F(LlamaParseEmulatorTest, InvalidUtf8TextIsServedWithReplacementCharacters) {
  StartWith({});
  const std::string id = UploadAndFinish("latin1.txt", "caf\xe9 au lait");
  const json md = Get("/api/v1/parsing/job/" + id + "/result/markdown");
  EXPECT_EQ(md["markdown"], "caf\xef\xbf\xbd au lait");
}

TEST_F(LlamaParseEmulatorTest, OtherFormatsGetSeededDeterministicText) {
  StartWith({});
  const std::string a = UploadAndFinish("deck.pptx", std::string(1000, 'a'));
  const std::string b =
      UploadAndFinish("deck.pptx", std::string(1000, 'a'), {{"invalidate_cache", "true"}});
  const std::string c = UploadAndFinish("deck.pptx", std::string(1000, 'b'));
  const auto md = [&](const std::string& id) {
    return Get("/api/v1/parsing/job/" + id + "/result/markdown")["markdown"].get<std::string>();
  };
  EXPECT_EQ(md(a), md(b));
  EXPECT_NE(md(a), md(c));
  EXPECT_THAT(md(a), HasSubstr("# deck.pptx, page 1"));
}

TEST_F(LlamaParseEmulatorTest, UploadRejections) {
  LlamaParseEmulatorOptions o;
  o.max_file_bytes = 100;
  o.credits_cap = 5;
  StartWith(o);
  auto unauth = Upload("a.txt", "x", {}, "/api/v1/parsing", "llx-wrong");
  EXPECT_EQ(unauth->status, 401);
  EXPECT_EQ(json::parse(unauth->body)["detail"], "Invalid authentication credentials");
  auto exe = Upload("tool.exe", "MZ");
  EXPECT_EQ(exe->status, 400);
  EXPECT_THAT(json::parse(exe->body)["detail"].get<std::string>(), HasSubstr(".exe"));
  EXPECT_EQ(Upload("", "", {{"input_url", "https://example.com/a.pdf"}})->status, 400);
  EXPECT_EQ(Upload("", "")->status, 400);
  EXPECT_EQ(Upload("big.txt", std::string(101, 'x'))->status, 413);
  EXPECT_EQ(Upload("a.txt", "first", {{"job_timeout_in_seconds", "60"}})->status, 400);
  EXPECT_EQ(Upload("a.txt", "first")->status, 200);  // 3 credits of 5
  auto over = Upload("b.txt", "second");
  ASSERT_EQ(over->status, 402);
  EXPECT_EQ(json::parse(over->body)["detail"],
            "You've exceeded the maximum number of credits for your plan");
  EXPECT_EQ(Upload("c.txt", "third", {{"fast_mode", "true"}})->status, 200);  // 1 more fits
  const auto stats = emulator_->Stats();
  EXPECT_DOUBLE_EQ(stats.credits_billed, 4);
  EXPECT_EQ(stats.by_status.at(402), 1);
  EXPECT_EQ(stats.by_status.at(401), 1);
}

TEST_F(LlamaParseEmulatorTest, UploadRateLimitAnswers429AndRecovers) {
  LlamaParseEmulatorOptions o;
  o.upload_rate_limit = 2;
  o.upload_rate_window_ms = 10'000;
  StartWith(o);
  EXPECT_EQ(Upload("a.txt", "1")->status, 200);
  EXPECT_EQ(Upload("a.txt", "2")->status, 200);
  auto limited = Upload("a.txt", "3");
  ASSERT_EQ(limited->status, 429);
  EXPECT_EQ(limited->get_header_value("Retry-After"), "5");
  clock_.Advance(std::chrono::seconds(5));
  EXPECT_EQ(Upload("a.txt", "3")->status, 200);
  EXPECT_EQ(emulator_->Stats().rate_limited, 1);
}

TEST_F(LlamaParseEmulatorTest, JobPastItsTimeoutExpires) {
  LlamaParseEmulatorOptions o;
  o.latency_per_page_ms = 200'000;
  StartWith(o);
  auto r = Upload("slow.txt", "text", {{"job_timeout_in_seconds", "120"}});
  ASSERT_EQ(r->status, 200);
  const std::string id = json::parse(r->body)["id"];
  clock_.Advance(std::chrono::seconds(119));
  EXPECT_EQ(Get("/api/v1/parsing/job/" + id)["status"], "PENDING");
  clock_.Advance(std::chrono::seconds(1));
  const json status = Get("/api/v1/parsing/job/" + id);
  EXPECT_EQ(status["status"], "ERROR");
  EXPECT_EQ(status["error_code"], "EXPIRED");
  EXPECT_DOUBLE_EQ(emulator_->Stats().credits_billed, 0);
}

TEST_F(LlamaParseEmulatorTest, FaultsAreDeterministicAndNeverBilled) {
  LlamaParseEmulatorOptions o;
  o.faults.every_n[FaultKind::kServerError500] = 3;
  StartWith(o);
  std::vector<int> statuses;
  for (int i = 0; i < 6; ++i) statuses.push_back(Upload("f.txt", std::to_string(i))->status);
  EXPECT_THAT(statuses, ::testing::ElementsAre(200, 200, 500, 200, 200, 500));
  EXPECT_EQ(emulator_->Stats().uploads, 4);
  EXPECT_DOUBLE_EQ(emulator_->Stats().credits_billed, 12);

  LlamaParseEmulatorOptions job_error;
  job_error.faults.every_n[FaultKind::kJobError] = 1;
  StartWith(job_error);
  const std::string failed = UploadAndFinish("e.txt", "err");
  EXPECT_EQ(Get("/api/v1/parsing/job/" + failed)["status"], "ERROR");
  EXPECT_DOUBLE_EQ(emulator_->Stats().credits_billed, 0);

  LlamaParseEmulatorOptions partial;
  partial.faults.every_n[FaultKind::kPartialSuccess] = 1;
  StartWith(partial);
  const std::string id = UploadAndFinish("p.pdf", MakePdf({"Kept", "Lost"}));
  EXPECT_EQ(Get("/api/v1/parsing/job/" + id)["status"], "PARTIAL_SUCCESS");
  const json pages = Get("/api/v1/parsing/job/" + id + "/result/json")["pages"];
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[0]["status"], "OK");
  EXPECT_EQ(pages[1]["status"], "ERROR");
  EXPECT_DOUBLE_EQ(emulator_->Stats().credits_billed, 0);

  LlamaParseEmulatorOptions seeded;
  seeded.faults.seed = 7;
  seeded.faults.rates = {{FaultKind::kUnavailable503, 0.4}, {FaultKind::kRateLimit429, 0.2}};
  std::vector<int> runs[2];
  for (auto& run : runs) {
    StartWith(seeded);
    for (int i = 0; i < 30; ++i) run.push_back(Upload("s.txt", std::to_string(i))->status);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_GT(std::count(runs[0].begin(), runs[0].end(), 503), 3);
}

TEST_F(LlamaParseEmulatorTest, BillingLogLinesMatchStats) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("llamaparse_billing_" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  LlamaParseEmulatorOptions o;
  o.billing_log_path = path.string();
  StartWith(o);
  UploadAndFinish("a.pdf", MakePdf({"A", "B"}));
  UploadAndFinish("a.pdf", MakePdf({"A", "B"}));  // cache hit: logged with 0 credits
  UploadAndFinish("b.txt", "bee", {{"premium_mode", "true"}});
  std::ifstream in(path);
  std::string line;
  double credits = 0;
  int64_t pages = 0, lines = 0, hits = 0;
  while (std::getline(in, line)) {
    const json j = json::parse(line);
    ++lines;
    credits += j["credits"].get<double>();
    pages += j["pages"].get<int64_t>();
    hits += j["cache_hit"].get<bool>() ? 1 : 0;
    EXPECT_EQ(j["file_sha256"].get<std::string>().size(), 64u);
  }
  const auto stats = emulator_->Stats();
  EXPECT_EQ(lines, 3);
  EXPECT_EQ(hits, 1);
  EXPECT_EQ(stats.billed_jobs, lines);
  EXPECT_DOUBLE_EQ(stats.credits_billed, credits);
  EXPECT_DOUBLE_EQ(credits, 6 + 45);
  EXPECT_EQ(stats.pages_billed, pages);
  const json http = json::parse(client_->Get("/_emulator/stats")->body);
  EXPECT_EQ(http["pages_billed"], 3);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ingest::emulate
