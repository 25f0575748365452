// An in-process fake of the OpenAI embeddings API (specs/openai-embeddings.md §12): same wire
// protocol, exact usage accounting with an injected token counter, RPM/TPM limits with the real
// headers, a token quota, seeded fault injection and a JSON-lines billing log. Served by
// `ingestd emulate openai` and started on port 0 by tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/common/status.h"
#include "ingest/emulate/common/fault_injector.h"
#include "ingest/emulate/emulator_stats.h"
#include "ingest/emulate/openai/embeddings_request.h"
#include "ingest/text/token_counter.h"

namespace ingest::emulate {

struct OpenAiEmulatorOptions {
  // Accepted Bearer keys. Empty: any non-empty key is accepted (a missing header is still 401).
  std::vector<std::string> api_keys;
  // Fault switch: every API request is answered 401 invalid_api_key.
  bool reject_all_keys = false;
  openai::RequestLimits limits;
  int64_t rpm = 0;  // requests per window; 0 = unlimited
  int64_t tpm = 0;  // tokens per window; 0 = unlimited
  int64_t rate_window_ms = 60'000;
  // Total tokens that may be billed; past it → 429 insufficient_quota. 0 = unlimited.
  int64_t quota_tokens = 0;
  FaultConfig faults;
  int64_t latency_ms = 0;        // added to every API response
  std::string billing_log_path;  // empty = no billing log
  std::string organization = "org-emulator";
  const Clock* clock = Clock::Real();
};

// Thread-safe: handlers run on httplib's worker threads; Stats() may be called at any time.
class OpenAiEmulator {
 public:
  // `counter` (cl100k_base in production) must outlive the emulator.
  OpenAiEmulator(OpenAiEmulatorOptions options, const text::TokenCounter* counter);
  ~OpenAiEmulator();
  OpenAiEmulator(const OpenAiEmulator&) = delete;
  OpenAiEmulator& operator=(const OpenAiEmulator&) = delete;

  // Opens the billing log, binds host:port (0 = ephemeral) and serves on background threads.
  Status Start(const std::string& host, int port);
  int port() const;
  void Stop();
  EmulatorStats Stats() const;
  // Zeroes stats, refills the rate limiters, restarts the fault sequence and the quota.
  void Reset();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ingest::emulate
