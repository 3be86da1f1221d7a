#!/usr/bin/env bash
# Delivery semantics (issue 16): an unavailable target (5xx, 408, 429,
# refused connections) is offline with the reason and retried forever,
# never dead-lettered; a message the target condemns (4xx) is tried
# max_attempts times, then dead-lettered with the target's own answer.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
san_clean() { check "no sanitizer report in the gateway's log ($1)" sh -c "! grep -q 'ERROR: AddressSanitizer\\|ERROR: LeakSanitizer\\|runtime error' '$T/gw.log'"; }
enc() { $PY -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
state() { curl -s "$GW/health" | $PY -c 'import json,sys; t=json.load(sys.stdin)["targets"]["webhook:1"]; print(t["state"], t.get("error", ""))'; }
rx_ok() { grep -c '"status": 200' "$RX_LOG" 2>/dev/null || echo 0; }
state_is() { state | grep -qi "$1"; }
fails() { [ "$(metric 'luagate_events_failed_total{target="webhook:1"}')" -ge "$1" ] 2>/dev/null; }

cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
targets = {
  ["webhook:1"] = { endpoint = "http://127.0.0.1:$WEBHOOK_PORT/", max_attempts = 2,
                    retry_min = "20ms", retry_max = "100ms" },
}
EOF
rx_start || fail "webhook receiver did not start"
gw_start "$T/gw.lua" || { fail "luagate did not start"; cat "$T/gw.log"; exit 1; }
line1=$(head -1 "$EVENTS"); line2=$(sed -n 2p "$EVENTS")

# --- an outage served as 503s --------------------------------------------------
curl -s -X POST "http://127.0.0.1:$WEBHOOK_PORT/__fail?status=503&body=$(enc 'maintenance, back soon')" >/dev/null
check "an event is acknowledged while the receiver answers 503" [ "$(post "$line1")" = 200 ]
wait_until 20 fails 8
check "the 503s were retried well past max_attempts = 2 ($(metric 'luagate_events_failed_total{target="webhook:1"}') failed attempts)" fails 8
check "...and nothing was dead-lettered" [ "$(metric 'luagate_events_dead_lettered_total{target="webhook:1"}')" = 0 ]
check "...no dead-letter file" [ ! -s "$T/queue/dlq/webhook:1.jsonl" ]
s=$(state)
check "/health shows the target offline while the 503s last ($s)" sh -c "echo '$s' | grep -q '^offline .*HTTP 503'"
check "...with the receiver's answer as the reason" sh -c "echo '$s' | grep -q 'maintenance, back soon'"
check "...not MinIO's 'check your endpoint configuration'" sh -c "! echo '$s' | grep -q 'endpoint configuration'"
check "luagate_target_online is 0" [ "$(metric 'luagate_target_online{target="webhook:1"}')" = 0 ]
check "the log says offline, with the 503" grep -q 'webhook:1: offline: .*HTTP 503' "$T/gw.log"
check "the log never says online again during the outage" sh -c "! grep -q 'webhook:1: online again' '$T/gw.log'"
curl -s -X DELETE "http://127.0.0.1:$WEBHOOK_PORT/__fail" >/dev/null
wait_until 10 sh -c "[ \"\$(grep -c '\"status\": 200' '$RX_LOG')\" -ge 1 ]"
check "after the outage the event is delivered" sh -c "grep '\"status\": 200' '$RX_LOG' | grep -q Records"
wait_until 5 state_is '^online'
check "...and the target is online again" state_is '^online'
check "...luagate_target_online is 1" [ "$(metric 'luagate_target_online{target="webhook:1"}')" = 1 ]

# --- 429 and 408 are unavailability too ---------------------------------------
for code in 429 408 500; do
  before=$(metric 'luagate_events_failed_total{target="webhook:1"}')
  curl -s -X POST "http://127.0.0.1:$WEBHOOK_PORT/__fail?status=$code&count=4" >/dev/null
  ok0=$(rx_ok)
  check "$code x4: acknowledged" [ "$(post "$line2")" = 200 ]
  wait_until 10 sh -c "[ \$(grep -c '\"status\": 200' '$RX_LOG') -gt $ok0 ]"
  check "$code x4: delivered on the 5th try, not dead-lettered (max_attempts = 2)" \
    [ "$(metric 'luagate_events_dead_lettered_total{target="webhook:1"}')" = 0 ]
  check "$code x4: 4 failed attempts counted" [ $(( $(metric 'luagate_events_failed_total{target="webhook:1"}') - before )) = 4 ]
  curl -s -X DELETE "http://127.0.0.1:$WEBHOOK_PORT/__fail" >/dev/null
done

# --- a condemned message: max_attempts tries, then the dead-letter queue -----------
long=$($PY -c 'print("bad field: " + "x" * 700)')
curl -s -X POST "http://127.0.0.1:$WEBHOOK_PORT/__fail?status=422&match=$(enc "$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["Key"])' "$line1")")&body=$(enc "$long")" >/dev/null
before=$(rx_count)
check "a message the receiver refuses with 422 is acknowledged" [ "$(post "$line1")" = 200 ]
wait_until 10 sh -c "[ -s '$T/queue/dlq/webhook:1.jsonl' ]"
check "...it is dead-lettered" [ "$(metric 'luagate_events_dead_lettered_total{target="webhook:1"}')" = 1 ]
check "...after exactly max_attempts = 2 tries" [ $(( $(rx_count) - before )) = 2 ]
reason=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["error"])' "$T/queue/dlq/webhook:1.jsonl")
check "...with HTTP 422 and the receiver's answer as the reason" sh -c "echo '$reason' | grep -q '^returned HTTP 422: bad field: xxx'"
check "...whose first 512 bytes are kept (reason is ${#reason} bytes)" \
  sh -c "echo '$reason' | grep -q 'bad field: $($PY -c 'print("x" * 501)')'"
