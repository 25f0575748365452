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
    LogInfo("parsed", {{"pages", 3}, {"note", "sk-fakefakefake"}});
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

TEST(LogTest, AutoFormatIsTextOnATerminalAndJsonOtherwise) {
  EXPECT_EQ(EffectiveLogFormat("auto", true), "text");
  EXPECT_EQ(EffectiveLogFormat("auto", false), "json");
  EXPECT_EQ(EffectiveLogFormat("json", true), "json");
  EXPECT_EQ(EffectiveLogFormat("text", false), "text");
  // Under ctest stderr is not a terminal: auto writes JSON lines.
  InitLogging("info", "auto");
  testing::internal::CaptureStderr();
  LogInfo("auto line");
  std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(nlohmann::json::parse(out.substr(0, out.find('\n')))["msg"], "auto line");
  InitLogging("info", "json");
}

TEST(LogTest, LogLinesNeverMixWithTheStatusLine) {
  InitLogging("info", "text");
  testing::internal::CaptureStderr();
  SetStatusLine("[####....] 4/8 docs");
  LogWarn("a long log line");
  SetStatusLine("");
  LogWarn("after");
  std::string out = testing::internal::GetCapturedStderr();
  InitLogging("info", "json");
  // The bar is erased before the log line, which ends its own line, and drawn again below it.
  const std::string erase = "\r\033[K";
  const size_t line = out.find("a long log line");
  ASSERT_NE(line, std::string::npos) << out;
  const std::string before_line = out.substr(0, line);
  EXPECT_EQ(before_line.rfind(erase), before_line.rfind("[####") + 19) << out;
  const size_t nl = out.find('\n', line);
  ASSERT_NE(nl, std::string::npos);
  EXPECT_EQ(out.substr(nl + 1, 19), "[####....] 4/8 docs") << out;
  // With no status line, a log line is written as it is.
  const size_t after = out.find("after");
  ASSERT_NE(after, std::string::npos);
  EXPECT_EQ(out.find("[####", after), std::string::npos);
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
