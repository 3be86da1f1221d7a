#!/usr/bin/env bash
# `luagate top` driven in a real terminal (tmux), its screen captured and
# checked for the numbers: events, ingest rate while load runs, per target
# its state and reason, queue length, dead letters; then `--once` as plain
# text, and the error when the gateway is not there.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
ADMIN_PORT=$(port 19097)
DOWN_PORT=$(port 19098)
cat >"$T/gw.conf.lua" <<CONF
listen = "127.0.0.1:$GATEWAY_PORT"
admin_listen = "127.0.0.1:$ADMIN_PORT"
queue_dir = "$T/q"
targets = {
  ["file:all"] = { path = "$T/all.jsonl" },
  ["webhook:down"] = { endpoint = "http://127.0.0.1:$DOWN_PORT/", retry_min = "50ms", retry_max = "200ms" },
}
CONF
gw_start "$T/gw.conf.lua" || { fail "luagate did not start: $(tail -3 "$T/gw.log")"; exit 1; }
# load until top has shown a rate (however fast or slow this machine is)
( while [ ! -f "$T/stop" ]; do $PY tests/integration/load.py "$GW/" 200 "$T/acked" 4 >>"$T/load.out" 2>&1; done ) &
load=$!

TM="tmux -L luagate-top-$PORT_OFFSET-$$"
screen() { $TM capture-pane -p -t top; }
$TM new-session -d -s top -x 150 -y 30 "'$LUAGATE_BIN' top -c '$T/gw.conf.lua' --iterations 120; sleep 60"
trap 'cleanup; $TM kill-server 2>/dev/null' EXIT
wait_until 30 sh -c "$TM capture-pane -p -t top | grep -q 'events/s'"
rate_seen=
for i in $(seq 1 60); do
  screen >"$T/screen.txt"
  r=$(sed -n 's/^ingest *\([0-9.]*\) events\/s.*/\1/p' "$T/screen.txt")
  [ -n "$r" ] && awk -v r="$r" 'BEGIN { exit !(r > 0) }' && { rate_seen=$r; break; }
  sleep 0.5
done
check "top shows a non-zero ingest rate while load runs ($rate_seen events/s)" [ -n "$rate_seen" ]
check "top shows latency percentiles while load runs" grep -Eq 'latency p50 <=[0-9.]+ms p99 <=[0-9.]+ms' "$T/screen.txt"
touch "$T/stop"
wait "$load"
N=$(lines "$T/acked")
check "every event acknowledged ($N, in rounds of 200)" [ "$N" -ge 200 -a $((N % 200)) = 0 ]
wait_lines "$T/all.jsonl" "$N" 60
# once the load is over the screen settles: the totals must be exact
want_line() { grep -Eq "$1" "$T/screen.txt"; }
settled=
for i in $(seq 1 60); do
  screen >"$T/screen.txt"
  if want_line "events $N\$" && want_line "^webhook:down +offline +0\.0 +$N " && want_line "^file:all +online +0\.0 +0 "; then
    settled=1; break
  fi
  sleep 0.5
done
check "top's screen: events $N" want_line "events $N\$"
check "top's screen: webhook:down offline, $N queued" want_line "^webhook:down +offline +0\.0 +$N +100000 "
check "top's screen: webhook:down's reason is shown" sh -c "grep '^webhook:down' '$T/screen.txt' | grep -qi 'refused\|connect'"
check "top's screen: webhook:down's oldest event has an age" sh -c "grep '^webhook:down' '$T/screen.txt' | grep -Eq ' [1-9][0-9]*\.[0-9]s '"
check "top's screen: file:all online, queue 0, no dead letters" want_line "^file:all +online +[0-9.]+ +0 +100000 +0\.0s +0 +0"
check "top's screen: script errors 0, restarts 0" want_line "errors 0  restarts 0"
[ -z "$settled" ] && { echo "# the screen did not settle:"; sed 's/^/# /' "$T/screen.txt"; }

"$LUAGATE_BIN" top --once --admin "127.0.0.1:$ADMIN_PORT" >"$T/once.txt" 2>&1
rc=$?
check "top --once prints one plain screen (exit $rc, no escape codes)" \
  sh -c "[ $rc = 0 ] && grep -q '^TARGET' '$T/once.txt' && ! grep -q \$(printf '\\033') '$T/once.txt'"
gw_stop
"$LUAGATE_BIN" top --once --admin "127.0.0.1:$ADMIN_PORT" >"$T/gone.txt" 2>&1
rc=$?
check "top against a gateway that is not running fails (exit $rc) naming the address ($(head -1 "$T/gone.txt"))" \
  sh -c "[ $rc != 0 ] && grep -q '127.0.0.1:$ADMIN_PORT' '$T/gone.txt'"
