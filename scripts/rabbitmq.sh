#!/usr/bin/env bash
# scripts/rabbitmq.sh start|stop|ctl ARGS -- RabbitMQ 3.10 on 127.0.0.1:$AMQP_PORT
# (amqps on $AMQPS_PORT with a throw-away CA in $BASE/rabbitmq/tls), data in
# $BASE/rabbitmq.  Follows services.md §3.6: our own epmd on $EPMD_PORT started
# first (so no stray `epmd -daemon`), HOME=$D for the cookie, the binaries of
# /usr/lib/rabbitmq/bin (the /usr/sbin wrappers su to the rabbitmq user).
# A start takes 5-20 s: start it once per test run.  `stop` keeps the data
# (mnesia), so durable queues survive a stop/start; `start` wipes it only when
# the server was not stopped by us (no $D/keep).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
AMQPS_PORT=${AMQPS_PORT:-$(port 16674)}
D=$BASE/rabbitmq

export HOME=$D
export ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_NODENAME=luagate@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$AMQP_PORT
export RABBITMQ_DIST_PORT=$AMQP_DIST_PORT
export RABBITMQ_CONF_ENV_FILE=$D/rabbitmq-env.conf
export RABBITMQ_CONFIG_FILE=$D/rabbitmq.conf RABBITMQ_ADVANCED_CONFIG_FILE=$D/advanced.config
export RABBITMQ_ENABLED_PLUGINS_FILE=$D/enabled_plugins
export RABBITMQ_MNESIA_BASE=$D/mnesia RABBITMQ_LOG_BASE=$D/log RABBITMQ_PID_FILE=$D/beam.pid
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

# A CA and a server certificate for "localhost" (amqps tests trust tls/ca.pem).
make_tls() {
  local t=$D/tls
  [ -f "$t/server.pem" ] && return 0
  mkdir -p "$t" || return 1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=luagate-test-ca \
    -keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null &&
  openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
    -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null &&
  printf 'subjectAltName=DNS:localhost\n' >"$t/ext.cnf" &&
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" \
    -CAcreateserial -days 2 -extfile "$t/ext.cnf" -out "$t/server.pem" 2>/dev/null
}

ready() {
  $PY - "$AMQP_PORT" <<'EOF'
import sys, pika
p = pika.ConnectionParameters('127.0.0.1', int(sys.argv[1]), socket_timeout=2,
                              blocked_connection_timeout=2)
c = pika.BlockingConnection(p)
ch = c.channel()
ch.queue_declare('', exclusive=True)
c.close()
EOF
}

start() {
  if [ -f "$D/pid" ] && alive "$(cat "$D/pid")"; then
    echo "rabbitmq already running (pid $(cat "$D/pid"))"; return 0
  fi
  need_free_port "$AMQP_PORT" && need_free_port "$AMQP_DIST_PORT" &&
    need_free_port "$EPMD_PORT" && need_free_port "$AMQPS_PORT" || return 1
  [ -f "$D/keep" ] || rm -rf "$D"
  rm -f "$D/keep"
  mkdir -p "$D/log" || return 1
  make_tls || { echo "rabbitmq: cannot create test certificates" >&2; return 1; }
  : >"$D/rabbitmq-env.conf"
  echo '[].' >"$D/enabled_plugins"
  echo '[].' >"$D/advanced.config"
  cat >"$D/rabbitmq.conf" <<EOF
disk_free_limit.absolute = 50MB
vm_memory_high_watermark.relative = 0.4
log.console = false
log.file.level = ${RMQ_LOG_LEVEL:-warning}
listeners.ssl.default = 127.0.0.1:$AMQPS_PORT
ssl_options.cacertfile = $D/tls/ca.pem
ssl_options.certfile = $D/tls/server.pem
ssl_options.keyfile = $D/tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
EOF
  epmd -port "$EPMD_PORT" >"$D/epmd.log" 2>&1 </dev/null &
  echo $! >"$D/epmd.pid"
  /usr/lib/rabbitmq/bin/rabbitmq-server >"$D/stdout.log" 2>&1 </dev/null &
  echo $! >"$D/pid"
  if ! wait_until 60 ready; then
    echo "rabbitmq did not answer on 127.0.0.1:$AMQP_PORT within 60 s:" >&2
    tail -20 "$D/stdout.log" >&2
    tail -20 "$D"/log/*.log >&2 2>/dev/null
    stop; return 1
  fi
  echo "rabbitmq ready on 127.0.0.1:$AMQP_PORT (amqps $AMQPS_PORT)"
}

# The pid is an sh wrapper that traps TERM and stops beam.smp cleanly.
stop() {
  stop_pid "$D/pid"
  stop_pid "$D/epmd.pid"
  [ -d "$D" ] && : >"$D/keep"
  return 0
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  ctl) shift; /usr/lib/rabbitmq/bin/rabbitmqctl "$@" ;;
  *) echo "usage: $0 start|stop|ctl ARGS" >&2; exit 2 ;;
esac
