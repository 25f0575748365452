// `ingestd costs [--by document|tenant|service|operation|day] [--json]`: what the ledger says was
// spent (docs/costs.md). Totals are settled rows (what the providers billed); reserved rows (calls
// in flight) are reported apart as reserved_usd; released rows (calls never billed) are left out.
// Amounts are summed as integer nano-dollars; "usd" fields are nanos / 1e9 (the nearest double),
// the "nanos" fields exact.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/governor/pricing.h"
#include "ingest/governor/reconcile.h"

namespace ingest::app {
namespace {

struct CostsArgs {
  std::string by;
  bool json = false;
  std::vector<std::string> usage_files;  // reconcile
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
  if (by == "operation") return e.operation;         // embed, parse (ingestion), query (search)
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
  // Settled at their estimate after the attempt that reserved them died once their request had
  // left (note "reconciled:"): presumed billed. A reservation whose request never left is
  // released instead (note "released: never sent"), so these are calls the provider received.
  // For embeddings those texts' vectors were never stored, and for a LlamaParse upload its job
  // id was never read, so the next attempt paid for them again: the only double payment a
  // crash can cause (docs/costs.md). Search queries are not repeated by anyone: not duplicates.
  int64_t presumed_nanos = 0;
  int64_t duplicate_nanos = 0;
  int64_t never_sent_rows = 0;
  std::map<std::string, Totals> services = {{"openai", {}}, {"llamaparse", {}}, {"local", {}}};
  std::map<std::string, Totals> groups;
  // Ingestion (embed, parse) and search queries (query) apart, always.
  std::map<std::string, Totals> operations = {{"embed", {}}, {"parse", {}}, {"query", {}}};
  for (const auto& e : *rows) {
    if (e.state == store::LedgerState::kReleased) {
      if (e.note.rfind("released: never sent", 0) == 0) ++never_sent_rows;
      continue;
    }
    // Reserved rows are calls in flight (or orphans the governor settles soon): shown apart,
    // so the totals are what the providers billed.
    if (e.state == store::LedgerState::kReserved) {
      reserved_nanos += e.cost_nanos;
      continue;
    }
    total.Add(e);
    services[e.service].Add(e);
    if (e.note.rfind("reconciled:", 0) == 0) {
      presumed_nanos += e.cost_nanos;
      if (e.operation == "embed" || e.operation == "parse") duplicate_nanos += e.cost_nanos;
    }
    operations[e.operation].Add(e);
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
    out["presumed_billed_usd"] = Usd(presumed_nanos);
    out["presumed_billed_nanos"] = presumed_nanos;
    out["duplicate_usd"] = Usd(duplicate_nanos);
    out["duplicate_nanos"] = duplicate_nanos;
    out["released_never_sent_rows"] = never_sent_rows;
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
    nlohmann::json ops = nlohmann::json::object();
    for (const auto& [name, t] : operations) {
      ops[name] = {{"requests", t.requests}, {"tokens", t.tokens}, {"pages", t.pages},
                   {"usd", Usd(t.nanos)},    {"nanos", t.nanos},   {"rows", t.rows}};
    }
    out["operations"] = std::move(ops);
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
  std::printf("ingestion %s USD, search queries %s USD\n",
              governor::UsdText(operations["embed"].nanos + operations["parse"].nanos).c_str(),
              governor::UsdText(operations["query"].nanos).c_str());
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

std::string Amounts(const governor::UsageKey& k, const governor::UsageAmounts& a) {
  if (k.service == "llamaparse") {
    return std::to_string(a.pages) + " pages " + std::to_string(a.credits) + " credits";
  }
  return std::to_string(a.tokens) + " tokens " + std::to_string(a.requests) + " requests";
}

// `ingestd costs reconcile --usage FILE...`: the ledger against provider usage exports, per
// (service, UTC day, model). Exit 0 when they agree, 1 when they differ (the differences are
// printed), 2 on a bad file.
int Reconcile(const GlobalOptions& global, const CostsArgs& args) {
  governor::UsageBook provider;
  for (const std::string& path : args.usage_files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(NotFound("cannot read " + path));
    std::stringstream text;
    text << in.rdbuf();
    if (Status st = governor::ReadUsageExport(text.str(), &provider); !st.ok()) {
      std::fprintf(stderr, "ingestd: %s: %s\n", path.c_str(), st.ToString().c_str());
      return 2;
    }
  }
  auto config = LoadConfigFor(global);
  if (!config.ok()) return Fail(config.status());
  governor::PriceTable prices;
  if (Status st = governor::ApplyPriceOverrides(prices, config->pricing.embedding_per_1m_usd,
                                                config->pricing.llamaparse_usd_per_1000_credits,
                                                config->pricing.llamaparse_credits_per_page);
      !st.ok()) {
    return Fail(st);
  }
  auto store = OpenStore(*config, Clock::Real(), /*auto_migrate=*/true);
  if (!store.ok()) return Fail(store.status());
  auto rows = (*store)->ListLedger(std::nullopt);
  if (!rows.ok()) return Fail(rows.status());
  std::vector<std::string> services;
  for (const auto& [k, v] : provider) {
    if (std::find(services.begin(), services.end(), k.service) == services.end()) {
      services.push_back(k.service);
    }
  }
  int64_t reserved = 0;
  for (const auto& e : *rows) {
    if (e.state == store::LedgerState::kReserved &&
        std::find(services.begin(), services.end(), e.service) != services.end()) {
      ++reserved;
    }
  }
  std::map<governor::UsageKey, int64_t> nanos;
  const governor::UsageBook ledger = governor::LedgerUsage(*rows, services, &nanos);
  const auto diffs = governor::CompareUsage(ledger, provider, nanos, prices);
  std::set<governor::UsageKey> keys;
  for (const auto& [k, v] : ledger) keys.insert(k);
  for (const auto& [k, v] : provider) keys.insert(k);
  if (args.json) {
    nlohmann::json out;
    out["equal"] = diffs.empty();
    out["compared"] = keys.size();
    out["reserved_rows"] = reserved;
    nlohmann::json d = nlohmann::json::array();
    for (const auto& x : diffs) {
      auto side = [](const governor::UsageAmounts& a, int64_t n) {
        return nlohmann::json{{"tokens", a.tokens}, {"requests", a.requests},
                              {"pages", a.pages},   {"credits", a.credits},
                              {"nanos", n},         {"usd", governor::UsdDouble(n)}};
      };
      d.push_back({{"service", x.key.service},
                   {"day", x.key.day},
                   {"model", x.key.model},
                   {"ledger", side(x.ledger, x.ledger_nanos)},
                   {"provider", side(x.provider, x.provider_nanos)}});
    }
    out["differences"] = std::move(d);
    std::puts(out.dump(2).c_str());
    return diffs.empty() ? 0 : 1;
  }
  if (diffs.empty()) {
    std::printf("the ledger equals the usage export(s): %zu service/day/model rows compared\n",
                keys.size());
  } else {
    std::printf("%-10s  %-10s  %-24s  %-36s  %-36s\n", "SERVICE", "DAY", "MODEL", "LEDGER",
                "PROVIDER");
    for (const auto& x : diffs) {
      const std::string ours = Amounts(x.key, x.ledger) + " $" + governor::UsdText(x.ledger_nanos);
      const std::string theirs =
          Amounts(x.key, x.provider) +
          (x.provider_nanos < 0 ? " (no price)" : " $" + governor::UsdText(x.provider_nanos));
      std::printf("%-10s  %-10s  %-24s  %-36s  %-36s\n", x.key.service.c_str(), x.key.day.c_str(),
                  x.key.model.empty() ? "-" : x.key.model.c_str(), ours.c_str(), theirs.c_str());
    }
    std::printf("%zu difference(s) in %zu service/day/model rows\n", diffs.size(), keys.size());
  }
  if (reserved > 0) {
    std::printf(
        "note: %lld ledger row(s) still reserved (calls in flight or about to be "
        "reconciled) are not counted\n",
        static_cast<long long>(reserved));
  }
  return diffs.empty() ? 0 : 1;
}

}  // namespace

void AddCostsCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<CostsArgs>();
  CLI::App* cmd = app.add_subcommand("costs", "Spend recorded in the cost ledger");
  cmd->add_option("--by", args->by, "Also group by document|tenant|service|operation|day")
      ->check(CLI::IsMember({"document", "tenant", "service", "operation", "day"}));
  cmd->add_flag("--json", args->json, "JSON output");
  CLI::App* reconcile = cmd->add_subcommand(
      "reconcile", "Compare the ledger with provider usage exports (per day and model)");
  reconcile
      ->add_option("--usage", args->usage_files,
                   "A usage export: OpenAI usage (JSON buckets or CSV) or LlamaParse usage per "
                   "day (JSON or CSV); repeatable")
      ->required();
  reconcile->add_flag("--json", args->json, "JSON output");
  reconcile->callback([&global, exit_code, args] { *exit_code = Reconcile(global, *args); });
  cmd->callback([&global, exit_code, args, reconcile] {
    if (reconcile->parsed()) return;
    *exit_code = Run(global, *args);
  });
}

}  // namespace ingest::app
