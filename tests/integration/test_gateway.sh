#!/usr/bin/env bash
# End to end: MinIO's events posted to luagate reach a webhook receiver and
# a file byte for byte; outages, refusals, kill -9 and bad input.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
N=$(grep -c . "$EVENTS")

cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
auth_token = "gw-secret"
targets = {
  ["webhook:1"] = { endpoint = "http://127.0.0.1:$WEBHOOK_PORT/minio/events", auth_token = "rx-token",
                    retry_min = "50ms", retry_max = "200ms", max_attempts = 3 },
  ["file:all"] = { path = "$T/all.jsonl" },
}
EOF

# --- MinIO's events, byte for byte -------------------------------------------
rx_start || fail "webhook receiver did not start"
gw_start "$T/gw.lua" || { fail "luagate did not start"; cat "$T/gw.log"; exit 1; }
check "startup prints the SQS ARNs sorted" grep -q '^SQS ARNs: arn:minio:sqs::1:webhook arn:minio:sqs::all:file $' "$T/gw.log"
acked=$(post_all -H "Authorization: Bearer gw-secret")
check "all $N sample events acknowledged with 200" [ "$acked" = "$N" ]
wait_lines "$RX_LOG" "$N"; wait_lines "$T/all.jsonl" "$N"
check "webhook receiver got every envelope byte-identical, in order" cmp -s <(rx_bodies) "$EVENTS"
check "file target holds every envelope byte-identical, in order" cmp -s "$T/all.jsonl" "$EVENTS"
check "webhook requests carry Content-Type: application/json" \
  $PY -c 'import json,sys; sys.exit(any(json.loads(l)["headers"].get("content-type") != "application/json" for l in open(sys.argv[1])))' "$RX_LOG"
check "webhook requests carry MinIO's Authorization: Bearer <token>" \
  $PY -c 'import json,sys; sys.exit(any(json.loads(l)["headers"].get("authorization") != "Bearer rx-token" for l in open(sys.argv[1])))' "$RX_LOG"
check "webhook requests go to the endpoint's path" \
  $PY -c 'import json,sys; sys.exit(any(json.loads(l)["path"] != "/minio/events" for l in open(sys.argv[1])))' "$RX_LOG"

