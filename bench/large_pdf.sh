#!/usr/bin/env bash
# One large born-digital PDF, whole pipeline: `ingestd ingest FILE` with its pages extracted on
# one thread (INGESTD_PDF_THREADS=1) and on every core (the default), against `pdftotext` on the
# same file in the same run (issue 19's bar: at least 1.5x pdftotext on 2 cores). Best of N
# rounds, sides alternated; ratios are what compare across machines. Also the peak RSS of each.
# Usage: bench/large_pdf.sh [path/to/ingestd] [FILE.pdf] [rounds]
#   FILE default: Octave's manual (octave-doc, 1,158 pages) when installed, else R's
#   fullrefman.pdf (r-doc-pdf, 2,415 pages).
set -euo pipefail
bin="$(readlink -f "${1:-build/release/cmd/ingestd/ingestd}")"
file="${2:-}"
rounds="${3:-3}"
if [ -z "$file" ]; then
  for f in /usr/share/doc/octave/octave.pdf /usr/share/doc/octave-doc/octave.pdf \
      /usr/share/R/doc/manual/fullrefman.pdf; do
    if [ -f "$f" ]; then file="$f"; break; fi
  done
fi
[ -f "$file" ] || { echo "no input PDF (install octave-doc or r-doc-pdf, or pass one)"; exit 1; }
pages=$(pdfinfo "$file" | awk '/^Pages:/{print $2}')
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp "$file" "$work/input.pdf"

# run SIDE: wall seconds and peak RSS (KiB) of one run, as "seconds kib".
run() {
  local side="$1" t0 t1
  rm -rf "$work/data" "$work/out.txt"
  t0=$(date +%s.%N)
  case "$side" in
    threads1) INGESTD_PDF_THREADS=1 INGESTD_DATA_DIR="$work/data" INGESTD_LOG_LEVEL=warn \
                /usr/bin/time -f %M -o "$work/rss" "$bin" ingest "$work/input.pdf" --json > /dev/null ;;
    threadsN) INGESTD_DATA_DIR="$work/data" INGESTD_LOG_LEVEL=warn \
                /usr/bin/time -f %M -o "$work/rss" "$bin" ingest "$work/input.pdf" --json > /dev/null ;;
    pdftotext) /usr/bin/time -f %M -o "$work/rss" pdftotext "$work/input.pdf" "$work/out.txt" ;;
  esac
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc -l) $(tail -n 1 "$work/rss")"
}

declare -A best rss
for side in threads1 threadsN pdftotext; do best[$side]=999999; rss[$side]=0; done
for r in $(seq "$rounds"); do
  order="threadsN threads1 pdftotext"; [ $((r % 2)) -eq 0 ] && order="pdftotext threads1 threadsN"
  for side in $order; do
    read -r t k < <(run "$side")
    if (( $(echo "$t < ${best[$side]}" | bc -l) )); then best[$side]=$t; fi
    [ "$k" -gt "${rss[$side]}" ] && rss[$side]=$k
  done
done

echo "input: $file ($pages pages), $(nproc) cores, best of $rounds"
printf '%-34s %10s %10s %14s %12s\n' run seconds pages/s "vs pdftotext" "peak RSS MB"
for side in threadsN threads1 pdftotext; do
  label="$side"
  [ "$side" = threadsN ] && label="ingestd ingest (pdf_threads=0: all)"
  [ "$side" = threads1 ] && label="ingestd ingest (pdf_threads=1)"
  [ "$side" = pdftotext ] && label="pdftotext (extraction only)"
  printf '%-34s %10.2f %10.1f %13.2fx %12.0f\n' "$label" "${best[$side]}" \
    "$(echo "$pages / ${best[$side]}" | bc -l)" "$(echo "${best[pdftotext]} / ${best[$side]}" | bc -l)" \
    "$(echo "${rss[$side]} / 1024" | bc -l)"
done
