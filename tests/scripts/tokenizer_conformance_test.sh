#!/usr/bin/env bash
# Token ids from `ingestd tokenize --ids` must equal those of independent implementations from
# npm (tests/peers/package.json) for both encodings, with zero differences, on:
#   - the hand-written corpus in tests/data/tokenizer/ (prose, code, CJK, emoji/ZWJ, Cyrillic,
#     Arabic, whitespace runs, numbers, contractions, mixed scripts, special-token strings);
#   - text extracted with pdftotext from real PDFs installed by Debian doc packages (R manuals,
#     gnuplot, Debian reference cards in a dozen languages);
#   - seeded random texts that stress every class boundary of the pre-tokenization regexes.
# tiktoken (OpenAI's Rust core, as used by the OpenAI API) is compared on every file. The two
# pure-JavaScript peers run their regex on V8, whose \s and case folding differ from Rust's on
# three characters (see tests/peers/tokenizer_peers.mjs); files named rust_* exercise exactly
# those and are compared with tiktoken only.
# Also checks that --count equals the number of ids for every file.
#
# Usage: tokenizer_conformance_test.sh INGESTD SOURCE_DIR BINARY_DIR
set -euo pipefail

ingestd="$1"
src="$2"
bin="$3"
peers="$src/tests/peers"
work="$bin/tests/tokenizer-conformance"

command -v node >/dev/null || { echo "FAIL: node is required (scripts/setup-deps.sh --test)"; exit 1; }
command -v pdftotext >/dev/null || { echo "FAIL: pdftotext is required (poppler-utils)"; exit 1; }
if [ ! -d "$peers/node_modules/tiktoken" ] || [ ! -d "$peers/node_modules/js-tiktoken" ] ||
   [ ! -d "$peers/node_modules/gpt-tokenizer" ]; then
  echo "installing peer tokenizers: npm ci --prefix tests/peers"
  npm ci --prefix "$peers" --no-audit --no-fund >/dev/null
fi

rm -rf "$work"
mkdir -p "$work/corpus"
cp "$src"/tests/data/tokenizer/*.txt "$work/corpus/"

# Real PDFs. R-intro is the reference text for the benchmark too; it must be there.
rintro="$(dpkg -L r-doc-pdf 2>/dev/null | grep '/R-intro.pdf$' | head -1 || true)"
[ -n "$rintro" ] && [ -f "$rintro" ] || { echo "FAIL: R-intro.pdf not found (apt install r-doc-pdf)"; exit 1; }
pdfs=("$rintro" "$(dirname "$rintro")/R-lang.pdf" "$(dirname "$rintro")/R-data.pdf"
      /usr/share/doc/gnuplot/gnuplot.pdf /usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf)
for lang in en ja zh_CN zh_TW ko ru el hi uk vi bg tr; do
  pdfs+=("/usr/share/doc/debian-refcard/refcard-$lang-a4.pdf.gz")
done
n_pdf=0
for pdf in "${pdfs[@]}"; do
  [ -f "$pdf" ] || continue
  name="$(basename "$pdf")"
  name="pdf_${name%%.pdf*}"
  if [[ "$pdf" == *.gz ]]; then
    zcat "$pdf" >"$work/$name.pdf"
    pdf="$work/$name.pdf"
  fi
  pdftotext -enc UTF-8 "$pdf" "$work/corpus/$name.txt"
  n_pdf=$((n_pdf + 1))
done

node "$peers/make_fuzz_corpus.mjs" "$work/corpus" 12 6000

all=("$work"/corpus/*.txt)
common=()
for f in "${all[@]}"; do
  [[ "$(basename "$f")" == rust_* ]] || common+=("$f")
done
echo "corpus: ${#all[@]} files ($n_pdf from PDFs), $(cat "${all[@]}" | wc -c) bytes"

status=0
for enc in cl100k_base o200k_base; do
  "$ingestd" tokenize --encoding "$enc" --ids "${all[@]}" >"$work/ours.$enc.all"
  "$ingestd" tokenize --encoding "$enc" --ids "${common[@]}" >"$work/ours.$enc.common"
  node "$peers/tokenizer_reference.mjs" tiktoken "$enc" "${all[@]}" >"$work/tiktoken.$enc"
  node "$peers/compare_ids.mjs" "$enc vs tiktoken" "$work/ours.$enc.all" "$work/tiktoken.$enc" \
    "${all[@]}" || status=1
  for peer in js-tiktoken gpt-tokenizer; do
    node "$peers/tokenizer_reference.mjs" "$peer" "$enc" "${common[@]}" >"$work/$peer.$enc"
    node "$peers/compare_ids.mjs" "$enc vs $peer" "$work/ours.$enc.common" "$work/$peer.$enc" \
      "${common[@]}" || status=1
  done
  # --count must agree with the ids, file by file.
  "$ingestd" tokenize --encoding "$enc" --count "${all[@]}" | cut -f1 >"$work/counts.$enc"
  node -e '
    const fs = require("fs");
    const ids = fs.readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l).length);
    const counts = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").map(Number);
    const bad = ids.filter((n, i) => n !== counts[i]).length;
    console.log(`'"$enc"' --count vs --ids: ${bad} mismatches in ${ids.length} files`);
    process.exit(bad === 0 && ids.length === counts.length ? 0 : 1);
  ' "$work/ours.$enc.all" "$work/counts.$enc" || status=1
done

# Standard input and the documented CLI contract.
out="$(printf 'hello world' | "$ingestd" tokenize)"
[ "$out" = "$(printf '2\t-')" ] || { echo "FAIL: stdin count: '$out'"; status=1; }
out="$(printf 'hello world' | "$ingestd" tokenize --ids -)"
[ "$out" = "[15339,1917]" ] || { echo "FAIL: stdin ids: '$out'"; status=1; }
rc=0; "$ingestd" tokenize --encoding p50k_base </dev/null >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || { echo "FAIL: bad encoding exit code $rc (want 2)"; status=1; }
rc=0; "$ingestd" tokenize "$work/does-not-exist.txt" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || { echo "FAIL: unreadable file exit code $rc (want 1)"; status=1; }

if [ "$status" = 0 ]; then echo "PASS"; else echo "FAIL"; fi
exit "$status"