# an S3-style body with several records is split into one event each
two=$($PY -c 'import json,sys
lines = open(sys.argv[1]).read().split("\n")
recs = [json.loads(l)["Records"][0] for l in lines[:2]]
print(json.dumps({"Records": recs}, separators=(",", ":")))' "$EVENTS")
before=$(lines "$T/all.jsonl")
check "a body with 2 records is acknowledged" [ "$(post "$two" -H "Authorization: Bearer gw-secret")" = 200 ]
wait_lines "$T/all.jsonl" $((before + 2))
check "...and becomes 2 MinIO envelopes with EventName and unescaped Key" \
  $PY -c 'import json,sys
out = [json.loads(l) for l in open(sys.argv[1]).read().split("\n")[-3:-1]]
src = [json.loads(l) for l in open(sys.argv[2]).read().split("\n")[:2]]
sys.exit(not all(o == s for o, s in zip(out, src)) or len(out) != 2)' "$T/all.jsonl" "$EVENTS"

# --- ingest authorization ----------------------------------------------------
line1=$(head -1 "$EVENTS")
check "no Authorization header -> 401" [ "$(post "$line1")" = 401 ]
check "wrong token -> 401" [ "$(post "$line1" -H "Authorization: Bearer nope")" = 401 ]
check "token without Bearer -> 401" [ "$(post "$line1" -H "Authorization: gw-secret")" = 401 ]

# --- bad input gets a clear error and the gateway keeps serving ---------------
auth=(-H "Authorization: Bearer gw-secret")
check "malformed JSON -> 400" [ "$(post '{"Records":[{' "${auth[@]}")" = 400 ]
check "...with a JSON error naming the problem" grep -q '"error":"malformed JSON' "$T/resp"
check "truncated envelope -> 400" [ "$(post "${line1:0:700}" "${auth[@]}")" = 400 ]
check "JSON that is no event -> 400" [ "$(post '{"hello":"world"}' "${auth[@]}")" = 400 ]
check "...naming the missing Records" grep -q 'Records' "$T/resp"
check "empty body -> 400" [ "$(post '' "${auth[@]}")" = 400 ]
head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$T/big"
check "10 MiB body -> 413" [ "$(post_file "$T/big" "${auth[@]}")" = 413 ]
check "GET / -> 405" [ "$(curl -s -o /dev/null -w '%{http_code}' "$GW/")" = 405 ]
check "still serving after bad input" [ "$(post "$line1" "${auth[@]}")" = 200 ]
check "/metrics counts 400s" [ "$(metric 'luagate_http_requests_total{code="400"}')" -ge 4 ]
check "/health is 200 with the targets online" \
  sh -c "curl -fsS '$GW/health' | grep -q '\"webhook:1\":{\"state\":\"online\"'"

# --- the receiver down for a while, then back: everything, in order ---------------
rx_stop
: >"$RX_LOG"
for i in $(seq 1 10); do sed -n "${i}p" "$EVENTS"; done >"$T/ten.jsonl"
n=0; while IFS= read -r l; do [ "$(post "$l" "${auth[@]}")" = 200 ] && n=$((n + 1)); done <"$T/ten.jsonl"
check "events acknowledged while the receiver is down" [ "$n" = 10 ]
sleep 0.5
check "/health shows the webhook offline" sh -c "curl -s '$GW/health' | grep -q '\"webhook:1\":{\"state\":\"offline\"'"
check "/metrics shows them queued" [ "$(metric 'luagate_queue_depth{target="webhook:1"}')" -ge 1 ]
rx_start
wait_lines "$RX_LOG" 10 30
check "after the receiver is back every event arrives, in order" cmp -s <(rx_bodies) "$T/ten.jsonl"

# --- a receiver that refuses one event: DLQ, the rest still arrive ---------------
: >"$RX_LOG"
curl -s -X POST "http://127.0.0.1:$WEBHOOK_PORT/__fail?status=400&match=report%20final" >/dev/null
n=0; while IFS= read -r l; do [ "$(post "$l" "${auth[@]}")" = 200 ] && n=$((n + 1)); done <"$T/ten.jsonl"
refused=$(grep -c 'report final' "$T/ten.jsonl")
wait_lines "$RX_LOG" 10 20
sleep 0.3
check "the refused event is in the dead-letter queue" grep -q 'report final' "$T/queue/dlq/webhook:1.jsonl"
check "...with the receiver's answer as the reason" grep -q 'HTTP 400' "$T/queue/dlq/webhook:1.jsonl"
check "every other event was delivered" [ "$(rx_bodies | grep -vc 'report final')" = $((10 - refused)) ]
check "/metrics counts the dead letter" [ "$(metric 'luagate_events_dead_lettered_total{target="webhook:1"}')" -ge 1 ]
"$LUAGATE_BIN" -c "$T/gw.lua" dlq list webhook:1 >"$T/dlq.out" 2>&1
check "luagate dlq list shows it" grep -q 'report final' "$T/dlq.out"
curl -s -X DELETE "http://127.0.0.1:$WEBHOOK_PORT/__fail" >/dev/null

# --- SIGTERM: clean exit ------------------------------------------------------------
p=$(cat "$T/gw.pid"); kill -TERM "$p"; wait "$p" 2>/dev/null; rc=$?
rm -f "$T/gw.pid"
check "SIGTERM stops the gateway with exit code 0" [ "$rc" = 0 ]

"$LUAGATE_BIN" -c "$T/gw.lua" dlq requeue webhook:1 >"$T/dlq.out" 2>&1
check "luagate dlq requeue puts it back" grep -q '1 dead letter(s) queued again' "$T/dlq.out"
: >"$RX_LOG"
gw_start "$T/gw.lua"
wait_lines "$RX_LOG" 1 20
check "...and the restarted gateway delivers it" sh -c "grep -q 'report final' '$RX_LOG'"

# --- kill -9 under load: every acknowledged event arrives at least once -----------
: >"$RX_LOG"; : >"$T/acked"
$PY tests/integration/load.py "$GW/" 5000 "$T/acked" 16 gw-secret &
loadpid=$!
wait_lines "$T/acked" 300 30
gw_kill
wait $loadpid
got=$(lines "$T/acked")
check "kill -9 happened mid-load ($got of 5000 acknowledged)" [ "$got" -ge 300 ] && [ "$got" -lt 5000 ]
gw_start "$T/gw.lua"
missing_acked() { $PY -c 'import json,sys
acked = {int(l) for l in open(sys.argv[1]) if l.strip()}
seen = set()
for l in open(sys.argv[2]):
    r = json.loads(l)
    if r["status"] == 200:
        k = json.loads(r["body"])["Key"]
        if k.startswith("load/"): seen.add(int(k[5:-4]))
print(len(acked - seen))' "$T/acked" "$RX_LOG"; }
i=0; while [ "$(missing_acked)" != 0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
missing=$(missing_acked)
check "after kill -9 and restart no acknowledged event is lost (missing: $missing)" [ "$missing" = 0 ]
dups=$(( $(rx_count) - got ))
echo "# kill -9 drill: $got acknowledged, $(rx_count) delivered, $missing lost, $dups duplicates or unacknowledged deliveries"
gw_stop

# --- configuration errors: one line naming the key, exit code 2 -------------------
conf_err() { # conf_err NAME PATTERN LUA
  printf '%s\n' "$3" >"$T/bad.lua"
  "$LUAGATE_BIN" -c "$T/bad.lua" check >"$T/bad.out" 2>&1; local rc=$?
  check "$1 -> exit 2" [ "$rc" = 2 ]
  check "$1 -> error names it" grep -q "$2" "$T/bad.out"
}
conf_err "unknown key" "unknown key 'endpont'" 'targets = { ["webhook:1"] = { endpont = "http://x/" } }'
conf_err "bad boolean" "key 'enable' must be a boolean.*maybe" 'targets = { ["webhook:1"] = { endpoint = "http://x/", enable = "maybe" } }'
conf_err "missing required key" "key 'endpoint' is required" 'targets = { ["webhook:1"] = { } }'
conf_err "bad URL scheme" "endpoint" 'targets = { ["webhook:1"] = { endpoint = "ftp://x/" } }'
conf_err "unknown global key" "unknown key 'lisen'" 'lisen = "1"'
conf_err "unknown kind" "unknown kind 'kafak'" 'targets = { ["kafak:1"] = { brokers = "x:1" } }'
conf_err "bad duration" "retry_min" 'targets = { ["webhook:1"] = { endpoint = "http://x/", retry_min = "soon" } }'
MINIO_NOTIFY_WEBHOOK_ENABLE_X=on MINIO_NOTIFY_WEBHOOK_ENDPOINT_X=http://127.0.0.1:1/ \
  "$LUAGATE_BIN" -c /dev/null check >"$T/env.out" 2>&1
check "a gateway configured by MINIO_NOTIFY_* variables alone" grep -q 'webhook:X  arn:minio:sqs::X:webhook' "$T/env.out"
MINIO_NOTIFY_WEBHOOK_ENABLE_X=on MINIO_NOTIFY_WEBHOOK_ENDPOINT_X=http://127.0.0.1:1/ \
  MINIO_NOTIFY_WEBHOOK_QUEUE_LIMT_X=5 "$LUAGATE_BIN" -c /dev/null check >"$T/env.out" 2>&1
check "an unknown MINIO_NOTIFY_ variable is refused by name" grep -q 'MINIO_NOTIFY_WEBHOOK_QUEUE_LIMT_X' "$T/env.out"
exit 0
