#!/usr/bin/env python3
"""Checks the store of a finished scale-out run against the emulators' billing logs.

Usage: check_scale_run.py DB_URL OPENAI_BILLING LLAMA_BILLING COSTS_JSON N_DOCS N_REMOTE
                          MODE LEDGER_EXACT REFERENCE_FILE

MODE "clean": no worker was killed and the database stayed up, so every file must have been
parsed once and every distinct chunk text embedded once (billing == distinct texts).
MODE "faults": workers were killed (or PostgreSQL restarted); texts whose embedding was cut
short may be billed again (real provider charges), but the store must hold each document,
chunk and vector exactly once.
LEDGER_EXACT 1: the ledger (costs --json and the ledger rows) equals the billing logs exactly;
0: only that every ledger row is billed (no phantom costs) is checked, and the gap is printed.
REFERENCE_FILE: chunk-set digest of a clean run (written when it does not exist yet).
Prints one "ok   - " or "FAIL - " line per check; exits 1 when any check failed.
"""
import hashlib
import json
import math
import os
import subprocess
import sys

db, openai_log, llama_log, costs_path = sys.argv[1:5]
n_docs, n_remote = int(sys.argv[5]), int(sys.argv[6])
mode, ledger_exact, reference = sys.argv[7], sys.argv[8] == "1", sys.argv[9]
failures = 0


def check(what, ok, detail=""):
    global failures
    if ok:
        print(f"ok   - {what}")
    else:
        failures += 1
        print(f"FAIL - {what}" + (f": {detail}" if detail else ""))


