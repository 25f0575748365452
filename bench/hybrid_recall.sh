#!/usr/bin/env bash
# Recall@5 of vector-only, lexical-only and hybrid search (issue 18) on a labelled query set
# built from the corpus itself: sentence -> the chunk that holds it.
#
#   bench/hybrid_recall.sh [INGESTD] [MANUAL.pdf...]
#
# Corpus: the R manuals from Debian's r-doc-pdf (default R-intro.pdf, R-data.pdf,
# R-admin.pdf), ingested with the default (local, lexical) embedder into a fresh SQLite store.
# Queries: QUERIES (default 150) sentences drawn with a fixed seed (SEED, default 18) from the
# stored chunks: 8 to 40 words, mostly letters, not from a table-of-contents chunk, found in
# exactly one distinct chunk text. Two query sets from the same sentences:
#   sentence  the sentence as written;
#   keywords  half of its words longer than three letters (at least three), shuffled: a user who
#             remembers some of the words, not the phrasing;
#   typos     the keywords with two adjacent inner letters swapped in every other word (from the
#             first): a user who mistypes. Full text needs exact words (after stemming); the
#             local embedder's character n-grams survive a typo.
# A query is answered when one of the top 5 results (its chunk or an `also_in` copy) holds the
# sentence; recall@5 is the share of queries answered (one relevant text per query). Also
# prints MRR@5. One `ingestd search --mode M -k 5 --json -- Q` per query and mode.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(readlink -f "${1:-$root/build/release/cmd/ingestd/ingestd}")
shift || true
manuals=("$@")
if [ ${#manuals[@]} -eq 0 ]; then
  manuals=(/usr/share/R/doc/manual/R-intro.pdf /usr/share/R/doc/manual/R-data.pdf
           /usr/share/R/doc/manual/R-admin.pdf)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/docs"
for m in "${manuals[@]}"; do cp "$m" "$tmp/docs/"; done
export INGESTD_DATA_DIR="$tmp/data" INGESTD_LOG_LEVEL=warn
"$bin" ingest "$tmp/docs" --json > "$tmp/ingest.json"
python3 - "$bin" "$tmp/data/ingestd.db" "${QUERIES:-150}" "${SEED:-18}" <<'PY'
import json, random, re, sqlite3, subprocess, sys, time
bin, db, n_queries, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = sqlite3.connect(db).execute("SELECT id, text FROM chunks").fetchall()
norm = lambda s: " ".join(s.split())
texts = {cid: norm(t) for cid, t in rows}
toc = re.compile(r"(\.\s*){4,}\d|(\d+,\s*){4,}")

candidates = []
for cid, text in sorted(texts.items()):
    if toc.search(text):
        continue
    for s in re.split(r"(?<=[.!?])\s+", text):
        words = s.split()
        letters = sum(c.isalpha() for c in s)
        if 8 <= len(words) <= 40 and letters >= 0.7 * len(s.replace(" ", "")):
            candidates.append(s)
candidates = sorted(set(candidates))
rng = random.Random(seed)
rng.shuffle(candidates)
queries = []
for s in candidates:
    holders = {t for t in texts.values() if s in t}
    if len(holders) != 1:
        continue  # repeated boilerplate: no single right answer
    words = [w.strip(".,;:()\"'") for w in s.split()]
    long = [w for w in words if len(w) > 3]
    if len(long) < 3:
        continue
    keywords = rng.sample(long, max(3, len(long) // 2))
    typos = []
    for i, w in enumerate(keywords):
        if i % 2 == 0 and len(w) >= 4:
            j = rng.randrange(1, len(w) - 2)
            w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
        typos.append(w)
    queries.append({"sentence": s, "keywords": " ".join(keywords), "typos": " ".join(typos),
                    "holds": s})
    if len(queries) == n_queries:
        break

def answered(hits, sentence):
    for rank, h in enumerate(hits[:5], 1):
        ids = [h["chunk_id"]] + [a["chunk_id"] for a in h["also_in"]]
        if any(sentence in texts.get(i, "") for i in ids):
            return rank
    return 0

print(f"{len(rows)} chunks, {len(queries)} queries (seed {seed})")
print("| query set | mode | recall@5 | MRR@5 | ms/query (CLI process) |")
print("|---|---|---|---|---|")
for qset in ("sentence", "keywords", "typos"):
    for mode in ("vector", "lexical", "hybrid"):
        hit = mrr = 0.0
        t0 = time.monotonic()
        for q in queries:
            out = subprocess.run([bin, "search", "--mode", mode, "-k", "5", "--json", "--",
                                  q[qset]], capture_output=True, text=True, check=True).stdout
            r = answered(json.loads(out), q["holds"])
            hit += 1 if r else 0
            mrr += 1.0 / r if r else 0
        ms = (time.monotonic() - t0) * 1000 / len(queries)
        n = len(queries)
        print(f"| {qset} | {mode} | {hit / n:.3f} | {mrr / n:.3f} | {ms:.0f} |")
PY
