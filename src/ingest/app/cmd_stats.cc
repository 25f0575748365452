// `ingestd stats [--json]`: a health summary of the store for operators and scripts (daily
// checks, cron, the handbook's runbooks): jobs by state, the oldest due job's age, the
// dead-letter count, stopped providers, budgets with their level, live and dead workers, and a
// list of problems. It reads the same store views as /metrics and /v1/stats (api::
// ReadGovernorView), so the numbers agree with the alerts. Exit status: 0 healthy, 1 when a
// problem is listed, 2 when the store cannot be read.
//
// Problems (each the condition of an alert in deploy/prometheus/ingestd-alerts.yml): jobs in the
// dead-letter queue, a stopped provider, a budget at its hard limit, the oldest due job waiting
// longer than 15 minutes.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "ingest/api/governor_view.h"
#include "ingest/app/app.h"
#include "ingest/app/cli.h"

namespace ingest::app {
namespace {

struct StatsArgs {
  bool json = false;
};

constexpr store::JobState kStates[] = {store::JobState::kQueued,   store::JobState::kRunning,
                                       store::JobState::kWaiting,  store::JobState::kDeferred,
                                       store::JobState::kComplete, store::JobState::kFailed,
                                       store::JobState::kDead,     store::JobState::kCancelled};

// Same hold as IngestdQueueStuck's age condition.
constexpr double kQueueAgeProblemSeconds = 900;

std::string BudgetLevel(const obs::BudgetGauge& b) {
  if (b.spent_usd >= b.limit_usd) return "hard";
  if (b.spent_usd >= b.soft_ratio * b.limit_usd) return "soft";
  return "ok";
}

int RunStats(const GlobalOptions& global, const StatsArgs& args) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "ingestd: %s\n", s.ToString().c_str());
    return 2;
  };
  auto config = LoadConfigFor(global);
  if (!config.ok()) return fail(config.status());
  Clock* clock = Clock::Real();
  auto store_or = OpenStore(*config, clock, /*auto_migrate=*/true);
  if (!store_or.ok()) return fail(store_or.status());
  store::Store& store = **store_or;
  const UnixMillis now = clock->NowMillis();

  auto counts = store.CountJobsByState();
  if (!counts.ok()) return fail(counts.status());
  nlohmann::json jobs = nlohmann::json::object();
  int64_t dead = 0;
  for (store::JobState s : kStates) {
    int64_t n = 0;
    for (const auto& [state, count] : *counts) {
      if (state == s) n = count;
    }
    if (s == store::JobState::kDead) dead = n;
    jobs[std::string(store::JobStateName(s))] = n;
  }
  auto oldest = store.OldestQueuedAt(now);
  if (!oldest.ok()) return fail(oldest.status());
  const double queue_age_s =
      oldest->has_value() ? std::max<int64_t>(0, now - **oldest) / 1000.0 : 0.0;
  auto gov = api::ReadGovernorView(store, now);
  if (!gov.ok()) return fail(gov.status());
  auto workers = store.ListWorkers();
  if (!workers.ok()) return fail(workers.status());
  const int64_t dead_after_ms = 1000LL * config->pipeline.lease_ttl_s;
  int live = 0;
  for (const store::WorkerInfo& w : *workers) live += now - w.last_seen <= dead_after_ms ? 1 : 0;

  nlohmann::json problems = nlohmann::json::array();
  if (dead > 0) problems.push_back(std::to_string(dead) + " job(s) in the dead-letter queue");
  nlohmann::json stopped = nlohmann::json::array();
  for (const api::StoppedProvider& p : gov->providers) {
    if (!p.stopped) continue;
    stopped.push_back(
        {{"provider", p.provider}, {"reason", p.reason}, {"since", FormatIso8601(p.since)}});
    problems.push_back("provider " + p.provider + " stopped (" + p.reason + ")");
  }
  nlohmann::json budgets = nlohmann::json::array();
  for (const obs::BudgetGauge& b : gov->budgets) {
    const std::string level = BudgetLevel(b);
    budgets.push_back({{"scope", b.scope},
                       {"key", b.key},
                       {"period", b.period},
                       {"spent_usd", b.spent_usd},
                       {"limit_usd", b.limit_usd},
                       {"level", level}});
    if (level == "hard") {
      problems.push_back(b.scope + (b.key.empty() ? "" : " " + b.key) + " budget (" + b.period +
                         ") at its hard limit");
    }
  }
  if (queue_age_s > kQueueAgeProblemSeconds) {
    problems.push_back("oldest due job waited " +
                       std::to_string(static_cast<int64_t>(queue_age_s)) + " s");
  }

  if (args.json) {
    const nlohmann::json out = {
        {"generated_at", FormatIso8601(now)},
        {"ok", problems.empty()},
        {"problems", problems},
        {"jobs", jobs},
        {"dead_jobs", dead},
        {"queue_oldest_age_seconds", queue_age_s},
        {"providers_stopped", stopped},
        {"budgets", budgets},
        {"workers", {{"live", live}, {"dead", static_cast<int64_t>(workers->size()) - live}}}};
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("%s\n", problems.empty() ? "healthy" : "PROBLEMS");
    for (const auto& p : problems) std::printf("  - %s\n", p.get<std::string>().c_str());
    std::printf("jobs     ");
    for (const auto& [state, n] : jobs.items()) {
      if (n.get<int64_t>() > 0) std::printf(" %s=%lld", state.c_str(), n.get<long long>());
    }
    std::printf("\nqueue     oldest due job %.0f s\n", queue_age_s);
    std::printf("workers   %d live, %lld dead\n", live,
                static_cast<long long>(workers->size()) - live);
    std::printf("budgets   %zu (%zu at the hard limit)\n", budgets.size(),
                static_cast<size_t>(
                    std::count_if(budgets.begin(), budgets.end(),
                                  [](const nlohmann::json& b) { return b["level"] == "hard"; })));
    std::printf("providers %zu stopped\n", stopped.size());
  }
  return problems.empty() ? 0 : 1;
}

}  // namespace

void AddStatsCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<StatsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "stats", "Health summary: jobs, queue age, dead letters, providers, budgets, workers");
  cmd->add_flag("--json", args->json, "One JSON object");
  cmd->callback([&global, args, exit_code] { *exit_code = RunStats(global, *args); });
}

}  // namespace ingest::app
