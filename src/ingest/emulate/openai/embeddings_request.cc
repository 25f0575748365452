#include "ingest/emulate/openai/embeddings_request.h"

#include <nlohmann/json.hpp>

#include "ingest/emulate/openai/embedding_vectors.h"

namespace ingest::emulate::openai {
namespace {

using nlohmann::json;

constexpr std::string_view kApiReference =
    "Please check the API reference: https://platform.openai.com/docs/api-reference.";

ApiError BadRequest(std::string message, std::optional<std::string> param = std::nullopt) {
  ApiError e;
  e.http_status = 400;
  e.message = std::move(message);
  e.param = std::move(param);
  return e;
}

ApiError InvalidInput() {
  return BadRequest("'$.input' is invalid. " + std::string(kApiReference));
}

// Reads an array of token ids; false if any element is not a non-negative integer.
bool ReadIds(const json& arr, std::vector<int64_t>* ids) {
  for (const auto& v : arr) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0) return false;
    ids->push_back(v.get<int64_t>());
  }
  return true;
}

// Fills `out` from the `input` field, or returns the 400 the real API gives for that shape.
std::optional<ApiError> ReadInputs(const json& input, const RequestLimits& limits,
                                   const text::TokenCounter& counter,
                                   std::vector<EmbeddingInput>* out) {
  auto add_text = [&](const std::string& s) {
    out->push_back({s, static_cast<int64_t>(counter.Count(s))});
  };
  if (input.is_string()) {
    const auto& s = input.get_ref<const std::string&>();
    if (s.empty()) return InvalidInput();
    add_text(s);
    return std::nullopt;
  }
  if (!input.is_array() || input.empty()) return InvalidInput();
  if (static_cast<int64_t>(input.size()) > limits.max_inputs) {
    return BadRequest("'$.input' is invalid: array length must be " +
                      std::to_string(limits.max_inputs) + " or less. " +
                      std::string(kApiReference));
  }
  if (input.front().is_number_integer()) {  // one pre-tokenized input
    std::vector<int64_t> ids;
    if (!ReadIds(input, &ids)) return InvalidInput();
    out->push_back({TokenIdsKey(ids), static_cast<int64_t>(ids.size())});
    return std::nullopt;
  }
  for (const auto& item : input) {
    if (item.is_string()) {
      const auto& s = item.get_ref<const std::string&>();
      if (s.empty()) return InvalidInput();
      add_text(s);
    } else if (item.is_array()) {
      std::vector<int64_t> ids;
      if (item.empty() || !ReadIds(item, &ids)) return InvalidInput();
      out->push_back({TokenIdsKey(ids), static_cast<int64_t>(ids.size())});
    } else {
      return InvalidInput();
    }
  }
  return std::nullopt;
}

}  // namespace

std::variant<EmbeddingsRequest, ApiError> ParseEmbeddingsRequest(
    std::string_view body, const RequestLimits& limits, const text::TokenCounter& counter) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return BadRequest(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
        "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
        "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
        "contact us through our help center at help.openai.com.)");
  }
  EmbeddingsRequest req;

  auto model_it = doc.find("model");
  if (model_it == doc.end() || !model_it->is_string()) {
    return BadRequest("you must provide a model parameter");
  }
  const auto& model = model_it->get_ref<const std::string&>();
  req.model = FindEmbeddingModel(model);
  if (req.model == nullptr) {
    ApiError e;
    if (IsNonEmbeddingModel(model)) {
      e.http_status = 403;
      e.message = "You are not allowed to generate embeddings from this model";
    } else {
      e.http_status = 404;
      e.message = "The model `" + model + "` does not exist or you do not have access to it.";
      e.code = "model_not_found";
    }
    return e;
  }

  auto input_it = doc.find("input");
  if (input_it == doc.end() || input_it->is_null()) {
    return BadRequest("'input' is a required property", "input");
  }
  if (auto err = ReadInputs(*input_it, limits, counter, &req.inputs)) return *err;

  req.dimensions = req.model->native_dimensions;
  if (auto it = doc.find("dimensions"); it != doc.end() && !it->is_null()) {
    if (!req.model->supports_dimensions) {
      return BadRequest("This model does not support specifying dimensions.");
    }
    const int native = req.model->native_dimensions;
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > native) {
      return BadRequest("Invalid value for 'dimensions': must be an integer between 1 and " +
                            std::to_string(native) + ".",
                        "dimensions");
    }
    req.dimensions = it->get<int>();
  }

  if (auto it = doc.find("encoding_format"); it != doc.end() && !it->is_null()) {
    if (*it == "base64") {
      req.base64 = true;
    } else if (*it != "float") {
      return BadRequest("Invalid value for 'encoding_format': expected 'float' or 'base64'.",
                        "encoding_format");
    }
  }

  for (const auto& in : req.inputs) {
    if (in.tokens > limits.max_tokens_per_input) {
      const std::string n = std::to_string(in.tokens);
      return BadRequest("This model's maximum context length is " +
                        std::to_string(limits.max_tokens_per_input) +
                        " tokens, however you requested " + n + " tokens (" + n +
                        " in your prompt; 0 for the completion). Please reduce your prompt; or "
                        "completion length.");
    }
    req.total_tokens += in.tokens;
  }
  if (req.total_tokens > limits.max_tokens_per_request) {
    ApiError e = BadRequest("Requested " + std::to_string(req.total_tokens) + " tokens, max " +
                            std::to_string(limits.max_tokens_per_request) + " tokens per request");
    e.type = "max_tokens_per_request";
    e.code = "max_tokens_per_request";
    return e;
  }
  return req;
}

}  // namespace ingest::emulate::openai
