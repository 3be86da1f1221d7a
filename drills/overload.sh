#!/usr/bin/env bash
# drills/overload.sh [--quick] -- a full queue and a full disk (issue #7, drill 3).
# 1. queue_limit: the webhook receiver is down, luagate's queue_limit is LIMIT;
#    posting 2*LIMIT+100 events must acknowledge at most LIMIT and answer the
#    rest 503 with Retry-After; once the receiver is back the backlog drains,
#    new events are accepted again, and every acknowledged event arrives.
# 2. disk full: queue_dir on a loop-mounted 20 MB ext4 image filled up to
#    ~1 MB free (needs root and mount; without them: RLIMIT_FSIZE through
#    prlimit on the luagate process, said in the output).  Posting until the
#    disk refuses must give 503 and a log line, never a crash; then space
#    returns (the filler is deleted), new events are accepted again, luagate
#    gets SIGKILL and restarts on the same queue, and every acknowledged event
#    is delivered (nothing corrupt: no record cut at recovery).
. "$(dirname "$0")/lib.sh" "$@"
LIMIT=${LIMIT:-200}
MNT=$T/small
drill_cleanup() { mountpoint -q "$MNT" 2>/dev/null && { gw_stop KILL; umount "$MNT"; }; }

# ---- 1. queue_limit ---------------------------------------------------------------
conf=$T/o.lua
cat >"$conf" <<EOC
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/q-o"
targets = { ["webhook:o"] = { endpoint = "http://127.0.0.1:$WEBHOOK_PORT/o", queue_limit = $LIMIT,
                              retry_min = "100ms", retry_max = "500ms" } }
EOC
gw_up "$conf" || { fail "overload: luagate did not start"; exit 1; }
n=$((2 * LIMIT + 100))
$PY "${LOAD[@]}" "$GW/" "$n" "$T/o.acked" --conc 4 --codes "$T/o.codes"
a=$(grep -c . "$T/o.acked")
c503=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1])).get("503", 0))' "$T/o.codes")
cra=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1])).get("retry_after", 0))' "$T/o.codes")
note "queue_limit $LIMIT, receiver down: $n posted, $a acknowledged, $c503 answered 503 ($cra with Retry-After); codes $(cat "$T/o.codes")"
check "overload: at most queue_limit ($LIMIT) acknowledged while the target is down (got $a)" [ "$a" -le "$LIMIT" ] && [ "$a" -ge $((LIMIT - 5)) ]
check "overload: every other event answered 503 ($c503 of $((n - a)))" [ "$c503" = $((n - a)) ]
check "overload: every 503 carries Retry-After ($cra of $c503)" [ "$cra" = "$c503" ]
check "overload: /health shows the queue at its limit" sh -c "curl -s '$GW/health' | grep -q '\"queue\":$a,\"limit\":$LIMIT'"
rx_start >/dev/null
wait_until 60 drained webhook:o || fail "overload: backlog not drained 60 s after the receiver came back"
$PY "${LOAD[@]}" "$GW/" 100 "$T/o.acked" --start 100000 --conc 4 --codes "$T/o.codes2"
check "overload: after recovery new events are accepted again (100 of 100: $(cat "$T/o.codes2"))" \
  [ "$(grep -c . "$T/o.acked")" = $((a + 100)) ]
wait_until 30 drained webhook:o
$PY drills/seen.py webhook "$RX_LOG" >"$T/o.seen"
figures "overload/queue_limit" "$T/o.acked" "$T/o.seen" --offered $((n + 100))
check "overload: no refused (503) event was delivered" sh -c "! $PY drills/figures.py x '$T/o.acked' '$T/o.seen' | grep -q unacked_delivered"
gw_stop; rx_stop; : >"$RX_LOG"

# ---- 2. disk full -------------------------------------------------------------------
mkdir -p "$MNT"
mode=loop
if truncate -s 20M "$T/small.img" && mkfs.ext4 -q -F "$T/small.img" >/dev/null 2>&1 &&
   mount -o loop "$T/small.img" "$MNT" 2>/dev/null; then
  avail=$(df -B1 --output=avail "$MNT" | tail -1)
  fallocate -l $((avail - 1024 * 1024)) "$MNT/filler" || dd if=/dev/zero of="$MNT/filler" bs=1M count=$((avail / 1048576 - 1)) 2>/dev/null
  note "disk full: queue_dir on a loop-mounted 20 MB ext4 image, $(df -h --output=avail "$MNT" | tail -1 | tr -d ' ') left free"
  prefix=()
else
  mode=fsize
  prefix=(prlimit --fsize=$((1024 * 1024)) --)
  note "disk full: mount -o loop not permitted here: RLIMIT_FSIZE = 1 MiB on the luagate process (prlimit) instead"
fi
conf=$T/d.lua
cat >"$conf" <<EOC
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$MNT/q"
targets = { ["webhook:d"] = { endpoint = "http://127.0.0.1:$WEBHOOK_PORT/d", retry_min = "100ms", retry_max = "500ms" } }
EOC
: >"$T/gw.log"
need_free_port "$GATEWAY_PORT"
"${prefix[@]}" "$LUAGATE_BIN" -c "$conf" >>"$T/gw.log" 2>&1 &
echo $! >"$T/gw.pid"; disown $!
wait_until 20 gw_answers || { fail "overload/disk: luagate did not start on the small filesystem"; tail -3 "$T/gw.log" | sed 's/^/# /'; exit 1; }
$PY "${LOAD[@]}" "$GW/" 3000 "$T/d.acked" --conc 4 --codes "$T/d.codes"
a=$(grep -c . "$T/d.acked")
d503=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1])).get("503", 0))' "$T/d.codes")
note "disk full: 3000 posted, $a acknowledged, codes $(cat "$T/d.codes")"
check "overload/disk: luagate survives the full disk" gw_alive
check "overload/disk: writes the disk refused are answered 503 ($d503)" [ "$d503" -gt 0 ]
grep -iE 'space|disk|write|EFBIG|too large' "$T/gw.log" | head -2 | cut -c1-200 | sed 's/^/#   log: /'
check "overload/disk: the log says why (no space / write error)" grep -qiE 'space|disk full|EFBIG|too large|write' "$T/gw.log"
check "overload/disk: /health still answers" gw_answers
if [ $mode = loop ]; then
  rm -f "$MNT/filler"
  $PY "${LOAD[@]}" "$GW/" 50 "$T/d.acked" --start 100000 --conc 2 --codes "$T/d.codes2"
  check "overload/disk: once space returns new events are accepted without a restart ($(cat "$T/d.codes2"))" \
    [ "$(grep -c . "$T/d.acked")" = $((a + 50)) ]
fi
gw_kill
rx_start >/dev/null
gw_up "$conf" || { fail "overload/disk: luagate did not restart on the queue that filled the disk"; tail -3 "$T/gw.log" | sed 's/^/# /'; exit 1; }
wait_until 90 drained webhook:d || fail "overload/disk: queue not drained after the restart (depth $(depth webhook:d))"
cut=$(metric_sum luagate_queue_cut_records_total)
check "overload/disk: no record cut at recovery after the disk filled up (cut $cut)" [ "$cut" = 0 ]
$PY drills/seen.py webhook "$RX_LOG" >"$T/d.seen"
figures "overload/disk_full" "$T/d.acked" "$T/d.seen" --offered 3050
exit $((NFAIL > 0))
