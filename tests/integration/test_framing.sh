#!/usr/bin/env bash
# Request framing as RFC 9112 wants it (request smuggling): every request
# whose framing a proxy in front could read differently is refused with 400
# and the connection closed, and the bytes after it never run as a request
# of their own; well-framed chunked bodies (extensions, trailers), absolute-
# form targets and HEAD on /health and /metrics are served.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh

cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
auth_token = "gw-secret"
body_limit = 65536
targets = { ["file:all"] = { path = "$T/all.jsonl" } }
EOF

cat >"$T/f.py" <<'EOF'
import json, os, socket, sys
port = int(os.environ["GATEWAY_PORT"])
events = [l.rstrip("\n") for l in open(os.environ["EVENTS"]) if l.strip()]
AUTH = b"Authorization: Bearer gw-secret\r\n"

def event(key):
    """events[0] with its object key replaced, so the file target shows whether it ran."""
    e = json.loads(events[0])
    e["Key"] = e["Records"][0]["s3"]["bucket"]["name"] + "/" + key
    e["Records"][0]["s3"]["object"]["key"] = key
    return json.dumps(e).encode()

def post(key):
    b = event(key)
    return b"POST / HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Length: %d\r\n\r\n" % len(b) + b

def chunked(body, size_fmt=b"%x"):
    return b"".join(size_fmt % len(body[i:i + 100]) + b"\r\n" + body[i:i + 100] + b"\r\n"
                    for i in range(0, len(body), 100))

