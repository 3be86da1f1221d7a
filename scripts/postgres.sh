#!/usr/bin/env bash
# scripts/postgres.sh start|stop|up -- PostgreSQL on 127.0.0.1:$PG_PORT with
# data under $BASE/postgres (services.md §3.4).  start = fresh data dir, db
# `luagate` owned by role `gw` (password $PG_PASSWORD, scram over TCP; the
# unix socket in the data dir is trust for the admin); stop = SIGINT (fast
# shutdown: SIGTERM would wait for every client); up = start again on the
# existing data (outage tests).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
D=$BASE/postgres
PG_PASSWORD=${PG_PASSWORD:-gw-pg-s3cret}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

fail() { echo "postgres: $*" >&2; tail -20 "$D/postgres.log" >&2 2>/dev/null; exit 1; }
psql_admin() { "$PGBIN/psql" -X -h "$D" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

# postgres refuses to run as root: setpriv execs in place so $! is the
# postmaster itself (runuser would fork and swallow SIGINT).
up() {
  need_free_port "$PG_PORT" || exit 1
  setpriv --reuid=postgres --regid=postgres --init-groups \
    "$PGBIN/postgres" -D "$D/data" -h 127.0.0.1 -p "$PG_PORT" -k "$D" \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c logging_collector=off \
    >>"$D/postgres.log" 2>&1 </dev/null &
  echo $! >"$D/pid"
  wait_until 20 psql_admin -Atc 'select 1' || fail "not ready after 20 s"
}

case ${1:-} in
start)
  [ -x "$PGBIN/postgres" ] || fail "no PostgreSQL server in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
  [ -f "$D/pid" ] && stop_pid "$D/pid" INT
  rm -rf "$D"; mkdir -p "$D" && chown postgres:postgres "$D" || fail "cannot create $D"
  runuser -u postgres -- "$PGBIN/initdb" -D "$D/data" -U postgres -A trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 --no-sync >"$D/initdb.log" 2>&1 || { tail -20 "$D/initdb.log" >&2; exit 1; }
  up
  psql_admin -q -c "CREATE ROLE gw LOGIN PASSWORD '$PG_PASSWORD'" \
    -c "CREATE DATABASE luagate OWNER gw" >>"$D/postgres.log" 2>&1 || fail "cannot create db luagate"
  echo "postgres ready on 127.0.0.1:$PG_PORT (db luagate, user gw)" ;;
up) up ;;
stop) stop_pid "$D/pid" INT ;;
*) echo "usage: $0 start|stop|up" >&2; exit 2 ;;
esac
