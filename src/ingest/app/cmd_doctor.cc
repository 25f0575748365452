// `ingestd doctor [--json] [--online] [--listen HOST:PORT]`: the preflight (doctor.h). Exit 0
// when no check failed, 1 otherwise. Text output: one line per check, the hint indented below a
// warning or failure. JSON: {"ok": bool, "checks": [{"name", "status", "detail", "hint"}]}.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ingest/app/cli.h"
#include "ingest/app/doctor.h"

namespace ingest::app {
namespace {

struct DoctorArgs {
  bool json = false;
  bool online = false;
  bool worker = false;
  std::string listen;
};

int RunDoctorCommand(const GlobalOptions& global, const DoctorArgs& args) {
  DoctorOptions options;
  options.online = args.online;
  options.listen = args.listen;
  options.check_listen = !args.worker;
  options.check_api_tokens = !args.worker;
  const std::vector<CheckResult> checks = RunDoctor(global, options);
  const bool ok = !AnyFailed(checks);
  if (args.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : checks) {
      list.push_back({{"name", c.name},
                      {"status", std::string(CheckStatusName(c.status))},
                      {"detail", c.detail},
                      {"hint", c.hint}});
    }
    std::puts(nlohmann::json{{"ok", ok}, {"checks", list}}.dump(2).c_str());
    return ok ? 0 : 1;
  }
  int warnings = 0;
  int failures = 0;
  for (const auto& c : checks) {
    const char* label = c.status == CheckStatus::kOk     ? "ok  "
                        : c.status == CheckStatus::kWarn ? "WARN"
                                                         : "FAIL";
    std::printf("%s  %-28s %s\n", label, c.name.c_str(), c.detail.c_str());
    if (!c.hint.empty()) std::printf("      %-28s -> %s\n", "", c.hint.c_str());
    warnings += c.status == CheckStatus::kWarn;
    failures += c.status == CheckStatus::kFail;
  }
  std::printf("%s: %d check(s), %d warning(s), %d failed%s\n", ok ? "ready" : "NOT READY",
              static_cast<int>(checks.size()), warnings, failures,
              args.online ? "" : " (add --online to call the providers)");
  return ok ? 0 : 1;
}

}  // namespace

void AddDoctorCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<DoctorArgs>();
  CLI::App* cmd = app.add_subcommand(
      "doctor", "Preflight: configuration, store, schema, disk, secrets, listen address");
  cmd->add_flag("--json", args->json, "JSON output: {\"ok\", \"checks\": [...]}");
  cmd->add_flag("--online", args->online,
                "Also make one cheap authenticated call per configured provider");
  cmd->add_flag("--worker", args->worker,
                "Check for `ingestd worker` (no listen address, no API tokens)");
  cmd->add_option("--listen", args->listen, "Address serve will bind (default api.listen)");
  cmd->callback([&global, exit_code, args] { *exit_code = RunDoctorCommand(global, *args); });
}

}  // namespace ingest::app
