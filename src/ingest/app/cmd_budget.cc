// `ingestd budget show|set|delete|ack`: spending caps (docs/costs.md). A budget applies to every
// paid call (global), to one tenant's or to one service's calls, per UTC hour, day or month.
// `set` also wakes jobs deferred by a budget, so raising a limit resumes them at once.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/app/cli_audit.h"
#include "ingest/governor/governor.h"
#include "ingest/governor/pricing.h"

namespace ingest::app {
namespace {

struct BudgetArgs {
  std::string tenant;
  std::string service;
  std::string period = "day";
  std::string hard;  // USD, exact decimal
  double soft = 0.8;
  bool json = false;
  bool all = false;  // ack: every stopped budget
};

int Fail(const Status& s) {
  std::fprintf(stderr, "ingestd: %s\n", s.ToString().c_str());
  return 1;
}

Result<std::unique_ptr<store::Store>> OpenForBudgets(const GlobalOptions& global) {
  INGEST_ASSIGN_OR_RETURN(config::Config config, LoadConfigFor(global));
  return OpenStore(config, Clock::Real(), /*auto_migrate=*/true);
}

Result<store::Budget> ScopeOf(const BudgetArgs& args) {
  if (!args.tenant.empty() && !args.service.empty()) {
    return InvalidArgument("give --tenant or --service, not both", "bad_arguments");
  }
  store::Budget b;
  if (!args.tenant.empty()) {
    b.scope = store::BudgetScope::kTenant;
    b.scope_key = args.tenant;
  } else if (!args.service.empty()) {
    b.scope = store::BudgetScope::kService;
    b.scope_key = args.service;
  }
  INGEST_ASSIGN_OR_RETURN(b.period, store::ParseBudgetPeriod(args.period));
  return b;
}

// "global/day", "tenant:acme/month": a budget's name in audit rows.
std::string BudgetName(const store::Budget& b) {
  std::string name(store::BudgetScopeName(b.scope));
  if (!b.scope_key.empty()) name += ":" + b.scope_key;
  return name + "/" + std::string(store::BudgetPeriodName(b.period));
}

// "stopped" (a provider overrun, until acknowledged), "ok", "soft" (at or over the soft-alert
// ratio) or "hard" (no room left for any call).
std::string Level(const store::BudgetStatus& s) {
  if (s.budget.stopped_at > 0) return "stopped";
  const int64_t used = s.settled_nanos + s.reserved_nanos;
  if (used >= s.budget.hard_nanos) return "hard";
  if (static_cast<double>(used) >= s.budget.soft_ratio * static_cast<double>(s.budget.hard_nanos)) {
    return "soft";
  }
  return "ok";
}

nlohmann::json StatusJson(const store::BudgetStatus& s) {
  const int64_t used = s.settled_nanos + s.reserved_nanos;
  const int64_t remaining = std::max<int64_t>(0, s.budget.hard_nanos - used);
  return {{"scope", store::BudgetScopeName(s.budget.scope)},
          {"key", s.budget.scope_key},
          {"period", store::BudgetPeriodName(s.budget.period)},
          {"hard_usd", s.budget.hard_nanos / 1e9},
          {"hard_nanos", s.budget.hard_nanos},
          {"soft_ratio", s.budget.soft_ratio},
          {"spent_usd", s.settled_nanos / 1e9},
          {"spent_nanos", s.settled_nanos},
          {"reserved_usd", s.reserved_nanos / 1e9},
          {"reserved_nanos", s.reserved_nanos},
          {"remaining_usd", remaining / 1e9},
          {"remaining_nanos", remaining},
          {"level", Level(s)},
          {"stopped", s.budget.stopped_at > 0},
          {"stopped_at", s.budget.stopped_at > 0 ? FormatIso8601(s.budget.stopped_at) : ""},
          {"overrun_usd", s.budget.overrun_nanos / 1e9},
          {"overrun_nanos", s.budget.overrun_nanos},
          {"stop_reason", s.budget.stop_reason},
          {"window_start", FormatIso8601(s.window.start)},
          {"window_end", FormatIso8601(s.window.end)}};
}

int Show(const GlobalOptions& global, const BudgetArgs& args) {
  auto config = LoadConfigFor(global);
  if (!config.ok()) return Fail(config.status());
  auto store = OpenExistingStore(*config, Clock::Real());
  if (!store.ok()) return Fail(store.status());
  auto statuses = (*store)->ListBudgetStatus(Clock::Real()->NowMillis());
  if (!statuses.ok()) return Fail(statuses.status());
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : *statuses) out.push_back(StatusJson(s));
    std::puts(out.dump(2).c_str());
    return 0;
  }
  if (statuses->empty()) {
    std::puts("no budgets: spending is not capped (see `ingestd budget set --help`)");
    return 0;
  }
  std::printf("%-8s  %-16s  %-6s  %14s  %14s  %14s  %5s  %-5s  %s\n", "SCOPE", "KEY", "PERIOD",
              "HARD USD", "SPENT USD", "RESERVED USD", "SOFT", "LEVEL", "RESETS AT");
  for (const auto& s : *statuses) {
    std::printf("%-8s  %-16s  %-6s  %14s  %14s  %14s  %5.2f  %-5s  %s\n",
                std::string(store::BudgetScopeName(s.budget.scope)).c_str(),
                s.budget.scope_key.empty() ? "-" : s.budget.scope_key.c_str(),
                std::string(store::BudgetPeriodName(s.budget.period)).c_str(),
                governor::UsdText(s.budget.hard_nanos).c_str(),
                governor::UsdText(s.settled_nanos).c_str(),
                governor::UsdText(s.reserved_nanos).c_str(), s.budget.soft_ratio, Level(s).c_str(),
                FormatIso8601(s.window.end).c_str());
  }
  for (const auto& s : *statuses) {
    if (s.budget.stopped_at == 0) continue;
    std::string ack = "ingestd budget ack";
    if (s.budget.scope == store::BudgetScope::kTenant) ack += " --tenant " + s.budget.scope_key;
    if (s.budget.scope == store::BudgetScope::kService) ack += " --service " + s.budget.scope_key;
    ack += " --period " + std::string(store::BudgetPeriodName(s.budget.period));
    std::printf(
        "\nSTOPPED %s%s%s %s budget since %s: a provider billed %s USD more than was reserved "
        "(%s).\nNo new work is admitted against it until an operator runs `%s`.\n",
        std::string(store::BudgetScopeName(s.budget.scope)).c_str(),
        s.budget.scope_key.empty() ? "" : " ", s.budget.scope_key.c_str(),
        std::string(store::BudgetPeriodName(s.budget.period)).c_str(),
        FormatIso8601(s.budget.stopped_at).c_str(),
        governor::UsdText(s.budget.overrun_nanos).c_str(), s.budget.stop_reason.c_str(),
        ack.c_str());
  }
  return 0;
}

