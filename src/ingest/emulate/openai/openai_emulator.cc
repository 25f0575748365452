#include "ingest/emulate/openai/openai_emulator.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <variant>

#include "ingest/common/hash.h"
#include "ingest/common/ids.h"
#include "ingest/emulate/common/billing_log.h"
#include "ingest/emulate/common/json_text.h"
#include "ingest/emulate/common/server_thread.h"
#include "ingest/emulate/common/token_bucket.h"
#include "ingest/emulate/openai/embedding_vectors.h"

namespace ingest::emulate {
namespace {

using openai::ApiError;
using openai::EmbeddingsRequest;

constexpr char kJson[] = "application/json";
constexpr char kBadGatewayHtml[] =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    "</body>\r\n</html>\r\n";

std::string RequestId() {
  std::string id = UuidV4();
  std::erase(id, '-');
  return "req_" + id;
}

// "sk-...abcd": the real API echoes only the ends of a wrong key.
std::string MaskKey(const std::string& key) {
  if (key.size() < 8) return "****";
  return key.substr(0, 3) + "..." + key.substr(key.size() - 4);
}

// "2.812s" / "20ms", the wait format of the real 429 messages.
std::string WaitText(int64_t ms) {
  if (ms < 1000) return std::to_string(ms) + "ms";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3gs", static_cast<double>(ms) / 1000.0);
  return buf;
}

}  // namespace

class OpenAiEmulator::Impl {
 public:
  Impl(OpenAiEmulatorOptions options, const text::TokenCounter* counter)
      : options_(std::move(options)),
        counter_(counter),
        requests_bucket_(options_.rpm, options_.rate_window_ms, options_.clock),
        tokens_bucket_(options_.tpm, options_.rate_window_ms, options_.clock),
        faults_(options_.faults),
        quota_tokens_(options_.quota_tokens),
        thread_(&server_) {
    server_.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) {
      HandleEmbeddings(req, res);
    });
    server_.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
      HandleModels(req, res);
    });
    server_.Get("/_emulator/stats", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(JsonText(Stats().ToJson(), 2), kJson);
    });
    server_.Post("/_emulator/reset", [this](const httplib::Request&, httplib::Response& res) {
      Reset();
      res.set_content("{\"reset\":true}", kJson);
    });
    // Changes the token quota of a running emulator (the staging smoke test exhausts it to
    // raise the quota alert, then lifts it): body {"quota_tokens": N}, 0 = unlimited. The
    // quota counts every token billed since start or the last reset.
    server_.Post("/_emulator/quota", [this](const httplib::Request& req, httplib::Response& res) {
      const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
      if (!body.is_object() || !body.contains("quota_tokens") ||
          !body["quota_tokens"].is_number_integer() || body["quota_tokens"].get<int64_t>() < 0) {
        res.status = 400;
        res.set_content("{\"error\":\"body must be {\\\"quota_tokens\\\": N >= 0}\"}", kJson);
        return;
      }
      quota_tokens_.store(body["quota_tokens"].get<int64_t>());
      res.set_content(JsonText(nlohmann::json{{"quota_tokens", quota_tokens_.load()},
                                              {"billed_tokens", Stats().billed_tokens}}),
                      kJson);
    });
    // The billed usage per UTC day and model, shaped like OpenAI's Usage API for embeddings
    // (GET /v1/organization/usage/embeddings?bucket_width=1d&group_by=model), for
    // `ingestd costs reconcile --usage`.
    server_.Get("/_emulator/usage", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(JsonText(UsageJson(), 2), kJson);
    });
  }

  nlohmann::json UsageJson() const {
    std::lock_guard<std::mutex> lock(mu_);
    nlohmann::json data = nlohmann::json::array();
    for (const auto& [day, models] : usage_) {
      nlohmann::json results = nlohmann::json::array();
      for (const auto& [model, u] : models) {
        results.push_back({{"object", "organization.usage.embeddings.result"},
                           {"input_tokens", u.first},
                           {"num_model_requests", u.second},
                           {"model", model},
                           {"project_id", nullptr},
                           {"user_id", nullptr},
                           {"api_key_id", nullptr}});
      }
      data.push_back({{"object", "bucket"},
                      {"start_time", day},
                      {"end_time", day + 86400},
                      {"results", std::move(results)}});
    }
    return {
        {"object", "page"}, {"data", std::move(data)}, {"has_more", false}, {"next_page", nullptr}};
  }

  Status Start(const std::string& host, int port) {
    INGEST_RETURN_IF_ERROR(billing_.Open(options_.billing_log_path));
    return thread_.Start(host, port);
  }
  int port() const { return thread_.port(); }
  void Stop() { thread_.Stop(); }

  EmulatorStats Stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

  void Reset() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_ = EmulatorStats{};
    usage_.clear();
    requests_bucket_.Reset();
    tokens_bucket_.Reset();
    faults_.Reset();
  }

 private:
  // Records one unbilled API response. Status 0 = the connection was dropped.
  void Record(int status, const std::string& outcome, bool fault) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.requests;
    ++stats_.by_status[status];
    ++stats_.by_outcome[outcome];
    if (status == 429) ++stats_.rate_limited;
    if (fault) ++stats_.faults_injected;
  }

  void SendError(httplib::Response& res, const ApiError& e, const std::string& outcome,
                 bool fault = false) {
    res.status = e.http_status;
    res.set_content(e.ToJson(), kJson);
    Record(e.http_status, outcome, fault);
  }

  // x-ratelimit-* on every 200 and 429 of /v1/embeddings (spec §8).
  void SetRateLimitHeaders(httplib::Response& res, const TokenBucket::Decision& r,
                           const TokenBucket::Decision& t) {
    if (!requests_bucket_.unlimited()) {
      res.set_header("x-ratelimit-limit-requests", std::to_string(r.limit));
      res.set_header("x-ratelimit-remaining-requests", std::to_string(r.remaining));
      res.set_header("x-ratelimit-reset-requests", GoDuration(r.reset_ms));
    }
    if (!tokens_bucket_.unlimited()) {
      res.set_header("x-ratelimit-limit-tokens", std::to_string(t.limit));
      res.set_header("x-ratelimit-remaining-tokens", std::to_string(t.remaining));
      res.set_header("x-ratelimit-reset-tokens", GoDuration(t.reset_ms));
    }
  }

  static void SetRetryAfter(httplib::Response& res, int64_t wait_ms) {
    res.set_header("retry-after", std::to_string((wait_ms + 999) / 1000));
    res.set_header("retry-after-ms", std::to_string(wait_ms));
  }

  // 401 unless the Bearer key is acceptable. Returns true when the request may proceed.
  bool CheckKey(const httplib::Request& req, httplib::Response& res) {
    const std::string auth = req.get_header_value("Authorization");
    ApiError e;
    e.http_status = 401;
    if (!auth.starts_with("Bearer ") || auth.size() == 7) {
      e.message =
          "You didn't provide an API key. You need to provide your API key in an Authorization "
          "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
          "field (with blank username) if you're accessing the API from your browser and are "
          "prompted for a username and password. You can obtain an API key from "
          "https://platform.openai.com/account/api-keys.";
      SendError(res, e, "unauthenticated");
      return false;
    }
    const std::string key = auth.substr(7);
    bool ok = !options_.reject_all_keys;
    if (ok && !options_.api_keys.empty()) {
      ok = std::find(options_.api_keys.begin(), options_.api_keys.end(), key) !=
           options_.api_keys.end();
    }
    if (ok) return true;
    e.message = "Incorrect API key provided: " + MaskKey(key) +
                ". You can find your API key at https://platform.openai.com/account/api-keys.";
    e.code = "invalid_api_key";
    SendError(res, e, "invalid_api_key", options_.reject_all_keys);
    return false;
  }

  // Answers with an injected failure that happens before the request is looked at. Returns
  // false for kinds that shape a successful response instead (slow, malformed, missing).
  bool InjectEarlyFault(FaultKind fault, httplib::Response& res) {
    ApiError e;
    const std::string outcome = "fault_" + std::string(FaultKindName(fault));
    switch (fault) {
      case FaultKind::kRateLimit429:
        e.http_status = 429;
        e.type = "rate_limit_error";
        e.code = "slow_down";
        e.message = "We're currently processing too many requests. Please slow down and try again.";
        SetRetryAfter(res, 1000);
        res.set_header("x-should-retry", "true");
        SendError(res, e, outcome, true);
        return true;
      case FaultKind::kServerError500:
        e.http_status = 500;
        e.type = "server_error";
        e.message = "The server had an error while processing your request. Sorry about that!";
        SendError(res, e, outcome, true);
        return true;
      case FaultKind::kUnavailable503:
        e.http_status = 503;
        e.type = "service_unavailable_error";
        e.code = "server_is_overloaded";
        e.message = "The server is overloaded or not ready yet.";
        SendError(res, e, outcome, true);
        return true;
      case FaultKind::kBadGatewayHtml502:
        res.status = 502;
        res.set_content(kBadGatewayHtml, "text/html");
        Record(502, outcome, true);
        return true;
      case FaultKind::kDropConnection:
        // httplib gives a handler no access to its socket. A content provider that fails
        // makes httplib close the connection after the status line and headers were sent and
        // before any body byte: the client sees a response cut off (a read error), which is
        // what a connection reset mid-response looks like to it.
        res.status = 200;
        res.set_content_provider(64, kJson,
                                 [](size_t, size_t, httplib::DataSink&) { return false; });
        Record(0, outcome, true);
        return true;
      default:
        return false;
    }
  }

  void HandleEmbeddings(const httplib::Request& req, httplib::Response& res) {
    const auto started = std::chrono::steady_clock::now();
    res.set_header("x-request-id", RequestId());
    res.set_header("openai-version", "2020-10-01");
    res.set_header("openai-organization", options_.organization);
    if (options_.latency_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.latency_ms));
    }
    auto finish = [&] {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
      res.set_header("openai-processing-ms", std::to_string(ms));
    };
    if (!CheckKey(req, res)) return finish();
    const FaultKind fault = faults_.Draw({FaultKind::kRateLimit429, FaultKind::kServerError500,
                                          FaultKind::kUnavailable503, FaultKind::kBadGatewayHtml502,
                                          FaultKind::kSlow, FaultKind::kMalformedJson,
                                          FaultKind::kMissingItem, FaultKind::kDropConnection});
    if (InjectEarlyFault(fault, res)) return finish();

    auto parsed = openai::ParseEmbeddingsRequest(req.body, options_.limits, *counter_);
    if (auto* err = std::get_if<ApiError>(&parsed)) {
      SendError(res, *err, "invalid_request");
      return finish();
    }
    const EmbeddingsRequest& request = std::get<EmbeddingsRequest>(parsed);
    if (!Admit(request, res)) return finish();

    std::string body = ResponseBody(request, fault == FaultKind::kMissingItem);
    if (fault == FaultKind::kMalformedJson) body.resize(body.size() / 2);
    if (fault == FaultKind::kSlow) {
      std::this_thread::sleep_for(std::chrono::milliseconds(faults_.slow_ms()));
    }
    res.status = 200;
    res.set_content(body, kJson);
    if (fault != FaultKind::kNone) {
      {
        std::lock_guard<std::mutex> lock(admit_mu_);
        reserved_tokens_ -= request.total_tokens;
      }
      Record(200, "fault_" + std::string(FaultKindName(fault)), true);
    } else {
      Bill(request, res.get_header_value("x-request-id"));
    }
    finish();
  }

  // Quota, then RPM and TPM. On refusal writes the 429 and returns false. Limits and the quota
  // are checked and charged under one lock so concurrent requests cannot both take the last
  // units.
  bool Admit(const EmbeddingsRequest& request, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(admit_mu_);
    const std::string model(request.model->name);
    if (const int64_t quota = quota_tokens_.load(); quota > 0) {
      int64_t billed;
      {
        std::lock_guard<std::mutex> stats_lock(mu_);
        billed = stats_.billed_tokens + reserved_tokens_;
      }
      if (billed + request.total_tokens > quota) {
        ApiError e;
        e.http_status = 429;
        e.type = "insufficient_quota";
        e.code = "insufficient_quota";
        e.message =
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors.";
        lock.unlock();
        SendError(res, e, "insufficient_quota");
        return false;
      }
    }
    const bool rpm_ok = requests_bucket_.CanTake(1);
    const bool tpm_ok = tokens_bucket_.CanTake(request.total_tokens);
    if (rpm_ok && tpm_ok) {
      const auto r = requests_bucket_.TryTake(1);
      const auto t = tokens_bucket_.TryTake(request.total_tokens);
      reserved_tokens_ += request.total_tokens;
      SetRateLimitHeaders(res, r, t);
      return true;
    }
    const auto r = requests_bucket_.TryTake(rpm_ok ? 0 : 1);
    const auto t = tokens_bucket_.TryTake(tpm_ok ? 0 : request.total_tokens);
    lock.unlock();
    SetRateLimitHeaders(res, requests_bucket_.Peek(), tokens_bucket_.Peek());
    ApiError e;
    e.http_status = 429;
    e.code = "rate_limit_exceeded";
    const std::string where =
        "Rate limit reached for " + model + " in organization " + options_.organization + " on ";
    const std::string visit =
        " Visit https://platform.openai.com/account/rate-limits to learn more.";
    if (!rpm_ok) {
      e.type = "requests";
      e.message = where + "requests per min (RPM): Limit " + std::to_string(r.limit) + ", Used " +
                  std::to_string(r.used) + ", Requested 1. Please try again in " +
                  WaitText(r.retry_after_ms) + "." + visit;
      SetRetryAfter(res, r.retry_after_ms);
    } else if (t.retry_after_ms < 0) {
      // More tokens than the whole window allows: waiting never helps.
      e.type = "tokens";
      e.message = "Request too large for " + model + " in organization " + options_.organization +
                  " on tokens per min (TPM): Limit " + std::to_string(t.limit) + ", Requested " +
                  std::to_string(request.total_tokens) +
                  ". The input or output tokens must be reduced in order to run successfully." +
                  visit;
      res.set_header("x-should-retry", "false");
    } else {
      e.type = "tokens";
      e.message = where + "tokens per min (TPM): Limit " + std::to_string(t.limit) + ", Used " +
                  std::to_string(t.used) + ", Requested " + std::to_string(request.total_tokens) +
                  ". Please try again in " + WaitText(t.retry_after_ms) + "." + visit;
      SetRetryAfter(res, t.retry_after_ms);
    }
    SendError(res, e, "rate_limited");
    return false;
  }

  std::string ResponseBody(const EmbeddingsRequest& request, bool drop_one) {
    const auto& model = *request.model;
    const size_t dropped = drop_one ? request.inputs.size() / 2 : request.inputs.size();
    std::string body = "{\"object\":\"list\",\"data\":[";
    bool first = true;
    for (size_t i = 0; i < request.inputs.size(); ++i) {
      if (i == dropped) continue;
      const auto v = openai::DeterministicEmbedding(model.name, request.inputs[i].key,
                                                    model.native_dimensions, request.dimensions);
      if (!first) body += ',';
      first = false;
      body += "{\"object\":\"embedding\",\"index\":" + std::to_string(i) + ",\"embedding\":";
      body +=
          request.base64 ? "\"" + openai::FloatArrayBase64(v) + "\"" : openai::FloatArrayJson(v);
      body += '}';
    }
    const std::string tokens = std::to_string(request.total_tokens);
    body += "],\"model\":\"" + std::string(model.name) +
            "\",\"usage\":{\"prompt_tokens\":" + tokens + ",\"total_tokens\":" + tokens + "}}";
    return body;
  }

  void Bill(const EmbeddingsRequest& request, const std::string& request_id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.requests;
      ++stats_.by_status[200];
      ++stats_.by_outcome["ok"];
      ++stats_.billed_requests;
      stats_.billed_tokens += request.total_tokens;
      const int64_t day = options_.clock->NowMillis() / 86'400'000 * 86'400;
      auto& u = usage_[day][std::string(request.model->name)];
      u.first += request.total_tokens;
      ++u.second;
    }
    {
      std::lock_guard<std::mutex> lock(admit_mu_);
      reserved_tokens_ -= request.total_tokens;
    }
    // Each input's hash and tokens, so a test can see which texts were billed more than once.
    nlohmann::json hashes = nlohmann::json::array();
    nlohmann::json tokens = nlohmann::json::array();
    for (const openai::EmbeddingInput& in : request.inputs) {
      hashes.push_back(Sha256Hex(in.key));
      tokens.push_back(in.tokens);
    }
    billing_.Append({{"ts_ms", options_.clock->NowMillis()},
                     {"request_id", request_id},
                     {"model", std::string(request.model->name)},
                     {"inputs", request.inputs.size()},
                     {"tokens", request.total_tokens},
                     {"input_sha256", std::move(hashes)},
                     {"input_tokens", std::move(tokens)},
                     {"dimensions", request.dimensions},
                     {"encoding_format", request.base64 ? "base64" : "float"}});
  }

  void HandleModels(const httplib::Request& req, httplib::Response& res) {
    res.set_header("x-request-id", RequestId());
    if (!CheckKey(req, res)) return;
    size_t n = 0;
    const auto* models = openai::EmbeddingModels(&n);
    nlohmann::json data = nlohmann::json::array();
    for (size_t i = 0; i < n; ++i) {
      data.push_back({{"id", std::string(models[i].name)},
                      {"object", "model"},
                      {"created", 1705948997},
                      {"owned_by", "system"}});
    }
    res.set_content(JsonText(nlohmann::json{{"object", "list"}, {"data", data}}), kJson);
  }

  const OpenAiEmulatorOptions options_;
  const text::TokenCounter* counter_;
  TokenBucket requests_bucket_;
  TokenBucket tokens_bucket_;
  FaultInjector faults_;
  std::atomic<int64_t> quota_tokens_;  // options_.quota_tokens until POST /_emulator/quota
  BillingLog billing_;
  mutable std::mutex mu_;
  EmulatorStats stats_;  // GUARDED_BY(mu_)
  // Billed (tokens, requests) by UTC day start (Unix seconds) and model. GUARDED_BY(mu_)
  std::map<int64_t, std::map<std::string, std::pair<int64_t, int64_t>>> usage_;
  std::mutex admit_mu_;
  int64_t reserved_tokens_ = 0;  // GUARDED_BY(admit_mu_): admitted, not yet billed
  httplib::Server server_;
  ServerThread thread_;
};

OpenAiEmulator::OpenAiEmulator(OpenAiEmulatorOptions options, const text::TokenCounter* counter)
    : impl_(std::make_unique<Impl>(std::move(options), counter)) {}
OpenAiEmulator::~OpenAiEmulator() { impl_->Stop(); }
Status OpenAiEmulator::Start(const std::string& host, int port) { return impl_->Start(host, port); }
int OpenAiEmulator::port() const { return impl_->port(); }
void OpenAiEmulator::Stop() { impl_->Stop(); }
EmulatorStats OpenAiEmulator::Stats() const { return impl_->Stats(); }
void OpenAiEmulator::Reset() { impl_->Reset(); }

}  // namespace ingest::emulate
