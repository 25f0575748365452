// `ingestd costs [--by document|tenant|service|day] [--json]`: what the ledger says was spent
// (docs/costs.md). Totals are settled rows (what the providers billed); reserved rows (calls in
// flight) are reported apart as reserved_usd; released rows (calls never billed) are left out.
// Amounts are summed as integer nano-dollars; "usd" fields are nanos / 1e9 (the nearest double),
// the "nanos" fields exact.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/governor/pricing.h"

namespace ingest::app {
namespace {

struct CostsArgs {
  std::string by;
  bool json = false;
};

struct Totals {
  int64_t requests = 0;  // ledger rows for embed services: HTTP requests; parse: jobs (rows)
  int64_t rows = 0;
  int64_t tokens = 0;
  int64_t pages = 0;
  int64_t credits = 0;
  int64_t nanos = 0;

  void Add(const store::LedgerEntry& e) {
    ++rows;
    requests += e.requests;
    tokens += e.tokens;
    pages += e.pages;
    credits += e.credits;
    nanos += e.cost_nanos;
  }
};

// "llamaparse", and "mock:llamaparse" in mode mock: counted in jobs, pages and credits.
bool IsParseService(const std::string& name) {
  return name == "llamaparse" || name == "mock:llamaparse";
}

double Usd(int64_t nanos) { return governor::UsdDouble(nanos); }

int Fail(const Status& s) {
  std::fprintf(stderr, "ingestd: %s\n", s.ToString().c_str());
  return 1;
}

std::string GroupKey(const store::LedgerEntry& e, const std::string& by) {
  if (by == "document") return e.document_id;
  if (by == "tenant") return e.tenant;
  if (by == "service") return e.service;
  return FormatIso8601(e.created_at).substr(0, 10);  // "day": UTC date
}

int Run(const GlobalOptions& global, const CostsArgs& args) {
  auto config = LoadConfigFor(global);
  if (!config.ok()) return Fail(config.status());
  auto store = OpenExistingStore(*config, Clock::Real());
  if (!store.ok()) return Fail(store.status());
  auto rows = (*store)->ListLedger(std::nullopt);
  if (!rows.ok()) return Fail(rows.status());

  Totals total;
  int64_t reserved_nanos = 0;
  std::map<std::string, Totals> services = {{"openai", {}}, {"llamaparse", {}}, {"local", {}}};
  std::map<std::string, Totals> groups;
  for (const auto& e : *rows) {
    if (e.state == store::LedgerState::kReleased) continue;
    // Reserved rows are calls in flight (or orphans the governor settles soon): shown apart,
    // so the totals are what the providers billed.
    if (e.state == store::LedgerState::kReserved) {
      reserved_nanos += e.cost_nanos;
      continue;
    }
    total.Add(e);
    services[e.service].Add(e);
    if (!args.by.empty()) groups[GroupKey(e, args.by)].Add(e);
  }
  // --by document: each document's file name next to its id.
  std::map<std::string, std::string> filenames;
  if (args.by == "document") {
    for (const auto& [key, t] : groups) {
      auto doc = (*store)->GetDocument(key);
      filenames[key] = doc.ok() ? doc->filename : "";
    }
  }

  if (args.json) {
    nlohmann::json out;
    out["total_usd"] = Usd(total.nanos);
    out["total_nanos"] = total.nanos;
    out["reserved_usd"] = Usd(reserved_nanos);
    out["reserved_nanos"] = reserved_nanos;
    nlohmann::json svc = nlohmann::json::object();
    for (const auto& [name, t] : services) {
      if (IsParseService(name)) {
        svc[name] = {{"jobs", t.rows},      {"pages", t.pages}, {"credits", t.credits},
                     {"usd", Usd(t.nanos)}, {"nanos", t.nanos}, {"rows", t.rows}};
      } else {
        svc[name] = {{"requests", t.requests},
                     {"tokens", t.tokens},
                     {"usd", Usd(t.nanos)},
                     {"nanos", t.nanos},
                     {"rows", t.rows}};
      }
    }
    out["services"] = std::move(svc);
    if (!args.by.empty()) {
      out["by"] = args.by;
      nlohmann::json g = nlohmann::json::array();
      for (const auto& [key, t] : groups) {
        g.push_back({{"key", key},
                     {"filename", filenames.count(key) ? filenames[key] : ""},
                     {"usd", Usd(t.nanos)},
                     {"nanos", t.nanos},
                     {"tokens", t.tokens},
                     {"pages", t.pages},
                     {"credits", t.credits},
                     {"requests", t.requests}});
      }
      out["groups"] = std::move(g);
    }
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }

  std::printf("%-12s  %8s  %12s  %8s  %10s  %14s\n", "SERVICE", "REQUESTS", "TOKENS", "PAGES",
              "CREDITS", "USD");
  for (const auto& [name, t] : services) {
    std::printf("%-12s  %8lld  %12lld  %8lld  %10lld  %14s\n", name.c_str(),
                static_cast<long long>(IsParseService(name) ? t.rows : t.requests),
                static_cast<long long>(t.tokens), static_cast<long long>(t.pages),
                static_cast<long long>(t.credits), governor::UsdText(t.nanos).c_str());
  }
  std::printf("total %s USD (reserved %s USD)\n", governor::UsdText(total.nanos).c_str(),
              governor::UsdText(reserved_nanos).c_str());
  if (!args.by.empty()) {
    std::printf("\n%-38s  %8s  %12s  %8s  %10s  %14s\n", args.by == "day" ? "DAY (UTC)" : "KEY",
                "REQUESTS", "TOKENS", "PAGES", "CREDITS", "USD");
    for (const auto& [key, t] : groups) {
      std::printf("%-38s  %8lld  %12lld  %8lld  %10lld  %14s%s%s\n", key.c_str(),
                  static_cast<long long>(t.requests), static_cast<long long>(t.tokens),
                  static_cast<long long>(t.pages), static_cast<long long>(t.credits),
                  governor::UsdText(t.nanos).c_str(), filenames.count(key) ? "  " : "",
                  filenames.count(key) ? filenames[key].c_str() : "");
    }
  }
  return 0;
}

}  // namespace

void AddCostsCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<CostsArgs>();
  CLI::App* cmd = app.add_subcommand("costs", "Spend recorded in the cost ledger");
  cmd->add_option("--by", args->by, "Also group by document|tenant|service|day")
      ->check(CLI::IsMember({"document", "tenant", "service", "day"}));
  cmd->add_flag("--json", args->json, "JSON output");
  cmd->callback([&global, exit_code, args] { *exit_code = Run(global, *args); });
}

}  // namespace ingest::app
