#include "ingest/api/auth.h"

#include <openssl/crypto.h>

#include <fstream>
#include <sstream>

#include "ingest/common/hash.h"

namespace ingest::api {
namespace {

constexpr size_t kMinTokenBytes = 16;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Result<TokenAuthenticator> TokenAuthenticator::Create(std::string_view admin_token,
                                                      const std::string& tokens_file) {
  TokenAuthenticator auth;
  if (!admin_token.empty()) {
    auth.entries_.push_back({Sha256Hex(admin_token), Principal{true, ""}});
    auth.has_admin_ = true;
  }
  if (tokens_file.empty()) return auth;
  std::ifstream in(tokens_file);
  if (!in) return NotFound("cannot open API tokens file " + tokens_file, "bad_tokens_file");
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view l = Trim(line);
    if (l.empty() || l.front() == '#') continue;
    const std::string where = tokens_file + ":" + std::to_string(number) + ": ";
    const size_t space = l.find_first_of(" \t");
    if (space == std::string_view::npos) {
      return InvalidArgument(where + "expected \"<tenant> <token>\"", "bad_tokens_file");
    }
    std::string tenant(l.substr(0, space));
    std::string_view token = Trim(l.substr(space + 1));
    if (token.find_first_of(" \t") != std::string_view::npos) {
      return InvalidArgument(where + "expected \"<tenant> <token>\"", "bad_tokens_file");
    }
    if (token.size() < kMinTokenBytes) {
      return InvalidArgument(where + "token shorter than 16 bytes", "bad_tokens_file");
    }
    std::string digest = Sha256Hex(token);
    for (const Entry& e : auth.entries_) {
      if (e.digest == digest) {
        return InvalidArgument(where + "token listed twice (or equal to the admin token)",
                               "bad_tokens_file");
      }
    }
    auth.entries_.push_back({std::move(digest), Principal{false, std::move(tenant)}});
  }
  return auth;
}

Result<Principal> TokenAuthenticator::Authenticate(std::string_view authorization) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      authorization.substr(0, kBearer.size()) != kBearer) {
    return Unauthenticated("missing bearer token (Authorization: Bearer <token>)", "missing_token");
  }
  const std::string digest = Sha256Hex(Trim(authorization.substr(kBearer.size())));
  // Every entry is compared, match or not, and digests all have the same length: the time
  // taken depends only on how many tokens exist.
  const Entry* found = nullptr;
  for (const Entry& e : entries_) {
    if (CRYPTO_memcmp(e.digest.data(), digest.data(), digest.size()) == 0) found = &e;
  }
  if (found == nullptr) return Unauthenticated("invalid token", "invalid_token");
  return found->principal;
}

}  // namespace ingest::api
