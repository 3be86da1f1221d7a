#!/usr/bin/env bash
# The ingest listener over TLS (tls_cert + tls_key, optional tls_client_ca):
# MinIO's events byte for byte over HTTPS, /health and /metrics, keep-alive,
# pipelining, 100-continue, early 413, large bodies, slow and half-open
# clients, plain HTTP and untrusting clients refused cleanly, client
# certificates (mTLS), certificate reload on SIGHUP, configuration errors.
# A throwaway CA and certificates for 127.0.0.1 are made in the temp dir.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
N=$(grep -c . "$EVENTS")
GW="https://127.0.0.1:$GATEWAY_PORT"

# --- a CA, a server certificate for 127.0.0.1, a client certificate, and a
# second CA nobody trusts ---------------------------------------------------------
P=$T/pki; mkdir -p "$P"
mkcert() { # mkcert NAME CN CA EXT...: an EC key and a certificate signed by CA
  local name=$1 cn=$2 ca=$3; shift 3
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$P/$name.key" \
    -out "$P/$name.csr" -subj "/CN=$cn" 2>/dev/null &&
  printf '%s\n' "$@" >"$P/$name.ext" &&
  openssl x509 -req -in "$P/$name.csr" -CA "$P/$ca.pem" -CAkey "$P/$ca.key" -CAcreateserial \
    -out "$P/$name.pem" -days 2 -extfile "$P/$name.ext" 2>/dev/null
}
mkca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$P/$1.key" \
    -out "$P/$1.pem" -days 2 -subj "/CN=$1" 2>/dev/null
}
srv_ext=("subjectAltName=IP:127.0.0.1" "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth")
cli_ext=("basicConstraints=CA:FALSE" "extendedKeyUsage=clientAuth")
mkca ca && mkca otherca && mkcert server 127.0.0.1 ca "${srv_ext[@]}" &&
  mkcert server2 127.0.0.1 ca "${srv_ext[@]}" && mkcert client luagate-client ca "${cli_ext[@]}" &&
  mkcert rogue luagate-client otherca "${cli_ext[@]}" ||
  { fail "openssl could not make the test certificates"; exit 1; }
CA=$P/ca.pem

