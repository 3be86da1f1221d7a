#!/usr/bin/env bash
# scripts/kafka.sh start|stop -- librdkafka's mock Kafka cluster (there is no
# Kafka broker in Debian).  One broker, topic "notify" with 3 partitions;
# ports are random, so clients read "host:port" from $BASE/kafka/bootstrap.
# Fault injection: kill -USR1 (down) / -USR2 (up) / -HUP (3 produce errors)
# the PID in $BASE/kafka/pid.  SASL and SSL are not supported by the mock.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/lib.sh"
D=$BASE/kafka
build=${LUAGATE_BUILD:-build/release}
case $build in /*) ;; *) build=$root/$build ;; esac
mock=$build/peers/kafka_mock

case ${1:-} in
start)
  if [ ! -x "$mock" ]; then
    make -s -C "$root" OUT="${build#$root/}" "${mock#$root/}" >&2 || exit 1
  fi
  rm -rf "$D"; mkdir -p "$D"
  "$mock" -b 1 -t notify:3 -f "$D/bootstrap" >"$D/stdout.log" 2>"$D/stderr.log" </dev/null &
  echo $! >"$D/pid"
  ready() {
    [ -s "$D/bootstrap" ] || return 1
    command -v kcat >/dev/null || return 0
    kcat -b "$(cat "$D/bootstrap")" -L -t notify -m 5 | grep -q '3 partitions'
  }
  if ! wait_until 20 ready; then
    echo "kafka mock did not come up:" >&2; tail -20 "$D/stderr.log" >&2
    stop_pid "$D/pid"; exit 1
  fi
  echo "kafka mock on $(cat "$D/bootstrap") (pid $(cat "$D/pid"))" ;;
stop)
  stop_pid "$D/pid"; rm -f "$D/bootstrap" "$D/bootstrap.ack" ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
