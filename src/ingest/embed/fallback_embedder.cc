#include "ingest/embed/fallback_embedder.h"

#include "ingest/obs/log.h"

namespace ingest::embed {

Result<std::unique_ptr<FallbackEmbedder>> FallbackEmbedder::Create(
    std::unique_ptr<Embedder> primary, std::unique_ptr<Embedder> fallback,
    FallbackEmbedderOptions options) {
  if (primary == nullptr || fallback == nullptr) {
    return InvalidArgument("both a primary and a fallback embedder are needed", "invalid_config");
  }
  const store::VectorSpace& a = primary->Space();
  const store::VectorSpace& b = fallback->Space();
  if (a.model != b.model || a.dimensions != b.dimensions ||
      primary->Provider() != fallback->Provider()) {
    return InvalidArgument("the fallback endpoint serves " + std::string(fallback->Provider()) +
                               " " + b.model + " (" + std::to_string(b.dimensions) +
                               " dims), not the primary's " + std::string(primary->Provider()) +
                               " " + a.model + " (" + std::to_string(a.dimensions) +
                               " dims): vectors of different spaces are never mixed",
                           "fallback_space_mismatch");
  }
  return std::unique_ptr<FallbackEmbedder>(
      new FallbackEmbedder(std::move(primary), std::move(fallback), options));
}

FallbackEmbedder::FallbackEmbedder(std::unique_ptr<Embedder> primary,
                                   std::unique_ptr<Embedder> fallback,
                                   FallbackEmbedderOptions options)
    : primary_(std::move(primary)), fallback_(std::move(fallback)), options_(options) {}

bool FallbackEmbedder::PrimaryUnavailable(const Status& error) {
  // The primary's breaker is open, or the governor stopped it (e.g. unreachable: its endpoint
  // refused the connection): the fallback endpoint is what it is for.
  if (error.reason() == "circuit_open" || error.reason() == "provider_stopped") return true;
  if (error.reason() == "rate_limited") return false;
  return error.code() == StatusCode::kUnavailable || error.code() == StatusCode::kDeadlineExceeded;
}

std::string FallbackEmbedder::Describe() const { return primary_->Describe() + " with fallback"; }

Result<EmbedOutput> FallbackEmbedder::Embed(std::span<const std::string> texts) const {
  const int64_t now = options_.clock->MonotonicMillis();
  if (now >= skip_primary_until_.load()) {
    Result<EmbedOutput> out = primary_->Embed(texts);
    if (out.ok() || !PrimaryUnavailable(out.status())) return out;
    skip_primary_until_.store(options_.clock->MonotonicMillis() +
                              options_.primary_retry_after.count());
    obs::LogWarn("embedding primary unavailable: using the fallback endpoint",
                 {{"error", out.status().ToString()},
                  {"retry_primary_after_ms", options_.primary_retry_after.count()}});
  }
  return fallback_->Embed(texts);
}

}  // namespace ingest::embed