int Ack(const GlobalOptions& global, const BudgetArgs& args) {
  std::optional<store::BudgetScope> scope;
  store::Budget b;
  if (!args.all) {
    auto named = ScopeOf(args);
    if (!named.ok()) return Fail(named.status());
    b = *named;
    scope = b.scope;
  }
  auto store = OpenForBudgets(global);
  if (!store.ok()) return Fail(store.status());
  const UnixMillis now = Clock::Real()->NowMillis();
  auto cleared = (*store)->AckBudgets(scope, b.scope_key, b.period, now);
  AuditCli(**store, "budget.ack", args.all ? "all" : BudgetName(b), nullptr,
           cleared.ok() ? Status::Ok() : cleared.status());
  if (!cleared.ok()) return Fail(cleared.status());
  const std::vector<std::string> reasons = {std::string(governor::kBudgetStopped),
                                            std::string(governor::kBudgetExceeded)};
  auto woken = (*store)->WakeDeferred(reasons, now);
  if (!woken.ok()) return Fail(woken.status());
  store::Event ev;
  ev.at = now;
  ev.kind = "budget.acknowledged";
  ev.detail_json = nlohmann::json{{"budgets", *cleared}, {"jobs_woken", *woken}}.dump();
  if (Status st = (*store)->AppendEvent(ev); !st.ok()) return Fail(st);
  std::printf("%lld stopped budget(s) acknowledged; %lld deferred job(s) woken\n",
              static_cast<long long>(*cleared), static_cast<long long>(*woken));
  return 0;
}

// The services the ledger bills (service column of every paid call). A budget on any other
// name would never apply, so `budget set` refuses it (`budget delete` still accepts any name,
// to remove a budget set by an older version).
constexpr std::array<std::string_view, 2> kBilledServices = {"openai", "llamaparse"};

