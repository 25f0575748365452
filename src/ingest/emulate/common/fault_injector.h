// Seeded, deterministic fault injection shared by both emulators. For a given seed and
// configuration, the n-th request drawn gets the same fault every run, so tests can assert on
// exactly which requests fail.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::emulate {

enum class FaultKind {
  kNone,
  kRateLimit429,  // 429 rate_limit_exceeded (OpenAI) / 429 detail (LlamaParse)
  kServerError500,
  kUnavailable503,
  kBadGatewayHtml502,  // HTML body, as a proxy sends
  kSlow,               // sleep `slow_ms` before answering
  kMalformedJson,      // 200 with a truncated JSON body
  kMissingItem,        // OpenAI: 200 with one data[] item dropped
  kDropConnection,     // headers sent, then the connection closes before the body
  kJobError,           // LlamaParse: the job ends in ERROR
  kPartialSuccess,     // LlamaParse: the job ends in PARTIAL_SUCCESS
};

// "429", "500", "503", "502", "slow", "malformed", "missing", "drop", "job_error", "partial".
std::string_view FaultKindName(FaultKind kind);
Result<FaultKind> ParseFaultKind(std::string_view name);

struct FaultConfig {
  uint64_t seed = 0;
  // Per-request probabilities; their sum should be <= 1 (the rest is kNone).
  std::map<FaultKind, double> rates;
  // Deterministic schedule: the n-th request (1-based) gets `kind` when n % every == 0.
  // Checked before the random draw, in FaultKind order.
  std::map<FaultKind, int64_t> every_n;
  int64_t slow_ms = 0;
};

// Parses "KIND:N" (e.g. "500:3" = every third request gets a 500).
Status ParseEverySpec(std::string_view spec, FaultConfig* config);

// Thread-safe. Each Draw() consumes one request number; the fault for request n depends only
// on (seed, n, configuration), not on timing.
class FaultInjector {
 public:
  explicit FaultInjector(FaultConfig config) : config_(std::move(config)) {}
  // Only kinds in `allowed` are injected; others map to kNone (one injector can serve several
  // endpoints with different fault menus while keeping one numbering).
  FaultKind Draw(const std::vector<FaultKind>& allowed);
  FaultKind Draw();
  void Reset() { counter_ = 0; }
  int64_t slow_ms() const { return config_.slow_ms; }
  bool enabled() const { return !config_.rates.empty() || !config_.every_n.empty(); }

 private:
  FaultKind Pick(uint64_t n) const;
  FaultConfig config_;
  std::atomic<uint64_t> counter_{0};
};

// splitmix64: tiny, fast, and good enough for reproducible noise.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace ingest::emulate
