#include "ingest/obs/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <regex>

#include "ingest/common/clock.h"

namespace ingest::obs {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_json{true};
std::mutex g_write_mu;
std::string g_status_line;  // GUARDED_BY(g_write_mu)
thread_local LogContext t_ctx;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void ScrubJson(nlohmann::json& j) {
  if (j.is_string()) {
    j = ScrubSecrets(j.get<std::string>());
  } else if (j.is_object() || j.is_array()) {
    for (auto& v : j) ScrubJson(v);
  }
}

}  // namespace

void InitLogging(std::string_view level, std::string_view format) {
  static const std::pair<std::string_view, LogLevel> kLevels[] = {{"trace", LogLevel::kTrace},
                                                                  {"debug", LogLevel::kDebug},
                                                                  {"info", LogLevel::kInfo},
                                                                  {"warn", LogLevel::kWarn},
                                                                  {"error", LogLevel::kError}};
  for (const auto& [name, l] : kLevels) {
    if (name == level) g_level = static_cast<int>(l);
  }
  g_json = EffectiveLogFormat(format, isatty(STDERR_FILENO) == 1) == "json";
}

std::string_view EffectiveLogFormat(std::string_view format, bool terminal) {
  if (format == "text") return "text";
  if (format == "auto") return terminal ? "text" : "json";
  return "json";
}

void SetStatusLine(std::string_view line) {
  std::lock_guard<std::mutex> lock(g_write_mu);
  g_status_line = std::string(line);
  std::string out = "\r\033[K" + g_status_line;
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

ScopedLogContext::ScopedLogContext(LogContext ctx) : saved_(std::move(t_ctx)) {
  t_ctx = std::move(ctx);
}

ScopedLogContext::~ScopedLogContext() { t_ctx = std::move(saved_); }

std::string ScrubSecrets(std::string_view text) {
  // Cheap pre-check: most messages contain none of the markers.
  if (text.find("sk-") == std::string_view::npos && text.find("llx-") == std::string_view::npos &&
      text.find("Bearer ") == std::string_view::npos) {
    return std::string(text);
  }
  static const std::regex kSecret(R"((sk-|llx-)[A-Za-z0-9_\-]{6,}|Bearer [A-Za-z0-9._\-~+/=]+)");
  return std::regex_replace(std::string(text), kSecret, "<redacted>");
}

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void Log(LogLevel level, std::string_view msg, const nlohmann::json& fields) {
  if (!LogEnabled(level)) return;
  std::string line;
  if (g_json) {
    nlohmann::json j;
    j["ts"] = FormatIso8601(Clock::Real()->NowMillis());
    j["level"] = LevelName(level);
    j["msg"] = ScrubSecrets(msg);
    if (!t_ctx.correlation_id.empty()) j["correlation_id"] = t_ctx.correlation_id;
    if (!t_ctx.job_id.empty()) j["job_id"] = t_ctx.job_id;
    if (!t_ctx.document_id.empty()) j["document_id"] = t_ctx.document_id;
    if (!t_ctx.stage.empty()) j["stage"] = t_ctx.stage;
    if (fields.is_object()) {
      for (auto it = fields.begin(); it != fields.end(); ++it) {
        nlohmann::json v = it.value();
        ScrubJson(v);
        j[it.key()] = std::move(v);
      }
    }
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = FormatIso8601(Clock::Real()->NowMillis()) + " " + LevelName(level) + " " +
           ScrubSecrets(msg);
    if (!t_ctx.job_id.empty()) line += " job=" + t_ctx.job_id;
    if (!t_ctx.stage.empty()) line += " stage=" + t_ctx.stage;
    if (fields.is_object()) {
      nlohmann::json v = fields;
      ScrubJson(v);
      line += " " + v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(g_write_mu);
  // A status line is on screen: erase it, write the log line, draw it again below.
  if (!g_status_line.empty()) line = "\r\033[K" + line + g_status_line;
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace ingest::obs
