#!/usr/bin/env bash
# Tokenizer throughput: ingestd's text::Tokenizer against the npm tokenizers (tiktoken WASM,
# js-tiktoken, gpt-tokenizer; pinned in tests/peers/package.json), single thread, same texts,
# same run. Prints a Markdown table (the one in docs/performance.md, "Tokenizer") and saves it
# with the raw results under bench/results/.
#
# Usage: bench/tokenizer.sh [BUILD_DIR] [SECONDS_PER_CASE]
#   BUILD_DIR defaults to build/; it must be configured (cmake -S . -B BUILD_DIR -G Ninja
#   -DCMAKE_BUILD_TYPE=RelWithDebInfo). Needs node/npm, pdftotext, r-doc-pdf and debian-refcard.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
seconds="${2:-2}"
out="$root/bench/results/tokenizer"
mkdir -p "$out/texts"

# TOKENIZER_BENCH_NO_BUILD=1 uses the binary as it is (handy while other modules are mid-edit).
if [ "${TOKENIZER_BENCH_NO_BUILD:-0}" != 1 ]; then
  ninja -C "$build" -j2 bench/tokenizer_bench >/dev/null
fi
if [ ! -d "$root/tests/peers/node_modules/tiktoken" ]; then
  npm ci --prefix "$root/tests/peers" --no-audit --no-fund >/dev/null
fi

# Texts: a real PDF's extracted text (the figure others quote), plain English prose, and two
# non-Latin scripts (from Debian reference cards).
rintro="$(dpkg -L r-doc-pdf | grep '/R-intro.pdf$' | head -1)"
pdftotext -enc UTF-8 "$rintro" "$out/texts/r_intro.txt"
cp /usr/share/common-licenses/GPL-3 "$out/texts/gpl3_prose.txt"
for lang in ja ru; do
  zcat "/usr/share/doc/debian-refcard/refcard-$lang-a4.pdf.gz" >"$out/texts/refcard-$lang.pdf"
  pdftotext -enc UTF-8 "$out/texts/refcard-$lang.pdf" "$out/texts/refcard_$lang.txt"
done
specs=()
for t in r_intro gpl3_prose refcard_ja refcard_ru; do specs+=("$t=$out/texts/$t.txt"); done

"$build/bench/tokenizer_bench" --benchmark_min_time="$seconds" --benchmark_format=json \
  "${specs[@]}" >"$out/ours.json" 2>"$out/ours.stderr"
node "$root/tests/peers/tokenizer_bench.mjs" "$seconds" "${specs[@]}" >"$out/peers.jsonl"

node - "$out" <<'JS' | tee "$out/summary.md"
const fs = require("fs");
const dir = process.argv[2];
const ours = JSON.parse(fs.readFileSync(`${dir}/ours.json`, "utf8"));
const peers = fs.readFileSync(`${dir}/peers.jsonl`, "utf8").trim().split("\n").map(JSON.parse);
const load = fs.readFileSync(`${dir}/ours.stderr`, "utf8").trim();
const mb = (name) => {
  const b = ours.benchmarks.find((x) => x.name === name);
  return b ? b.bytes_per_second / 1e6 : NaN;
};
const f = (x) => x.toFixed(1);
console.log(`Host: ${ours.context.num_cpus} CPUs @ ${ours.context.mhz_per_cpu} MHz, load average ` +
  `${(ours.context.load_avg || []).map((x) => x.toFixed(1)).join(" ")}; MB/s = 10^6 bytes of ` +
  `UTF-8 input per CPU second, single thread.\n`);
console.log("| text | encoding | ingestd Encode | ingestd Count | tiktoken (WASM) | js-tiktoken | " +
  "gpt-tokenizer | Encode vs fastest peer |");
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
for (const enc of ["cl100k_base", "o200k_base"]) {
  for (const text of [...new Set(peers.map((p) => p.text))]) {
    const row = (peer) => peers.find((p) => p.peer === peer && p.encoding === enc && p.text === text);
    const enc_mb = mb(`Encode/${enc}/${text}`);
    const p = ["tiktoken", "js-tiktoken", "gpt-tokenizer"].map((n) => row(n).mb_per_s_cpu);
    const best = Math.max(...p);
    console.log(`| ${text} (${(row("tiktoken").bytes / 1e3).toFixed(0)} kB) | ${enc} | ${f(enc_mb)} | ` +
      `${f(mb(`Count/${enc}/${text}`))} | ` + p.map((x) => `${f(x)} (${f(enc_mb / x)}x)`).join(" | ") +
      ` | **${f(enc_mb / best)}x** |`);
  }
}
console.log("\nLoad (first Tokenizer::Get, once per process) and memory of the loaded ranks:\n");
for (const line of load.split("\n").filter((l) => l.startsWith("load "))) console.log(`- ${line}`);
JS