tcurl() { curl --cacert "$CA" "$@"; }
tpost() { tcurl -s -o "$T/resp" -w '%{http_code}' -X POST --data-binary "$1" "${@:2}" "$GW/"; }
tpost_file() { tcurl -s -o "$T/resp" -w '%{http_code}' -X POST --data-binary "@$1" "${@:2}" "$GW/"; }
tmetric() { tcurl -s "$GW/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
auth=(-H "Authorization: Bearer gw-secret")

conf() { # conf [EXTRA LUA LINES]
  cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
auth_token = "gw-secret"
tls_cert = "$P/server.pem"
tls_key = "$P/server.key"
targets = { ["file:all"] = { path = "$T/all.jsonl" } }
$*
EOF
}
# tgw_start: run luagate, wait for /health over HTTPS (with a client
# certificate when mTLS is on: TLS 1.3 only refuses after the handshake).
tgw_start() {
  need_free_port "$GATEWAY_PORT" || return 1
  "$LUAGATE_BIN" -c "$T/gw.lua" >>"$T/gw.log" 2>&1 &
  echo $! >"$T/gw.pid"
  wait_until 20 tcurl -fsS --cert "$P/client.pem" --key "$P/client.key" "$GW/health"
}
sanitizer_clean() { ! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$T/gw.log"; }

# --- configuration errors: one line naming the key, exit code 2 ------------------------
conf_err() { # conf_err NAME PATTERN LUA [ENV...]
  printf 'listen = "127.0.0.1:%s"\n%s\n' "$GATEWAY_PORT" "$3" >"$T/bad.lua"
  env "${@:4}" "$LUAGATE_BIN" -c "$T/bad.lua" check >"$T/bad.out" 2>&1; local rc=$?
  check "$1 -> exit 2" [ "$rc" = 2 ]
  check "$1 -> one line naming it" sh -c "[ \$(wc -l <'$T/bad.out') = 1 ] && grep -q \"$2\" '$T/bad.out'"
}
conf_err "tls_cert without tls_key" "key 'tls_key' (LUAGATE_TLS_KEY) is required when 'tls_cert' is set" \
  "tls_cert = \"$P/server.pem\""
conf_err "LUAGATE_TLS_KEY without LUAGATE_TLS_CERT" "key 'tls_cert' (LUAGATE_TLS_CERT) is required" \
  "" "LUAGATE_TLS_KEY=$P/server.key"
conf_err "tls_cert that does not exist" "key 'tls_cert': cannot read $P/nope.pem: No such file" \
  "tls_cert = \"$P/nope.pem\"; tls_key = \"$P/server.key\""
chmod 000 "$P/client.csr"
if ! [ -r "$P/client.csr" ]; then # not as root
  conf_err "tls_key that cannot be read" "key 'tls_key': cannot read $P/client.csr: Permission denied" \
    "tls_cert = \"$P/server.pem\"; tls_key = \"$P/client.csr\""
fi
conf_err "tls_client_ca without tls_cert" "key 'tls_client_ca' needs 'tls_cert'" "tls_client_ca = \"$CA\""
LUAGATE_TLS_CERT=$P/server.pem LUAGATE_TLS_KEY=$P/server.key "$LUAGATE_BIN" -c /dev/null check >"$T/env.out" 2>&1
check "LUAGATE_TLS_CERT + LUAGATE_TLS_KEY from the environment are accepted" grep -q '^config.*ok' "$T/env.out"
# files that exist but are no certificate/key, or do not belong together: refused at start
start_err() { # start_err NAME PATTERN CERT KEY
  conf; sed -i "s|^tls_cert = .*|tls_cert = \"$3\"|; s|^tls_key = .*|tls_key = \"$4\"|" "$T/gw.lua"
  timeout 20 "$LUAGATE_BIN" -c "$T/gw.lua" >"$T/start.out" 2>&1; local rc=$?
  check "$1 -> refused at start (exit $rc)" [ "$rc" != 0 ] && [ "$rc" != 124 ]
  check "$1 -> the error names it" grep -q "$2" "$T/start.out"
}
start_err "a certificate file that holds no certificate" "tls_cert: cannot load a PEM certificate from $P/server.csr" \
  "$P/server.csr" "$P/server.key"
start_err "a key that is not the certificate's" "tls_key: $P/client.key is not the private key of the certificate" \
  "$P/server.pem" "$P/client.key"
check "port $GATEWAY_PORT free after the refusals" sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$GATEWAY_PORT) 2>/dev/null"

# --- MinIO's events over HTTPS, byte for byte ------------------------------------------
conf
tgw_start || { fail "luagate with TLS did not start"; cat "$T/gw.log"; exit 1; }
check "start-up says the listener speaks HTTPS" grep -q 'speaks HTTPS only (TLS 1.2+' "$T/gw.log"
n=0
while IFS= read -r line; do [ "$(tpost "$line" "${auth[@]}")" = 200 ] && n=$((n + 1)); done <"$EVENTS"
check "all $N sample events posted over HTTPS acknowledged with 200" [ "$n" = "$N" ]
wait_lines "$T/all.jsonl" "$N"
check "the file target holds every envelope byte-identical, in order" cmp -s "$T/all.jsonl" "$EVENTS"
check "GET /health over HTTPS -> 200" sh -c "curl --cacert '$CA' -fsS '$GW/health' | grep -q '\"file:all\":{\"state\":\"online\"'"
check "GET /metrics over HTTPS counts the 200s" [ "$(tmetric 'luagate_http_requests_total{code="200"}')" -ge "$N" ]
check "no Authorization over HTTPS -> 401" [ "$(tpost "$(head -1 "$EVENTS")")" = 401 ]
check "TLS 1.1 is refused" sh -c "! curl --cacert '$CA' -fs --tlsv1.1 --tls-max 1.1 '$GW/health'"
check "TLS 1.2 is served" tcurl -fsS --tlsv1.2 --tls-max 1.2 -o /dev/null "$GW/health"
check "TLS 1.3 is served" tcurl -fsS --tlsv1.3 -o /dev/null "$GW/health"

# --- keep-alive: several URLs in one curl invocation share one connection ---------------
conns=$(tcurl -s -w '%{num_connects} ' -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
  "$GW/health" "$GW/metrics" "$GW/health" "$GW/health")
check "keep-alive over TLS: 4 requests, 1 connection (num_connects: $conns)" [ "$conns" = "1 0 0 0 " ]
for i in 1 2 3; do sed -n "${i}p" "$EVENTS" >"$T/ev$i"; done
conns=$(tcurl -s "${auth[@]}" -w '%{http_code}/%{num_connects} ' -o /dev/null --data-binary "@$T/ev1" "$GW/" \
  --next --cacert "$CA" "${auth[@]}" -o /dev/null -w '%{http_code}/%{num_connects} ' --data-binary "@$T/ev2" "$GW/" \
  --next --cacert "$CA" "${auth[@]}" -o /dev/null -w '%{http_code}/%{num_connects} ' --data-binary "@$T/ev3" "$GW/")
check "3 POSTs on one TLS connection, all 200 ($conns)" [ "$conns" = "200/1 200/0 200/0 " ]

# --- plain HTTP and clients that do not trust the certificate ----------------------------
code=$(curl -s -o "$T/plain" -w '%{http_code}' "http://127.0.0.1:$GATEWAY_PORT/health")
check "plain HTTP to the TLS port -> 400 in plain HTTP (got $code)" [ "$code" = 400 ]
check "...saying the port speaks HTTPS only" grep -q 'speaks HTTPS only' "$T/plain"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "@$T/ev1" "${auth[@]}" "http://127.0.0.1:$GATEWAY_PORT/")
check "a plain HTTP POST (MinIO with http://) -> 400 too" [ "$code" = 400 ]
curl -s -o /dev/null "https://127.0.0.1:$GATEWAY_PORT/health"; rc=$?
check "a client using the system CAs fails the handshake (curl exit $rc: 60 = certificate problem)" [ "$rc" = 60 ]
curl -s -o /dev/null --cacert "$P/otherca.pem" "https://127.0.0.1:$GATEWAY_PORT/health"; rc=$?
check "a client trusting another CA fails the handshake (curl exit $rc)" [ "$rc" = 60 ]
curl -s -o /dev/null --cacert "$CA" "https://localhost:$GATEWAY_PORT/health"; rc=$?
check "a client expecting another name fails the handshake (curl exit $rc)" [ "$rc" = 60 ]
printf 'this is no TLS at all\r\n\r\n' | timeout 5 bash -c "cat >/dev/tcp/127.0.0.1/$GATEWAY_PORT" 2>/dev/null
check "gateway still serving after plain, untrusting and garbage clients" tcurl -fsS -o /dev/null "$GW/health"
check "...and logs why a handshake failed" grep -q 'TLS handshake with a client failed' "$T/gw.log"

