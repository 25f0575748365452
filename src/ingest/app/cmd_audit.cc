// `ingestd audit [--since T] [--limit N] [--json]`: the append-only audit log (docs/security.md
// "Audit log"), oldest first: who changed what, when, from where, with what result.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ingest/api/audit_json.h"
#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/common/time_text.h"

namespace ingest::app {
namespace {

struct AuditArgs {
  std::string since;
  int limit = 1000;
  bool json = false;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "ingestd: %s\n", s.ToString().c_str());
  return 1;
}

int Show(const GlobalOptions& global, const AuditArgs& args) {
  store::AuditFilter filter;
  filter.limit = args.limit;
  if (!args.since.empty()) {
    auto since = ParseSince(args.since, Clock::Real()->NowMillis());
    if (!since.ok()) return Fail(since.status());
    filter.since = *since;
  }
  auto config = LoadConfigFor(global);
  if (!config.ok()) return Fail(config.status());
  auto store = OpenExistingStore(*config, Clock::Real());
  if (!store.ok()) return Fail(store.status());
  auto rows = (*store)->ListAudit(filter);
  if (!rows.ok()) return Fail(rows.status());
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : *rows) out.push_back(api::AuditEntryJson(e));
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  if (rows->empty()) {
    std::puts("no audit rows");
    return 0;
  }
  std::printf("%-24s  %-24s  %-16s  %-36s  %-16s  %s\n", "AT", "ACTOR", "ACTION", "TARGET",
              "SOURCE", "RESULT");
  for (const auto& e : *rows) {
    std::printf("%-24s  %-24s  %-16s  %-36s  %-16s  %s\n", FormatIso8601(e.at).c_str(),
                e.actor.c_str(), e.action.c_str(), e.target.c_str(), e.source.c_str(),
                e.result.c_str());
  }
  return 0;
}

}  // namespace

void AddAuditCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<AuditArgs>();
  CLI::App* cmd = app.add_subcommand("audit", "The audit log: who changed what, when, from where");
  cmd->add_option("--since", args->since, "Only rows since (90s, 30m, 2h, 7d, or ISO-8601 UTC)");
  cmd->add_option("--limit", args->limit, "At most this many rows (oldest first)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "JSON array output");
  cmd->callback([&global, exit_code, args] { *exit_code = Show(global, *args); });
}

}  // namespace ingest::app
