// Embedder for POST /v1/embeddings: OpenAI itself and any OpenAI-compatible server (Ollama,
// vLLM, TEI, llama.cpp) through `base_url` (specs/openai-embeddings.md; docs/providers.md).
//
// One Embed call counts every input's tokens exactly (cl100k_base), packs the inputs into as
// few requests as the provider's limits allow, sends them in order and returns one vector per
// input or an error: never a placeholder, never a silently dropped input. A request the server
// finds too big (400 max_tokens_per_request, 413, 429 "Request too large") is split in half
// and both halves are sent. Transient failures (transport errors, timeouts, 408/409/429 rate
// limits/5xx, malformed JSON) are retried up to `max_retries` times per request, honouring
// retry-after / retry-after-ms up to `retry_after_ceiling`, else exponential backoff with
// jitter. Errors come back as Status codes governor/retry_policy.h classifies (see wire.h).
//
// Thread-safe: Embed may be called from every worker at once (one shared HttpClient; the last
// rate-limit snapshot is guarded by a mutex).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ingest/common/clock.h"
#include "ingest/common/secret_cell.h"
#include "ingest/embed/embedder.h"
#include "ingest/embed/openai/rate_limits.h"
#include "ingest/embed/openai/request_packer.h"
#include "ingest/embed/openai/wire.h"
#include "ingest/http/call_gate.h"
#include "ingest/http/http_client.h"
#include "ingest/text/token_counter.h"

namespace ingest::embed {

inline constexpr std::string_view kOpenAiDefaultBaseUrl = "https://api.openai.com/v1";

struct OpenAiEmbedderOptions {
  std::string base_url = std::string(kOpenAiDefaultBaseUrl);  // ends in /v1
  std::string api_key;  // sent as Bearer when non-empty (local servers often need none)
  // When set, read per request instead of `api_key`, so a rotated key (SIGHUP) takes effect on
  // the next request. Must outlive the embedder.
  std::shared_ptr<const SecretCell> api_key_cell;
  std::string model = "text-embedding-3-small";
  // 0 = the model's native size, and `dimensions` is not sent. Required (> 0) for models this
  // client does not know. Never sent for text-embedding-ada-002 (the API rejects it).
  int dimensions = 0;
  std::string organization;  // OpenAI-Organization header, optional
  std::string project;       // OpenAI-Project header, optional
  openai::RequestLimits limits;
  http::HttpClientOptions http{.connect_timeout = std::chrono::seconds(10),
                               .total_timeout = std::chrono::seconds(120),
                               .user_agent = "ingestd/0.1"};
  // Retries per request for transient failures within one Embed call (so max_retries + 1
  // attempts). The pipeline retries the whole stage later on top of this.
  int max_retries = 2;
  Duration initial_backoff = std::chrono::milliseconds(500);
  Duration max_backoff = std::chrono::seconds(8);
  // A server-requested delay longer than this is not waited for: the error is returned and the
  // governor defers the job instead of holding a worker thread.
  Duration retry_after_ceiling = std::chrono::seconds(60);
  bool base64 = true;  // encoding_format "base64" (smaller, exact); false asks for floats
  // Exact token counts (cl100k_base for OpenAI models). Required; must outlive the embedder.
  const text::TokenCounter* token_counter = nullptr;
  const Clock* clock = Clock::Real();
  // The server is an emulator (mode mock): Provider() is "mock:openai" and the vector space's
  // model is "mock:<model>", so emulator vectors can never share a space (or a ledger service)
  // with real ones (DESIGN §1: no fake data in real tables). The request still names `model`.
  bool mock = false;
  // The governor's gate for this provider (shared rate limit, circuit breaker, provider stop):
  // asked before every request and told every outcome. nullptr = ungoverned (tests, benches).
  http::CallGate* gate = nullptr;
};

class OpenAiEmbedder final : public Embedder {
 public:
  // Validates the options: kInvalidArgument "invalid_config" for a missing token counter, an
  // empty model or base_url, bad limits, or dimensions the model cannot have (unknown model
  // with dimensions 0, dimensions above the native size, ada-002 with non-native dimensions).
  static Result<std::unique_ptr<OpenAiEmbedder>> Create(OpenAiEmbedderOptions options);

  // Native output size of a known OpenAI embedding model, or nullopt.
  static std::optional<int> NativeDimensions(std::string_view model);

  std::string_view Provider() const override { return options_.mock ? "mock:openai" : "openai"; }
  // "openai text-embedding-3-small (1536 dims)"; "mock:openai mock:text-embedding-3-small ...".
  std::string Describe() const override;
  const store::VectorSpace& Space() const override { return space_; }
  Result<EmbedOutput> Embed(std::span<const std::string> texts) const override;
  Result<EmbedOutput> EmbedBilled(std::span<const std::string> texts,
                                  EmbedUsage* billed_on_error) const override;

  // The rate-limit headers of the most recent response that carried any (nullopt before).
  std::optional<openai::RateLimitSnapshot> LastRateLimit() const;

 private:
  explicit OpenAiEmbedder(OpenAiEmbedderOptions options, store::VectorSpace space);

  // Embeds texts[span] into out->vectors[span], splitting on "too big" answers.
  Status EmbedSpan(std::span<const std::string> texts, std::span<const int64_t> tokens,
                   const openai::RequestSpan& span, EmbedOutput* out) const;

  // One request with retries. On success fills `response`; `split` is set when the server
  // said the request was too big.
  Status SendWithRetries(std::span<const std::string> inputs, int64_t tokens,
                         openai::EmbeddingsResponse* response, std::string* request_id, bool* split,
                         int64_t* attempts) const;

  Duration RetryDelay(int retry, std::optional<Duration> server_delay) const;
  void RecordRateLimit(const http::HttpResponse& response) const;

  OpenAiEmbedderOptions options_;
  store::VectorSpace space_;
  int send_dimensions_ = 0;  // what goes into the request's "dimensions" (0 = omit)
  std::string url_;
  http::HttpClient client_;
  mutable std::mutex mu_;
  mutable std::optional<openai::RateLimitSnapshot> last_rate_limit_;  // GUARDED_BY(mu_)
};

}  // namespace ingest::embed
