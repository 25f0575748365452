// An in-process fake of the LlamaParse v1 API (specs/llamaparse.md §12): multipart upload on
// both /api/parsing and /api/v1/parsing, a clock-driven job state machine, real PDF text via
// poppler, result endpoints with job_metadata, a 48 h content-hash cache that zeroes charges,
// a credit ledger with a plan cap (402), an upload rate limit (429), seeded fault injection and
// a JSON-lines billing log. Served by `ingestd emulate llamaparse`; tests start it on port 0.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/common/status.h"
#include "ingest/emulate/common/fault_injector.h"
#include "ingest/emulate/emulator_stats.h"

namespace ingest::emulate {

struct LlamaParseEmulatorOptions {
  // Accepted Bearer keys. Empty: any non-empty key is accepted (a missing header is still 401).
  std::vector<std::string> api_keys;
  // Credits per page by mode; empty = llamaparse::DefaultCreditsPerPage().
  std::map<std::string, double> credits_per_page;
  double credits_cap = 0;  // plan credit cap; an upload that would pass it → 402. 0 = none
  int64_t upload_rate_limit = 50;  // uploads per window; 0 = unlimited
  int64_t upload_rate_window_ms = 10'000;
  int64_t max_file_bytes = 512LL * 1024 * 1024;  // larger → 413
  int64_t latency_base_ms = 1000;                // job completes after base + per_page × pages
  int64_t latency_per_page_ms = 200;
  int64_t cache_ttl_ms = 48LL * 3600 * 1000;
  // HTTP faults (429, 500, 503, 502, slow, drop) are drawn per API request; job faults
  // (job_error, partial) per accepted upload, from a second sequence with the same seed.
  FaultConfig faults;
  std::string billing_log_path;
  // webhook_url uploads are checked like the service does (https, a domain name, < 200
  // characters); true also accepts http:// and IP hosts, for loopback tests.
  bool webhooks_allow_http = false;
  // How this server paginates non-PDF files (it is its own business, as for the real service):
  // 0 = the default (text/Markdown one page, other types one page per started 100 KiB); N > 0 =
  // one page per started N bytes for every non-PDF type (text cut at UTF-8 boundaries). Tests
  // use it to count more or fewer pages than ingestd estimates.
  int64_t non_pdf_page_bytes = 0;
  // Faults of the bill itself (issue 12): every billed job bills this many pages more than it
  // parsed (job_pages, credits, billing log, stats), and the page bounds (max_pages and
  // target_pages) are ignored — every page parsed and billed — when ignore_max_pages is set.
  int64_t overbill_pages = 0;
  bool ignore_max_pages = false;
  const Clock* clock = Clock::Real();
};

// Thread-safe.
class LlamaParseEmulator {
 public:
  explicit LlamaParseEmulator(LlamaParseEmulatorOptions options);
  ~LlamaParseEmulator();
  LlamaParseEmulator(const LlamaParseEmulator&) = delete;
  LlamaParseEmulator& operator=(const LlamaParseEmulator&) = delete;

  Status Start(const std::string& host, int port);
  int port() const;
  void Stop();
  EmulatorStats Stats() const;
  // Forgets jobs, cache, ledger and stats; refills the limiter; restarts the fault sequences.
  void Reset();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ingest::emulate
