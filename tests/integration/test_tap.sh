#!/usr/bin/env bash
# `luagate tap` while 10k events flow through two ingest workers: an idle
# tapper sees every event exactly once, a tapper that reads nothing never
# holds ingest back and its lost lines are counted (metric, and a
# {"dropped":N} line once it reads), filters and --payloads, and the errors
# a user can make.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
ADMIN_PORT=$(port 19097)
ADM="http://127.0.0.1:$ADMIN_PORT"
N=10000
cat >"$T/routes.lua" <<'LUA'
return function(event, send)
  if event.bucket == "load" then send("file:all") else send("file:other") end
end
LUA
cat >"$T/gw.conf.lua" <<CONF
listen = "127.0.0.1:$GATEWAY_PORT"
admin_listen = "127.0.0.1:$ADMIN_PORT"
queue_dir = "$T/q"
script = "$T/routes.lua"
ingest_workers = 2
targets = {
  ["file:all"] = { path = "$T/all.jsonl" },
  ["file:other"] = { path = "$T/other.jsonl" },
}
CONF
gw_start "$T/gw.conf.lua" || { fail "luagate did not start: $(tail -3 "$T/gw.log")"; exit 1; }
TAP="$LUAGATE_BIN tap --admin 127.0.0.1:$ADMIN_PORT" # not a function: its & would be a subshell, not luagate
started() { grep -q '"tap":"started"' "$1"; }

# errors first
"$LUAGATE_BIN" tap >"$T/noaddr.out" 2>&1 </dev/null
rc=$?
check "tap without any admin address fails (exit $rc) saying how to give one" \
  sh -c "[ $rc = 2 ] && grep -q -- '--admin HOST:PORT' '$T/noaddr.out'"
$TAP --count 1x >"$T/badcount.out" 2>&1
rc=$?
check "tap --count 1x fails (exit $rc) naming the bad value" \
  sh -c "[ $rc = 2 ] && grep -q \"count must be a positive integer, not '1x'\" '$T/badcount.out'"
$TAP --target nosuch >"$T/bad.out" 2>&1
rc=$?
check "tap --target of an unknown target fails (exit $rc) naming the configured ones ($(head -1 "$T/bad.out" | head -c 160))" \
  sh -c "[ $rc != 0 ] && grep -q 'file:all' '$T/bad.out' && grep -q 'file:other' '$T/bad.out'"

# the idle tapper, a filtered one, and one that reads nothing
$TAP >"$T/idle.ndjson" 2>"$T/idle.err" &
idle=$!
$TAP --bucket images --event 's3:ObjectCreated:*' >"$T/images.ndjson" 2>&1 &
filt=$!
$PY - "$ADMIN_PORT" "$T/slow.out" <<'PY' &
import socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # reads nothing: the window closes fast
s.connect(("127.0.0.1", port))
s.sendall(b"GET /tap HTTP/1.1\r\nHost: x\r\n\r\n")
open(out + ".ready", "w").close()
while True:  # until the test says go
    try:
        open(out + ".go").close()
        break
    except OSError:
        time.sleep(0.1)
s.settimeout(30)
data = b""
deadline = time.time() + 60
while b'"dropped"' not in data and time.time() < deadline:
    try:
        chunk = s.recv(1 << 16)
    except socket.timeout:
        break
    if not chunk:
        break
    data += chunk
open(out, "wb").write(data)
PY
slow=$!
wait_until 20 started "$T/idle.ndjson"
wait_until 20 started "$T/images.ndjson"
wait_until 20 test -f "$T/slow.out.ready"
wait_until 20 sh -c "curl -s '$ADM/metrics' | grep -q '^luagate_tap_clients 3'"
check "three tappers connected (luagate_tap_clients 3)" sh -c "curl -s '$ADM/metrics' | grep -q '^luagate_tap_clients 3'"

