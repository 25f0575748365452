// `ingestd migrate up|down|status`: numbered schema migrations (DESIGN §3).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"

namespace ingest::app {
namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "ingestd: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

void AddMigrateCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  CLI::App* cmd = app.add_subcommand("migrate", "Apply or roll back schema migrations");
  cmd->require_subcommand(1);
  static int target = -1;
  static int steps = 1;
  static bool allow_data_loss = false;

  CLI::App* up = cmd->add_subcommand("up", "Migrate to the latest (or --to) version");
  up->add_option("--to", target, "Target version (default: latest)");
  up->callback([&global, exit_code] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return void(*exit_code = Fail(config.status()));
    auto store = OpenStore(*config, Clock::Real(), /*auto_migrate=*/false);
    if (!store.ok()) return void(*exit_code = Fail(store.status()));
    auto known = (*store)->KnownMigrations();
    int to = target >= 0 ? target : (known.empty() ? 0 : known.back().version);
    auto before = (*store)->SchemaVersion();
    if (!before.ok()) return void(*exit_code = Fail(before.status()));
    if (to < *before) {
      std::fprintf(stderr, "ingestd: migrate up --to %d is below the current version %d\n", to,
                   *before);
      return void(*exit_code = 2);
    }
    Status s = (*store)->MigrateTo(to);
    if (!s.ok()) return void(*exit_code = Fail(s));
    std::printf("schema at version %d (was %d)\n", to, *before);
    // The full-text language is the configuration's from here on (re-indexes on a change).
    if (FullTextIndexed(**store, to)) {
      Status lang = (*store)->SetTextSearchLanguage(config->search.fts_language);
      if (!lang.ok()) return void(*exit_code = Fail(lang));
    }
  });

  CLI::App* down = cmd->add_subcommand("down", "Roll back --steps migrations (default 1)");
  down->add_option("--steps", steps, "How many migrations to roll back");
  down->add_option("--to", target, "Roll back to this version instead");
  down->add_flag("--allow-data-loss", allow_data_loss,
                 "Run down steps that would destroy stored data (refused otherwise; back up "
                 "first)");
  down->callback([&global, exit_code] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return void(*exit_code = Fail(config.status()));
    auto store = OpenStore(*config, Clock::Real(), /*auto_migrate=*/false);
    if (!store.ok()) return void(*exit_code = Fail(store.status()));
    auto before = (*store)->SchemaVersion();
    if (!before.ok()) return void(*exit_code = Fail(before.status()));
    int to = target >= 0 ? target : std::max(0, *before - steps);
    if (to > *before) {
      std::fprintf(stderr, "ingestd: migrate down --to %d is above the current version %d\n", to,
                   *before);
      return void(*exit_code = 2);
    }
    Status s = (*store)->MigrateTo(to, allow_data_loss);
    if (!s.ok()) {
      // A refusal stops at the lossy step; say where the schema is now.
      if (auto now = (*store)->SchemaVersion(); now.ok() && *now != *before) {
        std::printf("schema at version %d (was %d)\n", *now, *before);
      }
      return void(*exit_code = Fail(s));
    }
    std::printf("schema at version %d (was %d)\n", to, *before);
  });

  CLI::App* status = cmd->add_subcommand("status", "Show applied and pending migrations");
  status->callback([&global, exit_code] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return void(*exit_code = Fail(config.status()));
    // A read command: it reports on a store, it never creates one.
    if (Status exists = RequireExistingStore(*config); !exists.ok()) {
      return void(*exit_code = Fail(exists));
    }
    auto store = OpenStore(*config, Clock::Real(), /*auto_migrate=*/false);
    if (!store.ok()) return void(*exit_code = Fail(store.status()));
    auto current = (*store)->SchemaVersion();
    if (!current.ok()) return void(*exit_code = Fail(current.status()));
    for (const auto& m : (*store)->KnownMigrations()) {
      std::printf("%4d  %-8s  %s\n", m.version, m.version <= *current ? "applied" : "pending",
                  m.name.c_str());
    }
    std::printf("current version: %d\n", *current);
  });
}

}  // namespace ingest::app
