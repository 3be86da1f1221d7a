#!/usr/bin/env bash
# scripts/nats.sh start|stop -- nats-server with JetStream on
# 127.0.0.1:$NATS_PORT, monitor on $NATS_MON_PORT, data under $BASE/nats.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
D=$BASE/nats

start() {
  need_free_port "$NATS_PORT" || return 1
  need_free_port "$NATS_MON_PORT" || return 1
  # Keep JetStream data across a restart: the outage test stops and starts
  # the server and expects its streams to still be there.
  mkdir -p "$D/js"
  # Without a config file JetStream would reserve 75% of RAM and disk.
  cat >"$D/nats.conf" <<CONF
jetstream { store_dir: "$D/js", max_memory_store: 256MB, max_file_store: 1GB }
CONF
  nats-server -c "$D/nats.conf" -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MON_PORT" -js \
    --server_name luagate-test -l "$D/nats.log" >"$D/stdout.log" 2>&1 </dev/null &
  echo $! >"$D/pid"
  if ! wait_until 20 curl -fsS "http://127.0.0.1:$NATS_MON_PORT/healthz?js-enabled-only=true"; then
    echo "nats-server did not become ready on port $NATS_PORT" >&2
    tail -20 "$D/stdout.log" "$D/nats.log" >&2 2>/dev/null
    stop_pid "$D/pid"
    return 1
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop_pid "$D/pid" ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
