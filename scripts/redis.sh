#!/usr/bin/env bash
# scripts/redis.sh start|stop [NAME PORT [redis-server args...]] -- a test
# redis-server on 127.0.0.1, data under $BASE/NAME (default: redis on
# $REDIS_PORT).  Tests start extra instances (e.g. one with --requirepass)
# under another NAME and PORT.  Persistence is off: a restart empties it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cmd=${1:-start}; shift || true
name=${1:-redis}; shift || true
p=${1:-$REDIS_PORT}; shift || true
D=$BASE/$name

case $cmd in
  start)
    command -v redis-server >/dev/null || { echo "redis-server not installed (apt-get install redis-server redis-tools)" >&2; exit 1; }
    need_free_port "$p" || exit 1
    rm -rf "$D"; mkdir -p "$D"
    redis-server --bind 127.0.0.1 --port "$p" --dir "$D" --save '' --appendonly no \
      --daemonize no --protected-mode yes --logfile "$D/redis.log" "$@" \
      >"$D/stdout.log" 2>&1 </dev/null &
    echo $! >"$D/pid"
    # PING answers PONG, or NOAUTH when started with --requirepass: both mean up.
    if ! wait_until 20 sh -c "redis-cli -h 127.0.0.1 -p $p ping 2>&1 | grep -q -e PONG -e NOAUTH"; then
      echo "redis ($name) did not answer on 127.0.0.1:$p within 20 s" >&2
      tail -20 "$D/redis.log" "$D/stdout.log" >&2
      stop_pid "$D/pid"
      exit 1
    fi ;;
  stop)
    stop_pid "$D/pid" ;;
  *) echo "usage: $0 start|stop [NAME PORT [redis-server args...]]" >&2; exit 2 ;;
esac
