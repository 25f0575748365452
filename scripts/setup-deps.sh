#!/usr/bin/env bash
# Installs the Debian packages ingestd builds and tests with. Idempotent; needs root (or sudo).
# Usage: scripts/setup-deps.sh [--test]   (--test adds PostgreSQL, Prometheus tools, Chromium,
# Node.js and the documentation packages whose real PDFs the end-to-end tests read.)
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

BUILD_PKGS=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libcurl4-openssl-dev libcpp-httplib-dev nlohmann-json3-dev libsimdjson-dev
  libpq-dev libpqxx-dev libsqlite3-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libhnswlib-dev libtomlplusplus-dev libcli11-dev libpoppler-cpp-dev
  libcmark-gfm-dev libcmark-gfm-extensions-dev libgumbo-dev libssl-dev libutf8proc-dev
  libpcre2-dev libgtest-dev libgmock-dev libbenchmark-dev libzip-dev libpugixml-dev uuid-dev
  libtesseract-dev libleptonica-dev tesseract-ocr-eng

)
TEST_PKGS=(
  postgresql postgresql-contrib prometheus prometheus-alertmanager chromium
  poppler-utils r-doc-pdf gnuplot-doc debian-refcard python3 python3-yaml procps psmisc curl jq
  dpkg-dev systemd podman openssl wrk nginx
  tesseract-ocr tesseract-ocr-jpn tesseract-ocr-chi-sim
)

want=("${BUILD_PKGS[@]}")
# Node.js (for the peer tokenizers, the tokenizer rank files and the browser tests): the image may
# already carry its own build; only fall back to Debian's when there is none.
if ! command -v npm >/dev/null 2>&1; then want+=(nodejs npm); fi
if [ "${1:-}" = "--test" ]; then want+=("${TEST_PKGS[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi
