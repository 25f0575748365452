#!/usr/bin/env bash
# End-to-end: `ingestd ingest` on real PDFs from Debian's documentation packages, multilingual
# text and malformed inputs; then `ingestd search`, a re-run that must do no work, and
# `ingestd jobs list`. Usage: ingest_e2e_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"
need_file "$R_MANUALS/R-intro.pdf"
need_file "$REFCARDS/refcard-ja-a4.pdf.gz"

docs="$WORK/docs"
mkdir -p "$docs/pdf" "$docs/bad"
cp "$R_MANUALS/R-intro.pdf" "$R_MANUALS/R-data.pdf" "$docs/pdf/"
zcat "$REFCARDS/refcard-ja-a4.pdf.gz" > "$docs/pdf/refcard-ja.pdf"
zcat "$REFCARDS/refcard-ru-a4.pdf.gz" > "$docs/pdf/refcard-ru.pdf"
zcat "$REFCARDS/refcard-en-a4.pdf.gz" > "$docs/pdf/refcard-en.pdf"
cp -r "$SRC/examples" "$docs/examples"
python3 "$SRC/tests/lib/make_fixtures.py" "$docs/bad"
mv "$docs/bad/multilingual.md" "$docs/bad/mostly-utf8.txt" "$docs/"
head -c 40000 "$R_MANUALS/R-admin.pdf" > "$docs/bad/truncated.pdf"

export INGESTD_DATA_DIR="$WORK/data"
# The bomb inflates to 64 MiB; the limit makes it fail fast and proves the guard.
export INGESTD_MAX_UNCOMPRESSED_BYTES=$((16 << 20))

set +e
"$BIN" ingest "$docs" --json > "$WORK/run1.json" 2> "$WORK/run1.log"
rc=$?
set -e
check "ingest exits 1 when some documents failed (rc=$rc)" test "$rc" -eq 1
python3 - "$WORK/run1.json" "$docs" <<'PY' && pass "summary JSON: counts, and each bad input failed with its code" || fail "summary JSON"
import json, os, sys
s = json.load(open(sys.argv[1]))
docs = sys.argv[2]
for key in ("documents", "completed", "failed", "chunks", "tokens", "cost_usd", "elapsed_s", "failures"):
    assert key in s, f"missing key {key}"
bad = sorted(os.listdir(os.path.join(docs, "bad")))
total = sum(len(files) for _, _, files in os.walk(docs))
assert s["documents"] == total, (s["documents"], total)
assert s["failed"] == len(bad), (s["failed"], bad, s["failures"])
assert s["completed"] == total - len(bad), s
assert s["chunks"] > 100 and s["tokens"] > 10000, s
assert s["cost_usd"] == 0, s   # local parser + lexical embedder are free
expected = {
    "empty.txt": "empty_document",
    "truncated.pdf": "pdf_corrupt",
    "random-bytes.pdf": "unsupported_type",
    "not-utf8.txt": None,          # any clear code: not text
    "nul-bytes.txt": None,
    "bomb.docx": "docx_too_large",
    "scanned-image-only.pdf": "no_text_layer",
}
got = {os.path.basename(f["path"]): f for f in s["failures"]}
assert sorted(got) == sorted(expected), sorted(got)
for name, code in expected.items():
    f = got[name]
    assert f["code"] and f["message"], f
    if code is not None:
        assert f["code"] == code, (name, f)
assert "layout/OCR" in got["scanned-image-only.pdf"]["message"] or "OCR" in got["scanned-image-only.pdf"]["message"], got["scanned-image-only.pdf"]
PY

# A phrase from page 20 of R-intro.pdf (pdftotext -f 20 -l 20) is found on that page.
"$BIN" search "entities R operates on are technically known as objects" -k 3 --json > "$WORK/s1.json"
python3 - "$WORK/s1.json" <<'PY' && pass "search finds the R-intro phrase on page 20" || fail "search page"
import json, sys
hits = json.load(open(sys.argv[1]))
top = hits[0]
for key in ("document_id", "filename", "page_start", "page_end", "score", "text"):
    assert key in top, key
assert top["filename"].endswith("R-intro.pdf"), top["filename"]
assert top["page_start"] <= 20 <= top["page_end"], (top["page_start"], top["page_end"])
assert "technically known as objects" in " ".join(top["text"].split()), top["text"][:200]
PY

"$BIN" search "ネットワークインターフェイス設定" -k 5 --json > "$WORK/s2.json"
python3 - "$WORK/s2.json" <<'PY' && pass "Japanese text from a real PDF survives and is found" || fail "CJK search"
import json, sys
hits = json.load(open(sys.argv[1]))
assert any(h["filename"].endswith("refcard-ja.pdf") and "ネットワーク" in h["text"] for h in hits), [h["filename"] for h in hits]
PY

