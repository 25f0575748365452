#include "ingest/embed/openai/openai_embedder.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "ingest/common/failpoint.h"
#include "ingest/obs/log.h"

namespace ingest::embed {
namespace {

constexpr std::string_view kAda = "text-embedding-ada-002";

Status ConfigError(std::string msg) {
  return InvalidArgument("openai embedder: " + std::move(msg), "invalid_config");
}

bool Retryable(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
}

// `url` without credentials: no user:password@ and no query (either could carry a secret).
std::string UrlForMessages(const std::string& url) {
  std::string out = url.substr(0, url.find_first_of("?#"));
  const size_t scheme = out.find("://");
  const size_t host = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t at = out.find('@', host);
  if (at != std::string::npos && at < out.find('/', host)) out.erase(host, at + 1 - host);
  return out;
}

// Uniform in [0, 1); one generator per thread so workers never contend.
double Jitter() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

std::optional<int> OpenAiEmbedder::NativeDimensions(std::string_view model) {
  if (model == "text-embedding-3-small") return 1536;
  if (model == "text-embedding-3-large") return 3072;
  if (model == kAda) return 1536;
  return std::nullopt;
}

Result<std::unique_ptr<OpenAiEmbedder>> OpenAiEmbedder::Create(OpenAiEmbedderOptions options) {
  if (options.token_counter == nullptr) return ConfigError("a token counter is required");
  if (options.model.empty()) return ConfigError("model is empty");
  if (options.base_url.empty()) return ConfigError("base_url is empty");
  if (options.dimensions < 0) return ConfigError("dimensions must be >= 0");
  if (options.max_retries < 0) return ConfigError("max_retries must be >= 0");
  if (options.limits.max_inputs_per_request < 1 || options.limits.max_tokens_per_input < 1 ||
      options.limits.max_tokens_per_request < 1) {
    return ConfigError("request limits must be positive");
  }
  const std::optional<int> native = NativeDimensions(options.model);
  store::VectorSpace space{.model = options.model, .dimensions = options.dimensions};
  if (options.dimensions == 0) {
    if (!native) {
      return ConfigError("unknown model \"" + options.model +
                         "\": set embed.dimensions to its output size");
    }
    space.dimensions = *native;
  } else if (native && options.dimensions > *native) {
    return ConfigError(options.model + " has at most " + std::to_string(*native) +
                       " dimensions, not " + std::to_string(options.dimensions));
  } else if (options.model == kAda && options.dimensions != *native) {
    return ConfigError("text-embedding-ada-002 does not support choosing dimensions");
  }
  if (options.mock) space.model = "mock:" + space.model;
  return std::unique_ptr<OpenAiEmbedder>(new OpenAiEmbedder(std::move(options), space));
}

OpenAiEmbedder::OpenAiEmbedder(OpenAiEmbedderOptions options, store::VectorSpace space)
    : options_(std::move(options)), space_(std::move(space)), client_(options_.http) {
  if (options_.dimensions > 0 && options_.model != kAda) send_dimensions_ = options_.dimensions;
  std::string base = options_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  url_ = base + "/embeddings";
}

std::string OpenAiEmbedder::Describe() const {
  return std::string(Provider()) + " " + space_.model + " (" + std::to_string(space_.dimensions) +
         " dims)";
}

std::optional<openai::RateLimitSnapshot> OpenAiEmbedder::LastRateLimit() const {
  std::lock_guard lock(mu_);
  return last_rate_limit_;
}

void OpenAiEmbedder::RecordRateLimit(const http::HttpResponse& response) const {
  openai::RateLimitSnapshot s =
      openai::ParseRateLimitHeaders(response, options_.clock->NowMillis());
  if (s.empty()) return;
  std::lock_guard lock(mu_);
  last_rate_limit_ = std::move(s);
}

// The SDKs' schedule (§9): the server's delay when it gave one within the ceiling, else
// min(initial * 2^retry, max) scaled by a jitter factor in (0.75, 1].
Duration OpenAiEmbedder::RetryDelay(int retry, std::optional<Duration> server_delay) const {
  if (server_delay && server_delay->count() > 0 && *server_delay <= options_.retry_after_ceiling) {
    return *server_delay;
  }
  const double base = std::min(
      static_cast<double>(options_.initial_backoff.count()) * std::pow(2.0, std::min(retry, 30)),
      static_cast<double>(options_.max_backoff.count()));
  return Duration(static_cast<int64_t>(base * (1.0 - 0.25 * Jitter())));
}

Status OpenAiEmbedder::SendWithRetries(std::span<const std::string> inputs, int64_t tokens,
                                       openai::EmbeddingsResponse* response,
                                       std::string* request_id, bool* split,
                                       int64_t* attempts) const {
  http::HttpRequest req;
  req.method = "POST";
  req.url = url_;
  req.headers.emplace_back("Content-Type", "application/json");
  const std::string key = options_.api_key_cell ? options_.api_key_cell->Get() : options_.api_key;
  if (!key.empty()) {
    req.headers.emplace_back("Authorization", "Bearer " + key);
  }
  if (!options_.organization.empty()) {
    req.headers.emplace_back("OpenAI-Organization", options_.organization);
  }
  if (!options_.project.empty()) req.headers.emplace_back("OpenAI-Project", options_.project);
  req.body = openai::BuildRequestBody(options_.model, inputs, send_dimensions_, options_.base64);

  *split = false;
  Status last;
  for (int attempt = 0; attempt <= options_.max_retries; ++attempt) {
    if (options_.gate != nullptr) INGEST_RETURN_IF_ERROR(options_.gate->Admit(tokens));
    ++*attempts;
    const UnixMillis sent_at = options_.clock->NowMillis();
    auto sent = client_.Send(req);
    // The request left (the provider may have billed it); its answer is not read yet.
    FailPoint(kFailAfterSend);
    // Tells the gate how this attempt went once `last` is known (every path below).
    auto observe = [&](const Status& outcome) {
      if (options_.gate == nullptr) return;
      options_.gate->Observe(
          http::CallOutcome{.response = sent.ok() ? &*sent : nullptr,
                            .status = outcome,
                            .latency = Duration(options_.clock->NowMillis() - sent_at)});
    };
    std::optional<Duration> server_delay;
    bool retryable = false;
    if (!sent.ok()) {
      last = sent.status();
      retryable = Retryable(last);
      // Unreachable (refused, DNS, TLS): say which URL, since a wrong base URL is the usual cause.
      if (last.reason() == "connection_failed" || last.reason() == "tls_error") {
        last = last.WithContext("POST " + UrlForMessages(url_));
      }
    } else {
      const http::HttpResponse& res = *sent;
      RecordRateLimit(res);
      *request_id = res.Header("x-request-id");
      if (res.status >= 200 && res.status < 300) {
        auto parsed = openai::ParseEmbeddingsResponse(res.body, inputs.size(), space_.dimensions);
        if (parsed.ok()) {
          *response = std::move(parsed).value();
          observe(Status::Ok());
          return Status::Ok();
        }
        last = parsed.status().WithContext("request " + *request_id);
        retryable = Retryable(last);  // malformed JSON yes; a wrong answer no
      } else {
        openai::ErrorVerdict verdict = openai::MapErrorResponse(res, options_.clock->NowMillis());
        if (verdict.split) {
          *split = true;
          observe(verdict.status);
          return verdict.status;
        }
        last = verdict.status;
        // A missing route is about the URL: name it (no query, which could carry a token).
        if (last.reason() == "endpoint_not_found") {
          last = last.WithContext("POST " + UrlForMessages(url_));
        }
        retryable = verdict.retryable;
        server_delay = verdict.retry_after;
        // A requested wait beyond the ceiling is the governor's job (defer), not a thread's.
        if (server_delay && *server_delay > options_.retry_after_ceiling) retryable = false;
      }
    }
    observe(last);
    if (!retryable || attempt == options_.max_retries) break;
    const Duration delay = RetryDelay(attempt, server_delay);
    obs::LogInfo("openai embeddings: retrying", {{"attempt", attempt + 1},
                                                 {"delay_ms", delay.count()},
                                                 {"reason", last.reason()},
                                                 {"request_id", *request_id}});
    std::this_thread::sleep_for(delay);
  }
  return last;
}

Status OpenAiEmbedder::EmbedSpan(std::span<const std::string> texts,
                                 std::span<const int64_t> tokens, const openai::RequestSpan& span,
                                 EmbedOutput* out) const {
  openai::EmbeddingsResponse response;
  std::string request_id;
  bool split = false;
  int64_t attempts = 0;  // HTTP attempts; only the one that succeeds is billed
  Status st = SendWithRetries(texts.subspan(span.begin, span.size()), span.tokens, &response,
                              &request_id, &split, &attempts);
  if (split) {
    if (span.size() < 2) return st;  // one input the server will not take: bad input
    // Halve and send both halves; never drop an input. Depth is log2(inputs).
    const size_t mid = span.begin + span.size() / 2;
    openai::RequestSpan left{.begin = span.begin, .end = mid, .tokens = 0};
    openai::RequestSpan right{.begin = mid, .end = span.end, .tokens = 0};
    for (size_t i = left.begin; i < left.end; ++i) left.tokens += tokens[i];
    right.tokens = span.tokens - left.tokens;
    obs::LogInfo("openai embeddings: request too large, splitting",
                 {{"inputs", span.size()}, {"tokens", span.tokens}, {"reason", st.reason()}});
    INGEST_RETURN_IF_ERROR(EmbedSpan(texts, tokens, left, out));
    return EmbedSpan(texts, tokens, right, out);
  }
  INGEST_RETURN_IF_ERROR(st);
  for (size_t i = 0; i < span.size(); ++i) {
    out->vectors[span.begin + i] = std::move(response.vectors[i]);
  }
  if (response.total_tokens) {
    out->usage.tokens += *response.total_tokens;
  } else {
    // Some compatible servers report no usage; our exact count is the best estimate.
    out->usage.tokens += span.tokens;
  }
  if (!request_id.empty()) out->usage.request_ids.push_back(request_id);
  ++out->usage.requests;
  return Status::Ok();
}

Result<EmbedOutput> OpenAiEmbedder::Embed(std::span<const std::string> texts) const {
  return EmbedBilled(texts, nullptr);
}

Result<EmbedOutput> OpenAiEmbedder::EmbedBilled(std::span<const std::string> texts,
                                                EmbedUsage* billed_on_error) const {
  EmbedOutput out;
  if (texts.empty()) return out;
  std::vector<int64_t> tokens(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    tokens[i] = static_cast<int64_t>(options_.token_counter->Count(texts[i]));
  }
  INGEST_ASSIGN_OR_RETURN(std::vector<openai::RequestSpan> spans,
                          openai::PackRequests(tokens, options_.limits));
  out.vectors.resize(texts.size());
  for (const openai::RequestSpan& span : spans) {
    Status st = EmbedSpan(texts, tokens, span, &out);
    if (!st.ok()) {
      // Tokens already billed by earlier requests of this call are lost with the error; say so,
      // so the ledger can be reconciled against the provider's bill.
      if (out.usage.tokens > 0) {
        obs::LogWarn("openai embeddings: call failed after billed requests",
                     {{"billed_tokens", out.usage.tokens},
                      {"request_ids", out.usage.request_ids},
                      {"error", st.reason()}});
      }
      if (billed_on_error != nullptr) *billed_on_error = std::move(out.usage);
      return st;
    }
  }
  return out;
}

}  // namespace ingest::embed
