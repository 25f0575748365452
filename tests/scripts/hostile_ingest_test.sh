#!/usr/bin/env bash
# Containment of untrusted files (issue #20): `ingestd ingest DIR --json` on a folder of hostile
# and malformed files (tests/lib/make_hostile.py: ~550 KB of nested HTML tags, 5 MB of Markdown
# on one line, a 1 GiB DOCX zip bomb, DOCX XML nested a million deep, a PDF whose content stream
# inflates to 1 GiB, lying and self-referencing PDFs, ...) plus the parse subprocess's test hooks
# (a parse that hangs ignoring SIGTERM, one that segfaults, one that overflows its stack), mixed
# with normal documents. The run must exit without a signal, every file must end `complete` or
# `failed` with a code, the normal documents must complete, and the known attacks must fail
# with the codes that name them. Then the same folder with parse.isolation = none shows that the
# root-cause fixes hold without the subprocess too (hooks excluded: in-process they would take
# the process down, which is the point of the subprocess).
# Usage: hostile_ingest_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"

docs="$WORK/docs"
mkdir -p "$docs"
python3 "$SRC/tests/lib/make_hostile.py" "$docs" --hooks
cat > "$docs/normal.md" <<'MD'
# Normal document

This ordinary Markdown file is ingested together with the hostile ones and must complete.
Containment means one bad upload fails alone while everything else goes on.
MD
printf '<html><body><h1>Plain page</h1><p>An ordinary HTML page that must complete.</p></body></html>' > "$docs/normal.html"

export INGESTD_DATA_DIR="$WORK/data"
export INGESTD_TEST_HOOKS=1
# Short enough that the hanging hook does not dominate the run; long enough for the real files.
export INGESTD_PARSE_TIMEOUT_S=10
export INGESTD_WORKERS=2

set +e
"$BIN" ingest "$docs" --json > "$WORK/run.json" 2> "$WORK/run.log"
rc=$?
set -e
check "ingest exits normally, not on a signal (rc=$rc)" test "$rc" -lt 128
check "ingest reports failures with exit code 1 (rc=$rc)" test "$rc" -eq 1

python3 - "$WORK/run.json" "$docs" <<'PY' && pass "every file complete or failed with a code; the attacks fail with theirs" || { fail "summary"; tail -20 "$WORK/run.log"; }
import json, os, sys
s = json.load(open(sys.argv[1]))
names = sorted(os.listdir(sys.argv[2]))
assert s["documents"] == len(names), (s["documents"], len(names))
assert s["completed"] + s["failed"] == len(names), s
failed = {os.path.basename(f["path"]): f for f in s["failures"]}
for name, f in failed.items():
    assert f["code"] and f["message"], f
for name in ("normal.md", "normal.html"):
    assert name not in failed, failed.get(name)
expected = {
    "hook-hang.txt": "parse_timeout",
    "hook-crash.txt": "parse_crashed",
    "hook-stack.txt": "parse_crashed",
    "bomb-1g.docx": "docx_too_large",
}
for name, code in expected.items():
    assert name in failed and failed[name]["code"] == code, (name, failed.get(name))
# The root-cause fixes: these parse (they may still fail validation for lack of real text, but
# never by crashing, hanging or exhausting the parse process).
for name in ("nested-div.html", "nested-span.html", "nested-table.html", "nested-list.html",
             "unclosed-formatting.html", "one-line.md", "one-token.md", "deep-runs.docx",
             "deep-body.docx"):
    code = failed.get(name, {}).get("code")
    assert code not in ("parse_crashed", "parse_timeout", "parse_too_large"), (name, failed[name])
print("completed:", s["completed"], "failed:", {n: f["code"] for n, f in sorted(failed.items())})
PY

grep -q '"code":"parse_crashed"' "$WORK/run.log" && pass "the crash is logged with its code" || fail "crash log line"

# The root-cause fixes alone, in-process (parse.isolation = none): nested HTML, one-line
# Markdown, deep DOCX XML and the DOCX bomb parse (or fail with their code) quickly without the
# subprocess. (The PDF stream bomb and the hooks are left out: only the subprocess bounds them.)
mkdir -p "$WORK/inproc"
for f in normal.md normal.html nested-div.html nested-span.html nested-table.html nested-list.html \
         unclosed-formatting.html one-line.md one-token.md deep-runs.docx deep-body.docx bomb-1g.docx; do
  cp "$docs/$f" "$WORK/inproc/"
done
set +e
INGESTD_PARSE_ISOLATION=none INGESTD_DATA_DIR="$WORK/data-inproc" \
  "$BIN" ingest "$WORK/inproc" --json > "$WORK/inproc.json" 2> "$WORK/inproc.log"
rc=$?
set -e
check "in-process ingest of the hostile files exits without a signal (rc=$rc)" test "$rc" -lt 128
python3 - "$WORK/inproc.json" <<'PY' && pass "in-process: normal files complete, nested HTML/Markdown/DOCX parse" || fail "in-process summary"
import json, os, sys
s = json.load(open(sys.argv[1]))
failed = {os.path.basename(f["path"]): f["code"] for f in s["failures"]}
assert "normal.md" not in failed and "normal.html" not in failed, failed
for name in ("nested-div.html", "nested-span.html", "nested-table.html", "nested-list.html",
             "unclosed-formatting.html", "one-line.md", "one-token.md", "deep-runs.docx",
             "deep-body.docx"):
    assert name not in failed, (name, failed.get(name))
assert failed.get("bomb-1g.docx") == "docx_too_large", failed
PY

# No parse process outlives the run.
check "no parse subprocess left running" bash -c "! pgrep -f '[_]_parse-document path=$WORK' >/dev/null"
finish
