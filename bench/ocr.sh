#!/usr/bin/env bash
# Local OCR accuracy and speed (issue 19), ingestd's in-process path against the `tesseract`
# command line on the same images in the same run.
#
# Ground truth: pages of born-digital PDFs from Debian's documentation packages (R manuals for
# English, debian-refcard ja/zh_CN for CJK). Each page is rendered with pdftoppm (8-bit grey
# PNG) at 150 and 300 DPI; both OCR paths read the same PNGs; their text is scored against the
# page's text layer (pdftotext) by bench/peers/ocr_score.py: character error rate (CER, edit
# distance over non-whitespace characters) and word error rate (WER, over words). Reading order
# of multi-column pages and page furniture (headers, footers) differ between a text layer and
# OCR, so the rates are upper bounds on recognition errors.
#
# Usage: bench/ocr.sh [BUILD_DIR] [ENGLISH_PAGES] [CJK]   (defaults: build/release 100 1)
# Speed is CPU seconds (user+sys) per page, both paths single-threaded with OMP_THREAD_LIMIT=1
# (what ingestd sets for its parse processes); peak RSS from /usr/bin/time (CLI: the largest
# single process; ingestd: the bench process holding one engine).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build/release}"
N="${2:-100}"
CJK="${3:-1}"
BENCH="$BUILD/bench/ocr_bench"
[ -x "$BENCH" ] || { echo "build $BENCH first (scripts/build.sh release ocr_bench)"; exit 1; }
command -v tesseract >/dev/null || { echo "install tesseract-ocr (scripts/setup-deps.sh --test)"; exit 1; }
export OMP_THREAD_LIMIT=1
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ingestd-ocr-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
MANUALS=/usr/share/R/doc/manual

# English: N pages spread over the R manuals (pages 5.. of each, skipping title pages).
pick_pages() {  # pick_pages PDF COUNT -> "PDF:PAGE" lines
  local pdf="$1" count="$2" total
  total=$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')
  python3 - "$pdf" "$count" "$total" <<'PY'
import sys
pdf, count, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
first = min(5, total)
step = max(1, (total - first) // max(count, 1))
for i in range(count):
    p = first + i * step
    if p <= total:
        print(f"{pdf}:{p}")
PY
}
: > "$WORK/pages.txt"
per=$(( (N + 3) / 4 ))
for m in R-intro R-lang R-admin R-data; do pick_pages "$MANUALS/$m.pdf" "$per" >> "$WORK/pages.txt"; done
head -n "$N" "$WORK/pages.txt" > "$WORK/eng.txt"
: > "$WORK/cjk.txt"
if [ "$CJK" = 1 ]; then
  for lang in ja zh_CN; do
    gz="/usr/share/doc/debian-refcard/refcard-$lang-a4.pdf.gz"
    [ -f "$gz" ] || continue
    gunzip -c "$gz" > "$WORK/refcard-$lang.pdf"
    for p in 1 2; do echo "$WORK/refcard-$lang.pdf:$p" >> "$WORK/cjk.txt"; done
  done
fi

render() {  # render SET DPI
  local set="$1" dpi="$2" i=0
  mkdir -p "$WORK/$set-$dpi" "$WORK/truth-$set"
  while IFS= read -r spec; do
    i=$((i + 1))
    local pdf="${spec%:*}" page="${spec##*:}" name
    name=$(printf '%03d' "$i")
    pdftoppm -gray -png -r "$dpi" -f "$page" -l "$page" -singlefile "$pdf" "$WORK/$set-$dpi/$name"
    [ -f "$WORK/truth-$set/$name.txt" ] || pdftotext -f "$page" -l "$page" "$pdf" "$WORK/truth-$set/$name.txt"
  done < "$WORK/$set.txt"
}

run_set() {  # run_set SET DPI LANG
  local set="$1" dpi="$2" lang="$3" dir="$WORK/$1-$2"
  render "$set" "$dpi"
  # ingestd in-process
  /usr/bin/time -f '%M' -o "$WORK/rss-ingestd" \
    "$BENCH" --lang "$lang" --out "$dir/ingestd" "$dir"/*.png > "$WORK/ingestd.json"
  # tesseract CLI, one process per image, timed as a whole
  mkdir -p "$dir/cli"
  python3 - "$dir" "$lang" > "$WORK/cli.json" <<'PY'
import glob, os, resource, subprocess, sys, time
d, lang = sys.argv[1], sys.argv[2]
start = time.time()
peak = 0
for png in sorted(glob.glob(os.path.join(d, "*.png"))):
    out = os.path.join(d, "cli", os.path.basename(png))
    subprocess.run(["tesseract", png, out, "-l", lang], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
n = len(glob.glob(os.path.join(d, "*.png")))
cpu = r.ru_utime + r.ru_stime
print('{"pages": %d, "wall_s": %.2f, "cpu_s": %.2f, "pages_per_cpu_s": %.3f, "peak_rss_mb": %.1f}'
      % (n, time.time() - start, cpu, n / cpu if cpu else 0, r.ru_maxrss / 1024))
PY
  python3 bench/peers/ocr_score.py "$BENCH" "$WORK/truth-$set" "$dir/ingestd" "$dir/cli" \
    "$WORK/ingestd.json" "$WORK/cli.json" "$(cat "$WORK/rss-ingestd")" "$set" "$dpi"
}

echo "| pages | DPI | path | CER | WER | CPU s/page | pages/s per core | peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|"
for dpi in 150 300; do run_set eng "$dpi" eng; done
if [ -s "$WORK/cjk.txt" ]; then
  for dpi in 150 300; do run_set cjk "$dpi" "jpn+chi_sim"; done
fi
