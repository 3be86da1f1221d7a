#!/usr/bin/env bash
# scripts/mariadb.sh start|stop|up -- MariaDB on 127.0.0.1:$MYSQL_PORT with
# data under $BASE/mariadb (services.md §3.5).  start = fresh data dir, db
# `luagate` and user gw@'127.0.0.1' identified by $MYSQL_PASSWORD (root has
# an empty password); stop = SIGTERM; up = start again on the existing data.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
D=$BASE/mariadb
MYSQL_PASSWORD=${MYSQL_PASSWORD:-g@te:pw/1}

fail() { echo "mariadb: $*" >&2; tail -20 "$D/error.log" >&2 2>/dev/null; exit 1; }
# --no-defaults must come first, or /etc/mysql/* (and its socket) applies.
client() { mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$MYSQL_PORT" -u root "$@"; }

up() {
  need_free_port "$MYSQL_PORT" || exit 1
  mariadbd --no-defaults --user=root --datadir="$D/data" --bind-address=127.0.0.1 --port="$MYSQL_PORT" \
    --socket="$D/mysqld.sock" --pid-file="$D/mariadbd.pid" --log-error="$D/error.log" \
    --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=64M --innodb-log-file-size=8M \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --skip-innodb-adaptive-hash-index \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci >>"$D/stdout.log" 2>&1 </dev/null &
  echo $! >"$D/pid"
  wait_until 20 client -e 'select 1' || fail "not ready after 20 s"
}

case ${1:-} in
start)
  command -v mariadbd >/dev/null || fail "mariadbd not found (apt-get install mariadb-server)"
  [ -f "$D/pid" ] && stop_pid "$D/pid"
  rm -rf "$D"; mkdir -p "$D" || fail "cannot create $D"
  mariadb-install-db --no-defaults --user=root --datadir="$D/data" \
    --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
    --innodb-log-file-size=8M >"$D/install.log" 2>&1 || { tail -20 "$D/install.log" >&2; exit 1; }
  up
  client -e "CREATE DATABASE luagate; CREATE USER gw@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASSWORD';
             GRANT ALL ON luagate.* TO gw@'127.0.0.1';" || fail "cannot create db luagate"
  echo "mariadb ready on 127.0.0.1:$MYSQL_PORT (db luagate, user gw)" ;;
up) up ;;
stop) stop_pid "$D/pid" ;;
*) echo "usage: $0 start|stop|up" >&2; exit 2 ;;
esac
