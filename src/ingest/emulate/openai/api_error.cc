#include "ingest/emulate/openai/api_error.h"

#include <nlohmann/json.hpp>

#include "ingest/emulate/common/json_text.h"

namespace ingest::emulate::openai {

std::string ApiError::ToJson() const {
  nlohmann::json error = {
      {"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
  if (param) error["param"] = *param;
  if (code) error["code"] = *code;
  return JsonText(nlohmann::json{{"error", error}}, 2);
}

}  // namespace ingest::emulate::openai
