# drills/lib.sh -- shared by the drills (drills/*.sh).  Source it first thing:
#   . "$(dirname "$0")/lib.sh" "$@"
# It cds to the repository, sources scripts/lib.sh (ports shifted by
# PORT_OFFSET, data under BASE) and tests/integration/lib_gateway.sh (gw_start,
# gw_kill, rx_start, post, wait_lines, metric, ok/fail...), reads --quick, and
# adds what every drill needs: a failure count, figures lines, a gateway start
# that does not need its targets up, and an EXIT trap that also runs
# drill_cleanup (define it to stop what the drill started).
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
DRILL=$(basename "$0" .sh)
QUICK=${DRILL_QUICK:-0}
for a in "$@"; do [ "$a" = --quick ] && QUICK=1; done
NFAIL=0
DR=drills
LOAD=(drills/load.py)
PG_PASSWORD=${PG_PASSWORD:-gw-pg-s3cret}
MYSQL_PASSWORD=${MYSQL_PASSWORD:-g@te:pw/1}

ok() { echo "ok - $*"; }
fail() { echo "not ok - $*"; NFAIL=$((NFAIL + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
note() { echo "# $*"; }

drill_cleanup() { :; }
_drill_exit() {
  drill_cleanup
  gw_stop KILL; rx_stop
  [ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap _drill_exit EXIT

# figures NAME ACKED SEEN [figures.py options]: print the figures line, ok/not ok.
figures() {
  local name=$1 out rc; shift
  out=$($PY drills/figures.py "$name" "$@" 2>"$T/figures.err"); rc=$?
  echo "$out"; sed 's/^/  /' "$T/figures.err"
  [ -n "${DRILL_FIGURES:-}" ] && echo "$DRILL $out" >>"$DRILL_FIGURES"
  if [ $rc = 0 ]; then ok "$name: every acknowledged event delivered${ORDER_NOTE:-}"
  else fail "$name: acknowledged events lost or out of order"; fi
  return $rc
}

# http_code URL: the status code of a GET (000: nothing answers).
http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1"; }
gw_answers() { [ "$(http_code "$GW/health")" != 000 ]; }
# gw_up CONFIG: start luagate without requiring its targets to be online
# (/health is 503 while one is offline); 1 if it does not answer in 20 s.
gw_up() {
  local conf=$1; shift
  need_free_port "$GATEWAY_PORT" || return 1
  "$LUAGATE_BIN" -c "$conf" "$@" >>"$T/gw.log" 2>&1 &
  echo $! >"$T/gw.pid"; disown $!
  wait_until 20 gw_answers
}
gw_pid() { cat "$T/gw.pid" 2>/dev/null; }
gw_alive() { [ -f "$T/gw.pid" ] && alive "$(gw_pid)"; }
# target_state TARGET: online/offline from /health
target_state() {
  curl -s -m 5 "$GW/health" | $PY -c 'import json,sys
try: print(json.load(sys.stdin)["targets"][sys.argv[1]]["state"])
except Exception: print("unknown")' "$1"
}
depth() { metric "luagate_queue_depth{target=\"$1\"}"; }
# drained TARGET: the target's queue is empty
drained() { [ "$(depth "$1")" = 0 ]; }
# rnd_ms LO HI: a random number of milliseconds in [LO, HI]
rnd_sleep() { sleep "$($PY -c 'import random,sys; print(random.uniform(float(sys.argv[1]), float(sys.argv[2])))' "$1" "$2")"; }
# metric_sum NAME: the sum of a metric over all its label sets
metric_sum() { curl -s -m 5 "$GW/metrics" | awk -v m="$1" 'index($1, m "{") == 1 || $1 == m { s += $2 } END { print s + 0 }'; }
