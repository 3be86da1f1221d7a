#!/usr/bin/env bash
# drills/poison.sh [--quick] -- poison messages (issue #7, drill 4).
# The webhook receiver refuses one event for good with 400 and another with
# 404 (max_attempts = 3: each is tried 3 times).  Both must go to the
# dead-letter queue with the reason (a 5xx is not a refusal: the target is
# unavailable and retried forever, drills/outage.sh webhook_503), the events behind them must arrive without waiting
# for them (and in order), `luagate dlq list` must show them, and
# `luagate dlq requeue` (through the running gateway) must put them back
# so that they are delivered once the receiver accepts them.
. "$(dirname "$0")/lib.sh" "$@"
N=${N:-200}
A=37; B=111   # the two poison events (load.py indices)
enc() { $PY -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
conf=$T/p.lua
cat >"$conf" <<EOC
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/q-p"
targets = { ["webhook:p"] = { endpoint = "http://127.0.0.1:$WEBHOOK_PORT/p", max_attempts = 3,
                              retry_min = "100ms", retry_max = "500ms" } }
EOC
rx_start >/dev/null || { fail "poison: webhook receiver did not start"; exit 1; }
curl -s -X POST "http://127.0.0.1:$WEBHOOK_PORT/__fail?status=400&match=$(enc "load/$A.bin\"")" >/dev/null
curl -s -X POST "http://127.0.0.1:$WEBHOOK_PORT/__fail?status=404&match=$(enc "load/$B.bin\"")" >/dev/null
gw_up "$conf" || { fail "poison: luagate did not start"; exit 1; }
t0=$(now_ms)
$PY "${LOAD[@]}" "$GW/" "$N" "$T/p.acked" --conc 1
others() { [ "$($PY drills/seen.py webhook "$RX_LOG" | grep -cvxE "$A|$B")" -ge $((N - 2)) ]; }
wait_until 20 others; took=$(( $(now_ms) - t0 ))
check "poison: the $((N - 2)) other events delivered in $took ms (posting included) without waiting for the poison ones" others
$PY drills/seen.py webhook "$RX_LOG" >"$T/p.seen"
grep -vxE "$A|$B" "$T/p.acked" >"$T/p.acked-others"
ORDER_NOTE=", in order" figures "poison/others" "$T/p.acked-others" "$T/p.seen" --offered $((N - 2)) --order
wait_until 10 sh -c "[ \"\$(grep -c . '$T/q-p/dlq/webhook:p.jsonl' 2>/dev/null)\" -ge 2 ]"
dlq=$T/q-p/dlq/webhook:p.jsonl
check "poison: the 400 event is in the dead-letter queue with HTTP 400 as the reason" \
  sh -c "grep 'load/$A.bin' '$dlq' | grep -q 'HTTP 400'"
check "poison: the 404 event is in the dead-letter queue after max_attempts=3, with HTTP 404" \
  sh -c "grep 'load/$B.bin' '$dlq' | grep -q 'HTTP 404'"
att=$(grep -c "load/$B.bin\\\\\\?\"" "$RX_LOG")
check "poison: the 404 event was tried exactly max_attempts = 3 times (receiver saw $att)" [ "$att" = 3 ]
check "poison: /metrics counts 2 dead letters" [ "$(metric 'luagate_events_dead_lettered_total{target="webhook:p"}')" = 2 ]
check "poison: the queue is empty (nothing stuck behind them)" drained webhook:p
"$LUAGATE_BIN" -c "$conf" dlq list webhook:p >"$T/dlq.out" 2>&1
check "poison: luagate dlq list shows both" sh -c "grep -q 'load/$A.bin' '$T/dlq.out' && grep -q 'load/$B.bin' '$T/dlq.out'"
sed -n 1,4p "$T/dlq.out" | cut -c1-160 | sed 's/^/#   dlq list: /'
curl -s -X DELETE "http://127.0.0.1:$WEBHOOK_PORT/__fail" >/dev/null
"$LUAGATE_BIN" -c "$conf" dlq requeue webhook:p >"$T/rq.out" 2>&1
check "poison: luagate dlq requeue, the gateway running, puts 2 back through it" \
  grep -q '2 dead letter(s) queued again (through the running gateway' "$T/rq.out"
sed 's/^/#   requeue while running: /' "$T/rq.out" | head -2
both() { $PY drills/seen.py webhook "$RX_LOG" | grep -cxE "$A|$B" | grep -qx 2; }
wait_until 20 both
check "poison: the gateway delivers both once the receiver accepts them" both
gw_stop
"$LUAGATE_BIN" -c "$conf" dlq list webhook:p >"$T/dlq2.out" 2>&1
check "poison: nothing is left in the dead-letter queue" sh -c "! grep -q 'load/' '$T/dlq2.out'"
sed -n 1p "$T/dlq2.out" | sed 's/^/#   dlq list after: /'
$PY drills/seen.py webhook "$RX_LOG" >"$T/p.seen"
figures "poison/all" "$T/p.acked" "$T/p.seen" --offered "$N"
exit $((NFAIL > 0))