check "...and the target stayed online (it answered)" state_is '^online'

# --- a refused connection: offline, forever, never dead-lettered ------------------
rx_stop
check "acknowledged while the receiver is down" [ "$(post "$line2")" = 200 ]
wait_until 10 state_is '^offline'
check "/health: offline with the connection error" state_is '^offline .*connect'
sleep 1
check "...nothing more dead-lettered" [ "$(metric 'luagate_events_dead_lettered_total{target="webhook:1"}')" = 1 ]
gw_stop
check "the gateway stopped cleanly" [ ! -f "$T/gw.pid" ]

# --- an ingest refused by one queue directory appends nothing to the others ---------
DEAD=$(port 17999)
cat >"$T/two.lua" <<EOF2
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/qa"
targets = {
  ["file:a"] = { path = "$T/a.jsonl" },
  ["webhook:b"] = { endpoint = "http://127.0.0.1:$DEAD/", queue_dir = "$T/qb", queue_limit = 1 },
}
EOF2
san_clean "503s, refusals, outage"
: >"$T/gw.log"
gw_start "$T/two.lua" || { fail "luagate did not start with two queue directories"; cat "$T/gw.log"; exit 1; }
check "the first event is acknowledged (one message for each directory)" [ "$(post "$line1")" = 200 ]
check "the second is refused with 503: webhook:b's queue is full" [ "$(post "$line2")" = 503 ]
check "...naming the full queue" grep -q 'queue of webhook:b is full' "$T/resp"
check "...and MinIO's retry of it is refused again" [ "$(post "$line2")" = 503 ]
wait_lines "$T/a.jsonl" 1
sleep 0.5
check "file:a (the other directory) holds the first event only: nothing of the refused one ($(lines "$T/a.jsonl") line(s))" \
  [ "$(lines "$T/a.jsonl")" = 1 ]
check "luagate_events_routed_total of file:a is 1" [ "$(metric 'luagate_events_routed_total{target="file:a"}')" = 1 ]
gw_stop

# --- more queue directories than one request can span: refused at start-up -------------
{
  echo "listen = \"127.0.0.1:$GATEWAY_PORT\""
  echo "targets = {"
  for i in 1 2 3 4 5 6 7 8 9; do echo "  [\"file:f$i\"] = { path = \"$T/f$i.jsonl\", queue_dir = \"$T/q$i\" },"; done
  echo "}"
} >"$T/nine.lua"
"$LUAGATE_BIN" check -c "$T/nine.lua" >"$T/nine.out" 2>&1; rc=$?
check "luagate check refuses 9 queue directories (exit $rc)" [ "$rc" = 2 ]
check "...saying at most 8 are supported" grep -q 'at most 8 are supported' "$T/nine.out"
sed 's/^/# /' "$T/nine.out"
timeout 10 "$LUAGATE_BIN" -c "$T/nine.lua" >"$T/nine.run" 2>&1; rc=$?
check "the gateway refuses to start with them (exit $rc)" [ "$rc" = 2 ]
check "...with the same message" grep -q 'at most 8 are supported' "$T/nine.run"
check "...and created no queue directory" [ ! -e "$T/q1" ]

# --- a message no queue record can hold: refused at send(), not 503 forever --------------
cat >"$T/big.lua" <<'EOF2'
return function(event, send)
  send("file:big", string.rep("x", 65 * 1024 * 1024))
  send("file:small", event)
end
EOF2
cat >"$T/big-gw.lua" <<EOF2
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/qbig"
script = "$T/big.lua"
script_memory = 536870912
-- building 65 MiB takes seconds under ASan on a loaded machine: not a runaway
script_timeout = "60s"
targets = { ["file:big"] = { path = "$T/big.jsonl" }, ["file:small"] = { path = "$T/small.jsonl" } }
EOF2
san_clean "two queue directories"
: >"$T/gw.log"
gw_start "$T/big-gw.lua" || { fail "luagate did not start (oversized payload)"; tail -3 "$T/gw.log"; exit 1; }
check "an event whose script sends a 65 MiB payload is acknowledged, not 503" [ "$(post "$line1")" = 200 ]
check "...and so is MinIO's next one" [ "$(post "$line2")" = 200 ]
# send() refuses it (script.c): the event goes to _script's dead-letter queue with the reason
check "...both events are in _script's dead-letter queue" [ "$(lines "$T/qbig/dlq/_script.jsonl")" = 2 ]
check "...with the reason" sh -c "head -c 600 '$T/qbig/dlq/_script.jsonl' | grep -q \"more than the journal's record limit\""
check "...and nothing was queued for file:big" [ "$(metric 'luagate_events_routed_total{target="file:big"}')" = 0 ]
gw_stop
san_clean "the last gateway"