"$BIN" search "Быстрая коричневая лиса" -k 3 --json > "$WORK/s3.json"
python3 - "$WORK/s3.json" <<'PY' && pass "Cyrillic text survives and is found" || fail "Cyrillic search"
import json, sys
hits = json.load(open(sys.argv[1]))
assert hits[0]["filename"].endswith("multilingual.md"), hits[0]
assert "Быстрая коричневая лиса" in hits[0]["text"]
PY

"$BIN" search "имя-пакета" -k 5 --json > "$WORK/s4.json"
python3 - "$WORK/s4.json" <<'PY' && pass "Cyrillic from a real PDF survives" || fail "Cyrillic PDF"
import json, sys
hits = json.load(open(sys.argv[1]))
assert any(h["filename"].endswith("refcard-ru.pdf") and "имя-пакета" in h["text"] for h in hits)
PY

# Stray invalid bytes are replaced, not fatal.
"$BIN" search "The rest of the text is fine and searchable" -k 1 --json > "$WORK/s5.json"
python3 - "$WORK/s5.json" <<'PY' && pass "invalid UTF-8 bytes replaced with U+FFFD" || fail "U+FFFD"
import json, sys
h = json.load(open(sys.argv[1]))[0]
assert h["filename"].endswith("mostly-utf8.txt") and "\ufffd" in h["text"], h
PY

# A second run does no new work and says so.
set +e
"$BIN" ingest "$docs" --json > "$WORK/run2.json" 2>/dev/null
rc2=$?
set -e
python3 - "$WORK/run1.json" "$WORK/run2.json" <<'PY' && pass "re-run: nothing new, same totals" || fail "re-run"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert b["new"] == 0, b
assert b["already_done"] == a["completed"], b
assert b["completed"] == a["completed"] and b["failed"] == a["failed"], b
PY
"$BIN" ingest "$docs/examples" > "$WORK/run3.txt" 2>&1
check "re-run says nothing to do" grep -qi "nothing to do" "$WORK/run3.txt"

"$BIN" jobs list --json > "$WORK/jobs.json"
python3 - "$WORK/jobs.json" <<'PY' && pass "jobs list --json has the documented keys" || fail "jobs list"
import json, sys
jobs = json.load(open(sys.argv[1]))
assert len(jobs) >= 10
for j in jobs:
    for key in ("job_id", "document_id", "filename", "stage", "state", "defer_reason", "attempts", "last_error_code", "cost_usd"):
        assert key in j, key
states = {j["state"] for j in jobs}
assert states <= {"complete", "failed"}, states
PY

# Multi-column layout in reading order: on page 1 of the English reference card the left
# column's "Write package selections to ... Set package selections from" must not be interleaved
# with the right column's "Getting Help / Read online help", as a line-by-line layout would do.
sqlite3 "$INGESTD_DATA_DIR/ingestd.db" "SELECT c.text FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.filename LIKE '%refcard-en.pdf' AND c.page_start <= 1 ORDER BY c.ordinal" > "$WORK/refcard-p1.txt"
python3 - "$WORK/refcard-p1.txt" <<'PY' && pass "multi-column PDF comes out column by column" || fail "reading order"
import sys
t = " ".join(open(sys.argv[1]).read().split())
a, b = t.find("Write package selections to"), t.find("Set package selections from")
h = t.find("Read online help for every")
assert a >= 0 and b > a and h >= 0, (a, b, h)
brief = t.find("Brief help for most")
assert brief >= 0 and not (a < brief < b) and not (a < h < b), "right column interleaved into the left one"
assert t.find("Getting Help") < h, "heading after its text"
PY

# Logs are JSON lines carrying the job's correlation fields (a fresh data dir, one bad file).
mkdir -p "$WORK/logdocs" && cp "$docs/bad/empty.txt" "$WORK/logdocs/"
set +e
INGESTD_DATA_DIR="$WORK/logdata" INGESTD_LOG_LEVEL=info "$BIN" ingest "$WORK/logdocs" --json \
  > /dev/null 2> "$WORK/log.jsonl"
set -e
python3 - "$WORK/log.jsonl" <<'PY' && pass "stage logs are JSON with correlation_id, job_id, document_id, stage" || fail "log context"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
failed = [l for l in lines if l.get("msg") == "stage failed"]
assert failed, lines
f = failed[0]
for key in ("ts", "level", "correlation_id", "job_id", "document_id", "stage", "code"):
    assert f.get(key), (key, f)
assert f["stage"] in ("parse", "validate") and f["code"] == "empty_document", f
PY

chunks=$(sqlite3 "$INGESTD_DATA_DIR/ingestd.db" "SELECT count(*) FROM chunks")
distinct=$(sqlite3 "$INGESTD_DATA_DIR/ingestd.db" "SELECT count(*) FROM (SELECT DISTINCT document_id, ordinal FROM chunks)")
check "no chunk stored twice ($chunks chunks)" test "$chunks" -eq "$distinct"
finish
