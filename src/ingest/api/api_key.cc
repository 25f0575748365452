#include "ingest/api/api_key.h"

#include <openssl/rand.h>

#include <array>

#include "ingest/common/hash.h"

namespace ingest::api {
namespace {

constexpr size_t kPrefixBytes = 6;   // 12 hex characters: 48 bits, for lookup only
constexpr size_t kSecretBytes = 32;  // 256 bits
constexpr size_t kPrefixChars = 12;
constexpr size_t kSecretChars = 43;  // unpadded base64url of 32 bytes

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

std::string Base64Url(const unsigned char* p, size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | p[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

bool IsHexLower(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool IsBase64Url(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<NewApiKeySecret> GenerateApiKeySecret() {
  std::array<unsigned char, kPrefixBytes + kSecretBytes> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return Internal("RAND_bytes failed: no secure random source", "random_failed");
  }
  NewApiKeySecret out;
  out.prefix = Hex(random.data(), kPrefixBytes);
  out.id = "key_" + out.prefix;
  out.secret = std::string(kApiKeyMarker) + out.prefix + "_" +
               Base64Url(random.data() + kPrefixBytes, kSecretBytes);
  out.sha256 = Sha256Hex(out.secret);
  return out;
}

std::optional<std::string> ApiKeyPrefix(std::string_view secret) {
  if (!secret.starts_with(kApiKeyMarker)) return std::nullopt;
  secret.remove_prefix(kApiKeyMarker.size());
  if (secret.size() != kPrefixChars + 1 + kSecretChars || secret[kPrefixChars] != '_') {
    return std::nullopt;
  }
  const std::string_view prefix = secret.substr(0, kPrefixChars);
  if (!IsHexLower(prefix) || !IsBase64Url(secret.substr(kPrefixChars + 1))) return std::nullopt;
  return std::string(prefix);
}

}  // namespace ingest::api
