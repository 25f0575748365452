// The ingestd command line. Each subcommand lives in its own cmd_<name>.cc and registers itself
// through an Add<Name>Command function listed in cli.cc.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace ingest::app {

// Options every subcommand shares (DESIGN §7).
struct GlobalOptions {
  std::string config_file;  // --config FILE (else INGESTD_CONFIG)
  std::string profile;      // --profile NAME (else INGESTD_PROFILE, else "development")
};

// Runs the CLI; returns the process exit code.
int RunCli(int argc, char** argv);

// Each returns after adding its subcommand to `app`; the callback it installs sets `*exit_code`.
void AddTokenizeCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddEmulateCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddConfigCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddMigrateCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
// `ingestd backup PATH` and `ingestd restore PATH` (cmd_backup.cc).
void AddBackupCommands(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddIngestCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddSearchCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddDocumentsCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddSyncCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddGcCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddJobsCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddServeCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddCostsCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddWorkerCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddWorkersCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddBudgetCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddProvidersCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddDoctorCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddHealthcheckCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
// Also installs the top-level --version flag.
void AddVersionCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddStatsCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
// `ingestd keys ...` (cmd_keys.cc) and `ingestd audit` (cmd_audit.cc): docs/security.md.
void AddKeysCommand(CLI::App& app, GlobalOptions& global, int* exit_code);
void AddAuditCommand(CLI::App& app, GlobalOptions& global, int* exit_code);

}  // namespace ingest::app
