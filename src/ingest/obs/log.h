// Structured logging (DESIGN §8): one JSON object per line on stderr with `ts`, `level`, `msg`,
// and the correlation fields `correlation_id`, `job_id`, `document_id`, `stage` when known.
// The worker sets those fields once per job with ScopedLogContext; everything logged on that
// thread while the scope lives carries them. Thread-safe.
//
// Secrets: callers never pass them, and as a second line of defence every message and field
// value is scrubbed of strings shaped like provider keys (see ScrubSecrets).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ingest::obs {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };

// `level`: trace|debug|info|warn|error; `format`: json|text|auto (auto: text lines when stderr
// is a terminal, a person reads them; JSON lines otherwise, a collector does). Unknown values
// keep the defaults (info, json); config validation rejects them earlier.
void InitLogging(std::string_view level, std::string_view format);

// The log format `format` stands for when stderr is (`terminal`) or is not a terminal:
// "json" or "text".
std::string_view EffectiveLogFormat(std::string_view format, bool terminal);

// A status line (a progress bar) redrawn in place on stderr, "" = none. Log lines never mix
// with it: each is written after erasing the status line, which is then drawn again below it.
// Thread-safe; the progress bar calls this instead of writing to stderr itself.
void SetStatusLine(std::string_view line);

struct LogContext {
  std::string correlation_id;
  std::string job_id;
  std::string document_id;
  std::string stage;
};

// Sets this thread's log context for the scope's lifetime; restores the previous one after.
class ScopedLogContext {
 public:
  explicit ScopedLogContext(LogContext ctx);
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  LogContext saved_;
};

// Replaces "sk-...", "llx-..." and "Bearer ..." tokens with a redaction marker.
std::string ScrubSecrets(std::string_view text);

bool LogEnabled(LogLevel level);
void Log(LogLevel level, std::string_view msg, const nlohmann::json& fields = nullptr);

inline void LogInfo(std::string_view msg, const nlohmann::json& fields = nullptr) {
  Log(LogLevel::kInfo, msg, fields);
}
inline void LogWarn(std::string_view msg, const nlohmann::json& fields = nullptr) {
  Log(LogLevel::kWarn, msg, fields);
}
inline void LogError(std::string_view msg, const nlohmann::json& fields = nullptr) {
  Log(LogLevel::kError, msg, fields);
}
inline void LogDebug(std::string_view msg, const nlohmann::json& fields = nullptr) {
  Log(LogLevel::kDebug, msg, fields);
}

}  // namespace ingest::obs
