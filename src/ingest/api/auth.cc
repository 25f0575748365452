#include "ingest/api/auth.h"

#include <openssl/crypto.h>

#include <fstream>
#include <sstream>

#include "ingest/api/api_key.h"
#include "ingest/common/hash.h"
#include "ingest/store/store.h"

namespace ingest::api {
namespace {

constexpr size_t kMinTokenBytes = 16;
constexpr int64_t kTouchEveryMs = 60'000;
constexpr std::string_view kBearer = "Bearer ";

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
    Principal admin;
    admin.admin = true;
    admin.scopes = ScopeSet::All();
    admin.actor = "admin-token";
    auth.entries_.push_back({Sha256Hex(admin_token), std::move(admin)});
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
    Principal p;
    p.tenant = std::move(tenant);
    p.scopes = ScopeSet::Of({Scope::kRead, Scope::kIngest, Scope::kOperator});
    p.actor = "tokens-file:" + p.tenant;
    auth.entries_.push_back({std::move(digest), std::move(p)});
  }
  return auth;
}

Result<Principal> TokenAuthenticator::Authenticate(std::string_view authorization) const {
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

Result<Principal> Authenticator::Authenticate(std::string_view authorization) {
  if (store_ != nullptr && authorization.size() > kBearer.size() &&
      authorization.substr(0, kBearer.size()) == kBearer) {
    const std::string_view secret = Trim(authorization.substr(kBearer.size()));
    if (std::optional<std::string> prefix = ApiKeyPrefix(secret)) {
      return AuthenticateKey(secret, *prefix);
    }
  }
  return tokens()->Authenticate(authorization);
}

std::shared_ptr<const TokenAuthenticator> Authenticator::tokens() const {
  std::lock_guard<std::mutex> lock(tokens_mu_);
  return tokens_;
}

void Authenticator::ReplaceTokens(TokenAuthenticator tokens) {
  auto fresh = std::make_shared<const TokenAuthenticator>(std::move(tokens));
  std::lock_guard<std::mutex> lock(tokens_mu_);
  tokens_ = std::move(fresh);
}

Result<Principal> Authenticator::AuthenticateKey(std::string_view secret,
                                                 const std::string& prefix) {
  auto found = store_->FindApiKeyByPrefix(prefix);
  if (!found.ok()) {
    // The credential cannot be checked: not the caller's fault, and not a yes.
    return Unavailable("API keys cannot be read: " + found.status().message(), "store_unavailable");
  }
  const std::string digest = Sha256Hex(secret);
  if (!found->has_value() || (*found)->secret_sha256.size() != digest.size() ||
      CRYPTO_memcmp((*found)->secret_sha256.data(), digest.data(), digest.size()) != 0) {
    return Unauthenticated("invalid token", "invalid_token");
  }
  const store::ApiKey& key = **found;
  const UnixMillis now = clock_->NowMillis();
  if (key.revoked_at != 0) {
    return Unauthenticated("API key " + key.id + " was revoked", "key_revoked");
  }
  if (key.expires_at != 0 && now >= key.expires_at) {
    return Unauthenticated("API key " + key.id + " has expired", "key_expired");
  }
  if (key.grace_until != 0 && now >= key.grace_until) {
    return Unauthenticated("API key " + key.id + " was rotated and its grace period has ended",
                           "key_rotated");
  }
  auto scopes = ParseScopes(key.scopes);
  if (!scopes.ok()) {
    return Unauthenticated("API key " + key.id + " has unreadable scopes", "invalid_token");
  }
  Principal p;
  p.scopes = *scopes;
  p.admin = scopes->Has(Scope::kAdmin);
  p.tenant = key.tenant;
  p.actor = key.id;
  if (auto rate = ParseRateSpec(key.rate_limit); rate.ok()) p.rate_limit = *rate;
  bool touch = false;
  {
    std::lock_guard<std::mutex> lock(touch_mu_);
    UnixMillis& last = touched_[key.id];
    if (now - last >= kTouchEveryMs) {
      last = now;
      touch = true;
    }
  }
  // Best effort: last use is a hint for operators; a failed write must not refuse the caller.
  if (touch) (void)store_->TouchApiKey(key.id, now);
  return p;
}

}  // namespace ingest::api