def q(sql):
    out = subprocess.run(["psql", db, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True).stdout.strip()
    return out


def qjson(sql):
    out = q(f"SELECT coalesce(json_agg(t), '[]'::json) FROM ({sql}) t")
    return json.loads(out)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# --- every document complete, each exactly once ------------------------------------------------
jobs = qjson("SELECT id, document_id, state, stage FROM jobs")
states = {}
for j in jobs:
    states[j["state"]] = states.get(j["state"], 0) + 1
check(f"{n_docs} jobs, all complete", len(jobs) == n_docs and states == {"complete": n_docs},
      str(states))
docs = int(q("SELECT count(*) FROM documents"))
distinct_files = int(q("SELECT count(DISTINCT sha256) FROM documents"))
check(f"{n_docs} documents, one per file", docs == n_docs == distinct_files,
      f"{docs} rows, {distinct_files} distinct files")
indexed = int(q("SELECT count(*) FROM document_index"))
check("every document indexed once", indexed == n_docs, f"{indexed} index rows")
running = int(q("SELECT count(*) FROM jobs WHERE lease_owner <> '' AND lease_owner IS NOT NULL"))
check("no job left leased", running == 0, f"{running} leased")

# --- chunks and vectors: no duplicates, none missing ------------------------------------------
chunks = int(q("SELECT count(*) FROM chunks"))
dup_chunks = int(q("SELECT count(*) FROM (SELECT document_id, ordinal FROM chunks "
                   "GROUP BY 1, 2 HAVING count(*) > 1) d"))
check(f"no chunk stored twice ({chunks} chunks)", chunks > 0 and dup_chunks == 0,
      f"{dup_chunks} duplicated (document, ordinal)")
distinct_texts = int(q("SELECT count(DISTINCT text_sha256) FROM chunks"))
vectors = int(q("SELECT count(*) FROM vectors"))
check(f"one vector per distinct chunk text ({vectors} vectors, {distinct_texts} texts)",
      vectors == distinct_texts)
unvectored = int(q("SELECT count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM vectors v "
                   "WHERE v.text_sha256 = c.text_sha256)"))
check("every chunk has its vector", unvectored == 0, f"{unvectored} without")
digest = hashlib.sha256(q("SELECT string_agg(id || ':' || text_sha256, ',' ORDER BY id) "
                          "FROM chunks").encode()).hexdigest()
if os.path.exists(reference):
    ref = open(reference).read().strip()
    check("same chunk set (ids and texts) as the clean run", digest == ref, f"{digest} vs {ref}")
else:
    with open(reference, "w") as f:
        f.write(digest)

# --- parsing: one successful parse per job; LlamaParse uploads --------------------------------
parse_done = qjson("SELECT job_id, count(*) AS n FROM events WHERE kind = 'job.transition' AND "
                   "detail_json::json->>'from_stage' = 'parse' AND "
                   "detail_json::json->>'to_stage' = 'validate' GROUP BY job_id")
most = max([r["n"] for r in parse_done] or [0])
if mode == "clean":
    check("events: exactly one completed parse per job",
          len(parse_done) == n_docs and most == 1, f"{len(parse_done)} jobs, max {most}")
else:
    # The transition event is appended after the transition commits: a worker killed in
    # between loses the event (not the transition), so under faults it may be missing.
    check("events: no job parsed to completion twice", most <= 1,
          f"{len(parse_done)} jobs, max {most}")
    if len(parse_done) != n_docs:
        print(f"note - {n_docs - len(parse_done)} parse transition event(s) lost to a kill "
              "between the transition and its event")
remote_docs = int(q("SELECT count(*) FROM documents WHERE parser = 'llamaparse'"))
check(f"{n_remote} thin PDFs parsed by LlamaParse (auto routing)", remote_docs == n_remote,
      f"{remote_docs}")
llama = read_jsonl(llama_log)
by_file = {}
for r in llama:
    by_file.setdefault(r["file_sha256"], []).append(r)
if mode == "clean":
    check("LlamaParse billed each routed file exactly once",
          len(by_file) == n_remote and all(len(v) == 1 for v in by_file.values()),
          f"{len(llama)} jobs for {len(by_file)} files")
else:
    paid = [r for r in llama if r["credits"] > 0]
    paid_files = {r["file_sha256"] for r in paid}
    check("LlamaParse: every routed file billed, paid uploads at most once per file",
          len(by_file) == n_remote and len(paid) == len(paid_files),
          f"{len(llama)} jobs, {len(paid)} paid, {len(by_file)} files")

# --- embedding: each distinct chunk text once -------------------------------------------------
openai = read_jsonl(openai_log)
billed_inputs = sum(r["inputs"] for r in openai)
billed_tokens = sum(r["tokens"] for r in openai)
if mode == "clean":
    check(f"each distinct chunk text embedded exactly once ({billed_inputs} inputs billed)",
          billed_inputs == distinct_texts)
else:
    check(f"every distinct chunk text embedded ({billed_inputs} inputs billed, "
          f"{distinct_texts} texts; re-embedding after a kill is billed again)",
          billed_inputs >= distinct_texts)

# --- ledger == billing -------------------------------------------------------------------------
rows = qjson("SELECT service, provider_request_id, tokens, credits, cost_nanos, state "
             "FROM ledger")
# Released rows are calls that billed nothing (refused or failed): not part of the bill.
openai_rows = [r for r in rows if r["service"] == "openai" and r["state"] != "released"]
llama_rows = [r for r in rows if r["service"] == "llamaparse" and r["state"] != "released"]
billed_req = {r["request_id"]: r["tokens"] for r in openai}
ledger_req = {}
phantom = []
for r in openai_rows:
    ids = [i for i in (r["provider_request_id"] or "").split(",") if i]
    if not ids:
        continue  # a reconciled orphan: checked against the unnamed billed requests below
    for i in ids:
        if i not in billed_req or i in ledger_req:
            phantom.append(i)
        ledger_req[i] = r
    tokens = sum(billed_req.get(i, 0) for i in ids)
    if r["tokens"] != tokens or r["cost_nanos"] != tokens * 20:
        phantom.append(f"row {ids}: {r['tokens']} tokens {r['cost_nanos']} nanos vs {tokens}")
billed_jobs = {r["job_id"]: r["credits"] for r in llama}
for r in llama_rows:
    jid = r["provider_request_id"]
    if not jid:
        continue  # a reconciled orphan upload: checked below
    if jid not in billed_jobs or r["credits"] != billed_jobs[jid]:
        phantom.append(f"parse {jid}: {r['credits']} credits vs {billed_jobs.get(jid)}")
check("every ledger row matches a billed request (tokens, credits, nanos)", not phantom,
      "; ".join(phantom[:5]))

costs = json.load(open(costs_path))
o, lp = costs["services"]["openai"], costs["services"]["llamaparse"]
# A worker killed mid-call leaves its reservation behind; the governor settles such orphans at
# their estimate (exact tokens; pages x credits per page), with no provider request id.
# Together they must cover exactly the billed requests and parse jobs that no row names.
unledgered_openai = sorted(set(billed_req) - set(ledger_req))
unledgered_tokens = sum(billed_req[i] for i in unledgered_openai)
orphan_tokens = sum(r["tokens"] for r in openai_rows
                    if not r["provider_request_id"] and r["state"] == "settled")
unledgered_llama = sorted(set(billed_jobs) - {r["provider_request_id"] for r in llama_rows})
unledgered_credits = sum(billed_jobs[j] for j in unledgered_llama)
orphan_credits = sum(r["credits"] for r in llama_rows
                     if not r["provider_request_id"] and r["state"] == "settled")
expected_nanos = sum(r["cost_nanos"] for r in rows if r["state"] != "released")
exact = (unledgered_credits == orphan_credits and unledgered_tokens == orphan_tokens and
         o["tokens"] == billed_tokens and lp["credits"] == sum(billed_jobs.values()) and
         costs["total_nanos"] == expected_nanos and
         (mode != "clean" or o["requests"] == len(openai)))
gap = (f"billing: {len(openai)} requests / {billed_tokens} tokens, "
       f"{sum(billed_jobs.values())} credits; costs: {o['requests']} requests / {o['tokens']} "
       f"tokens, {lp['credits']} credits; billed but named by no ledger row: "
       f"{len(unledgered_openai)} embedding requests ({unledgered_tokens} tokens; reconciled "
       f"rows cover {orphan_tokens}), {len(unledgered_llama)} parse jobs ({unledgered_credits} "
       f"credits; reconciled rows cover {orphan_credits})")
# Under kill -9 a reservation whose request never left is released (ledger.sent_at, issue 12),
# but a worker can still die in the instant between marking its row sent and the request's bytes
# leaving, or a LlamaParse upload of a non-PDF is presumed billed at its page bound: those orphans
# are settled at their estimate although less (or nothing) was billed. That over-counts, never
# under-counts: accept it in faults mode only, bounded by whole reservations, and say so.
never_under = (unledgered_credits <= orphan_credits and unledgered_tokens <= orphan_tokens and
               o["tokens"] >= billed_tokens and lp["credits"] >= sum(billed_jobs.values()) and
               costs["total_nanos"] == expected_nanos)
if ledger_exact and not exact and mode != "clean" and never_under:
    print("ok   - ledger covers the emulators' billing, over-counting only reservations of "
          "workers killed before sending (never under): " + gap)
elif ledger_exact:
    check("ledger (costs --json) equals the emulators' billing", exact, gap)
elif exact:
    print("ok   - ledger (costs --json) equals the emulators' billing")
else:
    print("note - ledger vs billing not asserted (LEDGER_EXACT_UNDER_FAULTS=0): " + gap)

sys.exit(1 if failures else 0)
