#!/usr/bin/env python3
"""Writes governor rows into an ingestd SQLite store, as the governor would: a budget already at
its hard limit (service llamaparse, limit $0), a tenant budget with headroom, a rate bucket per
kind for openai, llamaparse stopped for quota, and one job deferred by the $0 budget (due in a
day, so no worker picks it up during a test). Script tests use it to make the scrape-time
gauges, the budget/provider sections of /v1/stats and the in-process alerts appear.
Usage: seed_governor.py PATH_TO_SQLITE_DB"""
import sqlite3
import sys
import time

now = int(time.time() * 1000)
db = sqlite3.connect(sys.argv[1], timeout=10)
with db:
    db.execute("INSERT OR REPLACE INTO budgets (scope, scope_key, period, limit_nanos, soft_ratio,"
               " updated_at) VALUES ('service', 'llamaparse', 'day', 0, 0.8, ?)", (now,))
    db.execute("INSERT OR REPLACE INTO budgets (scope, scope_key, period, limit_nanos, soft_ratio,"
               " updated_at) VALUES ('tenant', 'alpha', 'month', 25000000000, 0.9, ?)", (now,))
    for kind, cap in (("requests", 3000.0), ("tokens", 1000000.0)):
        db.execute("INSERT OR REPLACE INTO limits (provider_key, kind, capacity, available,"
                   " refill_per_sec, updated_at, blocked_until) VALUES (?, ?, ?, ?, ?, ?, 0)",
                   ("openai:test0001", kind, cap, cap / 2, cap / 60, now))
    db.execute("INSERT OR REPLACE INTO provider_state (provider, stopped, reason, message, since,"
               " probe_at, updated_at) VALUES ('llamaparse', 1, 'insufficient_quota',"
               " 'credits exhausted', ?, 0, ?)", (now, now))
    # A document and its job deferred by the llamaparse budget, as the state machine leaves it.
    db.execute("INSERT OR REPLACE INTO documents (id, tenant, filename, mime, bytes, sha256,"
               " blob_key, created_at, updated_at) VALUES ('seeded-deferred-doc', 'default',"
               " 'capped.pdf', 'application/pdf', 1000, ?, ?, ?, ?)",
               ("ab" * 32, "ab" * 32, now, now))
    db.execute("INSERT OR REPLACE INTO jobs (id, document_id, stage, state, defer_reason,"
               " last_error_code, last_error_message, last_error_stage, next_attempt_at,"
               " created_at, updated_at) VALUES ('seeded-deferred-job', 'seeded-deferred-doc',"
               " 'parse', 'deferred', 'budget_exceeded', 'budget_exceeded', ?, 'parse', ?, ?, ?)",
               ("would exceed the service llamaparse day budget: spent $0 + reserving $0.003 >"
                " hard limit $0", now + 86_400_000, now, now))
db.close()
