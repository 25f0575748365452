// API key secrets (docs/security.md "API keys"). A secret reads
//   ik_<12 hex: lookup prefix>_<43 base64url: 256 random bits>
// from OpenSSL's RAND_bytes. The store keeps the prefix (indexed, to find the key without
// scanning) and the sha256 of the whole secret, never the secret; a presented secret is found
// by its prefix and accepted only if its digest equals the stored one (CRYPTO_memcmp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ingest/common/result.h"

namespace ingest::api {

inline constexpr std::string_view kApiKeyMarker = "ik_";

struct NewApiKeySecret {
  std::string id;      // "key_" + prefix: the key's public name (audit actor, keys revoke ID)
  std::string prefix;  // 12 lower-case hex characters
  std::string secret;  // shown once to the operator, never stored
  std::string sha256;  // hex digest of `secret`, stored
};

// Fresh random secret. kInternal when the system's random source fails.
Result<NewApiKeySecret> GenerateApiKeySecret();

// The lookup prefix of a well-formed secret; nullopt for anything else (then it is not an API
// key: the caller tries the configured tokens).
std::optional<std::string> ApiKeyPrefix(std::string_view secret);

}  // namespace ingest::api
