// Bearer-token authentication for the HTTP API (DESIGN §7, docs/security.md). Three kinds of
// credential:
//   - API keys from the store (`ingestd keys create`; api_key.h): scoped, expiring, revocable;
//   - the bootstrap admin token from config (api.admin_token, INGESTD_ADMIN_TOKEN): admin;
//   - tenant tokens from the file named by INGESTD_API_TOKENS_FILE, one "<tenant> <token>" per
//     line (deprecated: they keep working, with the scopes read, ingest and operator on their
//     tenant, which is what they could do before scopes existed).
//
// Configured tokens are kept only as sha256 digests and a presented token is compared against
// every one of them in constant time, so neither the match position nor a common prefix shows
// in timing. API keys are found by their lookup prefix and their digest compared with
// CRYPTO_memcmp.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/api/scopes.h"
#include "ingest/common/clock.h"
#include "ingest/common/rate_spec.h"
#include "ingest/common/result.h"

namespace ingest::store {
class Store;
}

namespace ingest::api {

// Who is calling, and what they may do.
struct Principal {
  bool admin = false;  // sees and acts on every tenant (scope admin)
  std::string tenant;  // the credential's tenant; empty for the admin token
  ScopeSet scopes;
  // The identity audit rows name: the key id, "admin-token" or "tokens-file:<tenant>".
  std::string actor;
  std::optional<RateSpec> rate_limit;  // the key's own limit; nullopt = the configured default
};

// The configured tokens. Thread-safe after construction (immutable).
class TokenAuthenticator {
 public:
  // `admin_token` may be empty (no admin access). `tokens_file` may be empty (no tenant
  // tokens). File format: "<tenant> <token>" per line; blank lines and lines starting with '#'
  // are ignored. kInvalidArgument ("bad_tokens_file") naming the line for a malformed line, a
  // token shorter than 16 bytes, or a token listed twice; kNotFound when the file is missing.
  static Result<TokenAuthenticator> Create(std::string_view admin_token,
                                           const std::string& tokens_file);

  // `authorization` is the Authorization header value ("Bearer <token>"). kUnauthenticated
  // ("missing_token" or "invalid_token") unless it names a known token.
  Result<Principal> Authenticate(std::string_view authorization) const;

  size_t tenant_token_count() const { return entries_.size() - (has_admin_ ? 1 : 0); }

 private:
  struct Entry {
    std::string digest;  // sha256 hex of the token
    Principal principal;
  };
  std::vector<Entry> entries_;
  bool has_admin_ = false;
};

// API keys from the store, then the configured tokens. Revocation and expiry take effect on
// the next request: keys are read from the store on every request (one indexed lookup), not
// cached. Thread-safe.
class Authenticator {
 public:
  // `store` may be null (then only the configured tokens are accepted).
  Authenticator(TokenAuthenticator tokens, store::Store* store, Clock* clock)
      : tokens_(std::make_shared<const TokenAuthenticator>(std::move(tokens))),
        store_(store),
        clock_(clock) {}

  // kUnauthenticated: "missing_token", "invalid_token" (unknown), "key_revoked",
  // "key_expired" or "key_rotated" (a rotated key after its grace period). kUnavailable when
  // the store cannot be read.
  Result<Principal> Authenticate(std::string_view authorization);

  // The configured tokens (admin token, tokens file) in use now.
  std::shared_ptr<const TokenAuthenticator> tokens() const;
  // Swaps in newly loaded tokens (SIGHUP): requests from then on are checked against them;
  // one in progress finishes with the set it started with.
  void ReplaceTokens(TokenAuthenticator tokens);

 private:
  Result<Principal> AuthenticateKey(std::string_view secret, const std::string& prefix);

  mutable std::mutex tokens_mu_;
  std::shared_ptr<const TokenAuthenticator> tokens_;  // GUARDED_BY(tokens_mu_)
  store::Store* const store_;
  Clock* const clock_;
  // When each key's last_used_at was last written by this process: at most once a minute per
  // key, so authentication does not turn every request into a write.
  std::mutex touch_mu_;
  std::map<std::string, UnixMillis> touched_;  // GUARDED_BY(touch_mu_)
};

}  // namespace ingest::api
