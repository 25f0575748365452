#include "ingest/embed/openai/wire.h"

#include <array>
#include <bit>
#include <cmath>
#include <nlohmann/json.hpp>

#include "ingest/embed/openai/rate_limits.h"
#include "ingest/obs/log.h"

namespace ingest::embed::openai {
namespace {

using nlohmann::json;

Status BadResponse(std::string msg) {
  return DataLoss("openai embeddings response: " + std::move(msg), "bad_response");
}

constexpr std::array<int8_t, 256> MakeBase64Table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kBase64 = MakeBase64Table();

// Scales `v` to unit length unless it already is (within 1e-3). A zero or non-finite vector is
// not an embedding.
Status NormaliseL2(std::vector<float>& v) {
  double sum = 0;
  for (float x : v) {
    if (!std::isfinite(x)) return BadResponse("vector has a non-finite value");
    sum += static_cast<double>(x) * x;
  }
  const double norm = std::sqrt(sum);
  if (!(norm > 0)) return BadResponse("zero vector");
  if (std::abs(norm - 1.0) > 1e-3) {
    for (float& x : v) x = static_cast<float>(x / norm);
  }
  return Status::Ok();
}

std::string StringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

bool IsQuotaCode(std::string_view s) {
  return s == "insufficient_quota" || s == "credit_balance_exhausted" ||
         s == "organization_spend_limit_exceeded" || s == "project_spend_limit_exceeded" ||
         s == "organization_usage_limit_exceeded";
}

}  // namespace

std::string BuildRequestBody(std::string_view model, std::span<const std::string> inputs,
                             int dimensions, bool base64) {
  json body;
  body["model"] = model;
  json input = json::array();
  for (const auto& s : inputs) input.push_back(s);
  body["input"] = std::move(input);
  body["encoding_format"] = base64 ? "base64" : "float";
  if (dimensions > 0) body["dimensions"] = dimensions;
  // Invalid UTF-8 is replaced rather than thrown on; the validate stage removes it upstream.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::vector<float>> DecodeBase64Floats(std::string_view text) {
  if (text.size() % 4 != 0) return BadResponse("base64 embedding length not a multiple of 4");
  std::vector<uint8_t> bytes;
  bytes.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const unsigned char c = static_cast<unsigned char>(text[i + k]);
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0 || kBase64[c] < 0) return BadResponse("invalid base64 in embedding");
      v[k] = kBase64[c];
    }
    const uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    bytes.push_back(static_cast<uint8_t>(n >> 16));
    if (pad < 2) bytes.push_back(static_cast<uint8_t>(n >> 8));
    if (pad < 1) bytes.push_back(static_cast<uint8_t>(n));
  }
  if (bytes.size() % 4 != 0) return BadResponse("base64 embedding is not a float32 array");
  std::vector<float> out(bytes.size() / 4);
  for (size_t i = 0; i < out.size(); ++i) {
    const uint8_t* b = &bytes[i * 4];
    const uint32_t bits = static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) |
                          (static_cast<uint32_t>(b[2]) << 16) | (static_cast<uint32_t>(b[3]) << 24);
    out[i] = std::bit_cast<float>(bits);
  }
  return out;
}

Result<EmbeddingsResponse> ParseEmbeddingsResponse(std::string_view body, size_t inputs,
                                                   int dimensions) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Unavailable(
        "openai embeddings response is not valid JSON (" + std::to_string(body.size()) + " bytes)",
        "malformed_response");
  }
  if (!doc.is_object()) return BadResponse("not a JSON object");
  auto data = doc.find("data");
  if (data == doc.end() || !data->is_array()) return BadResponse("no data array");
  if (data->size() != inputs) {
    return BadResponse("expected " + std::to_string(inputs) + " embeddings, got " +
                       std::to_string(data->size()));
  }
  EmbeddingsResponse out;
  out.vectors.resize(inputs);
  std::vector<bool> seen(inputs, false);
  for (const json& item : *data) {
    if (!item.is_object()) return BadResponse("data item is not an object");
    auto index = item.find("index");
    if (index == item.end() || !index->is_number_integer()) {
      return BadResponse("data item without an integer index");
    }
    const int64_t i = index->get<int64_t>();
    if (i < 0 || static_cast<size_t>(i) >= inputs) {
      return BadResponse("index " + std::to_string(i) + " out of range");
    }
    if (seen[i]) return BadResponse("duplicate index " + std::to_string(i));
    seen[i] = true;
    auto emb = item.find("embedding");
    std::vector<float> v;
    if (emb != item.end() && emb->is_string()) {
      INGEST_ASSIGN_OR_RETURN(v, DecodeBase64Floats(emb->get_ref<const std::string&>()));
    } else if (emb != item.end() && emb->is_array()) {
      v.reserve(emb->size());
      for (const json& x : *emb) {
        if (!x.is_number()) return BadResponse("embedding has a non-number");
        v.push_back(x.get<float>());
      }
    } else {
      return BadResponse("index " + std::to_string(i) + " has no embedding");
    }
    if (static_cast<int>(v.size()) != dimensions) {
      return BadResponse("index " + std::to_string(i) + " has " + std::to_string(v.size()) +
                         " dimensions, expected " + std::to_string(dimensions));
    }
    INGEST_RETURN_IF_ERROR(NormaliseL2(v));
    out.vectors[i] = std::move(v);
  }
  // data->size() == inputs and no duplicates, so every index was seen.
  if (auto usage = doc.find("usage"); usage != doc.end() && usage->is_object()) {
    for (const char* key : {"total_tokens", "prompt_tokens"}) {
      auto t = usage->find(key);
      if (t != usage->end() && t->is_number_integer()) {
        out.total_tokens = t->get<int64_t>();
        break;
      }
    }
  }
  out.model = StringField(doc, "model");
  return out;
}

