#include "ingest/store/metadata.h"

#include <nlohmann/json.hpp>

namespace ingest::store {
namespace {

Status Bad(const std::string& why) {
  return InvalidArgument("metadata: " + why, "invalid_metadata");
}

bool IsScalar(const nlohmann::json& v) {
  return v.is_string() || v.is_number() || v.is_boolean() || v.is_null();
}

}  // namespace

Status ValidateMetadataKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxMetadataKeyBytes) {
    return InvalidArgument(
        "metadata key must be 1 to " + std::to_string(kMaxMetadataKeyBytes) + " bytes",
        "invalid_metadata_key");
  }
  for (char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') {
      return InvalidArgument(
          "metadata key \"" + std::string(key) + "\" holds a control character, '\"' or '\\'",
          "invalid_metadata_key");
    }
  }
  return Status::Ok();
}

Status ValidateExternalId(std::string_view external_id) {
  if (external_id.empty() || external_id.size() > kMaxExternalIdBytes) {
    return InvalidArgument(
        "external_id must be 1 to " + std::to_string(kMaxExternalIdBytes) + " bytes",
        "invalid_external_id");
  }
  for (char c : external_id) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return InvalidArgument("external_id holds a control character", "invalid_external_id");
    }
  }
  return Status::Ok();
}

Result<std::string> NormalizeMetadata(std::string_view text) {
  if (text.size() > 4 * kMaxMetadataBytes) {
    return Bad("larger than " + std::to_string(kMaxMetadataBytes) + " bytes");
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("not valid JSON");
  if (!j.is_object()) return Bad("must be a JSON object");
  if (j.size() > kMaxMetadataKeys) {
    return Bad("more than " + std::to_string(kMaxMetadataKeys) + " keys");
  }
  for (const auto& [key, value] : j.items()) {
    if (Status st = ValidateMetadataKey(key); !st.ok()) return Bad(st.message());
    bool ok = IsScalar(value);
    if (value.is_array()) {
      ok = true;
      for (const auto& e : value) ok = ok && IsScalar(e);
    }
    if (!ok) {
      return Bad("value of \"" + key +
                 "\" must be a string, number, boolean, null or an array of those");
    }
  }
  std::string out;
  try {
    out = j.dump();
  } catch (const nlohmann::json::exception&) {
    return Bad("holds invalid UTF-8");
  }
  if (out.size() > kMaxMetadataBytes) {
    return Bad("larger than " + std::to_string(kMaxMetadataBytes) + " bytes");
  }
  return out;
}

std::string ScalarJsonFromWord(std::string_view word) {
  if (!word.empty()) {
    const char c = word.front();
    const bool json_like = c == '"' || c == '-' || (c >= '0' && c <= '9') || word == "true" ||
                           word == "false" || word == "null";
    if (json_like) {
      nlohmann::json j = nlohmann::json::parse(word, nullptr, /*allow_exceptions=*/false);
      if (!j.is_discarded() && IsScalar(j)) return j.dump();
    }
  }
  try {
    return nlohmann::json(std::string(word)).dump();
  } catch (const nlohmann::json::exception&) {
    return nlohmann::json(std::string(word))
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

Result<MetadataEquals> ParseMetadataEquals(std::string_view key_eq_value) {
  const size_t eq = key_eq_value.find('=');
  if (eq == std::string_view::npos) {
    return InvalidArgument("expected KEY=VALUE, got \"" + std::string(key_eq_value) + "\"",
                           "invalid_filter");
  }
  const std::string_view key = key_eq_value.substr(0, eq);
  if (Status st = ValidateMetadataKey(key); !st.ok()) {
    return InvalidArgument(st.message(), "invalid_filter");
  }
  return MetadataEquals{std::string(key), ScalarJsonFromWord(key_eq_value.substr(eq + 1))};
}

Result<std::string> SetMetadataValue(std::string_view object_json, std::string_view key,
                                     std::string_view value_json) {
  INGEST_RETURN_IF_ERROR(ValidateMetadataKey(key));
  nlohmann::json obj = nlohmann::json::parse(object_json.empty() ? "{}" : object_json, nullptr,
                                             /*allow_exceptions=*/false);
  nlohmann::json value = nlohmann::json::parse(value_json, nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded() || !obj.is_object() || value.is_discarded()) {
    return Bad("not a JSON object");
  }
  obj[std::string(key)] = std::move(value);
  return NormalizeMetadata(obj.dump());
}

}  // namespace ingest::store
