// `ingestd config print|check`: the effective configuration (secrets redacted, each key with
// its origin) and validation with file:line errors.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"

namespace ingest::app {

void AddConfigCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  CLI::App* cmd = app.add_subcommand("config", "Print or check the configuration");
  cmd->require_subcommand(1);
  CLI::App* print = cmd->add_subcommand("print", "Print the effective configuration (redacted)");
  print->callback([&global, exit_code] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) {
      std::fprintf(stderr, "ingestd: %s\n", config.status().message().c_str());
      *exit_code = 1;
      return;
    }
    std::fputs(config::Redacted(*config).c_str(), stdout);
  });
  CLI::App* check = cmd->add_subcommand("check", "Validate the configuration; exit 1 on error");
  check->callback([&global, exit_code] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) {
      std::fprintf(stderr, "ingestd: config error: %s\n", config.status().message().c_str());
      *exit_code = 1;
      return;
    }
    std::printf("configuration ok (profile %s)\n", config->profile.c_str());
  });
}

}  // namespace ingest::app
