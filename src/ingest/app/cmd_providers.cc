// `ingestd providers [list] [--json]` and `ingestd providers resume NAME`: the governor's view
// of each paid provider (stopped by quota/auth or running; shared rate-limit buckets), and the
// operator's way to resume a stopped provider once the account is fixed (docs/costs.md).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/app/cli_audit.h"
#include "ingest/governor/governor.h"

namespace ingest::app {
namespace {

struct ProvidersArgs {
  std::string name;
  bool json = false;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "ingestd: %s\n", s.ToString().c_str());
  return 1;
}

int List(const GlobalOptions& global, const ProvidersArgs& args) {
  auto config = LoadConfigFor(global);
  if (!config.ok()) return Fail(config.status());
  auto store = OpenExistingStore(*config, Clock::Real());
  if (!store.ok()) return Fail(store.status());
  const UnixMillis now = Clock::Real()->NowMillis();
  auto states = (*store)->ListProviderStates();
  if (!states.ok()) return Fail(states.status());
  auto buckets = (*store)->ListRateBuckets(now);
  if (!buckets.ok()) return Fail(buckets.status());
  if (args.json) {
    nlohmann::json out{{"providers", nlohmann::json::array()},
                       {"rate_buckets", nlohmann::json::array()}};
    for (const auto& s : *states) {
      out["providers"].push_back({{"provider", s.provider},
                                  {"stopped", s.stopped},
                                  {"reason", s.reason},
                                  {"message", s.message},
                                  {"since", s.since > 0 ? FormatIso8601(s.since) : ""},
                                  {"probe_at", s.probe_at > 0 ? FormatIso8601(s.probe_at) : ""}});
    }
    for (const auto& b : *buckets) {
      out["rate_buckets"].push_back(
          {{"key", b.key},
           {"kind", b.kind},
           {"capacity", b.capacity},
           {"available", b.available},
           {"refill_per_sec", b.refill_per_sec},
           {"blocked_until", b.blocked_until > now ? FormatIso8601(b.blocked_until) : ""}});
    }
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  if (states->empty()) std::puts("no provider has been stopped");
  for (const auto& s : *states) {
    std::printf("%-12s %-8s %s%s%s\n", s.provider.c_str(), s.stopped ? "STOPPED" : "running",
                s.reason.c_str(), s.message.empty() ? "" : ": ", s.message.c_str());
  }
  if (!buckets->empty()) {
    std::printf("\n%-40s  %-8s  %12s  %12s\n", "RATE BUCKET", "KIND", "AVAILABLE", "PER MINUTE");
    for (const auto& b : *buckets) {
      std::printf("%-40s  %-8s  %12.0f  %12.0f\n", b.key.c_str(), b.kind.c_str(), b.available,
                  b.refill_per_sec * 60);
    }
  }
  return 0;
}

int Resume(const GlobalOptions& global, const ProvidersArgs& args) {
  auto config = LoadConfigFor(global);
  if (!config.ok()) return Fail(config.status());
  auto store = OpenExistingStore(*config, Clock::Real());
  if (!store.ok()) return Fail(store.status());
  governor::PriceTable prices;
  governor::Governor gov(store->get(), Clock::Real(), &prices, {});
  Status resumed = gov.ResumeProvider(args.name);
  AuditCli(**store, "provider.resume", args.name, nullptr, resumed);
  if (!resumed.ok()) return Fail(resumed);
  std::printf("%s resumed; jobs deferred by its stop are due now\n", args.name.c_str());
  return 0;
}

}  // namespace

void AddProvidersCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<ProvidersArgs>();
  CLI::App* cmd =
      app.add_subcommand("providers", "Paid providers: stop state and shared rate limits");
  cmd->add_flag("--json", args->json, "JSON output");
  cmd->callback([&global, exit_code, args, cmd] {
    if (cmd->get_subcommands().empty()) *exit_code = List(global, *args);
  });
  CLI::App* list = cmd->add_subcommand("list", "Show providers (the default)");
  list->add_flag("--json", args->json, "JSON output");
  list->callback([&global, exit_code, args] { *exit_code = List(global, *args); });
  CLI::App* resume =
      cmd->add_subcommand("resume", "Resume a provider stopped by quota or authentication");
  resume->add_option("provider", args->name, "openai or llamaparse")->required();
  resume->callback([&global, exit_code, args] { *exit_code = Resume(global, *args); });
}

}  // namespace ingest::app
