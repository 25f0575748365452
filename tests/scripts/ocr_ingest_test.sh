#!/usr/bin/env bash
# Local OCR end to end (issue 19), with the real binary and real pages: pages of Debian's R
# manual are rendered (pdftoppm) and put back into PDFs as pictures (tests/lib/scan_pdf.py), so
# their text layer is the ground truth. `ingestd ingest DIR --json` must complete an image-only
# PDF, a mixed PDF (born-digital pages around a scanned one) and a PNG, and fail a corrupt PNG
# alone with its reason; `jobs show` names the parser of every page; `search` finds a sentence
# from a scanned page on the right page; the ledger has the OCR pages at $0 as local usage;
# `doctor` fails a missing language pack, naming the package.
# Usage: ocr_ingest_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"

R_INTRO="$R_MANUALS/R-intro.pdf"
need_file "$R_INTRO"
if ! "$BIN" doctor --json 2>/dev/null | grep -q '"name": *"ocr"'; then
  echo "skip - this ingestd has no OCR check (built without OCR?)"; exit 0
fi

docs="$WORK/docs"
mkdir -p "$docs"
SCAN="python3 $SRC/tests/lib/scan_pdf.py"
# Pages 10 and 11 of R-intro, scanned at 200 DPI.
$SCAN "$docs/scanned.pdf" --dpi 200 "scan:$R_INTRO:10" "scan:$R_INTRO:11"
# Born-digital, scanned, born-digital.
$SCAN "$docs/mixed.pdf" --dpi 200 \
  "text:This first page of the mixed file is born digital and has a real text layer." \
  "scan:$R_INTRO:12" \
  "text:This third page of the mixed file is born digital again, after the scanned page."
$SCAN --png "$docs/page.png" --dpi 200 "$R_INTRO:13"
head -c 3000 "$docs/page.png" > "$docs/corrupt.png"

export INGESTD_DATA_DIR="$WORK/data"
export INGESTD_WORKERS=2
set +e
"$BIN" ingest "$docs" --json > "$WORK/run.json" 2> "$WORK/run.log"
rc=$?
set -e
check "ingest exits 1: one document (the corrupt PNG) failed (rc=$rc)" test "$rc" -eq 1
python3 - "$WORK/run.json" <<'PY' && pass "image-only PDF, mixed PDF and PNG complete; the corrupt PNG fails alone with image_corrupt" || { fail "ingest summary"; cat "$WORK/run.json"; tail -20 "$WORK/run.log"; }
import json, os, sys
s = json.load(open(sys.argv[1]))
assert s["documents"] == 4, s
assert s["completed"] == 3, s
failed = {os.path.basename(f["path"]): f for f in s["failures"]}
assert list(failed) == ["corrupt.png"], failed
assert failed["corrupt.png"]["code"] == "image_corrupt", failed
assert "no_text_layer" not in json.dumps(s), s
PY

"$BIN" jobs list --json > "$WORK/jobs.json"
job_of() {
  python3 -c 'import json,sys; print([j["job_id"] for j in json.load(open(sys.argv[1])) if j["filename"].endswith(sys.argv[2])][0])' "$WORK/jobs.json" "$1"
}
"$BIN" jobs show "$(job_of mixed.pdf)" > "$WORK/show-mixed.txt"
check "jobs show names the parser of each page of the mixed PDF" \
  grep -q '^pages     local:ocr 2; local:pdf 1,3$' "$WORK/show-mixed.txt"
check "jobs show reports what OCR did" grep -q '^ocr       1 page(s) in .*mean word confidence' "$WORK/show-mixed.txt"
"$BIN" jobs show "$(job_of scanned.pdf)" > "$WORK/show-scanned.txt"
check "jobs show: both pages of the image-only PDF came from local:ocr" \
  grep -q '^pages     local:ocr 1-2$' "$WORK/show-scanned.txt"
"$BIN" jobs show "$(job_of mixed.pdf)" --json > "$WORK/show-mixed.json"
python3 - "$WORK/show-mixed.json" <<'PY' && pass "jobs show --json: page_parsers and the document parser" || { fail "jobs show --json"; cat "$WORK/show-mixed.json" | head -40; }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["page_parsers"] == {"local:ocr": "2", "local:pdf": "1,3"}, j["page_parsers"]
assert j["document"]["parser"] == "local:pdf+ocr", j["document"]
assert j["ocr"]["ocr_pages"] == 1 and j["ocr"]["ocr_mean_confidence"] > 80, j["ocr"]
PY

# A sentence from the text layer of R-intro page 11 (scanned page 2 of scanned.pdf): OCR must
# have read it well enough for search to find that document and page.
sentence="$(pdftotext -f 11 -l 11 "$R_INTRO" - | python3 -c '
import sys
lines = [l.strip() for l in sys.stdin.read().splitlines() if len(l.strip()) > 60]
print(lines[len(lines) // 2])')"
"$BIN" search "$sentence" -k 3 --json > "$WORK/search.json"
python3 - "$WORK/search.json" "$sentence" <<'PY' && pass "search finds a sentence of a scanned page on its document and page" || { fail "search"; echo "query: $sentence"; head -c 2000 "$WORK/search.json"; }
import json, sys
top = json.load(open(sys.argv[1]))[0]
assert top["filename"].endswith("scanned.pdf"), top
assert top["page_start"] <= 2 <= top["page_end"], top
PY

python3 - "$WORK/data/ingestd.db" <<'PY' && pass "ledger: OCR pages recorded at \$0 as local usage (service local, operation ocr)" || fail "ledger rows"
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.row_factory = sqlite3.Row
rows = [dict(r) for r in con.execute("select * from ledger where service='local' and operation='ocr'")]
# scanned.pdf (2 pages), mixed.pdf (1 page), page.png (1 page)
assert sorted(r["pages"] for r in rows) == [1, 1, 2], rows
for r in rows:
    assert r["state"] == "settled", r
    assert all(v == 0 for k, v in r.items() if k.startswith("cost_")), r
PY

set +e
INGESTD_OCR_LANGUAGES=eng+zzz "$BIN" doctor > "$WORK/doctor.txt" 2>&1
drc=$?
set -e
check "doctor fails when a language pack is missing (rc=$drc)" test "$drc" -ne 0
check "doctor names the missing pack's package" grep -q 'tesseract-ocr-zzz' "$WORK/doctor.txt"
"$BIN" doctor > "$WORK/doctor-ok.txt" 2>&1 || true
check "doctor passes the ocr check with eng" grep -qE '^ok +ocr +tesseract 5' "$WORK/doctor-ok.txt"

finish
