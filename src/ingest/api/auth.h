// Bearer-token authentication for the HTTP API (DESIGN §7): tokens are scoped to one tenant or
// to admin. The admin token is the bootstrap one from config (api.admin_token,
// INGESTD_ADMIN_TOKEN); tenant tokens come, for now, from the file named by the environment
// variable INGESTD_API_TOKENS_FILE (docs/api.md), one "<tenant> <token>" per line.
//
// Tokens are kept only as sha256 digests and a presented token is compared against every one
// of them in constant time, so neither the match position nor a common prefix shows in timing.
//
// Thread-safe after construction (immutable).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::api {

struct Principal {
  bool admin = false;
  std::string tenant;  // the token's tenant; empty for admin
};

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

}  // namespace ingest::api
