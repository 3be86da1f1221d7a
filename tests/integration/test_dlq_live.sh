#!/usr/bin/env bash
# `luagate dlq list|show|requeue|purge` against a running gateway (issue 18
# item 2): through the admin API on the ingest listener, with the token;
# selections by id, time, reason, bucket and key; requeue while events flow
# delivers each requeued event once and in order; requeue of _script runs
# the current script again; an unknown target is an error naming the
# configured ones; stopped, the same commands work on the files, and never
# on the files while a gateway holds them.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
TOKEN=dlq-secret-token
AUTH=(-H "Authorization: Bearer $TOKEN")
cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
auth_token = "$TOKEN"
queue_dir = "$T/queue"
script = "$T/routes.lua"
script_timeout = "60s"
targets = {
  ["webhook:1"] = { endpoint = "http://127.0.0.1:$WEBHOOK_PORT/", max_attempts = 1,
                    retry_min = "20ms", retry_max = "100ms" },
  ["file:log"] = { path = "$T/file.jsonl" },
}
EOF
cat >"$T/routes.lua" <<'EOF'
return function(event, send)
  if event.bucket == "bad" then error("no route for bucket bad") end
  send("webhook:1", event)
end
EOF
# mk PREFIX BUCKET N: N envelopes, keys BUCKET/PREFIX-01.jpg ...
mk() { $PY - "$EVENTS" "$1" "$2" "$3" <<'EOF'
import json, sys
ev = json.loads(open(sys.argv[1]).readline())
for i in range(1, int(sys.argv[4]) + 1):
    key = "%s-%02d.jpg" % (sys.argv[2], i)
    ev["Key"] = sys.argv[3] + "/" + key
    r = ev["Records"][0]
    r["s3"]["bucket"]["name"] = sys.argv[3]
    r["s3"]["bucket"]["arn"] = "arn:aws:s3:::" + sys.argv[3]
    r["s3"]["object"]["key"] = key
    print(json.dumps(ev, separators=(",", ":")))
EOF
}
dlq() { "$LUAGATE_BIN" -c "$T/gw.lua" dlq "$@"; }
has() { printf '%s\n' "$out" | grep -q -- "$1"; }
has1() { printf '%s\n' "$out" | head -1 | grep -q -- "$1"; }
rx_keys() { $PY -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["status"] == 200 and r["method"] == "POST": print(json.loads(r["body"])["Key"])' "$RX_LOG"; }
posted() { local n=0; while IFS= read -r l; do [ "$(post "$l" "${AUTH[@]}")" = 200 ] && n=$((n + 1)); done <"$1"; echo $n; }

rx_start || fail "webhook receiver did not start"
gw_start "$T/gw.lua" || { fail "luagate did not start"; cat "$T/gw.log"; exit 1; }
DLQ=$T/queue/dlq/webhook:1.jsonl

# --- 30 events the receiver refuses for good: dead letters -------------------------
curl -s -X POST "http://127.0.0.1:$WEBHOOK_PORT/__fail?status=400&match=dlqme" >/dev/null
mk dlqme photos 20 >"$T/dead.jsonl"; mk dlqme docs 10 >>"$T/dead.jsonl"
check "30 events acknowledged" [ "$(posted "$T/dead.jsonl")" = 30 ]
wait_until 30 sh -c "[ \$(wc -l <'$DLQ' 2>/dev/null || echo 0) -ge 30 ]"
check "...all 30 dead-lettered (max_attempts = 1)" [ "$(lines "$DLQ")" = 30 ]

out=$(dlq list webhook:1 2>&1); rc=$?
check "dlq list while running: exit 0 ($rc)" [ "$rc" = 0 ]
check "...says it went through the running gateway, and which file it read" \
  has1 "^webhook:1: 30 dead letter(s) in $DLQ, 30 selected (through the running gateway at http://127.0.0.1:$GATEWAY_PORT)"
check "...one line per entry with id, time, event, key, attempts" has "^  #7  20.*Z  s3:ObjectCreated:Put  photos/dlqme-07.jpg  attempts=1"
check "...and the reason" has "error: .*HTTP 400"
check "--id 3-5 --json selects 3 entries, ids 3 to 5" \
  sh -c "dlq() { '$LUAGATE_BIN' -c '$T/gw.lua' dlq \"\$@\"; }; dlq list webhook:1 --id 3-5 --json | $PY -c 'import json,sys; r=json.load(sys.stdin); sys.exit(not (r[\"selected\"] == 3 and [e[\"id\"] for e in r[\"entries\"]] == [3,4,5]))'"
check "--bucket docs selects the 10 of bucket docs" sh -c "'$LUAGATE_BIN' -c '$T/gw.lua' dlq list webhook:1 --bucket docs | head -1 | grep -q ', 10 selected'"
check "--key 'dlqme-0*' selects 18 (9 per bucket)" sh -c "'$LUAGATE_BIN' -c '$T/gw.lua' dlq list webhook:1 --key 'dlqme-0*' | head -1 | grep -q ', 18 selected'"
check "--key prefix dlqme-2 selects 1 (photos/dlqme-20)" sh -c "'$LUAGATE_BIN' -c '$T/gw.lua' dlq list webhook:1 --key dlqme-2 | head -1 | grep -q ', 1 selected'"
check "--reason '*HTTP 400*' selects all 30" sh -c "'$LUAGATE_BIN' -c '$T/gw.lua' dlq list webhook:1 --reason '*HTTP 400*' | head -1 | grep -q ', 30 selected'"
check "--reason timeout selects none" sh -c "'$LUAGATE_BIN' -c '$T/gw.lua' dlq list webhook:1 --reason timeout | head -1 | grep -q ', 0 selected'"
check "--since 2000-01-01 selects all, --until 2000-01-01 none" sh -c "'$LUAGATE_BIN' -c '$T/gw.lua' dlq list webhook:1 --since 2000-01-01 | head -1 | grep -q ', 30 selected' && '$LUAGATE_BIN' -c '$T/gw.lua' dlq list webhook:1 --until 2000-01-01 | head -1 | grep -q ', 0 selected'"
check "dlq show --id 2 prints the entry with its payload as JSON" sh -c "'$LUAGATE_BIN' -c '$T/gw.lua' dlq show webhook:1 --id 2 | tr -d '\n\t ' | grep -q '\"payload\":{\"EventName\":\"s3:ObjectCreated:Put\",\"Key\":\"photos/dlqme-02.jpg\"'"
out=$(dlq list webhook:9 2>&1); rc=$?
check "unknown target: exit 2 ($rc)" [ "$rc" = 2 ]
check "...the configured ones named" has "unknown target 'webhook:9'; configured: \(file:log webhook:1\|webhook:1 file:log\) _script"
out=$(dlq list webhook:1 --id x-3 2>&1); rc=$?
check "a bad selection: exit 2 ($rc)" [ "$rc" = 2 ]
check "...named" has "id: 'x-3' is not"
check "the admin API wants the token" [ "$(curl -s -o /dev/null -w '%{http_code}' "$GW/admin/dlq/webhook:1")" = 401 ]
check "GET /admin/dlq/TARGET?id=1 with the token answers JSON" \
  sh -c "curl -s -H 'Authorization: Bearer $TOKEN' '$GW/admin/dlq/webhook:1?id=1' | grep -q '\"selected\":1'"

# --- requeue under load: once, in order ----------------------------------------------
curl -s -X DELETE "http://127.0.0.1:$WEBHOOK_PORT/__fail" >/dev/null
: >"$T/acked"
$PY tests/integration/load.py "$GW/" 3000 "$T/acked" 4 "$TOKEN" &
loadpid=$!
sleep 0.3
out=$(dlq requeue webhook:1 --bucket photos 2>&1); rc=$?
check "requeue --bucket photos while 3000 events flow: exit 0 ($rc)" [ "$rc" = 0 ]
check "...20 queued again, through the gateway" has "^webhook:1: 20 dead letter(s) queued again (through the running gateway"
out=$(dlq requeue webhook:1 2>&1)
check "...then the other 10" has "^webhook:1: 10 dead letter(s) queued again"
wait "$loadpid"
check "the load was acknowledged (3000)" [ "$(lines "$T/acked")" = 3000 ]
wait_until 60 sh -c "[ \$(grep -c '\"status\": 200' '$RX_LOG') -ge 3030 ]"
rx_keys >"$T/keys"
check "every requeued event delivered exactly once" \
  sh -c "[ \$(grep -c dlqme '$T/keys') = 30 ] && [ \$(grep dlqme '$T/keys' | sort -u | wc -l) = 30 ]"
check "...in their dead-letter order" bash -c "grep dlqme '$T/keys' | cmp -s - <($PY -c 'import json,sys
for l in open(sys.argv[1]): print(json.loads(l)[\"Key\"])' '$T/dead.jsonl')"
check "...and every load event once" [ "$(grep -c '^load/' "$T/keys")" = 3000 ]
check "the dead-letter file is empty" [ "$(lines "$DLQ")" = 0 ]

# --- purge by reason -------------------------------------------------------------------
curl -s -X POST "http://127.0.0.1:$WEBHOOK_PORT/__fail?status=400&match=purgeme&body=nope" >/dev/null
mk purgeme photos 5 >"$T/purge.jsonl"
posted "$T/purge.jsonl" >/dev/null
wait_until 30 sh -c "[ \$(wc -l <'$DLQ') -ge 5 ]"
out=$(dlq purge webhook:1 --id 1-2 2>&1)
check "purge --id 1-2: 2 purged" has "^webhook:1: 2 dead letter(s) purged"
check "...3 left, renumbered from 1" sh -c "'$LUAGATE_BIN' -c '$T/gw.lua' dlq list webhook:1 | grep -q '#1 .*purgeme-03.jpg'"
check "purge --reason nope: the other 3" sh -c "'$LUAGATE_BIN' -c '$T/gw.lua' dlq purge webhook:1 --reason nope | grep -q '3 dead letter(s) purged'"
check "...none left" [ "$(lines "$DLQ")" = 0 ]
curl -s -X DELETE "http://127.0.0.1:$WEBHOOK_PORT/__fail" >/dev/null

# --- _script: requeue runs the current script -------------------------------------------
mk scriptme bad 4 >"$T/bad.jsonl"
check "4 events the script fails on: acknowledged" [ "$(posted "$T/bad.jsonl")" = 4 ]
check "...in _script's dead-letter queue" [ "$(lines "$T/queue/dlq/_script.jsonl")" = 4 ]
out=$(dlq requeue _script 2>&1)
check "requeue _script with the same script: they fail again, back in _script" \
  sh -c "printf '%s' \"\$0\" | grep -q '4 dead letter(s) queued again' && [ \$(wc -l <'$T/queue/dlq/_script.jsonl') = 4 ]" "$out"
printf 'return function(event, send) send("webhook:1", event) end\n' >"$T/routes.lua"
kill -HUP "$(cat "$T/gw.pid")"
wait_until 10 sh -c "curl -s '$GW/metrics' | grep -q '^luagate_script_reloads_total{result=\"ok\"} 1'"
out=$(dlq requeue _script 2>&1)
check "after a fixed script is loaded, requeue _script: 4 queued again" has "4 dead letter(s) queued again"
wait_until 20 sh -c "[ \$(grep -c scriptme '$RX_LOG') -ge 4 ]"
check "...delivered by the new script, once each" [ "$(rx_keys | grep -c '^bad/scriptme')" = 4 ]
check "..._script's dead-letter queue is empty" [ "$(lines "$T/queue/dlq/_script.jsonl")" = 0 ]

# --- a gateway that does not answer where we ask; stopped: on the files ---------------
curl -s -X POST "http://127.0.0.1:$WEBHOOK_PORT/__fail?status=400&match=offline" >/dev/null
mk offline photos 2 >"$T/off.jsonl"; posted "$T/off.jsonl" >/dev/null
wait_until 30 sh -c "[ \$(wc -l <'$DLQ') -ge 2 ]"
out=$(dlq list webhook:1 --admin 127.0.0.1:9 2>&1); rc=$?
check "running, but --admin names a dead address: refused, not read from the files ($rc)" \
  sh -c "[ $rc = 1 ] && printf '%s' \"\$0\" | grep -q 'a running luagate holds the queue directory $T/queue, but nothing answers at http://127.0.0.1:9'" "$out"
gw_stop
out=$(dlq list webhook:1 2>&1)
check "stopped: dlq list reads the files, and says so" has1 "2 dead letter(s) in $DLQ, 2 selected (on the files: no gateway answers at"
out=$(dlq requeue webhook:1 --id 2 2>&1)
check "stopped: requeue --id 2 on the files" has "1 dead letter(s) queued again (on the files"
check "stopped: requeue _script is refused with the reason" sh -c "! '$LUAGATE_BIN' -c '$T/gw.lua' dlq requeue _script 2>&1 | grep -q queued && '$LUAGATE_BIN' -c '$T/gw.lua' dlq requeue _script 2>&1 | grep -q 'start luagate first'"
curl -s -X DELETE "http://127.0.0.1:$WEBHOOK_PORT/__fail" >/dev/null
: >"$RX_LOG"
gw_start "$T/gw.lua" || fail "luagate did not start again"
wait_until 20 sh -c "grep -q offline-02 '$RX_LOG'"
check "...and the restarted gateway delivers it" sh -c "rx_keys() { :; }; grep -q 'offline-02' '$RX_LOG' && ! grep -q 'offline-01' '$RX_LOG'"
gw_stop
check "no sanitizer report in the gateway's log" sh -c "! grep -q 'ERROR: AddressSanitizer\\|ERROR: LeakSanitizer\\|runtime error' '$T/gw.log'"
exit 0