# --- large bodies ------------------------------------------------------------------------
$PY - "$EVENTS" "$T/big.json" <<'EOF'
import json, sys
env = json.loads(open(sys.argv[1]).readline())
env["Records"][0]["s3"]["object"]["userMetadata"] = {"X-Amz-Meta-Pad": "p" * 900000}
open(sys.argv[2], "w").write(json.dumps(env, separators=(",", ":")) + "\n")
EOF
before=$(lines "$T/all.jsonl")
check "a 900 KB event over TLS -> 200" [ "$(tpost_file "$T/big.json" "${auth[@]}")" = 200 ]
wait_lines "$T/all.jsonl" $((before + 1))
check "...and reaches the file target byte for byte" cmp -s <(tail -1 "$T/all.jsonl") "$T/big.json"
{ printf '{"Records":['; head -c 1048000 /dev/zero | tr '\0' ' '; } >"$T/bad.json"
t0=$(now_ms)
code=$(tpost_file "$T/bad.json" "${auth[@]}")
took=$(( $(now_ms) - t0 ))
check "a malformed body just under body_limit over TLS -> 400 in ${took} ms" [ "$code" = 400 ] && [ "$took" -lt 3000 ]
head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$T/huge"
check "10 MiB body over TLS -> 413" [ "$(tpost_file "$T/huge" "${auth[@]}")" = 413 ]

# --- the HTTP-level cases of test_http.sh, over TLS (Python's ssl) ------------------------
cat >"$T/t.py" <<'EOF'
import os, socket, ssl, struct, sys, threading, time
port = int(os.environ["GATEWAY_PORT"]); pki = os.environ["PKI"]
events = [l.rstrip("\n") for l in open(os.environ["EVENTS"]) if l.strip()]
AUTH = "Authorization: Bearer gw-secret\r\n"
ctx = ssl.create_default_context(cafile=pki + "/ca.pem")