int Set(const GlobalOptions& global, const BudgetArgs& args) {
  auto budget = ScopeOf(args);
  if (!budget.ok()) return Fail(budget.status());
  if (budget->scope == store::BudgetScope::kService &&
      std::find(kBilledServices.begin(), kBilledServices.end(), budget->scope_key) ==
          kBilledServices.end()) {
    return Fail(InvalidArgument("unknown service \"" + budget->scope_key +
                                    "\": a service budget applies to openai or llamaparse",
                                "unknown_service"));
  }
  auto hard = governor::ParseUsdNanos(args.hard);
  if (!hard.ok()) return Fail(hard.status().WithContext("--hard"));
  if (!(args.soft > 0 && args.soft <= 1)) {
    return Fail(InvalidArgument("--soft must be a ratio in (0, 1], e.g. 0.8", "bad_arguments"));
  }
  budget->hard_nanos = *hard;
  budget->soft_ratio = args.soft;
  const UnixMillis now = Clock::Real()->NowMillis();
  budget->updated_at = now;
  auto store = OpenForBudgets(global);
  if (!store.ok()) return Fail(store.status());
  Status put = (*store)->PutBudget(*budget);
  AuditCli(**store, "budget.set", BudgetName(*budget),
           {{"hard_nanos", budget->hard_nanos}, {"soft_ratio", budget->soft_ratio}}, put);
  if (!put.ok()) return Fail(put);
  const std::vector<std::string> reasons = {std::string(governor::kBudgetExceeded)};
  auto woken = (*store)->WakeDeferred(reasons, now);
  if (!woken.ok()) return Fail(woken.status());
  std::printf(
      "budget %s%s%s per %s: hard %s USD, soft alert at %.0f%%; %lld deferred job(s) "
      "woken\n",
      std::string(store::BudgetScopeName(budget->scope)).c_str(),
      budget->scope_key.empty() ? "" : " ", budget->scope_key.c_str(), args.period.c_str(),
      governor::UsdText(*hard).c_str(), args.soft * 100, static_cast<long long>(*woken));
  return 0;
}

int Delete(const GlobalOptions& global, const BudgetArgs& args) {
  auto budget = ScopeOf(args);
  if (!budget.ok()) return Fail(budget.status());
  auto store = OpenForBudgets(global);
  if (!store.ok()) return Fail(store.status());
  Status deleted = (*store)->DeleteBudget(budget->scope, budget->scope_key, budget->period);
  AuditCli(**store, "budget.delete", BudgetName(*budget), nullptr, deleted);
  if (!deleted.ok()) return Fail(deleted);
  const std::vector<std::string> reasons = {std::string(governor::kBudgetExceeded)};
  if (auto woken = (*store)->WakeDeferred(reasons, Clock::Real()->NowMillis()); !woken.ok()) {
    return Fail(woken.status());
  }
  std::puts("budget deleted");
  return 0;
}

void ScopeOptions(CLI::App* cmd, BudgetArgs* args) {
  cmd->add_option("--tenant", args->tenant, "Budget of one tenant");
  cmd->add_option("--service", args->service, "Budget of one service (openai, llamaparse)");
  cmd->add_option("--period", args->period, "hour, day or month (UTC)")
      ->check(CLI::IsMember({"hour", "day", "month"}))
      ->capture_default_str();
}

}  // namespace

void AddBudgetCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<BudgetArgs>();
  CLI::App* cmd = app.add_subcommand("budget", "Show or set spending caps (docs/costs.md)");
  cmd->require_subcommand(1);
  CLI::App* show = cmd->add_subcommand("show", "Budgets with this period's spend");
  show->add_flag("--json", args->json, "JSON output");
  show->callback([&global, exit_code, args] { *exit_code = Show(global, *args); });
  CLI::App* set = cmd->add_subcommand("set", "Create or change a budget");
  ScopeOptions(set, args.get());
  set->add_option("--hard", args->hard, "Hard limit in USD (never exceeded), e.g. 25.00")
      ->required();
  set->add_option("--soft", args->soft, "Soft-alert ratio of the hard limit")
      ->capture_default_str();
  set->callback([&global, exit_code, args] { *exit_code = Set(global, *args); });
  CLI::App* ack = cmd->add_subcommand(
      "ack", "Acknowledge a provider overrun: the stopped budget admits work again");
  ScopeOptions(ack, args.get());
  ack->add_flag("--all", args->all, "Every stopped budget");
  ack->callback([&global, exit_code, args] { *exit_code = Ack(global, *args); });
  CLI::App* del = cmd->add_subcommand("delete", "Remove a budget");
  ScopeOptions(del, args.get());
  del->callback([&global, exit_code, args] { *exit_code = Delete(global, *args); });
}

}  // namespace ingest::app
