#!/usr/bin/env bash
# Search quality before/after collapsing identical texts and ranking table-of-contents chunks
# down (issue #24), on a labelled query set built from the corpus itself.
#
#   bench/search_quality.sh [INGESTD] [MANUAL.pdf...]
#
# Corpus: the R manuals from Debian's r-doc-pdf (default R-intro.pdf, R-data.pdf, R-admin.pdf),
# plus a byte-identical copy of the first one under another name (as on a shared drive). Note:
# identical files are one document already at receive (same sha256), so the copy adds no
# duplicate chunks; the last column shows that; collapsing texts shared by *different* files is
# covered by search/vector_search_test.cc.
# Queries: the section titles of each manual's table of contents ("1.1 The R environment . . 2"
# -> "The R environment"), read with pdftotext; titles of fewer than three words are left out.
# A result is relevant when it is not a table-of-contents chunk and its heading path or text
# holds the title (case and spacing ignored). One `ingestd search --mode vector -k 100 --json`
# per query (vector mode: this measures the cosine ranking, not the hybrid default) gives both
# rankings: "after" is the order returned; "before" re-ranks by raw similarity (a
# table-of-contents chunk's score is halved, so doubled back) and expands each result's
# `also_in` copies into results of their own, as search returned them before.
# Prints MRR@10, hit@1, the share of queries whose first result is a table of contents, and the
# distinct texts among the top 10. The embedder is the configured one (default lexical).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(readlink -f "${1:-$root/build/release/cmd/ingestd/ingestd}")
shift || true
manuals=("$@")
if [ ${#manuals[@]} -eq 0 ]; then
  manuals=(/usr/share/R/doc/manual/R-intro.pdf /usr/share/R/doc/manual/R-data.pdf
           /usr/share/R/doc/manual/R-admin.pdf)
fi
command -v pdftotext >/dev/null || { echo "search_quality.sh: pdftotext is required" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/docs"
for m in "${manuals[@]}"; do cp "$m" "$tmp/docs/"; done
cp "${manuals[0]}" "$tmp/docs/copy-of-$(basename "${manuals[0]}")"
export INGESTD_DATA_DIR="$tmp/data" INGESTD_LOG_LEVEL=warn
"$bin" ingest "$tmp/docs" --json > "$tmp/ingest.json"
for m in "${manuals[@]}"; do pdftotext -l 12 "$m" "$tmp/$(basename "$m").toc.txt"; done
python3 - "$bin" "$tmp" <<'PY'
import glob, json, os, re, subprocess, sys
bin, tmp = sys.argv[1], sys.argv[2]
titles = []
for path in sorted(glob.glob(os.path.join(tmp, "*.toc.txt"))):
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.match(r"^\s*\d+(\.\d+)+\s+(.+?)\s*(\.\s*){3,}\s*\d+\s*$", line)
        if m and len(m.group(2).split()) >= 3:
            titles.append(m.group(2).strip().rstrip("."))
titles = list(dict.fromkeys(titles))
norm = lambda s: " ".join(s.lower().split())

def relevant(hit, title):
    t = norm(title)
    return not hit["toc"] and (t in norm(hit["heading_path"]) or t in norm(hit["text"]))

def metrics(rankings):
    mrr = hit1 = toc1 = 0.0
    distinct = 0.0
    for title, ranking in rankings:
        top = ranking[:10]
        for i, h in enumerate(top):
            if relevant(h, title):
                mrr += 1.0 / (i + 1)
                break
        hit1 += 1 if ranking and relevant(ranking[0], title) else 0
        toc1 += 1 if ranking and ranking[0]["toc"] else 0
        distinct += len({h["text"] for h in top})
    n = len(rankings)
    return mrr / n, hit1 / n, toc1 / n, distinct / n

before, after = [], []
for title in titles:
    out = subprocess.run([bin, "search", title, "--mode", "vector", "-k", "100", "--json"],
                         capture_output=True,
                         text=True, check=True).stdout
    hits = json.loads(out)
    a = [{"toc": h["table_of_contents"], "text": h["text"], "heading_path": h["heading_path"],
          "score": h["score"]} for h in hits]
    b = []
    for h in hits:
        raw = h["score"] * 2 if h["table_of_contents"] and h["score"] > 0 else h["score"]
        for _ in range(1 + len(h["also_in"])):
            b.append({"toc": h["table_of_contents"], "text": h["text"],
                      "heading_path": h["heading_path"], "score": raw})
    b.sort(key=lambda h: -h["score"])  # stable: ties keep the returned order
    after.append((title, a))
    before.append((title, b))
rows = [("before", metrics(before)), ("after", metrics(after))]
print(f"{len(titles)} queries (section titles of {len(glob.glob(os.path.join(tmp, '*.toc.txt')))} manuals' tables of contents), corpus {len(os.listdir(os.path.join(tmp, 'docs')))} PDFs incl. one duplicate copy")
print(f"{'':8} {'MRR@10':>8} {'hit@1':>8} {'TOC@1':>8} {'distinct texts in top 10':>26}")
for name, (mrr, hit1, toc1, distinct) in rows:
    print(f"{name:8} {mrr:8.3f} {hit1:8.3f} {toc1:8.3f} {distinct:26.2f}")
PY
