#include "ingest/app/cli.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <string_view>

#include "ingest/parse/contained/contained_parser.h"
#include "ingest/parse/contained/parse_child.h"

namespace ingest::app {

int RunCli(int argc, char** argv) {
  // Tesseract's LSTM runs OpenMP loops that spin up to four threads per page; OCR parallelism
  // is ours (parse.ocr_threads, one engine per thread, one parse process per document), and
  // nested spinning threads only steal CPU from them. libgomp reads this when it is loaded,
  // so it takes effect in every parse subprocess (and in-process parses of a later exec).
  ::setenv("OMP_THREAD_LIMIT", "1", /*overwrite=*/0);
  // The parse subprocess (parse/contained/parse_child.h): no configuration, no CLI parsing, no
  // logging set-up; it reads its few arguments itself and must start fast.
  if (argc > 1 && std::string_view(argv[1]) == parse::kParseChildCommand) {
    return parse::RunParseChild(argc - 1, argv + 1);
  }
  CLI::App app{"ingestd: documents in, searchable embedded chunks out"};
  app.require_subcommand(1);
  // Subcommands pass --config/--profile up to the parent wherever they appear.
  app.fallthrough();
  GlobalOptions global;
  app.add_option("--config", global.config_file, "Configuration file (TOML); env INGESTD_CONFIG");
  app.add_option("--profile", global.profile,
                 "Configuration profile (development|staging|production); env INGESTD_PROFILE");
  int exit_code = 0;

  AddIngestCommand(app, global, &exit_code);
  AddSearchCommand(app, global, &exit_code);
  AddDocumentsCommand(app, global, &exit_code);
  AddSyncCommand(app, global, &exit_code);
  AddGcCommand(app, global, &exit_code);
  AddJobsCommand(app, global, &exit_code);
  AddCostsCommand(app, global, &exit_code);
  AddBudgetCommand(app, global, &exit_code);
  AddProvidersCommand(app, global, &exit_code);
  AddKeysCommand(app, global, &exit_code);
  AddAuditCommand(app, global, &exit_code);
  AddStatsCommand(app, global, &exit_code);
  AddServeCommand(app, global, &exit_code);
  AddWorkerCommand(app, global, &exit_code);
  AddWorkersCommand(app, global, &exit_code);
  AddMigrateCommand(app, global, &exit_code);
  AddBackupCommands(app, global, &exit_code);
  AddDoctorCommand(app, global, &exit_code);
  AddHealthcheckCommand(app, global, &exit_code);
  AddConfigCommand(app, global, &exit_code);
  AddTokenizeCommand(app, global, &exit_code);
  AddEmulateCommand(app, global, &exit_code);
  AddVersionCommand(app, global, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as the commands document.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}

}  // namespace ingest::app