def responses(data, wait=3):
    """Send data, read until the server closes or goes quiet: [(code, headers, body)], closed."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    s.sendall(data)
    buf, closed = b"", False
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            buf += d
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    s.close()
    out = []
    while b"\r\n\r\n" in buf:
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        h = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        n = int(h.get("content-length", 0)) if not lines[0].endswith("#HEAD") else 0
        out.append((int(lines[0].split()[1]), h, rest[:n]))
        buf = rest[n:]
    return out, closed, buf

def report(ok, name, why=""):
    print(("ok - " if ok else "not ok - ") + name + ("" if ok else ": " + why))

H = b"POST / HTTP/1.1\r\nHost: x\r\n" + AUTH
TE = b"Transfer-Encoding: chunked\r\n"
ok_body = chunked(event("unused"))
refused = {
    "space before the colon: Content-Length : N":
        H + b"Content-Length : 5\r\n\r\nhello",
    "space before the colon: Transfer-Encoding : chunked":
        H + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "tab before the colon": H + b"Content-Length\t: 5\r\n\r\nhello",
    "whitespace before the first header": b"POST / HTTP/1.1\r\n Host: x\r\n" + AUTH + b"Content-Length: 5\r\n\r\nhello",
    "obs-fold in Content-Length": H + b"Content-Length:\r\n 5\r\n\r\nhello",
    "obs-fold in another header": H + b"X-A: a\r\n b\r\nContent-Length: 5\r\n\r\nhello",
    "Transfer-Encoding in HTTP/1.0":
        b"POST / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n" + AUTH + TE + b"\r\n0\r\n\r\n",
    "Transfer-Encoding twice": H + TE + TE + b"\r\n0\r\n\r\n",
    "Transfer-Encoding: chunked, chunked": H + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
    "Transfer-Encoding: gzip, chunked": H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "Transfer-Encoding: gzip": H + b"Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n",
    "Content-Length and Transfer-Encoding": H + b"Content-Length: 5\r\n" + TE + b"\r\n0\r\n\r\n",
    "two differing Content-Length": H + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "Content-Length: 5, 5": H + b"Content-Length: 5, 5\r\n\r\nhello",
    "chunk size with trailing garbage": H + TE + b"\r\n5 garbage\r\nhello\r\n0\r\n\r\n",
    "chunk size followed by a space only": H + TE + b"\r\n5 \r\nhello\r\n0\r\n\r\n",
    "chunk size with a letter after it": H + TE + b"\r\n5x\r\nhello\r\n0\r\n\r\n",
    "chunk size missing": H + TE + b"\r\n;a\r\nhello\r\n0\r\n\r\n",
    "chunk extension ending in a bare LF": H + TE + b"\r\n5;ext\nhello\r\n0\r\n\r\n",
    "chunk extension ending in a bare LF, then what the lenient reading takes for the end":
        H + TE + b"\r\n5;ext\nhello\r\n0\r\n\r\n\r\n0\r\n\r\n",
    "chunk size ending in a bare LF": H + TE + b"\r\n5\nhello\r\n0\r\n\r\n",
    "chunk extension with a bad value": H + TE + b"\r\n5;a=b c\r\nhello\r\n0\r\n\r\n",
    "chunk extension with an unterminated quote": H + TE + b"\r\n5;a=\"b\r\nhello\r\n0\r\n\r\n",
    "chunk data not followed by CRLF": H + TE + b"\r\n5\r\nhelloXX0\r\n\r\n",
    "chunk data followed by a bare LF": H + TE + b"\r\n5\r\nhello\n0\r\n\r\n",
    "chunk data longer than its size": H + TE + b"\r\n3\r\nhello\r\n0\r\n\r\n",
    "chunk data longer than its size, the extra bytes where its CRLF goes":
        H + TE + b"\r\n3\r\nhello0\r\n\r\n",
    "chunk size above 2^64": H + TE + b"\r\n1FFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n",
    "last chunk ending in a bare LF": H + TE + b"\r\n0\n\r\n",
    "trailer with a space before the colon": H + TE + b"\r\n0\r\nX-T : 1\r\n\r\n",
    "trailer ending in a bare LF": H + TE + b"\r\n0\r\nX-T: 1\n\r\n",
    "end of the chunked body not CRLF": H + TE + b"\r\n0\r\n\rX",
}
for i, (name, data) in enumerate(refused.items()):
    got, closed, rest = responses(data + post("smuggled-%d" % i))
    codes = [g[0] for g in got]
    good = codes == [400] and got[0][1].get("connection") == "close" and closed and not rest
    report(good, "refused, 400 and closed, nothing after it runs: " + name,
           f"codes {codes}, closed {closed}, bodies {[g[2][:90] for g in got]}")

# CONNECT: what follows it is a tunnel for the client, never a request here
got, closed, rest = responses(b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n" + post("smuggled-connect"))
report([g[0] for g in got] == [405] and closed, "CONNECT: 405 and closed, what follows never runs",
       f"codes {[g[0] for g in got]}, closed {closed}")

# well-framed requests, each followed by a pipelined one: both answered
accepted = {
    "chunked body with extensions (BWS, quoted strings) and trailers":
        H + TE + b"\r\n" + chunked(event("ck-ext"), b"%x ; a = b ;c=\"d\\\"e\"") + b"0;z\r\nX-T: 1\r\nX-U:\r\n\r\n",
    "chunk sizes with leading zeros and upper case": H + TE + b"\r\n" + chunked(event("ck-zero"), b"000%X") + b"000\r\n\r\n",
}
for name, data in accepted.items():
    got, closed, rest = responses(data + post("after-" + name[:8]), wait=2)
    codes = [g[0] for g in got]
    report(codes == [200, 200], "served, then the next request: " + name, f"codes {codes} {[g[2][:90] for g in got]}")

for target in (b"http://gw.example:9100/health", b"http://gw.example/metrics", b"HTTP://x/health?probe=1"):
    got, closed, rest = responses(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n", wait=1)
    report([g[0] for g in got] == [200], "absolute-form target served: GET " + target.decode(), str([g[0] for g in got]))

for path in (b"/health", b"/metrics"):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(b"HEAD " + path + b" HTTP/1.1\r\nHost: x\r\n\r\nGET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    buf = b""
    while buf.count(b"\r\n\r\n") < 2:
        buf += s.recv(65536)
    head1, rest = buf.split(b"\r\n\r\n", 1)
    # the GET's answer follows the HEAD's headers at once: no body in between
    good = head1.startswith(b"HTTP/1.1 200") and b"Content-Length:" in head1 and rest.startswith(b"HTTP/1.1 200")
    report(good, "HEAD " + path.decode() + ": 200, the headers only", repr(buf[:200]))
    s.close()
EOF
gw_start "$T/gw.lua" || { fail "luagate did not start"; cat "$T/gw.log"; exit 1; }
GATEWAY_PORT=$GATEWAY_PORT EVENTS=$EVENTS $PY "$T/f.py" 2>&1
# what reached the target: every accepted event, none of the smuggled ones
sleep 0.5
check "no smuggled request was run (none reached the target)" sh -c "! grep -q smuggled '$T/all.jsonl'"
check "the well-framed chunked bodies and the requests after them were delivered" \
  [ "$(grep -c -e ck-ext -e ck-zero -e after- "$T/all.jsonl")" = 4 ]
check "still serving" sh -c "curl -fsS '$GW/health' >/dev/null"
gw_stop
check "no sanitizer report in the log" sh -c "! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' '$T/gw.log'"
exit 0