ErrorVerdict MapErrorResponse(const http::HttpResponse& response, UnixMillis now) {
  // The SDKs unwrap body["error"] when present and otherwise read the body itself (TEI, old
  // vLLM). Servers disagree on types: code may be an integer (vLLM, llama.cpp) or null.
  std::string message, type, code;
  json doc = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded() && doc.is_object()) {
    const json* err = &doc;
    if (auto e = doc.find("error"); e != doc.end()) {
      if (e->is_object()) {
        err = &*e;
      } else if (e->is_string()) {
        message = e->get<std::string>();  // {"error": "...", "error_type": "..."} (older TEI)
      }
    }
    if (message.empty()) message = StringField(*err, "message");
    type = StringField(*err, "type");
    code = StringField(*err, "code");
  }
  if (message.empty()) {
    message = response.body.empty() ? "(empty body)" : "(non-JSON body)";
  }
  if (message.size() > 300) message = message.substr(0, 300) + "...";

  const int status = response.status;
  const std::string detail =
      obs::ScrubSecrets("openai embeddings: HTTP " + std::to_string(status) + ": " + message);
  ErrorVerdict v;
  v.retry_after = ParseRetryAfter(response, now);
  auto contains = [&](std::string_view needle) {
    return message.find(needle) != std::string::npos;
  };

  if (status == 400 && (type == "max_tokens_per_request" || code == "max_tokens_per_request" ||
                        contains("tokens per request"))) {
    v.split = true;
    v.status = InvalidArgument(detail, "request_too_large");
  } else if (status == 400 && contains("maximum context length")) {
    v.status = InvalidArgument(detail, "input_too_long");
  } else if (status == 400 || status == 422) {
    v.status = InvalidArgument(detail, "invalid_request");
  } else if (status == 401) {
    v.status = Unauthenticated(detail, "invalid_api_key");
  } else if (status == 402 || (status == 429 && (IsQuotaCode(type) || IsQuotaCode(code)))) {
    // Will not clear by waiting (§7): the SDKs retry it, we do not.
    v.status = ResourceExhausted(detail, "insufficient_quota");
  } else if (status == 403) {
    v.status = FailedPrecondition(detail, "model_not_allowed");
  } else if (status == 404 && (code == "model_not_found" || contains("model"))) {
    // The endpoint answered, about the model: embed.model names nothing this server serves.
    v.status = FailedPrecondition(detail + " (check embed.model)", "model_not_found");
  } else if (status == 404) {
    // No such route: the base URL is wrong (most often it lacks the /v1 prefix).
    v.status = FailedPrecondition(detail +
                                      "; the embeddings endpoint was not found: does the "
                                      "base URL end in /v1? (openai.base_url, "
                                      "OPENAI_BASE_URL)",
                                  "endpoint_not_found");
  } else if (status == 413 || (status == 429 && contains("Request too large"))) {
    // TEI answers 413 for a batch over --max-client-batch-size; OpenAI a 429 "Request too
    // large" when one request exceeds the whole TPM budget. Neither succeeds unchanged; smaller
    // requests can.
    v.split = true;
    v.status = InvalidArgument(detail, "request_too_large");
  } else if (status == 429) {
    v.retryable = true;
    std::string msg = detail;
    if (v.retry_after) msg += " (retry after " + std::to_string(v.retry_after->count()) + " ms)";
    v.status = Unavailable(std::move(msg), "rate_limited");
  } else if (status == 501) {
    // llama-server started without --embeddings: a deployment error, not an outage.
    v.status = FailedPrecondition(detail, "embeddings_not_supported");
  } else if (status == 408 || status == 409 || status == 424 || status >= 500) {
    v.retryable = true;
    v.status = Unavailable(detail, status == 408 ? "request_timeout" : "server_error");
  } else {
    v.status = InvalidArgument(detail, "http_" + std::to_string(status));
  }
  if (v.retryable && response.Header("x-should-retry") == "false") v.retryable = false;
  return v;
}

}  // namespace ingest::embed::openai
