#!/usr/bin/env bash
# tests/integration/test_sidecar.sh -- the container's entrypoint, outside a
# container: luagate configured by environment variables only (no config
# file, as the Containerfile runs it), as an unprivileged user (nobody, via
# setpriv) in a queue directory it owns, MinIO's MINIO_NOTIFY_WEBHOOK_*
# pointing at a webhook receiver.  Checks /health, delivery, the modes of
# the queue files (0600) and directories (0700), and SIGTERM -> exit 0.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh

if ! command -v setpriv >/dev/null || [ "$(id -u)" != 0 ]; then
  echo "ok - # SKIP needs root and setpriv to drop to nobody"; exit 0
fi
# the queue volume: owned by the gateway's user, as the Containerfile makes it
Q=$(mktemp -d /tmp/luagate-sidecar.XXXXXX)
chown nobody:nogroup "$Q" && chmod 0700 "$Q"
trap 'gw_stop; rx_stop; rm -rf "$T" "$Q"' EXIT

# sidecar_start [VAR=VALUE...]: the container's environment and nothing else
sidecar_start() {
  need_free_port "$GATEWAY_PORT" || return 1
  (cd "$Q" && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$Q" \
      ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} ${UBSAN_OPTIONS:+UBSAN_OPTIONS=$UBSAN_OPTIONS} \
      ${LSAN_OPTIONS:+LSAN_OPTIONS=$LSAN_OPTIONS} \
      LUAGATE_LUA_DIR="$PWD/lua" \
      LUAGATE_QUEUE_DIR="$Q" LUAGATE_LISTEN="127.0.0.1:$GATEWAY_PORT" \
      MINIO_NOTIFY_WEBHOOK_ENABLE_RX=on \
      MINIO_NOTIFY_WEBHOOK_ENDPOINT_RX="http://127.0.0.1:$WEBHOOK_PORT/minio/events" \
      MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_RX=rx-token \
      MINIO_NOTIFY_WEBHOOK_RETRY_MIN_RX=50ms MINIO_NOTIFY_WEBHOOK_RETRY_MAX_RX=200ms \
      "$@" \
      setpriv --reuid=nobody --regid=nogroup --clear-groups "$LUAGATE_BIN") >>"$T/gw.log" 2>&1 &
  echo $! >"$T/gw.pid"
  wait_until 20 curl -fsS "$GW/health"
}

rx_start || fail "webhook receiver did not start"
# LUAGATE_LUA_DIR stands in for the image's /usr/share/luagate/lua
if sidecar_start; then ok "starts from the environment alone, as nobody"
else fail "luagate did not start"; sed 's/^/# /' "$T/gw.log"; exit 1; fi
pid=$(cat "$T/gw.pid")
check "runs as nobody" [ "$(stat -c %U "/proc/$pid")" = nobody ]
check "prints the ARN of the MINIO_NOTIFY_WEBHOOK_*_RX target" grep -q '^SQS ARNs: arn:minio:sqs::RX:webhook $' "$T/gw.log"
health=$(curl -s -w ' %{http_code}' "$GW/health")
check "/health answers 200 and lists webhook:RX" \
  bash -c '[[ "$1" == *"\"webhook:RX\""* && "$1" == *"\"status\":\"ok\""* && "$1" == *" 200" ]]' _ "$health"

first=$(head -1 "$EVENTS")
check "a sample event is acknowledged with 200" [ "$(post "$first")" = 200 ]
check "the webhook receiver got it" wait_lines "$RX_LOG" 1 10
check "byte for byte, with the target's token" $PY -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
sys.exit(not (r["body"] == sys.argv[2] and r["headers"].get("authorization") == "Bearer rx-token"))' \
  "$RX_LOG" "$first"

# the queue layout and its modes (no group or world access anywhere)
check "queue journal segment created" bash -c 'ls "$1"/journal/*.seg >/dev/null 2>&1' _ "$Q"
check "queue files are 0600" [ -z "$(find "$Q" -type f ! -perm 0600)" ]
check "queue directories are 0700" [ -z "$(find "$Q" -mindepth 1 -type d ! -perm 0700)" ]
check "queue files belong to nobody" [ -z "$(find "$Q" ! -user nobody)" ]
find "$Q" -printf '# %m %u %p\n' | head -20

kill -TERM "$pid"
wait "$pid"; rc=$?
rm -f "$T/gw.pid"
check "SIGTERM: exit status 0 (got $rc)" [ "$rc" = 0 ]
check "SIGTERM: the log says it stopped" grep -q 'stopped' "$T/gw.log"

# a queue volume the user cannot write is refused at start, naming it
RO=$(mktemp -d /tmp/luagate-sidecar-ro.XXXXXX); chmod 0755 "$RO"
out=$(cd / && env -i PATH=/usr/bin:/bin LUAGATE_LUA_DIR="$PWD/lua" LUAGATE_QUEUE_DIR="$RO" \
      LUAGATE_LISTEN="127.0.0.1:$GATEWAY_PORT" \
      setpriv --reuid=nobody --regid=nogroup --clear-groups "$LUAGATE_BIN" 2>&1 </dev/null)
rc=$?
rm -rf "$RO"
check "an unwritable queue dir stops the start (exit $rc), naming it" \
  bash -c '[ "$1" != 0 ] && [[ "$2" == *"$3"* ]]' _ "$rc" "$out" "$RO"