post_all >/dev/null
$PY tests/integration/load.py "$GW/" $N "$T/acked" 8 >"$T/load.out" 2>&1
check "all $N events acknowledged while a tapper reads nothing ($(lines "$T/acked"))" [ "$(lines "$T/acked")" = $N ]
wait_lines "$T/all.jsonl" $N 60
wait_until 30 sh -c "[ \$(grep -c '\"bucket\":\"load\"' '$T/idle.ndjson') -ge $N ]"
check "the idle tapper saw every one of the $N events exactly once" $PY - "$T/idle.ndjson" $N <<'PY'
import json, sys
seen = {}
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("bucket") == "load":
        seen[d["key"]] = seen.get(d["key"], 0) + 1
n = int(sys.argv[2])
want = {"%d.bin" % i for i in range(n)}
bad = [k for k, c in seen.items() if c != 1]
sys.exit(0 if set(seen) == want and not bad else 1)
PY
check "each line says what was decided: targets, by whom, script time, the worker" $PY - "$T/idle.ndjson" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("bucket") == "load":
        assert d["targets"] == ["file:all"] and d["by"] == "script" and d["event"] == "s3:ObjectCreated:Put"
        assert d["script_us"] >= 0 and d["time"].endswith("Z") and d["worker"] in (0, 1)
PY
check "both ingest workers fed the tap" sh -c "grep -q '\"worker\":0' '$T/idle.ndjson' && grep -q '\"worker\":1' '$T/idle.ndjson'"
check "the idle tapper lost nothing (no dropped line)" sh -c "! grep -q '\"dropped\"' '$T/idle.ndjson'"
dropped=$(curl -s "$ADM/metrics" | awk '$1 == "luagate_tap_dropped_total" { print $2 }')
check "the slow tapper's lost lines are counted (luagate_tap_dropped_total $dropped)" [ "${dropped:-0}" -gt 0 ]
touch "$T/slow.out.go"
wait "$slow"
check "the slow tapper is told how many lines it lost once it reads ($(grep -ao '{"dropped":[0-9]*' "$T/slow.out" | tail -1))" \
  grep -aq '{"dropped":[1-9]' "$T/slow.out"
check "the filtered tapper got only ObjectCreated events of bucket images ($(grep -c '"bucket"' "$T/images.ndjson") lines)" \
  $PY - "$T/images.ndjson" <<'PY'
import json, sys
n = 0
for l in open(sys.argv[1]):
    d = json.loads(l)
    if "bucket" in d:
        assert d["bucket"] == "images" and d["event"].startswith("s3:ObjectCreated:"), d
        n += 1
sys.exit(0 if n > 0 else 1)
PY
kill "$idle" "$filt" 2>/dev/null
wait "$idle" "$filt" 2>/dev/null
wait_until 20 sh -c "curl -s '$ADM/metrics' | grep -q '^luagate_tap_clients 0'"
check "tappers that left are gone (luagate_tap_clients 0)" sh -c "curl -s '$ADM/metrics' | grep -q '^luagate_tap_clients 0'"

# --payloads, --prefix, --target, --count
$TAP --payloads --count 1 --prefix photos/ >"$T/pay.ndjson" 2>&1 &
pay=$!
$TAP --target file:other --count 2 >"$T/other.ndjson" 2>&1 &
oth=$!
wait_until 20 started "$T/pay.ndjson"
wait_until 20 started "$T/other.ndjson"
post_all >/dev/null
wait "$pay"
rc=$?
check "tap --count 1 ends after one event, exit 0 (exit $rc)" sh -c "[ $rc = 0 ] && [ \$(grep -c '\"bucket\"' '$T/pay.ndjson') = 1 ]"
check "--payloads carries the record, --prefix filters on the object key" $PY - "$T/pay.ndjson" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if "bucket" in d:
        assert d["key"].startswith("photos/"), d
        assert json.loads(d["payload"])["s3"]["object"]["key"], d
PY
wait "$oth"
check "--target file:other sees only events routed there" sh -c "[ \$(grep -c '\"targets\":\[\"file:other\"\]' '$T/other.ndjson') = 2 ]"
