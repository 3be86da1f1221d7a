#!/usr/bin/env bash
# The supervised worker (issue #12, item 1): a routing script that crashes
# the worker process or runs away inside one C call costs only its own
# event.  The parent restarts the worker at once, quarantines the event, and
# MinIO's retry of it goes to the _script dead-letter queue with the reason,
# answered 200 without running the script; no acknowledged event is lost.
# Also: kill -9 of the worker or of the parent, SIGTERM, SIGHUP, a second
# gateway on the same queue directory, a worker that cannot start.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
[ -f "$EVENTS" ] || { fail "no sample events in $EVENTS"; exit 1; }
# ASan would report the stack overflow itself, symbolizing for seconds, and
# exit 1: let the kernel's SIGSEGV end the worker, as in a release build
[ -n "${LUAGATE_SAN:-}" ] && export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"

cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
script = "$T/routes.lua"
-- time on a loaded machine before an event counts as a runaway
script_instructions = 100000000
script_memory = 268435456
script_timeout = "4s"
targets = { ["file:a"] = { path = "$T/a.jsonl" } }
EOF
# A crash: Lua 5.4.4's own crash (a deep chain of coroutine.close from
# <close> handlers) is now refused in-process, and no script can crash the
# worker any more; so the crashing event spins inside one string.find and
# the test sends the worker SIGSEGV while it routes it, as a crash of the
# Lua library would end it.  The pattern backtracks exponentially inside one
# string.find: no instruction hook ever runs.
cat >"$T/routes.lua" <<'EOF'
local function crash() -- ended by the test's SIGSEGV
  string.find(("a"):rep(40), ("a*"):rep(25) .. "b")
end
return function(event, send)
  if event.key:find("poison-crash", 1, true) then crash() end
  if event.key:find("poison-spin", 1, true) then
    string.find(("a"):rep(40), ("a*"):rep(25) .. "b")
  end
  send("file:a", event)
end
EOF
# event KEY: the first sample event with its object named KEY
event() { head -1 "$EVENTS" | sed "s/photo\.jpg/$1/g"; }
event poison-crash.jpg >"$T/crash.json"
event poison-spin.jpg >"$T/spin.json"
ACKED=0
# post_n FROM TO: events n-FROM.jpg .. n-TO.jpg, counting the acknowledged ones
post_n() {
  local i code
  for i in $(seq "$1" "$2"); do
    code=$(post "$(event "n-$i.jpg")")
    [ "$code" = 200 ] && ACKED=$((ACKED + 1))
  done
}
parent() { cat "$T/gw.pid"; }
dead() { ! alive "$1"; }
worker() { pgrep -P "$(parent)" | head -1; }
health_field() { curl -s "$GW/health" | $PY -c 'import json,sys; print(json.load(sys.stdin)["worker"][sys.argv[1]])' "$1"; }
dlq() { cat "$T/queue/dlq/_script.jsonl" 2>/dev/null; }
dlq_count() { dlq | grep -c "$1"; }
# answered_within MS: a new event is acknowledged within MS of now
answered_within() {
  local t0 i=0 body; body=$(event "after-$RANDOM.jpg"); t0=$(now_ms)
  until [ "$(post "$body" -m 2)" = 200 ]; do
    [ $((i += 1)) -gt 100 ] && break
    sleep 0.01
  done
  ACKED=$((ACKED + 1))
  local took=$(( $(now_ms) - t0 ))
  echo "# answered $took ms after the worker died" >&2
  [ "$took" -le "$1" ]
}

for bad in abc 0 5ms -1s; do
  out=$(LUAGATE_SCRIPT_TIMEOUT=$bad "$LUAGATE_BIN" check -c "$T/gw.lua" 2>&1); rc=$?
  check "script_timeout '$bad' is refused with exit 2, naming the key" \
    [ "$rc" = 2 ] && echo "$out" | grep -q "script_timeout"
done

gw_start "$T/gw.lua" || { fail "luagate did not start"; cat "$T/gw.log"; exit 1; }
check "/health names the worker, no restarts yet" [ "$(health_field restarts)" = 0 ]
w0=$(worker)
check "the gateway is a parent and one worker process" [ -n "$w0" ]
post_n 1 10

# --- a script that crashes the worker --------------------------------------------
post_file "$T/crash.json" -m 30 >"$T/crash.code" &
poster=$!
# routing has begun once the (single) ingest loop stops answering /health
for _ in $(seq 50); do curl -s -m 0.3 -o /dev/null "$GW/health" || break; sleep 0.1; done
kill -SEGV "$(worker)"
wait "$poster"; code=$(cat "$T/crash.code")
check "the event that crashed the worker is not acknowledged (got $code)" [ "$code" != 200 ]
check "another event is answered within 1 s of the crash" answered_within 1000
check "a new worker process serves" [ -n "$(worker)" ] && [ "$(worker)" != "$w0" ]
check "the crash is logged with its signal" grep -q "ended (SIGSEGV)\|ended (exit status" "$T/gw.log"
code=$(post_file "$T/crash.json" -m 10)
check "MinIO's retry of the crashing event is answered 200" [ "$code" = 200 ]
check "...and is in _script's dead-letter queue with its reason" \
  [ "$(dlq_count 'the script crashed the worker: ')" = 1 ]
