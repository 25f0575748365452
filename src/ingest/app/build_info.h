// What this binary is: its version, the commit it was built from, how it was built and what it
// can do (`ingestd --version`, `ingestd version --json`, the `workers` table, doctor).
//
// The values are fixed when CMake configures the tree (build_info.cc.in, filled in by
// src/ingest/app/CMakeLists.txt from the project version and `git describe`). They live in one
// generated .cc rather than in a global -D flag, so a new commit recompiles that file alone and
// ccache keeps every other object.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ingest::app {

struct BuildInfo {
  std::string_view version;     // "0.1.0": the CMake project version (also the package version)
  std::string_view commit;      // `git describe --always --dirty`, "unknown" outside a checkout
  std::string_view build_type;  // CMAKE_BUILD_TYPE, e.g. "RelWithDebInfo"
  std::string_view compiler;    // e.g. "GNU 12.2.0"
  std::vector<std::string_view> features;  // compiled-in backends and providers
};

const BuildInfo& GetBuildInfo();

// The schema version this build migrates to (the last known migration; equal on both backends).
int LatestSchemaVersion();

// "ingestd 0.1.0 (commit 660a4ad, RelWithDebInfo)": the one line of `ingestd --version`.
std::string VersionLine();

}  // namespace ingest::app
