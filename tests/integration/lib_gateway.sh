# tests/integration/lib_gateway.sh -- helpers for the end-to-end tests:
# start/stop luagate and the webhook receiver, post events, count results.
# Source after scripts/lib.sh.  Prints TAP-ish "ok - x" / "not ok - x".
LUAGATE_BIN=${LUAGATE_BIN:-$PWD/build/release/luagate}
EVENTS=${LUAGATE_EVENTS:-$PWD/examples/events/minio-webhook.jsonl}
mkdir -p "${BASE:-/tmp}"
T=$(mktemp -d "${BASE:-/tmp}/gw.XXXXXX")
GW="http://127.0.0.1:$GATEWAY_PORT"
RX_LOG=$T/rx.jsonl

ok() { echo "ok - $*"; }
fail() { echo "not ok - $*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }

rx_start() {
  need_free_port "$WEBHOOK_PORT" || return 1
  $PY tests/peers/webhook_rx.py "$WEBHOOK_PORT" "$RX_LOG" >"$T/rx.out" 2>&1 &
  echo $! >"$T/rx.pid"
  wait_until 10 curl -fsS "http://127.0.0.1:$WEBHOOK_PORT/__health"
}
rx_stop() { stop_pid "$T/rx.pid"; }
rx_count() { lines "$RX_LOG"; }
rx_bodies() { $PY -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["status"] == 200: print(r["body"])' "$RX_LOG"; }

# gw_start CONFIG [extra args]: run luagate in the background, wait for /health.
gw_start() {
  local conf=$1; shift
  need_free_port "$GATEWAY_PORT" || return 1
  "$LUAGATE_BIN" -c "$conf" "$@" >>"$T/gw.log" 2>&1 &
  echo $! >"$T/gw.pid"
  wait_until 20 curl -fsS "$GW/health"
}
gw_stop() { stop_pid "$T/gw.pid" "${1:-TERM}"; }
gw_kill() { local p; p=$(cat "$T/gw.pid"); kill -KILL "$p"; while alive "$p"; do sleep 0.05; done; rm -f "$T/gw.pid"; }

post() { curl -s -o "$T/resp" -w '%{http_code}' -X POST --data-binary "$1" "${@:2}" "$GW/"; }
post_file() { curl -s -o "$T/resp" -w '%{http_code}' -X POST --data-binary "@$1" "${@:2}" "$GW/"; }
post_all() {
  local n=0 code
  while IFS= read -r line; do
    code=$(post "$line" "$@"); [ "$code" = 200 ] && n=$((n + 1))
  done <"$EVENTS"
  echo "$n"
}
# wait_lines FILE N [SECONDS]: until FILE has at least N lines.
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
wait_lines() {
  local i=0
  while [ "$(lines "$1")" -lt "$2" ] && [ $i -lt $(( ${3:-20} * 20 )) ]; do sleep 0.05; i=$((i + 1)); done
  [ "$(lines "$1")" -ge "$2" ]
}
metric() { curl -s "$GW/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

cleanup() { gw_stop; rx_stop; rm -rf "$T"; }
trap cleanup EXIT
[ -n "$KEEP_T" ] && trap "gw_stop; rx_stop" EXIT
