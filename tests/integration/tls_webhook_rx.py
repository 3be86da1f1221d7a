#!/usr/bin/env python3
"""tls_webhook_rx.py PORT LOGFILE CERT KEY [CLIENT_CA] -- an HTTPS receiver
for tests/integration/test_tls_targets.sh.

Serves HTTPS on 127.0.0.1:PORT with CERT/KEY.  With CLIENT_CA it requires a
client certificate signed by that CA (mTLS); handshakes that fail (no or
wrong client cert, client refusing our cert) are appended to LOGFILE.err.
Every request is appended to LOGFILE as one JSON line: method, path,
status, headers, body and the client certificate's CN ("client_cn").
GET /__health answers 200 (used with curl --cert for readiness)."""
import json
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG, CERT, KEY = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
CLIENT_CA = sys.argv[5] if len(sys.argv) > 5 else None
lock = threading.Lock()

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(CERT, KEY)
if CLIENT_CA:
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(CLIENT_CA)


def note_error(what):
    with lock, open(LOG + ".err", "a") as f:
        f.write(what + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def client_cn(self):
        try:
            peer = self.connection.getpeercert() or {}
        except (ValueError, OSError):
            return None
        for rdn in peer.get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    return v
        return None

    def do_GET(self):
        self.reply(200 if self.path == "/__health" else 404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        rec = {"method": "POST", "path": self.path, "status": 200, "client_cn": self.client_cn(),
               "tls": self.connection.version(),
               "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        with lock, open(LOG, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.reply(200)


class Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def get_request(self):
        sock, addr = self.socket.accept()
        # the handshake runs in the request's thread, so a stuck client
        # cannot block the accept loop
        return ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.settimeout(10)
            request.do_handshake()
        except (ssl.SSLError, OSError) as e:
            note_error("handshake failed: %s" % e)
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        note_error("error: %s" % (sys.exc_info()[1],))


Server(("127.0.0.1", PORT), Handler).serve_forever()
