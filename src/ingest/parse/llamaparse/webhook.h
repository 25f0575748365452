// LlamaParse v1 result push (specs/llamaparse.md §7.1): an upload may carry `webhook_url`, which
// the service POSTs the results to when the job ends. The body names no job, so ingestd gives
// every upload its own URL, `<public base>/v1/webhooks/llamaparse/<ingestd job id>?token=<t>`,
// where t = HMAC-SHA256(server secret, job id) truncated to 128 bits, hex. `ingestd serve`
// checks the token in constant time and makes the waiting job due now; the job then polls and
// fetches the result as usual (the push body is not trusted or used), so polling stays the
// fallback and a lost webhook costs only the poll delay.
//
// Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "ingest/common/result.h"

namespace ingest::parse {

inline constexpr std::string_view kLlamaParseWebhookPath = "/v1/webhooks/llamaparse/";
// The service refuses webhook URLs of 200 characters or more; ours add 99 to the base, so
// config.cc allows bases of at most 100 characters.

// 32 lower-case hex characters.
std::string LlamaParseWebhookToken(std::string_view secret, std::string_view job_id);

// `public_base` without a trailing '/' (one is dropped).
std::string LlamaParseWebhookUrl(std::string_view public_base, std::string_view secret,
                                 std::string_view job_id);

// Constant-time comparison of `token` with the expected one.
bool LlamaParseWebhookTokenValid(std::string_view secret, std::string_view job_id,
                                 std::string_view token);

}  // namespace ingest::parse