def conn(timeout=10, cert=None):
    c = ctx
    if cert:
        c = ssl.create_default_context(cafile=pki + "/ca.pem")
        c.load_cert_chain(pki + f"/{cert}.pem", pki + f"/{cert}.key")
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c.wrap_socket(s, server_hostname="127.0.0.1")

def post(body, extra=""):
    b = body.encode()
    return (f"POST / HTTP/1.1\r\nHost: x\r\n{AUTH}{extra}Content-Type: application/json\r\n"
            f"Content-Length: {len(b)}\r\n\r\n").encode() + b

class Reader:
    def __init__(self, s):
        self.s, self.buf = s, b""
    def fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError
        self.buf += d
    def response(self):
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        code = int(lines[0].split()[1])
        h = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        n = int(h.get("content-length", 0))
        while len(self.buf) < n:
            self.fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return code, h, body
    def closed(self, wait=5):
        self.s.settimeout(wait)
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

def expect(cond, msg):
    if not cond:
        print(msg, file=sys.stderr)
        sys.exit(1)

case = sys.argv[1]
if case == "pipelined":
    s = conn(); r = Reader(s)
    s.sendall(post(events[0]) + post(events[1]) + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    got = [r.response() for _ in range(3)]
    expect([g[0] for g in got] == [200, 200, 200], f"codes {[g[0] for g in got]}")
    expect(b'"targets"' in got[2][2], "the third is /health")
elif case == "pipelined-many":
    # 2000 requests written while none is read: a full input buffer with more
    # waiting in OpenSSL's read-ahead, partial TLS writes; all answered in order
    n = 2000
    s = conn(60); r = Reader(s)
    reqs = b"".join(b"GET /health?i=%d HTTP/1.1\r\nHost: x\r\n\r\n" % i if i % 2 else
                    b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" for i in range(n))
    # one thread writes while this one reads later: an SSL socket may be used
    # by a reader and a writer thread at once (CPython serialises them)
    t = threading.Thread(target=s.sendall, args=(reqs,)); t.start()
    time.sleep(0.5)
    for i in range(n):
        code, h, body = r.response()
        expect(code == 200, f"request {i}: {code}")
        expect((b"luagate_http_requests_total" in body) == (i % 2 == 0), f"request {i} out of order")
    t.join()
elif case == "pipelined-posts":
    # 300 POSTs in one write: every event answered, in order, on one connection
    s = conn(30); r = Reader(s)
    s.sendall(b"".join(post(events[i % len(events)]) for i in range(300)))
    for i in range(300):
        code, h, body = r.response()
        expect(code == 200 and b'"events":1' in body, f"request {i}: {code} {body}")
elif case == "split":
    # one request written a byte at a time: one TLS record per byte
    s = conn(); r = Reader(s)
    for b in post(events[2]):
        s.send(bytes([b]))
    code, h, body = r.response()
    expect(code == 200, f"code {code} {body}")
elif case == "continue":
    s = conn(); r = Reader(s)
    b = events[5].encode()
    s.sendall(f"POST / HTTP/1.1\r\nHost: x\r\n{AUTH}Expect: 100-continue\r\nContent-Length: {len(b)}\r\n\r\n".encode())
    while b"\r\n\r\n" not in r.buf:
        r.fill()
    expect(r.buf.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), f"no 100 Continue: {r.buf[:80]}")
    r.buf = r.buf[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
    s.sendall(b)
    code, h, body = r.response()
    expect(code == 200, f"after 100: {code} {body}")
elif case == "413-before-body":
    for extra in ("Expect: 100-continue\r\n", ""):
        s = conn(); r = Reader(s)
        s.sendall(f"POST / HTTP/1.1\r\nHost: x\r\n{AUTH}{extra}Content-Length: 10000000\r\n\r\n".encode())
        code, h, body = r.response()
        expect(code == 413 and b"body_limit" in body, f"{extra!r}: {code} {body}")
        expect(h.get("connection") == "close" and r.closed(), "413 closes")
elif case == "chunked-413":
    s = conn(); r = Reader(s)
    s.sendall(f"POST / HTTP/1.1\r\nHost: x\r\n{AUTH}Transfer-Encoding: chunked\r\n\r\n".encode())
    chunk = b"%x\r\n" % 16384 + b" " * 16384 + b"\r\n"
    try:
        for _ in range(80):
            s.sendall(chunk)
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
        pass
    code, h, body = r.response()
    expect(code == 413 and h.get("connection") == "close", f"{code} {h}")
elif case == "close":
    s = conn(); r = Reader(s)
    s.sendall(b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n")
    code, h, body = r.response()
    expect(code == 200 and h.get("connection") == "close" and r.closed(), "Connection: close closes")
elif case == "half-open":
    # connects, sends nothing (no ClientHello): cut after the 10 s head
    # timeout while others are served; a client that completed the
    # handshake and sent half a head is cut the same way
    raw = socket.create_connection(("127.0.0.1", port), timeout=20)
    hs = conn(20)
    hs.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Le")
    t0 = time.time()
    for i in range(5):
        s = conn(); r = Reader(s)
        s.sendall(post(events[i]))
        expect(r.response()[0] == 200, "served beside the half-open client")
        s.close()
        time.sleep(0.5)
    try:
        d = raw.recv(1)
    except ConnectionResetError:
        d = b""
    took = time.time() - t0
    expect(d == b"" and 8 < took < 14, f"half-open TLS client closed after {took:.1f}s ({d!r})")
    try:
        d = hs.recv(1)
    except (ConnectionResetError, ssl.SSLError):
        d = b""
    took = time.time() - t0
    expect(d == b"" and took < 14, f"slow head over TLS closed after {took:.1f}s ({d!r})")
elif case == "leave":
    # clients that post and go away before their 200 (reset, or EOF without
    # close_notify: half-closed, as in test_http.sh)
    for i in range(20):
        s = conn()
        s.sendall(post(events[i % len(events)]))
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        else:
            s.shutdown(socket.SHUT_WR)
            s.close()
    time.sleep(1.0)
    s = conn(); r = Reader(s)
    s.sendall(post(events[8]))
    expect(r.response()[0] == 200, "served after clients left")
elif case == "many":
    # 200 TLS connections open at once, each posts one event
    socks = [conn(30) for _ in range(200)]
    for i, s in enumerate(socks):
        s.sendall(post(events[i % len(events)]))
    for s in socks:
        expect(Reader(s).response()[0] == 200, "one of 200 connections")
        s.close()
elif case == "mtls-none":
    try:
        s = conn(); r = Reader(s)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        r.response()
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError, EOFError) as e:
        sys.exit(0)
    expect(False, "served without a client certificate")
elif case == "mtls-ok":
    s = conn(cert="client"); r = Reader(s)
    s.sendall(post(events[0]) + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    expect([r.response()[0] for _ in range(2)] == [200, 200], "with a client certificate")
EOF
t() { GATEWAY_PORT=$GATEWAY_PORT EVENTS=$EVENTS PKI=$P $PY "$T/t.py" "$@" 2>&1; }
tcheck() { local name=$1; shift; local out; if out=$(t "$@"); then ok "$name"; else fail "$name: $out"; fi; }
tcheck "pipelined requests over TLS are answered in order" pipelined
tcheck "2000 pipelined requests unread over TLS: all answered in order" pipelined-many
tcheck "300 pipelined POSTs in one TLS write: all 200" pipelined-posts
tcheck "a request written one byte (one TLS record) at a time" split
tcheck "Expect: 100-continue over TLS gets 100 Continue, then 200" continue
tcheck "Content-Length above body_limit over TLS -> 413 before the body, then close" 413-before-body
tcheck "chunked body above body_limit over TLS -> 413" chunked-413
tcheck "Connection: close over TLS closes" close
tcheck "half-open TLS client and slow head cut after the 10 s head timeout, others served" half-open
tcheck "200 TLS connections at once, each served" many
before=$(lines "$T/all.jsonl")
tcheck "clients that leave before their 200 over TLS do not disturb the gateway" leave
check "...and their events were still made durable" wait_lines "$T/all.jsonl" $((before + 21)) 10
check "still serving over TLS after all that" tcurl -fsS -o /dev/null "$GW/health"

# --- certificate reload on SIGHUP ------------------------------------------------------------
serial() { echo | openssl s_client -connect "127.0.0.1:$GATEWAY_PORT" -CAfile "$CA" 2>/dev/null |
  openssl x509 -noout -serial 2>/dev/null; }
want=$(openssl x509 -noout -serial -in "$P/server2.pem")
check "serves the first certificate" [ "$(serial)" = "$(openssl x509 -noout -serial -in "$P/server.pem")" ]
cp "$P/server.pem" "$P/server.pem.orig"; cp "$P/server.key" "$P/server.key.orig"
cp "$P/server2.pem" "$P/server.pem"; cp "$P/server2.key" "$P/server.key"
kill -HUP "$(cat "$T/gw.pid")"
wait_until 5 grep -q 'TLS certificate reloaded' "$T/gw.log"
check "SIGHUP: new connections get the renewed certificate" [ "$(serial)" = "$want" ]
echo garbage >"$P/server.pem"
kill -HUP "$(cat "$T/gw.pid")"
wait_until 5 grep -q 'TLS reload failed, keeping the previous certificate' "$T/gw.log"
check "SIGHUP with a broken certificate file: logged, the previous one kept" [ "$(serial)" = "$want" ]
check "...and HTTPS still served" tcurl -fsS -o /dev/null "$GW/health"
cp "$P/server.pem.orig" "$P/server.pem"; cp "$P/server.key.orig" "$P/server.key"

p=$(cat "$T/gw.pid"); kill -TERM "$p"; wait "$p" 2>/dev/null; rc=$?
rm -f "$T/gw.pid"
check "SIGTERM exits 0" [ "$rc" = 0 ]
check "no sanitizer report in the log" sanitizer_clean

# --- client certificates (mTLS) -------------------------------------------------------------
conf "tls_client_ca = \"$CA\""
tgw_start || { fail "luagate with mTLS did not start"; cat "$T/gw.log"; exit 1; }
check "start-up says client certificates are required" grep -q 'client certificates required' "$T/gw.log"
tcurl -s -o /dev/null "$GW/health"; rc=$?
check "mTLS: a client without a certificate is refused (curl exit $rc)" [ "$rc" != 0 ]
tcheck "mTLS: ...also at the TLS level (Python)" mtls-none
tcurl -s -o /dev/null --cert "$P/rogue.pem" --key "$P/rogue.key" "$GW/health"; rc=$?
check "mTLS: a certificate signed by another CA is refused (curl exit $rc)" [ "$rc" != 0 ]
code=$(tcurl -s -o /dev/null -w '%{http_code}' --cert "$P/client.pem" --key "$P/client.key" \
  "${auth[@]}" --data-binary "@$T/ev1" "$GW/")
check "mTLS: a certificate signed by tls_client_ca is accepted (POST -> $code)" [ "$code" = 200 ]
tcheck "mTLS: a POST and /health on one connection with a client certificate" mtls-ok
p=$(cat "$T/gw.pid"); kill -TERM "$p"; wait "$p" 2>/dev/null; rc=$?
rm -f "$T/gw.pid"
check "SIGTERM exits 0" [ "$rc" = 0 ]
check "no sanitizer report in the log" sanitizer_clean

# --- the same settings from the environment ----------------------------------------------------
printf 'listen = "127.0.0.1:%s"\nqueue_dir = "%s"\ntargets = { ["file:env"] = { path = "%s" } }\n' \
  "$GATEWAY_PORT" "$T/queue2" "$T/env.jsonl" >"$T/gw.lua"
export LUAGATE_TLS_CERT=$P/server.pem LUAGATE_TLS_KEY=$P/server.key
tgw_start || { fail "luagate with LUAGATE_TLS_* did not start"; cat "$T/gw.log"; exit 1; }
unset LUAGATE_TLS_CERT LUAGATE_TLS_KEY
check "LUAGATE_TLS_CERT/LUAGATE_TLS_KEY: HTTPS served" [ "$(tpost "$(head -1 "$EVENTS")")" = 200 ]
check "...plain HTTP refused" [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GATEWAY_PORT/health")" = 400 ]
gw_stop
check "no sanitizer report in the log" sanitizer_clean
exit 0
