#!/usr/bin/env bash
# The README's quickstart, as a new user runs it from a bare checkout: luagate
# on examples/luagate.conf.lua (what `make run` starts), then the README's own
# curl line (taken from README.md, only the port moved to the test's) is
# answered 200 and the event is printed on standard output, byte for byte.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
line=$(grep -m1 '^head -1 examples/events/minio-webhook.jsonl | curl ' README.md)
check "the README's quickstart has its curl line" [ -n "$line" ]
run_target=$(grep -A1 '^run: all' Makefile | tail -1)
check "make run starts luagate on examples/luagate.conf.lua" \
  grep -q 'luagate -c examples/luagate.conf.lua' <<<"$run_target"
need_free_port "$GATEWAY_PORT" || exit 1
(cd "$T" && cp -r "$OLDPWD/examples" . && LUAGATE_LISTEN=127.0.0.1:$GATEWAY_PORT LUAGATE_QUEUE_DIR=$T/queue \
   exec "$LUAGATE_BIN" -c examples/luagate.conf.lua) >"$T/stdout" 2>"$T/stderr" &
echo $! >"$T/gw.pid"
wait_until 20 curl -fsS "$GW/health" || { fail "luagate did not start: $(tail -3 "$T/stderr")"; exit 1; }
cmd=${line//127.0.0.1:9100/127.0.0.1:$GATEWAY_PORT}
code=$(cd "$T" && bash -c "${cmd/curl -s /curl -s -o /dev/null -w %\{http_code\} }")
check "the README's curl line is answered 200 (got $code)" [ "$code" = 200 ]
wait_until 10 grep -q '^{' "$T/stdout"
check "make run prints the posted event as a JSON line, byte for byte" \
  cmp -s <(grep -m1 '^{' "$T/stdout") <(head -1 examples/events/minio-webhook.jsonl)
gw_stop
exit 0
