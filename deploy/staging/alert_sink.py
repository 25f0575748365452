#!/usr/bin/env python3
"""The staging stack's alert receiver: Alertmanager's webhook receivers post here.

Every POST body (Alertmanager's webhook payload, version 4) is appended as one JSON line to the
log file with the request path (the receiver: /page or /ticket) and the time it arrived. GET
/alerts returns the recorded notifications as a JSON array; GET /healthz answers 200. The first
line on stdout is `listening on http://HOST:PORT` (port 0 picks a free one).

Usage: alert_sink.py --log FILE [--host 127.0.0.1] [--port 0]
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _send(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n)
            try:
                payload = json.loads(raw)
            except ValueError:
                return self._send(400, {"error": "body is not JSON"})
            line = json.dumps({"received_at": time.time(), "receiver": self.path.strip("/"),
                               "payload": payload})
            with lock, open(args.log, "a") as f:
                f.write(line + "\n")
            self._send(200, {"recorded": True})

        def do_GET(self):
            if self.path == "/healthz":
                return self._send(200, {"status": "ok"})
            if self.path == "/alerts":
                with lock:
                    try:
                        with open(args.log) as f:
                            rows = [json.loads(l) for l in f if l.strip()]
                    except FileNotFoundError:
                        rows = []
                return self._send(200, rows)
            self._send(404, {"error": "not found"})

        def log_message(self, fmt, *a):  # quiet: the log file is the record
            pass

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
