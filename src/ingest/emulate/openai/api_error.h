// OpenAI's error envelope (spec §6): {"error": {"message", "type", "param", "code"}}, all four
// keys always present, `param`/`code` may be null.
#pragma once

#include <optional>
#include <string>

namespace ingest::emulate::openai {

struct ApiError {
  int http_status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::optional<std::string> param;
  std::optional<std::string> code;

  std::string ToJson() const;
};

}  // namespace ingest::emulate::openai
