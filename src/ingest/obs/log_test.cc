#include "ingest/obs/log.h"

#include <gtest/gtest.h>

namespace ingest::obs {
namespace {

TEST(ScrubSecretsTest, RedactsProviderKeysAndBearerTokens) {
  EXPECT_EQ(ScrubSecrets("key sk-abcdefghijklmnop used"), "key <redacted> used");
  EXPECT_EQ(ScrubSecrets("llx-ABCDEF1234567890"), "<redacted>");
  EXPECT_EQ(ScrubSecrets("Authorization: Bearer abc.def"), "Authorization: <redacted>");
  EXPECT_EQ(ScrubSecrets("nothing secret here"), "nothing secret here");
}

TEST(LogTest, JsonLineCarriesContextFields) {
  InitLogging("info", "json");
  testing::internal::CaptureStderr();
  {
    ScopedLogContext scope({"corr-1", "job-1", "doc-1", "parse"});
    LogInfo("parsed", {{"pages", 3}, {"note", "sk-secretsecretsecret"}});
  }
  LogInfo("after");
  std::string out = testing::internal::GetCapturedStderr();
  size_t nl = out.find('\n');
  ASSERT_NE(nl, std::string::npos);
  auto first = nlohmann::json::parse(out.substr(0, nl));
  EXPECT_EQ(first["msg"], "parsed");
  EXPECT_EQ(first["correlation_id"], "corr-1");
  EXPECT_EQ(first["job_id"], "job-1");
  EXPECT_EQ(first["document_id"], "doc-1");
  EXPECT_EQ(first["stage"], "parse");
  EXPECT_EQ(first["pages"], 3);
  EXPECT_EQ(first["note"], "<redacted>");
  auto second = nlohmann::json::parse(out.substr(nl + 1));
  EXPECT_FALSE(second.contains("job_id"));
}

TEST(LogTest, LevelFilters) {
  InitLogging("warn", "json");
  testing::internal::CaptureStderr();
  LogInfo("hidden");
  LogWarn("shown");
  std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find("shown"), std::string::npos);
  InitLogging("info", "json");
}

}  // namespace
}  // namespace ingest::obs
