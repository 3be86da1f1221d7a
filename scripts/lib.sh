# scripts/lib.sh -- shared by the start/stop scripts of the test servers.
# Servers run as plain foreground processes in the background, on loopback,
# on non-default ports (shifted by PORT_OFFSET), with data under $BASE, and
# are stopped by PID.  Source it; do not run it.
BASE=${BASE:-/tmp/luagate-test}
PORT_OFFSET=${PORT_OFFSET:-0}
port() { echo $(( $1 + PORT_OFFSET )); }

now_ms() { date +%s%3N; }

# wait_until TIMEOUT_S CMD...: retry CMD every 50 ms until it succeeds.
wait_until() {
  local limit=$(( $(now_ms) + $1 * 1000 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(now_ms)" -gt "$limit" ] && return 1
    sleep 0.05
  done
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# port_holder PORT: "name (pid N)" of the process listening there, if ss can tell
port_holder() {
  ss -Htlnp "sport = :$1" 2>/dev/null | grep -o 'users:(("[^"]*",pid=[0-9]*' | head -1 |
    sed 's/users:(("\([^"]*\)",pid=\([0-9]*\)/\1 (pid \2)/'
}
need_free_port() {
  if port_in_use "$1"; then
    local who; who=$(port_holder "$1")
    echo "port $1 on 127.0.0.1 is already in use${who:+ by $who} (PORT_OFFSET=$PORT_OFFSET; unset it to let tests/run.sh pick free ports, or set another)" >&2
    return 1
  fi
}

# Every port the suite listens on at PORT_OFFSET 0 (servers, peers, gateways).
TEST_PORTS="11883 11884 13306 14150 14151 14222 14223 14224 14369 15432 16379 16380 16384 16390
  16672 16673 16674 17100 18222 18580 18590 19090 19095 19096 19097 19098 19110 19200 20000 20001 21000 21001 21002 21003 21004
  21005 21006 21007 21190 21191 21192 21193 21194 21195 22007 22008"
# pick_port_offset: the first PORT_OFFSET (0, 1013, 2026, ... 10130) at which
# every port of TEST_PORTS is free, exported so that every script of the run
# agrees.  Called by tests/run.sh when PORT_OFFSET is not set.
pick_port_offset() {
  local k off p busy=
  for k in 0 1 2 3 4 5 6 7 8 9 10; do
    off=$((k * 1013)); busy=
    for p in $TEST_PORTS; do
      if port_in_use $((p + off)); then busy=$((p + off)); break; fi
    done
    if [ -z "$busy" ]; then export PORT_OFFSET=$off; return 0; fi
    echo "test ports: $busy is taken${busy:+ by $(port_holder "$busy")}, trying PORT_OFFSET=$(((k + 1) * 1013))" >&2
  done
  echo "test ports: no PORT_OFFSET up to 10130 has every test port free; set PORT_OFFSET" >&2
  return 1
}

# alive PID: running and not a zombie (orphans are reaped late by PID 1).
alive() {
  [ -r "/proc/$1/stat" ] || return 1
  local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$st" != Z ] && [ -n "$st" ]
}

# stop_pid PIDFILE [SIGNAL]: signal, wait up to 10 s, then SIGKILL.
stop_pid() {
  local f=$1 sig=${2:-TERM} pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -n "$pid" ] && alive "$pid"; then
    kill -"$sig" "$pid" 2>/dev/null
    local i=0
    while alive "$pid" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

# Ports of the test servers (127.0.0.1 only), shifted by PORT_OFFSET.
REDIS_PORT=$(port 16379)
MQTT_PORT=$(port 11883)
NATS_PORT=$(port 14222); NATS_MON_PORT=$(port 18222)
PG_PORT=$(port 15432)
MYSQL_PORT=$(port 13306)
AMQP_PORT=$(port 16672); AMQP_DIST_PORT=$(port 16673); EPMD_PORT=$(port 14369)
WEBHOOK_PORT=$(port 18580)
NSQ_TCP_PORT=$(port 14150); NSQ_HTTP_PORT=$(port 14151)
ES_PORT=$(port 19200)
GATEWAY_PORT=$(port 17100)
export BASE REDIS_PORT MQTT_PORT NATS_PORT NATS_MON_PORT PG_PORT MYSQL_PORT AMQP_PORT \
  AMQP_DIST_PORT EPMD_PORT WEBHOOK_PORT NSQ_TCP_PORT NSQ_HTTP_PORT ES_PORT GATEWAY_PORT
# Debian's python3-* client packages are only visible to Debian's own python.
PY=/usr/bin/python3
