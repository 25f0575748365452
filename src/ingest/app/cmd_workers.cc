// `ingestd workers [--json] [--dead-after S]`: the worker processes registered in the store's
// `workers` table (every `ingestd worker`, `serve` and `ingest` process that ran a pool), live
// or dead. A pool rewrites its row (last_seen, jobs in flight) at every heartbeat, every
// lease_ttl / 3; a row not rewritten for a whole lease TTL (three missed heartbeats) is dead:
// the process was killed, crashed, lost the database or stopped, and any lease it held has
// expired and can be taken over. The threshold is this process's pipeline.lease_ttl_s unless
// --dead-after says otherwise (use it when the workers run with another TTL).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"

namespace ingest::app {
namespace {

struct WorkersArgs {
  bool json = false;
  int dead_after_s = 0;  // 0 = pipeline.lease_ttl_s
};

int RunWorkers(const GlobalOptions& global, const WorkersArgs& args) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "ingestd: %s\n", s.ToString().c_str());
    return 1;
  };
  auto config = LoadConfigFor(global);
  if (!config.ok()) return fail(config.status());
  Clock* clock = Clock::Real();
  auto store = OpenExistingStore(*config, clock);
  if (!store.ok()) return fail(store.status());
  auto workers = (*store)->ListWorkers();
  if (!workers.ok()) return fail(workers.status());
  std::sort(workers->begin(), workers->end(),
            [](const store::WorkerInfo& a, const store::WorkerInfo& b) {
              return a.last_seen != b.last_seen ? a.last_seen > b.last_seen : a.id < b.id;
            });
  const int64_t dead_after_ms =
      1000LL * (args.dead_after_s > 0 ? args.dead_after_s : config->pipeline.lease_ttl_s);
  const UnixMillis now = clock->NowMillis();
  int live = 0;
  nlohmann::json rows = nlohmann::json::array();
  for (const store::WorkerInfo& w : *workers) {
    const int64_t age_ms = std::max<int64_t>(0, now - w.last_seen);
    const bool alive = age_ms <= dead_after_ms;
    live += alive ? 1 : 0;
    rows.push_back({{"id", w.id},
                    {"host", w.host},
                    {"pid", w.pid},
                    {"version", w.version},
                    {"started_at", FormatIso8601(w.started_at)},
                    {"last_seen", FormatIso8601(w.last_seen)},
                    {"last_seen_age_s", static_cast<double>(age_ms) / 1000.0},
                    {"in_flight", w.in_flight},
                    {"status", alive ? "live" : "dead"}});
  }
  if (args.json) {
    nlohmann::json out = {{"dead_after_s", static_cast<double>(dead_after_ms) / 1000.0},
                          {"live", live},
                          {"dead", static_cast<int>(rows.size()) - live},
                          {"workers", rows}};
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("%d live, %d dead (dead = no heartbeat for %lld s)\n", live,
              static_cast<int>(rows.size()) - live, static_cast<long long>(dead_after_ms / 1000));
  std::printf("%-5s  %-40s  %-8s  %8s  %6s  %s\n", "STATE", "WORKER", "PID", "SEEN_S", "JOBS",
              "STARTED");
  for (const auto& r : rows) {
    std::printf("%-5s  %-40s  %-8lld  %8.1f  %6d  %s\n", r["status"].get<std::string>().c_str(),
                r["id"].get<std::string>().c_str(), static_cast<long long>(r["pid"].get<int64_t>()),
                r["last_seen_age_s"].get<double>(), r["in_flight"].get<int>(),
                r["started_at"].get<std::string>().c_str());
  }
  return 0;
}

}  // namespace

void AddWorkersCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<WorkersArgs>();
  CLI::App* cmd = app.add_subcommand("workers", "List live and dead worker processes");
  cmd->add_flag("--json", args->json, "One JSON object: counts and a workers array");
  cmd->add_option("--dead-after", args->dead_after_s,
                  "Seconds without a heartbeat after which a worker is dead (default: "
                  "pipeline.lease_ttl_s, three heartbeat intervals)")
      ->check(CLI::Range(1, 86400));
  cmd->callback([&global, exit_code, args] { *exit_code = RunWorkers(global, *args); });
}

}  // namespace ingest::app
