#include "ingest/emulate/openai/api_error.h"

#include <nlohmann/json.hpp>

namespace ingest::emulate::openai {

std::string ApiError::ToJson() const {
  nlohmann::json error = {
      {"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
  if (param) error["param"] = *param;
  if (code) error["code"] = *code;
  return nlohmann::json{{"error", error}}.dump(2);
}

}  // namespace ingest::emulate::openai
