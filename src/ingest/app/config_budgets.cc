#include "ingest/app/config_budgets.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>

#include "ingest/governor/governor.h"
#include "ingest/obs/log.h"

namespace ingest::app {
namespace {

std::string Where(const std::string& file, const toml::source_region& src) {
  return fmt::format("{}:{}", file, src.begin.line);
}

Status Bad(const std::string& where, const std::string& why) {
  return InvalidArgument(fmt::format("{}: [[budget]] {}", where, why), "config_invalid");
}

// The [[budget]] array of `table`; *present tells whether the table has one at all.
Status ReadTables(const toml::table& table, const std::string& file, std::vector<BudgetTable>* out,
                  bool* present) {
  *present = false;
  const toml::node* node = table.get("budget");
  if (node == nullptr) return Status::Ok();
  const toml::array* list = node->as_array();
  if (list == nullptr) {
    return Bad(Where(file, node->source()), "budget must be an array of tables ([[budget]])");
  }
  *present = true;
  out->clear();
  for (const toml::node& item : *list) {
    const std::string where = Where(file, item.source());
    const toml::table* t = item.as_table();
    if (t == nullptr) return Bad(where, "entries must be tables");
    BudgetTable b;
    b.where = where;
    for (const auto& [name, value] : *t) {
      const std::string k(name.str());
      std::string* field = k == "scope"    ? &b.scope
                           : k == "key"    ? &b.key
                           : k == "period" ? &b.period
                           : k == "hard"   ? &b.hard
                                           : nullptr;
      if (field != nullptr) {
        auto v = value.value<std::string>();
        if (!v) return Bad(where, k + " must be a string");
        *field = *v;
      } else if (k == "soft") {
        auto v = value.value<double>();
        if (!v) return Bad(where, "soft must be a number");
        b.soft = *v;
      } else {
        return Bad(where, "unknown key " + k + " (scope, key, period, hard, soft)");
      }
    }
    out->push_back(std::move(b));
  }
  return Status::Ok();
}

Status Validate(const std::vector<BudgetTable>& tables) {
  std::vector<std::string> seen;
  for (const BudgetTable& b : tables) {
    if (b.scope != "global" && b.scope != "tenant" && b.scope != "service") {
      return Bad(b.where, "scope must be global, tenant or service, got \"" + b.scope + "\"");
    }
    if (b.scope == "global" && !b.key.empty()) return Bad(b.where, "a global budget has no key");
    if (b.scope != "global" && b.key.empty()) {
      return Bad(b.where, "a " + b.scope + " budget needs a key");
    }
    if (b.period != "hour" && b.period != "day" && b.period != "month") {
      return Bad(b.where, "period must be hour, day or month, got \"" + b.period + "\"");
    }
    if (b.hard.empty()) return Bad(b.where, "needs hard = \"<USD>\", e.g. hard = \"50.00\"");
    if (auto usd = config::ParseUsdNanos(b.hard); !usd.ok()) {
      return Bad(b.where, "hard: " + usd.status().message());
    }
    if (!(b.soft > 0 && b.soft <= 1)) return Bad(b.where, "soft must be a ratio in (0, 1]");
    const std::string id = b.scope + "/" + b.key + "/" + b.period;
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) {
      return Bad(b.where, "duplicates another [[budget]] with the same scope, key and period");
    }
    seen.push_back(id);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<BudgetTable>> LoadBudgetTables(const std::string& file,
                                                  const std::string& profile) {
  std::vector<BudgetTable> tables;
  if (file.empty()) return tables;
  toml::table root;
  try {
    root = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return InvalidArgument(fmt::format("{}:{}:{}: {}", file, b.line, b.column, e.description()),
                           "config_invalid");
  } catch (const std::exception& e) {
    return InvalidArgument(fmt::format("{}: {}", file, e.what()), "config_invalid");
  }
  bool present = false;
  INGEST_RETURN_IF_ERROR(ReadTables(root, file, &tables, &present));
  if (const toml::table* profiles = root["profile"].as_table()) {
    if (const toml::table* p = (*profiles)[profile].as_table()) {
      std::vector<BudgetTable> own;
      INGEST_RETURN_IF_ERROR(ReadTables(*p, file, &own, &present));
      if (present) tables = std::move(own);
    }
  }
  INGEST_RETURN_IF_ERROR(Validate(tables));
  return tables;
}

Status ApplyBudgetTables(const std::vector<BudgetTable>& tables, store::Store& store,
                         Clock* clock) {
  if (tables.empty()) return Status::Ok();
  const UnixMillis now = clock->NowMillis();
  for (const BudgetTable& c : tables) {
    store::Budget b;
    INGEST_ASSIGN_OR_RETURN(b.scope, store::ParseBudgetScope(c.scope));
    b.scope_key = c.key;
    INGEST_ASSIGN_OR_RETURN(b.period, store::ParseBudgetPeriod(c.period));
    INGEST_ASSIGN_OR_RETURN(b.hard_nanos, config::ParseUsdNanos(c.hard));
    b.soft_ratio = c.soft;
    b.updated_at = now;
    INGEST_RETURN_IF_ERROR(store.PutBudget(b).WithContext(c.where));
    obs::LogInfo("budget applied from the configuration", {{"scope", c.scope},
                                                           {"key", c.key},
                                                           {"period", c.period},
                                                           {"hard_usd", c.hard},
                                                           {"soft", c.soft},
                                                           {"from", c.where}});
  }
  const std::vector<std::string> reasons = {std::string(governor::kBudgetExceeded)};
  return store.WakeDeferred(reasons, now).status();
}

Status ApplyConfiguredBudgets(const GlobalOptions& global, const config::Config& config,
                              store::Store& store, Clock* clock) {
  std::string file = global.config_file;
  if (file.empty()) {
    if (const char* f = std::getenv("INGESTD_CONFIG"); f != nullptr) file = f;
  }
  INGEST_ASSIGN_OR_RETURN(std::vector<BudgetTable> tables, LoadBudgetTables(file, config.profile));
  return ApplyBudgetTables(tables, store, clock);
}

}  // namespace ingest::app
