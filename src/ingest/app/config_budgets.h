// Budgets in the configuration file: `[[budget]]` tables (and `[[profile.<name>.budget]]`, which
// replace them for that profile). `serve` and `worker` write them to the store at every start,
// so a profile file carries its environment's cost limits (docs/costs.md, "Budgets in the
// configuration"). The file wins over `ingestd budget set` for the budgets it lists, at the next
// start; budgets it does not list are left as the CLI set them.
#pragma once

#include <string>
#include <vector>

#include "ingest/app/cli.h"
#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/config/config.h"
#include "ingest/store/store.h"

namespace ingest::app {

struct BudgetTable {
  std::string scope = "global";  // global | tenant | service
  std::string key;               // the tenant or the service ("openai", "llamaparse"); "" = global
  std::string period = "day";    // hour | day | month (UTC)
  std::string hard;              // USD, an exact decimal such as "50.00"; never exceeded
  double soft = 0.8;             // soft-alert ratio of `hard`, in (0, 1]
  std::string where;             // "FILE:LINE" of the table, for messages
};

// Reads and validates the budget tables of `file` for `profile` (scope, key, period, amount,
// ratio, no two with the same scope, key and period). Empty `file`: none. kInvalidArgument
// "config_invalid" naming FILE:LINE otherwise.
Result<std::vector<BudgetTable>> LoadBudgetTables(const std::string& file,
                                                  const std::string& profile);

// Puts every table (idempotent: many processes may start at once) and wakes the jobs a budget
// deferred, as `ingestd budget set` does. Logs one line per budget.
Status ApplyBudgetTables(const std::vector<BudgetTable>& tables, store::Store& store, Clock* clock);

// The configuration file of `global` (--config, else INGESTD_CONFIG) for config.profile:
// LoadBudgetTables then ApplyBudgetTables. What `serve` and `worker` call after opening the store.
Status ApplyConfiguredBudgets(const GlobalOptions& global, const config::Config& config,
                              store::Store& store, Clock* clock);

}  // namespace ingest::app
