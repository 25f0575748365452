#!/usr/bin/env bash
# Builds the Debian package: build/release/ingestd_<version>_amd64.deb (docs/deployment.md).
# Usage: scripts/package.sh            (builds the `ingestd` target of the release preset)
#        INGEST_PACKAGE_PRESET=ci scripts/package.sh   (packages the CI build instead: same
#        compiler flags plus -Werror, so CI does not compile the binary a second time)
# The package is stripped; dependencies come from dpkg-shlibdeps. The last line printed is the
# path of the .deb.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${INGEST_PACKAGE_PRESET:-release}"
out="$PWD/build/release"
# Only the binary is needed; with ccache warm this is a link at most.
INGEST_BUILD_JOBS="${INGEST_BUILD_JOBS:-$(nproc)}" scripts/build.sh "$preset" ingestd >&2
build_dir="$PWD/build/$preset"
mkdir -p "$out"
version="$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build_dir/CPackConfig.cmake")"
arch="$(dpkg --print-architecture)"
deb="$out/ingestd_${version}_${arch}.deb"
rm -f "$deb"
(cd "$build_dir" && cpack -G DEB -B "$out" >&2)
rm -rf "$out/_CPack_Packages"
[ -f "$deb" ] || { echo "package.sh: cpack did not produce $deb" >&2; exit 1; }
echo "$deb"
