#!/usr/bin/env python3
"""A client of the staging stack that behaves as a load balancer plus a polite client would:
uploads every file of a folder through the replicas in turn and waits for each job to complete.
A refused connection (a replica restarting) moves on to the other replica; a 503 is retried
after its Retry-After (or 0.2 s). Any other 5xx is an error the server should never give.

Usage: rolling_client.py TOKEN DOCS_DIR OUT_JSON URL [URL...]
With ROLLING_HOLD_FILE set, the last fifth of the files is uploaded only once that file exists
(at most 300 s later): the test creates it when its restarts are done, so they always happen
while the run is going, however fast the machine finishes the first uploads.
Writes {"uploaded", "complete", "errors_5xx": [...], "retried_503", "refused", "jobs": {name: id}}.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

token, docs, out_path, urls = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
stats = {"uploaded": 0, "complete": 0, "errors_5xx": [], "retried_503": 0, "refused": 0, "jobs": {}}
turn = 0


def call(method, path, body=None, headers=None):
    """One logical request, retried across replicas; returns (status, json)."""
    global turn
    deadline = time.time() + 120
    while time.time() < deadline:
        url = urls[turn % len(urls)] + path
        turn += 1
        req = urllib.request.Request(url, data=body, method=method)
        req.add_header("Authorization", "Bearer " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            if e.code == 503:
                stats["retried_503"] += 1
                time.sleep(float(e.headers.get("Retry-After") or 0.2))
                continue
            if e.code >= 500:
                stats["errors_5xx"].append(f"{method} {url}: {e.code} {e.read()[:200]!r}")
                time.sleep(0.2)
                continue
            return e.code, json.loads(e.read() or b"{}")
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            stats["refused"] += 1  # the replica is restarting: the next one takes it
            time.sleep(0.05)
    raise SystemExit(f"{method} {path}: no replica answered for 120 s")


names = sorted(os.listdir(docs))
hold = os.environ.get("ROLLING_HOLD_FILE", "")
held_from = len(names) - len(names) // 5 if hold else len(names)
for i, n in enumerate(names):
    if i == held_from:
        hold_deadline = time.time() + 300
        while not os.path.exists(hold) and time.time() < hold_deadline:
            time.sleep(0.2)
    with open(os.path.join(docs, n), "rb") as f:
        data = f.read()
    status, j = call("POST", "/v1/documents", data, {"X-Filename": n})
    if status not in (200, 201):
        raise SystemExit(f"upload {n}: {status} {j}")
    stats["jobs"][n] = j["job_id"]
    stats["uploaded"] += 1

pending = dict(stats["jobs"])
deadline = time.time() + 600
while pending and time.time() < deadline:
    for n, job in list(pending.items()):
        status, j = call("GET", f"/v1/jobs/{job}")
        if status == 200 and j["state"] == "complete":
            stats["complete"] += 1
            del pending[n]
        elif status == 200 and j["state"] in ("failed", "dead", "cancelled"):
            stats["errors_5xx"].append(f"job {n} ended {j['state']}: {j.get('error')}")
            del pending[n]
    time.sleep(0.5)
json.dump(stats, open(out_path, "w"), indent=1)
