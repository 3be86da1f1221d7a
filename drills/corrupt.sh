#!/usr/bin/env bash
# drills/corrupt.sh [--quick] -- damaged journal segments (issue #7, drill 5).
# ROUNDS rounds (40; 20 with --quick), each on a fresh queue_dir: luagate
# with a webhook target whose receiver is down queues K events
# (drills/load.py), gets SIGKILL, drills/damage.py flips bytes in / truncates
# / appends garbage to the segment files (knowing which records it touched),
# then the receiver and luagate start again.  Checks every round: luagate
# starts and keeps running (no crash, no hang), the queue drains, and every
# acknowledged record the damage did not touch is delivered; the records cut
# (luagate_queue_cut_records_total) and what the log said are reported.
. "$(dirname "$0")/lib.sh" "$@"
ROUNDS=${ROUNDS:-$([ "$QUICK" = 1 ] && echo 20 || echo 40)}
K=${K:-300}
crashes=0 hangs=0 tot_acked=0 tot_damaged=0 tot_lost=0 tot_cut=0 tot_deliv=0 tot_dups=0
for r in $(seq 1 "$ROUNDS"); do
  conf=$T/c.lua
  cat >"$conf" <<EOC
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/q-c$r"
targets = { ["webhook:c"] = { endpoint = "http://127.0.0.1:$WEBHOOK_PORT/c", retry_min = "50ms", retry_max = "300ms" } }
EOC
  : >"$T/gw.log"; : >"$T/c.acked"; : >"$RX_LOG"
  gw_up "$conf" || { fail "corrupt round $r: luagate did not start on a fresh queue"; continue; }
  $PY "${LOAD[@]}" "$GW/" "$K" "$T/c.acked" --start $((r * 100000)) --conc 4
  gw_kill
  desc=$($PY drills/damage.py "$T/q-c$r/journal" "$((RANDOM * 32768 + RANDOM))" "$T/c.damaged")
  rx_start >/dev/null
  if ! gw_up "$conf"; then
    fail "corrupt round $r: luagate did not start on the damaged queue ($desc)"
    crashes=$((crashes + 1)); tail -5 "$T/gw.log" | sed 's/^/#   /'; rx_stop; gw_stop KILL; continue
  fi
  if ! wait_until 30 drained webhook:c; then
    gw_alive && { hangs=$((hangs + 1)); fail "corrupt round $r: queue not drained in 30 s (depth $(depth webhook:c); $desc)"; }
  fi
  sleep 0.2
  if ! gw_alive; then
    crashes=$((crashes + 1)); fail "corrupt round $r: luagate died after recovery ($desc)"
    tail -5 "$T/gw.log" | sed 's/^/#   /'; rx_stop; continue
  fi
  cut=$(metric_sum luagate_queue_cut_records_total)
  $PY drills/seen.py webhook "$RX_LOG" >"$T/c.seen"
  out=$($PY drills/figures.py "corrupt/round$r" "$T/c.acked" "$T/c.seen" --exclude "$T/c.damaged" 2>&1); rc=$?
  if [ $rc != 0 ]; then
    fail "corrupt round $r: records the damage did not touch were lost ($desc)"; echo "$out" | sed 's/^/#   /'
    grep -iE 'cut|corrupt|torn|skip' "$T/gw.log" | head -3 | sed 's/^/#   log: /'
  fi
  a=$(grep -c . "$T/c.acked"); d=$(grep -c . "$T/c.damaged"); s=$(sort -u "$T/c.seen" | grep -c .)
  tot_acked=$((tot_acked + a)); tot_damaged=$((tot_damaged + d)); tot_cut=$((tot_cut + ${cut:-0}))
  tot_deliv=$((tot_deliv + s)); tot_dups=$((tot_dups + $(grep -c . "$T/c.seen") - s))
  l=$(echo "$out" | sed -n 's/.* lost=\([0-9]*\).*/\1/p'); tot_lost=$((tot_lost + ${l:-0}))
  [ "${VERBOSE:-}" ] && echo "# round $r: $desc; cut=$cut; $out"
  logcut=$(grep -ciE 'cut|corrupt|torn' "$T/gw.log")
  if [ "$d" -gt 0 ] && [ "${cut:-0}" = 0 ] && [ "$logcut" = 0 ]; then
    fail "corrupt round $r: $d damaged record(s) but neither /metrics nor the log report a cut ($desc)"
  fi
  gw_stop; rx_stop
  rm -rf "$T/q-c$r"
done
check "corrupt: no crash in $ROUNDS damage rounds ($crashes)" [ $crashes = 0 ]
check "corrupt: no hang in $ROUNDS damage rounds ($hangs)" [ $hangs = 0 ]
line="# figures corrupt: offered=$((ROUNDS * K)) acknowledged=$tot_acked delivered=$tot_deliv duplicates=$tot_dups lost=$tot_lost damaged=$tot_damaged cut=$tot_cut"
echo "$line"; [ -n "${DRILL_FIGURES:-}" ] && echo "$DRILL $line" >>"$DRILL_FIGURES"
check "corrupt: every acknowledged record outside the damaged byte ranges delivered (lost $tot_lost)" [ $tot_lost = 0 ]
exit $((NFAIL > 0))
