#!/usr/bin/env bash
# Configures and builds ingestd with a CMake preset (default: release).
# Usage: scripts/build.sh [PRESET [TARGET...]]   (no target: everything, tests and benchmarks too)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
targets=()
for t in "$@"; do targets+=(--target "$t"); done
jobs="${INGEST_BUILD_JOBS:-$(nproc)}"
# Let ccache share objects between clones of the repository (CI builds a fresh clone each time).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs" "${targets[@]}"
