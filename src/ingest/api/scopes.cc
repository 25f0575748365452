#include "ingest/api/scopes.h"

namespace ingest::api {
namespace {

constexpr Scope kOrder[] = {Scope::kRead, Scope::kIngest, Scope::kOperator, Scope::kAdmin};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

ScopeSet ScopeSet::Of(std::initializer_list<Scope> scopes) {
  ScopeSet set;
  for (Scope s : scopes) set.bits_ |= static_cast<uint8_t>(s);
  return set;
}

bool ScopeSet::Has(Scope s) const {
  return (bits_ & static_cast<uint8_t>(Scope::kAdmin)) != 0 ||
         (bits_ & static_cast<uint8_t>(s)) != 0;
}

std::string ScopeSet::ToString() const {
  std::string out;
  for (Scope s : kOrder) {
    if ((bits_ & static_cast<uint8_t>(s)) == 0) continue;
    if (!out.empty()) out += ',';
    out += ScopeName(s);
  }
  return out;
}

std::string_view ScopeName(Scope s) {
  switch (s) {
    case Scope::kRead:
      return "read";
    case Scope::kIngest:
      return "ingest";
    case Scope::kOperator:
      return "operator";
    case Scope::kAdmin:
      return "admin";
  }
  return "unknown";
}

Result<ScopeSet> ParseScopes(std::string_view text) {
  ScopeSet set;
  bool any = false;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    if (!item.empty()) {
      bool known = false;
      for (Scope s : kOrder) {
        if (item == ScopeName(s)) {
          set = ScopeSet::Of({s}) | set;
          known = true;
        }
      }
      if (!known) {
        return InvalidArgument(
            "unknown scope \"" + std::string(item) + "\" (known: read, ingest, operator, admin)",
            "unknown_scope");
      }
      any = true;
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (!any) return InvalidArgument("no scope given (read, ingest, operator, admin)", "no_scope");
  return set;
}

}  // namespace ingest::api
