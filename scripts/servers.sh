#!/usr/bin/env bash
# scripts/servers.sh start|stop [SERVICE...] -- the real servers the tests use.
# With no SERVICE, every service that has a scripts/<service>.sh.  Starts in
# parallel and fails if any of them does not become ready.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
ALL="redis mosquitto nats postgres mariadb rabbitmq kafka"
cmd=${1:-start}; shift || true
svcs=${*:-$ALL}
rc=0
case $cmd in
  start)
    mkdir -p "$BASE"
    pids=()
    for s in $svcs; do
      [ -x "$here/$s.sh" ] || continue
      "$here/$s.sh" start >"$BASE/$s.start.log" 2>&1 &
      pids+=("$!:$s")
    done
    for p in "${pids[@]}"; do
      if ! wait "${p%%:*}"; then
        echo "server ${p#*:} failed to start:" >&2; tail -20 "$BASE/${p#*:}.start.log" >&2; rc=1
      fi
    done ;;
  stop)
    for s in $svcs; do [ -x "$here/$s.sh" ] && "$here/$s.sh" stop; done ;;
  *) echo "usage: $0 start|stop [service...]" >&2; exit 2 ;;
esac
exit $rc
