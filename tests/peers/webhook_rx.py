#!/usr/bin/env python3
"""webhook_rx.py PORT LOGFILE -- an HTTP receiver for the webhook tests.

Appends every request (method, path, headers, body) as one JSON line to
LOGFILE, so what it received survives its own restarts.  Control:
  POST /__fail?status=400&match=TEXT[&count=N][&body=TEXT]
                                                answer status (with that body) to requests whose
                                                body contains TEXT (N times, default forever)
  DELETE /__fail                                clear the failure rules
  GET /__health                                 200
Everything else is answered 200 (or per the rules) with an empty body."""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT, LOG = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
rules = []  # [status, match, remaining or None, answer body]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(200 if self.path == "/__health" else 404)

    def do_DELETE(self):
        if self.path.startswith("/__fail"):
            with lock:
                rules.clear()
        self.reply(200)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        url = urlparse(self.path)
        if url.path == "/__fail":
            q = parse_qs(url.query)
            count = int(q["count"][0]) if "count" in q else None
            with lock:
                rules.append([int(q.get("status", ["500"])[0]), q.get("match", [""])[0], count,
                              q.get("body", [""])[0].encode()])
            return self.reply(200)
        status, answer = 200, b""
        text = body.decode("utf-8", "replace")
        with lock:
            for r in rules:
                if r[1] in text and (r[2] is None or r[2] > 0):
                    status, answer = r[0], r[3]
                    if r[2] is not None:
                        r[2] -= 1
                    break
            rec = {"method": "POST", "path": self.path, "status": status,
                   "headers": {k.lower(): v for k, v in self.headers.items()}, "body": text}
            with open(LOG, "a") as f:
                f.write(json.dumps(rec) + "\n")
        self.reply(status, answer)


ThreadingHTTPServer.allow_reuse_address = True
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
