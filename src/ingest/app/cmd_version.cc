// `ingestd version [--json]` and `ingestd --version`: what this binary is (build_info.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ingest/app/build_info.h"
#include "ingest/app/cli.h"

namespace ingest::app {

nlohmann::json BuildInfoJson() {
  const BuildInfo& b = GetBuildInfo();
  nlohmann::json features = nlohmann::json::array();
  for (std::string_view f : b.features) features.push_back(std::string(f));
  return {{"version", std::string(b.version)},       {"commit", std::string(b.commit)},
          {"build_type", std::string(b.build_type)}, {"compiler", std::string(b.compiler)},
          {"schema_version", LatestSchemaVersion()}, {"features", features}};
}

void AddVersionCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  (void)global;
  app.set_version_flag(
      "--version", [] { return VersionLine(); }, "Print the version and exit");
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("version", "Version, commit, build type and features");
  cmd->add_flag("--json", *json, "JSON output");
  cmd->callback([json, exit_code] {
    if (*json) {
      std::puts(BuildInfoJson().dump(2).c_str());
    } else {
      std::puts(VersionLine().c_str());
      const BuildInfo& b = GetBuildInfo();
      std::printf("compiler: %s\nschema version: %d\nfeatures:", std::string(b.compiler).c_str(),
                  LatestSchemaVersion());
      for (std::string_view f : b.features) std::printf(" %s", std::string(f).c_str());
      std::printf("\n");
    }
    *exit_code = 0;
  });
}

}  // namespace ingest::app
