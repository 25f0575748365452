// An embedder with a second endpoint declared to serve the same model (config
// embed.fallback_base_url / embed.fallback_model, docs/providers.md "Fallback rules"). Vectors
// from both land in one space, which is only sound because the model and dimensions are the
// same: the constructor refuses two embedders whose spaces differ (DESIGN §4: spaces are never
// mixed).
//
// Embed asks the primary; when the primary is unavailable — it answered kUnavailable or
// kDeadlineExceeded after its own in-call retries (connection refused or reset, timeouts, 5xx,
// malformed bodies) or the governor reports its circuit open or the provider stopped (reasons
// circuit_open, provider_stopped) — the same
// texts go to the fallback. A rate-limited primary (reason rate_limited) is not "down": the
// error is returned so the pipeline backs off. Errors that the fallback could not fix either
// (bad input, a wrong key, exhausted quota) are returned as they are. After a primary outage
// the fallback is used directly for `primary_retry_after` (default 30 s), so a dead primary
// does not cost every call its retries; then the primary is asked again.
//
// Thread-safe: both embedders are; the outage timestamp is atomic.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "ingest/common/clock.h"
#include "ingest/embed/embedder.h"

namespace ingest::embed {

struct FallbackEmbedderOptions {
  Duration primary_retry_after = std::chrono::seconds(30);
  const Clock* clock = Clock::Real();
};

class FallbackEmbedder final : public Embedder {
 public:
  // kInvalidArgument "fallback_space_mismatch" unless both embedders have the same Space()
  // (model and dimensions) and Provider().
  static Result<std::unique_ptr<FallbackEmbedder>> Create(std::unique_ptr<Embedder> primary,
                                                          std::unique_ptr<Embedder> fallback,
                                                          FallbackEmbedderOptions options = {});

  // True when `error` from the primary sends the call to the fallback (see the header comment).
  static bool PrimaryUnavailable(const Status& error);

  std::string_view Provider() const override { return primary_->Provider(); }
  // The primary's description plus " with fallback".
  std::string Describe() const override;
  const store::VectorSpace& Space() const override { return primary_->Space(); }
  Result<EmbedOutput> Embed(std::span<const std::string> texts) const override;

 private:
  FallbackEmbedder(std::unique_ptr<Embedder> primary, std::unique_ptr<Embedder> fallback,
                   FallbackEmbedderOptions options);

  std::unique_ptr<Embedder> primary_;
  std::unique_ptr<Embedder> fallback_;
  FallbackEmbedderOptions options_;
  // Until when (Clock millis) calls skip the primary; 0 = ask the primary.
  mutable std::atomic<int64_t> skip_primary_until_{0};
};

}  // namespace ingest::embed
