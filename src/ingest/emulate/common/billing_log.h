// Append-only JSON-lines billing log: one line per billed request/job, flushed per line so a
// load-test harness can tail it while the emulator runs.
#pragma once

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "ingest/common/status.h"

namespace ingest::emulate {

// Thread-safe. With an empty path every Append is a no-op.
class BillingLog {
 public:
  BillingLog() = default;
  ~BillingLog();
  BillingLog(const BillingLog&) = delete;
  BillingLog& operator=(const BillingLog&) = delete;

  // Opens `path` for appending (created if missing). kUnavailable when it cannot be opened.
  Status Open(const std::string& path);
  // Writes `line` compactly followed by '\n', then flushes.
  void Append(const nlohmann::json& line);

 private:
  std::mutex mu_;
  std::FILE* file_ = nullptr;  // GUARDED_BY(mu_)
};

}  // namespace ingest::emulate
