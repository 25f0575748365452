#include "ingest/parse/llamaparse/webhook.h"

#include "ingest/common/hash.h"

namespace ingest::parse {

std::string LlamaParseWebhookToken(std::string_view secret, std::string_view job_id) {
  return HmacSha256Hex(secret, job_id).substr(0, 32);
}

std::string LlamaParseWebhookUrl(std::string_view public_base, std::string_view secret,
                                 std::string_view job_id) {
  while (!public_base.empty() && public_base.back() == '/') public_base.remove_suffix(1);
  return std::string(public_base) + std::string(kLlamaParseWebhookPath) + std::string(job_id) +
         "?token=" + LlamaParseWebhookToken(secret, job_id);
}

bool LlamaParseWebhookTokenValid(std::string_view secret, std::string_view job_id,
                                 std::string_view token) {
  return ConstantTimeEquals(LlamaParseWebhookToken(secret, job_id), token);
}

}  // namespace ingest::parse