check "...the reason names the signal" grep -q 'crashed the worker: SIGSEGV' "$T/queue/dlq/_script.jsonl"
check "...with the event itself" grep -q 'poison-crash.jpg' "$T/queue/dlq/_script.jsonl"
restarts=$(metric luagate_worker_restarts_total)
code=$(post_file "$T/crash.json" -m 10)
check "a second retry is answered 200 too" [ "$code" = 200 ]
check "...without running the script (no restart) nor a second dead letter" \
  [ "$(metric luagate_worker_restarts_total)" = "$restarts" ] && [ "$(dlq_count poison-crash)" = 1 ]

# --- a script that runs away inside one C call -----------------------------------
post_n 11 20
t0=$(now_ms)
code=$(post_file "$T/spin.json" -m 30)
took=$(( $(now_ms) - t0 ))
check "the runaway event is not acknowledged (got $code)" [ "$code" != 200 ]
check "the runaway worker is killed after script_timeout (4 s; took $took ms)" \
  [ "$took" -ge 3900 ] && [ "$took" -le 8000 ]
check "another event is answered within 1 s of the kill" answered_within 1000
code=$(post_file "$T/spin.json" -m 10)
check "MinIO's retry of the runaway event is answered 200 at once" [ "$code" = 200 ]
check "...and is in _script's dead-letter queue, reason 'runaway: routing took longer than 4s'" \
  [ "$(dlq_count 'runaway: routing took longer than 4s')" = 1 ]
check "the quarantine list is in the queue directory" [ "$(grep -c ' Q ' "$T/queue/quarantine")" = 2 ]

check "/health shows 2 restarts" [ "$(health_field restarts)" = 2 ]
check "/health shows 2 quarantined events" [ "$(health_field quarantined)" = 2 ]
check "luagate_worker_restarts_total 2" [ "$(metric luagate_worker_restarts_total)" = 2 ]
check "luagate_script_quarantined_total 2" [ "$(metric luagate_script_quarantined_total)" = 2 ]

# --- kill -9 of the worker ----------------------------------------------------------
post_n 21 30
w=$(worker); kill -KILL "$w"
check "after kill -9 of the worker, another event is answered within 1 s" answered_within 1000
check "...by a new worker" [ -n "$(worker)" ] && [ "$(worker)" != "$w" ]
check "...and nothing was quarantined for it" [ "$(metric luagate_script_quarantined_total)" = 2 ]
post_n 31 40

# --- a worker that cannot start -----------------------------------------------------
cp "$T/routes.lua" "$T/routes.good"
echo 'return function(event, send) syntax error here end' >"$T/routes.lua"
kill -KILL "$(worker)"
sleep 1
check "a worker that cannot start is retried with a backoff, and the log says why" \
  grep -q "before it was ready (see above); starting another in" "$T/gw.log"
check "...the parent stays up meanwhile" alive "$(parent)"
cp "$T/routes.good" "$T/routes.lua"
check "...and a fixed script brings the gateway back" wait_until 10 curl -fsS "$GW/health"
post_n 41 50

# --- SIGHUP is passed on ----------------------------------------------------------------
kill -HUP "$(parent)"
check "SIGHUP to the parent reloads the worker's script" wait_until 5 grep -q "reloaded $T/routes.lua" "$T/gw.log"

