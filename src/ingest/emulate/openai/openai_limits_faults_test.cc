// Rate limits, quota, fault injection and billing of the OpenAI emulator.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ingest/emulate/openai/openai_test_fixture.h"

namespace ingest::emulate {
namespace {

using nlohmann::json;
using openai_test::OpenAiEmulatorTest;

TEST_F(OpenAiEmulatorTest, RequestsPerMinuteLimitAnswers429AndRecovers) {
  OpenAiEmulatorOptions o;
  o.rpm = 2;
  StartWith(o);
  const json req = {{"model", "text-embedding-3-small"}, {"input", "a"}};
  auto first = Embed(req);
  ASSERT_EQ(first->status, 200);
  EXPECT_EQ(first->get_header_value("x-ratelimit-limit-requests"), "2");
  EXPECT_EQ(first->get_header_value("x-ratelimit-remaining-requests"), "1");
  EXPECT_EQ(first->get_header_value("x-ratelimit-reset-requests"), "30s");
  ASSERT_EQ(Embed(req)->status, 200);
  auto limited = Embed(req);
  ASSERT_EQ(limited->status, 429);
  const json e = ErrorOf(limited);
  EXPECT_EQ(e["type"], "requests");
  EXPECT_EQ(e["code"], "rate_limit_exceeded");
  EXPECT_THAT(e["message"].get<std::string>(),
              ::testing::HasSubstr("on requests per min (RPM): Limit 2, Used 2, Requested 1. "
                                   "Please try again in 30s."));
  EXPECT_EQ(limited->get_header_value("retry-after"), "30");
  EXPECT_EQ(limited->get_header_value("retry-after-ms"), "30000");
  EXPECT_EQ(limited->get_header_value("x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(limited->get_header_value("x-ratelimit-reset-requests"), "1m0s");
  clock_.Advance(std::chrono::seconds(30));
  EXPECT_EQ(Embed(req)->status, 200);
  const auto stats = emulator_->Stats();
  EXPECT_EQ(stats.rate_limited, 1);
  EXPECT_EQ(stats.billed_requests, 3);
}

TEST_F(OpenAiEmulatorTest, TokensPerMinuteLimitAndRequestTooLarge) {
  OpenAiEmulatorOptions o;
  o.tpm = 10;
  StartWith(o);
  ASSERT_EQ(Embed({{"model", "text-embedding-3-small"}, {"input", "a b c d e f"}})->status, 200);
  auto limited = Embed({{"model", "text-embedding-3-small"}, {"input", "a b c d e"}});
  ASSERT_EQ(limited->status, 429);
  EXPECT_EQ(ErrorOf(limited)["type"], "tokens");
  EXPECT_THAT(ErrorOf(limited)["message"].get<std::string>(),
              ::testing::HasSubstr("on tokens per min (TPM): Limit 10, Used 6, Requested 5. "
                                   "Please try again in 6s."));
  EXPECT_EQ(limited->get_header_value("retry-after-ms"), "6000");
  EXPECT_EQ(limited->get_header_value("x-ratelimit-remaining-tokens"), "4");
  auto too_large = Embed({{"model", "text-embedding-3-small"}, {"input", "a b c d e f g h i j k"}});
  ASSERT_EQ(too_large->status, 429);
  EXPECT_THAT(ErrorOf(too_large)["message"].get<std::string>(),
              ::testing::HasSubstr("Request too large for text-embedding-3-small"));
  EXPECT_EQ(too_large->get_header_value("x-should-retry"), "false");
  clock_.Advance(std::chrono::seconds(6));
  EXPECT_EQ(Embed({{"model", "text-embedding-3-small"}, {"input", "a b c d e"}})->status, 200);
}

TEST_F(OpenAiEmulatorTest, QuotaExhaustionIsInsufficientQuota) {
  OpenAiEmulatorOptions o;
  o.quota_tokens = 5;
  StartWith(o);
  ASSERT_EQ(Embed({{"model", "text-embedding-3-small"}, {"input", "a b c d"}})->status, 200);
  auto r = Embed({{"model", "text-embedding-3-small"}, {"input", "a b"}});
  ASSERT_EQ(r->status, 429);
  EXPECT_EQ(ErrorOf(r)["type"], "insufficient_quota");
  EXPECT_EQ(ErrorOf(r)["code"], "insufficient_quota");
  EXPECT_EQ(Embed({{"model", "text-embedding-3-small"}, {"input", "a"}})->status, 200);
  EXPECT_EQ(emulator_->Stats().billed_tokens, 5);
}

// The staging smoke test exhausts a running emulator's quota, then lifts it.
TEST_F(OpenAiEmulatorTest, QuotaChangesAtRuntime) {
  StartWith(OpenAiEmulatorOptions{});
  const json req = {{"model", "text-embedding-3-small"}, {"input", "a b c d"}};
  ASSERT_EQ(Embed(req)->status, 200);
  auto set = client_->Post("/_emulator/quota", R"({"quota_tokens": 4})", "application/json");
  ASSERT_EQ(set->status, 200);
  EXPECT_EQ(json::parse(set->body)["billed_tokens"], 4);
  auto refused = Embed(req);
  ASSERT_EQ(refused->status, 429);
  EXPECT_EQ(ErrorOf(refused)["code"], "insufficient_quota");
  EXPECT_EQ(
      client_->Post("/_emulator/quota", R"({"quota_tokens": -1})", "application/json")->status,
      400);
  ASSERT_EQ(client_->Post("/_emulator/quota", R"({"quota_tokens": 0})", "application/json")->status,
            200);
  EXPECT_EQ(Embed(req)->status, 200);
  EXPECT_EQ(emulator_->Stats().billed_tokens, 8);
}

TEST_F(OpenAiEmulatorTest, RejectAllKeysSwitch) {
  OpenAiEmulatorOptions o;
  o.reject_all_keys = true;
  StartWith(o);
  auto r = Embed({{"model", "text-embedding-3-small"}, {"input", "a"}});
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(ErrorOf(r)["code"], "invalid_api_key");
}

// Each fault kind on every request: the response has the fault's shape and nothing is billed.
TEST_F(OpenAiEmulatorTest, EachFaultKindHasItsShapeAndIsNeverBilled) {
  const json req = {{"model", "text-embedding-3-small"}, {"input", {"a b", "c", "d"}}};
  for (FaultKind kind :
       {FaultKind::kRateLimit429, FaultKind::kServerError500, FaultKind::kUnavailable503,
        FaultKind::kBadGatewayHtml502, FaultKind::kSlow, FaultKind::kMalformedJson,
        FaultKind::kMissingItem, FaultKind::kDropConnection}) {
    SCOPED_TRACE(std::string(FaultKindName(kind)));
    OpenAiEmulatorOptions o;
    o.faults.every_n[kind] = 1;
    o.faults.slow_ms = 300;
    StartWith(o);
    if (kind == FaultKind::kSlow) client_->set_read_timeout(std::chrono::milliseconds(100));
    auto r = Embed(req);
    switch (kind) {
      case FaultKind::kRateLimit429:
        ASSERT_EQ(r->status, 429);
        EXPECT_EQ(ErrorOf(r)["code"], "slow_down");
        EXPECT_TRUE(r->has_header("retry-after"));
        break;
      case FaultKind::kServerError500:
        ASSERT_EQ(r->status, 500);
        EXPECT_EQ(ErrorOf(r)["type"], "server_error");
        break;
      case FaultKind::kUnavailable503:
        ASSERT_EQ(r->status, 503);
        EXPECT_EQ(ErrorOf(r)["type"], "service_unavailable_error");
        break;
      case FaultKind::kBadGatewayHtml502:
        ASSERT_EQ(r->status, 502);
        EXPECT_THAT(r->body, ::testing::HasSubstr("<html>"));
        EXPECT_TRUE(json::parse(r->body, nullptr, false).is_discarded());
        break;
      case FaultKind::kSlow:
        EXPECT_FALSE(r);  // the client gave up first
        break;
      case FaultKind::kMalformedJson:
        ASSERT_EQ(r->status, 200);
        EXPECT_TRUE(json::parse(r->body, nullptr, false).is_discarded());
        break;
      case FaultKind::kMissingItem: {
        ASSERT_EQ(r->status, 200);
        const json body = json::parse(r->body);
        ASSERT_EQ(body["data"].size(), 2u);
        EXPECT_EQ(body["data"][0]["index"], 0);
        EXPECT_EQ(body["data"][1]["index"], 2);
        break;
      }
      case FaultKind::kDropConnection:
        EXPECT_FALSE(r);
        break;
      default:
        break;
    }
    if (kind == FaultKind::kSlow) std::this_thread::sleep_for(std::chrono::milliseconds(400));
    const auto stats = emulator_->Stats();
    EXPECT_EQ(stats.billed_requests, 0);
    EXPECT_EQ(stats.billed_tokens, 0);
    EXPECT_EQ(stats.faults_injected, 1);
    emulator_->Stop();
  }
}

std::vector<int> StatusSequence(OpenAiEmulatorTest* t, httplib::Client* client, int n) {
  (void)t;
  std::vector<int> out;
  for (int i = 0; i < n; ++i) {
    auto r = client->Post("/v1/embeddings", {{"Authorization", "Bearer sk-test-key-1234"}},
                          R"({"model":"text-embedding-3-small","input":"a"})", "application/json");
    out.push_back(r ? r->status : -1);
  }
  return out;
}

TEST_F(OpenAiEmulatorTest, SeededFaultsAreDeterministicAndScheduleIsExact) {
  OpenAiEmulatorOptions o;
  o.faults.seed = 42;
  o.faults.rates = {{FaultKind::kServerError500, 0.3}, {FaultKind::kUnavailable503, 0.2}};
  StartWith(o);
  const auto first = StatusSequence(this, client_.get(), 40);
  StartWith(o);
  const auto second = StatusSequence(this, client_.get(), 40);
  EXPECT_EQ(first, second);
  const auto ok = std::count(first.begin(), first.end(), 200);
  EXPECT_GT(ok, 5);
  EXPECT_LT(ok, 35);
  EXPECT_EQ(emulator_->Stats().billed_requests, ok);
  o.faults.seed = 43;
  StartWith(o);
  EXPECT_NE(StatusSequence(this, client_.get(), 40), first);

  OpenAiEmulatorOptions every;
  every.faults.every_n[FaultKind::kServerError500] = 3;
  StartWith(every);
  EXPECT_THAT(StatusSequence(this, client_.get(), 6),
              ::testing::ElementsAre(200, 200, 500, 200, 200, 500));
  emulator_->Reset();
  EXPECT_THAT(StatusSequence(this, client_.get(), 3), ::testing::ElementsAre(200, 200, 500));
}

TEST_F(OpenAiEmulatorTest, BillingLogLinesMatchStats) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("openai_billing_" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  OpenAiEmulatorOptions o;
  o.billing_log_path = path.string();
  o.faults.every_n[FaultKind::kServerError500] = 2;
  StartWith(o);
  for (int i = 0; i < 5; ++i) {
    Embed({{"model", "text-embedding-3-small"}, {"input", {"a b", "c"}}});
  }
  Embed({{"model", "bad-model"}, {"input", "a"}});  // request 6: a fault (every 2nd)
  Embed({{"model", "bad-model"}, {"input", "a"}});  // request 7: 404, not billed
  std::ifstream in(path);
  std::string line;
  int64_t lines = 0, tokens = 0;
  while (std::getline(in, line)) {
    const json j = json::parse(line);
    ++lines;
    tokens += j["tokens"].get<int64_t>();
    EXPECT_EQ(j["model"], "text-embedding-3-small");
    EXPECT_EQ(j["inputs"], 2);
    EXPECT_TRUE(j["request_id"].get<std::string>().starts_with("req_"));
  }
  const auto stats = emulator_->Stats();
  EXPECT_EQ(lines, 3);
  EXPECT_EQ(stats.billed_requests, lines);
  EXPECT_EQ(stats.billed_tokens, tokens);
  EXPECT_EQ(tokens, 9);
  EXPECT_EQ(stats.by_status.at(500), 3);
  EXPECT_EQ(stats.by_status.at(404), 1);
  EXPECT_EQ(stats.requests, 7);

  auto http_stats = client_->Get("/_emulator/stats");
  ASSERT_EQ(http_stats->status, 200);
  EXPECT_EQ(json::parse(http_stats->body)["billed_tokens"], 9);
  ASSERT_EQ(client_->Post("/_emulator/reset", "", "application/json")->status, 200);
  EXPECT_EQ(emulator_->Stats().requests, 0);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ingest::emulate
