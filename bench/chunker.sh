#!/usr/bin/env bash
# Chunker throughput, ingestd vs peers, on the same text in the same run.
#
#   bench/chunker.sh [BENCH_BINARY] [PDF]
#
# BENCH_BINARY defaults to build/release/bench/chunker_bench (cmake --preset release && ninja -C
# build/release chunker_bench); this script builds nothing. PDF defaults to R-intro.pdf from
# Debian's r-doc-pdf. The text is extracted with pdftotext (pages separated by form feeds) and
# chunked into 512-token cl100k_base chunks by ingestd's ChunkMarkdown and by the Node peers in
# bench/peers/chunker (installed with `npm ci` on first use). MB/s are per CPU second.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/release/bench/chunker_bench}
pdf=${2:-/usr/share/doc/r-doc-pdf/manual/R-intro.pdf}
iterations=${CHUNKER_BENCH_ITERATIONS:-3}

for tool in pdftotext node npm; do
  command -v "$tool" >/dev/null || { echo "chunker.sh: $tool is required" >&2; exit 2; }
done
[[ -x $bin ]] || { echo "chunker.sh: no bench binary at $bin (build target chunker_bench)" >&2; exit 2; }
[[ -r $pdf ]] || { echo "chunker.sh: cannot read $pdf" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pdftotext "$pdf" "$tmp/text.txt"
bytes=$(wc -c <"$tmp/text.txt")
echo "text: $(basename "$pdf") via pdftotext, $bytes bytes; 512-token cl100k_base chunks, no overlap"

INGEST_BENCH_TEXT="$tmp/text.txt" "$bin" --benchmark_filter='BM_ChunkMarkdown/512$' \
  --benchmark_repetitions="$iterations" --benchmark_report_aggregates_only=true \
  --benchmark_format=json >"$tmp/ours.json"

peers=$root/bench/peers/chunker
if [[ ! -d $peers/node_modules ]]; then
  (cd "$peers" && npm ci --no-audit --no-fund >/dev/null)
fi
node "$peers/run.mjs" "$tmp/text.txt" "$iterations" >"$tmp/peers.jsonl"

node - "$tmp/ours.json" "$tmp/peers.jsonl" <<'JS'
const fs = require("fs");
const [ours, peers] = process.argv.slice(2);
const median = JSON.parse(fs.readFileSync(ours, "utf8")).benchmarks.find(
  (b) => b.aggregate_name === "median");
const rows = [{
  name: "ingestd ChunkMarkdown",
  mb_per_s: median.bytes_per_second / 1e6,
  chunks: median.chunks,
  mean_tokens: median.mean_tokens,
  max_tokens: median.max_tokens,
}];
for (const line of fs.readFileSync(peers, "utf8").split("\n")) {
  if (line.trim()) rows.push(JSON.parse(line));
}
const ref = rows[0].mb_per_s;
const pad = (s, n) => String(s).padEnd(n);
console.log(pad("chunker", 42) + pad("MB/s", 10) + pad("chunks", 8) + pad("mean tok", 10) +
            pad("max tok", 9) + "ingestd is");
for (const r of rows) {
  const ratio = r === rows[0] ? "-" : (ref / r.mb_per_s).toFixed(1) + "x faster";
  console.log(pad(r.name, 42) + pad(r.mb_per_s.toFixed(3), 10) + pad(r.chunks, 8) +
              pad(r.mean_tokens.toFixed(0), 10) + pad(r.max_tokens, 9) + ratio);
}
JS