# --- everything acknowledged was delivered ----------------------------------------------
n=$($PY -c 'import json,sys
print(len({json.loads(l)["Key"] for l in open(sys.argv[1]) if "poison" not in l}))' "$T/a.jsonl" 2>/dev/null)
wait_lines "$T/a.jsonl" "$ACKED" 10
n=$($PY -c 'import json,sys
print(len({json.loads(l)["Key"] for l in open(sys.argv[1]) if "poison" not in l}))' "$T/a.jsonl")
check "every acknowledged event reached the file target ($n of $ACKED)" [ "$n" = "$ACKED" ]
check "no poison event reached the target" [ "$(grep -c poison "$T/a.jsonl")" = 0 ]

# --- a second gateway on the same queue directory ----------------------------------------
sed "s/$GATEWAY_PORT/$((GATEWAY_PORT + 1))/" "$T/gw.lua" >"$T/gw2.lua"
timeout 20 "$LUAGATE_BIN" -c "$T/gw2.lua" >"$T/gw2.log" 2>&1; rc=$?
check "a second gateway on the same queue directory exits 2 (got $rc)" [ "$rc" = 2 ]
check "...naming the directory" grep -q "queue directory $T/queue is in use" "$T/gw2.log"

# --- SIGTERM stops parent and worker ------------------------------------------------------
p=$(parent); w=$(worker)
kill -TERM "$p"; i=0
while alive "$p" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
check "SIGTERM stops the parent" dead "$p"
check "...and the worker" dead "$w"
check "...drained and stopped cleanly" grep -q "info  luagate: stopped" "$T/gw.log"
rm -f "$T/gw.pid"

# --- kill -9 of the parent ----------------------------------------------------------------
gw_start "$T/gw.lua" || fail "luagate did not start again"
check "after a restart of the gateway, the quarantine list still holds" \
  [ "$(post_file "$T/spin.json" -m 10)" = 200 ]
p=$(parent); w=$(worker)
kill -KILL "$p"; i=0
while alive "$w" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "kill -9 of the parent takes the worker down" dead "$w"
rm -f "$T/gw.pid"
# --- two ingest threads: a crash costs only the crashing thread's event ---------------
# (issue #15) The worker's fatal-signal handler names the thread that took
# the signal; an innocent event another thread was routing at that moment is
# not acknowledged, and MinIO's retry of it is delivered, not dead-lettered.
sed -e "s|$T/queue|$T/queue2|; s|$T/a.jsonl|$T/b.jsonl|; s|script_timeout = \"4s\"|script_timeout = \"60s\"|" \
  -e "s|^script_instructions.*|script_instructions = 100000000000|" "$T/gw.lua" >"$T/gw2w.lua"
echo "ingest_workers = 2" >>"$T/gw2w.lua"
cat >"$T/routes.lua" <<'LUA'
return function(event, send)
  if event.key:find("poison-crash", 1, true) then
    string.find(("a"):rep(40), ("a*"):rep(25) .. "b") -- ended by the test's SIGSEGV
  end
  if event.key:find("slow-innocent", 1, true) then -- several seconds of Lua, then delivered
    local t = os.time()
    while os.time() - t < 8 do end
  end
  send("file:a", event)
end
LUA
event slow-innocent.jpg >"$T/slow.json"
# busy_threads PID: the threads of PID that ran on a CPU for 10 % of the last 0.5 s
busy_threads() {
  $PY - "$1" <<'PY'
import os, sys, time
pid = sys.argv[1]
def cpu():
    r = {}
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            f = open(f"/proc/{pid}/task/{t}/stat").read().rsplit(")", 1)[1].split()
            r[t] = int(f[11]) + int(f[12])
        except OSError:
            pass
    return r
a = cpu(); time.sleep(0.5); b = cpu()
print(" ".join(t for t in b if t in a and b[t] - a[t] >= os.sysconf("SC_CLK_TCK") * 0.05))
PY
}
# post_to_idle FILE: POST FILE on a connection an idle ingest thread serves
# (a /health on it was answered first: the busy thread answers none)
post_to_idle() {
  $PY - "$GATEWAY_PORT" "$1" <<'PY'
import socket, sys
body = open(sys.argv[2], "rb").read()
held = []
for _ in range(40):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(0.5)
    try:
        if not s.recv(65536):
            continue
    except socket.timeout:
        held.append(s)  # queued behind the busy thread: try another connection
        continue
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
              % len(body) + body)
    s.settimeout(60)
    try:
        s.recv(65536)
    except OSError:
        pass
    sys.exit(0)
sys.exit(1)
PY
}
absent() { ! grep -q "$1" "$2" 2>/dev/null; }
tgkill() { $PY -c 'import ctypes,sys; sys.exit(ctypes.CDLL(None).tgkill(*map(int, sys.argv[1:])))' "$@"; }
gw_start "$T/gw2w.lua" || fail "luagate with two ingest threads did not start"
w=$(worker)
post_file "$T/slow.json" -m 60 >"$T/slow.code" &
slow_poster=$!
innocent=""
for _ in $(seq 20); do innocent=$(busy_threads "$w"); [ -n "$innocent" ] && break; done
post_to_idle "$T/crash.json" &
crash_poster=$!
culprit=""
for _ in $(seq 12); do
  for t in $(busy_threads "$w"); do [ "$t" != "$innocent" ] && culprit=$t; done
  [ -n "$culprit" ] && break
done
check "the innocent and the crashing event route in two threads at once ($innocent, $culprit)" \
  [ -n "$innocent" ] && [ -n "$culprit" ] && [ "$(echo "$innocent" | wc -w)" = 1 ]
[ -n "$culprit" ] && tgkill "$w" "$culprit" 11
wait "$crash_poster" "$slow_poster"
check "the innocent event another thread was routing is not acknowledged" [ "$(cat "$T/slow.code")" != 200 ]
check "...a new worker serves" wait_until 20 curl -fsS "$GW/health"
check "the crash is logged with its signal" grep -q "ended (SIGSEGV)" "$T/gw.log"
code=$(post_file "$T/slow.json" -m 60)
check "MinIO's retry of the innocent event is answered 200" [ "$code" = 200 ]
check "...and delivered" wait_until 10 grep -q slow-innocent "$T/b.jsonl"
check "...not dead-lettered" absent slow-innocent "$T/queue2/dlq/_script.jsonl"
check "only the crashing event was quarantined" [ "$(grep -c ' Q ' "$T/queue2/quarantine")" = 1 ]
code=$(post_file "$T/crash.json" -m 10)
check "MinIO's retry of the crashing event is dead-lettered" \
  [ "$code" = 200 ] && grep -q poison-crash "$T/queue2/dlq/_script.jsonl"
gw_stop
exit 0
