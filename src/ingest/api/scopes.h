// What an API caller may do (docs/security.md "Scopes"). Every authenticated route names the
// one scope it needs (the Guard in route_env.h checks it); a principal holds a set of scopes.
//   read      search, documents, jobs, costs, budgets, stats and alerts of its tenant
//   ingest    upload documents and delete them
//   operator  retry, cancel and requeue jobs
//   admin     everything above, for every tenant, plus the audit log (implies the others)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/common/result.h"

namespace ingest::api {

enum class Scope : uint8_t { kRead = 1, kIngest = 2, kOperator = 4, kAdmin = 8 };

// A set of scopes; admin implies every other scope.
class ScopeSet {
 public:
  ScopeSet() = default;
  static ScopeSet Of(std::initializer_list<Scope> scopes);
  static ScopeSet All() { return Of({Scope::kAdmin}); }

  bool Has(Scope s) const;
  bool empty() const { return bits_ == 0; }
  // Canonical text: the scopes held, in the order read, ingest, operator, admin, comma-separated
  // ("read,ingest"). Admin alone is "admin".
  std::string ToString() const;
  bool operator==(const ScopeSet& o) const { return bits_ == o.bits_; }
  ScopeSet operator|(const ScopeSet& o) const {
    ScopeSet u;
    u.bits_ = static_cast<uint8_t>(bits_ | o.bits_);
    return u;
  }

 private:
  uint8_t bits_ = 0;
};

std::string_view ScopeName(Scope s);

// "ingest,read" (any order, spaces around commas allowed, duplicates ignored). kInvalidArgument
// ("unknown_scope" naming it, or "no_scope" for an empty list).
Result<ScopeSet> ParseScopes(std::string_view text);

}  // namespace ingest::api
