#!/usr/bin/env bash
# TLS to the targets (issue #7), end to end through the gateway, with a
# throwaway PKI made here by tests/certs/gen.sh (CA, server cert for
# IP:127.0.0.1 + DNS:localhost, client cert, a rogue CA, a cert for another
# name).  Servers with TLS are started here on $(port 21000..21005):
#   webhook   tls_webhook_rx.py requiring a client cert (mTLS), plus one with a
#             rogue-CA cert and one with a cert for another host name
#   mqtt      mosquitto, three TLS listeners (good / rogue CA / other name)
#   postgres  a second postgres with ssl=on and hostssl-only pg_hba
#   mysql     a second mariadbd with --ssl-*, user gw REQUIRE SSL
# Redis and Kafka: what is checked is that TLS cannot be tested here (and why);
# AMQP, NATS and NSQ TLS are covered by their driver tests (named below).
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
started=$(now_ms)
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
HTTPS_PORT=$(port 21000); HTTPS_ROGUE_PORT=$(port 21001); HTTPS_NAME_PORT=$(port 21002)
MQTTS_PORT=$(port 21003); MQTTS_ROGUE_PORT=$(port 21004); MQTTS_NAME_PORT=$(port 21005)
PGS_PORT=$(port 21006); MYS_PORT=$(port 21007)
C=$T/certs
# postgres must reach its files: $T is 0700 root, so it gets a dir of its own
PGD=$BASE/tls-pg.$$
MYD=$T/mariadb

servers_stop() {
  stop_pid "$T/rx.pid"; stop_pid "$T/rx-rogue.pid"; stop_pid "$T/rx-name.pid"
  stop_pid "$T/mqtt.pid"; stop_pid "$PGD/pid" INT; stop_pid "$MYD/pid"; stop_pid "$T/kafka.pid"
  rm -rf "$PGD"
}
trap 'servers_stop; cleanup' EXIT
[ -n "$KEEP_T" ] && trap 'servers_stop; gw_stop' EXIT

bash tests/certs/gen.sh "$C" || { fail "tests/certs/gen.sh made no certificates"; exit 1; }
check "test PKI: server cert verifies against the test CA with SANs IP:127.0.0.1 and DNS:localhost" \
  sh -c "openssl verify -CAfile '$C/ca.pem' '$C/server.pem' >/dev/null &&
         openssl x509 -in '$C/server.pem' -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1, DNS:localhost'"

for p in $HTTPS_PORT $HTTPS_ROGUE_PORT $HTTPS_NAME_PORT $MQTTS_PORT $MQTTS_ROGUE_PORT $MQTTS_NAME_PORT \
         $PGS_PORT $MYS_PORT; do
  need_free_port "$p" || { fail "port $p is busy (set PORT_OFFSET)"; exit 1; }
done

# --- start the TLS servers (databases in the background: they take a second) ------
pg_start() {
  rm -rf "$PGD"; mkdir -p "$PGD" && cp "$C/server.pem" "$C/server.key" "$C/ca.pem" "$PGD/" &&
    chown -R postgres:postgres "$PGD" && chmod 0600 "$PGD/server.key" || return 1
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGD/data" -U postgres -A trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 --no-sync >"$PGD/initdb.log" 2>&1 || return 1
  # TCP only with TLS: a plain-text connection has no pg_hba line at all
  printf 'local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n' >"$PGD/data/pg_hba.conf"
  setpriv --reuid=postgres --regid=postgres --init-groups \
    "$PGBIN/postgres" -D "$PGD/data" -h 127.0.0.1 -p "$PGS_PORT" -k "$PGD" \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c logging_collector=off \
    -c ssl=on -c ssl_cert_file="$PGD/server.pem" -c ssl_key_file="$PGD/server.key" \
    >>"$PGD/postgres.log" 2>&1 </dev/null &
  echo $! >"$PGD/pid"
  wait_until 20 pg_admin postgres -Atc 'select 1' || return 1
  pg_admin postgres -q -c "CREATE ROLE gw LOGIN PASSWORD 'tls-pg-pw'" -c "CREATE DATABASE luagate OWNER gw"
}
pg_admin() { local db=$1; shift; "$PGBIN/psql" -X -h "$PGD" -p "$PGS_PORT" -U postgres -d "$db" -v ON_ERROR_STOP=1 "$@"; }
my_client() { mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$MYS_PORT" -u root "$@"; }
my_start() {
  mkdir -p "$MYD"
  mariadb-install-db --no-defaults --user=root --datadir="$MYD/data" --auth-root-authentication-method=normal \
    --skip-test-db --skip-name-resolve --innodb-log-file-size=8M >"$MYD/install.log" 2>&1 || return 1
  mariadbd --no-defaults --user=root --datadir="$MYD/data" --bind-address=127.0.0.1 --port="$MYS_PORT" \
    --socket="$MYD/mysqld.sock" --pid-file="$MYD/mariadbd.pid" --log-error="$MYD/error.log" \
    --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=16M --innodb-log-file-size=8M \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --character-set-server=utf8mb4 \
    --ssl-cert="$C/server.pem" --ssl-key="$C/server.key" --ssl-ca="$C/ca.pem" \
    >>"$MYD/stdout.log" 2>&1 </dev/null &
  echo $! >"$MYD/pid"
  wait_until 20 my_client -e 'select 1' || return 1
  # REQUIRE SSL: a delivery through this user proves the connection was encrypted
  my_client -e "CREATE DATABASE luagate; CREATE USER gw@'127.0.0.1' IDENTIFIED BY 'tls-my-pw' REQUIRE SSL;
                GRANT ALL ON luagate.* TO gw@'127.0.0.1';"
}
pg_start >"$T/pg.start.log" 2>&1 & pg_bg=$!
my_start >"$T/my.start.log" 2>&1 & my_bg=$!

rx() { # rx NAME PORT CERT KEY [CLIENT_CA]
  $PY tests/integration/tls_webhook_rx.py "$2" "$T/$1.jsonl" "$3" "$4" ${5:+"$5"} >"$T/$1.out" 2>&1 &
  echo $! >"$T/$1.pid"
}
rx rx "$HTTPS_PORT" "$C/server.pem" "$C/server.key" "$C/ca.pem"
rx rx-rogue "$HTTPS_ROGUE_PORT" "$C/rogue-server.pem" "$C/rogue-server.key"
rx rx-name "$HTTPS_NAME_PORT" "$C/wrongname.pem" "$C/wrongname.key"
cat >"$T/mosquitto.conf" <<EOF
user root
per_listener_settings true
persistence false
log_dest file $T/mosquitto.log
listener $MQTTS_PORT 127.0.0.1
allow_anonymous true
cafile $C/ca.pem
certfile $C/server.pem
keyfile $C/server.key
listener $MQTTS_ROGUE_PORT 127.0.0.1
allow_anonymous true
cafile $C/rogue-ca.pem
certfile $C/rogue-server.pem
keyfile $C/rogue-server.key
listener $MQTTS_NAME_PORT 127.0.0.1
allow_anonymous true
cafile $C/ca.pem
certfile $C/wrongname.pem
keyfile $C/wrongname.key
EOF
mosquitto -c "$T/mosquitto.conf" >"$T/mosquitto.out" 2>&1 </dev/null &
echo $! >"$T/mqtt.pid"

curl_mtls=(curl -fsS --cacert "$C/ca.pem" --cert "$C/client.pem" --key "$C/client.key")
check "https receiver with mTLS is up (curl with the client cert)" \
  wait_until 10 "${curl_mtls[@]}" "https://127.0.0.1:$HTTPS_PORT/__health"
check "...and refuses a client without a certificate" \
  sh -c "! curl -fsS --cacert '$C/ca.pem' https://localhost:$HTTPS_PORT/__health >/dev/null 2>&1"
check "mosquitto TLS listener is up (mosquitto_pub --cafile)" \
  wait_until 10 mosquitto_pub -h 127.0.0.1 -p "$MQTTS_PORT" --cafile "$C/ca.pem" -t luagate/ready -m x -q 1
wait "$pg_bg"; pg_ok=$?
check "postgres with ssl=on is up on $PGS_PORT" [ "$pg_ok" = 0 ]
[ "$pg_ok" = 0 ] || sed 's/^/#   /' "$T/pg.start.log" "$PGD/postgres.log" 2>/dev/null | tail -15
check "...and refuses a plain-text TCP connection (hostssl only)" \
  sh -c "! PGPASSWORD=tls-pg-pw '$PGBIN/psql' -X 'host=127.0.0.1 port=$PGS_PORT dbname=luagate user=gw sslmode=disable' -Atc 'select 1' >/dev/null 2>&1"
wait "$my_bg"; my_ok=$?
check "mariadb with --ssl-cert/--ssl-key/--ssl-ca is up on $MYS_PORT" [ "$my_ok" = 0 ]
[ "$my_ok" = 0 ] || sed 's/^/#   /' "$T/my.start.log" "$MYD/error.log" 2>/dev/null | tail -15
check "...and user gw REQUIRE SSL is refused without TLS" \
  sh -c "! mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P $MYS_PORT -u gw -ptls-my-pw --skip-ssl -e 'select 1' >/dev/null 2>&1"

# --- one gateway, targets over TLS: the good ones and the ones that must refuse ----
head -8 "$EVENTS" >"$T/events.jsonl"
EVENTS=$T/events.jsonl N=8
pg_base="host=127.0.0.1 port=$PGS_PORT dbname=luagate user=gw password=tls-pg-pw connect_timeout=3"
my_base="gw:tls-my-pw@tcp(127.0.0.1:$MYS_PORT)/luagate?timeout=3s"
mtls="cert_authority = '$C/ca.pem', client_cert = '$C/client.pem', client_key = '$C/client.key'"
fast='retry_min = "50ms", retry_max = "1s"'
cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
targets = {
  ["webhook:mtls"] = { endpoint = "https://localhost:$HTTPS_PORT/events", $mtls, $fast },
  ["webhook:ip"] = { endpoint = "https://127.0.0.1:$HTTPS_PORT/by-ip", $mtls, $fast },
  ["webhook:rogue"] = { endpoint = "https://127.0.0.1:$HTTPS_ROGUE_PORT/", $mtls, $fast },
  ["webhook:name"] = { endpoint = "https://127.0.0.1:$HTTPS_NAME_PORT/", $mtls, $fast },
  ["webhook:nocert"] = { endpoint = "https://127.0.0.1:$HTTPS_PORT/nocert", cert_authority = "$C/ca.pem", $fast },
  ["webhook:sysca"] = { endpoint = "https://127.0.0.1:$HTTPS_PORT/sysca", client_cert = "$C/client.pem",
                        client_key = "$C/client.key", $fast },
  ["mqtt:tls"] = { broker = "ssl://127.0.0.1:$MQTTS_PORT", topic = "lg/tls", qos = 1, $fast },
  ["mqtt:rogue"] = { broker = "ssl://127.0.0.1:$MQTTS_ROGUE_PORT", topic = "lg/rogue", qos = 1, $fast },
  ["mqtt:name"] = { broker = "ssl://127.0.0.1:$MQTTS_NAME_PORT", topic = "lg/name", qos = 1, $fast },
  ["postgres:tls"] = { connection_string = "$pg_base sslmode=verify-full sslrootcert=$C/ca.pem",
                       table = "tls_access", format = "access", $fast },
  ["postgres:rogue"] = { connection_string = "$pg_base sslmode=verify-full sslrootcert=$C/rogue-ca.pem",
                         table = "rogue_access", format = "access", $fast },
  ["postgres:name"] = { connection_string =
      "host=not-this-host.invalid hostaddr=127.0.0.1 port=$PGS_PORT dbname=luagate user=gw password=tls-pg-pw connect_timeout=3 sslmode=verify-full sslrootcert=$C/ca.pem",
                        table = "name_access", format = "access", $fast },
  ["mysql:skipverify"] = { dsn_string = "$my_base&tls=skip-verify", table = "tls_access", format = "access", $fast },
  ["mysql:verify"] = { dsn_string = "$my_base&tls=true", table = "verify_access", format = "access", $fast },
}
EOF
gw_start "$T/gw.lua" || { fail "luagate did not start"; sed 's/^/# /' "$T/gw.log"; exit 1; }
acked=$(post_all)
check "all $N events acknowledged" [ "$acked" = "$N" ]
delivered() { metric "luagate_events_delivered_total{target=\"$1\"}"; }
health() { curl -s "$GW/health" >"$T/health.json"; $PY -c '
import json, sys
t = json.load(open(sys.argv[1]))["targets"].get(sys.argv[2], {})
print(t.get("state"), t.get("queue"), t.get("error", ""))' "$T/health.json" "$1"; }
# stuck NAME PATTERN: nothing delivered, all N still queued, /health offline with PATTERN in the error
stuck() {
  local h; h=$(health "$1")
  [ "$(delivered "$1")" = 0 ] && [ "${h%% *}" = offline ] && echo "$h" | grep -qiE "^offline $N .*($2)" && return 0
  echo "#   $1: delivered=$(delivered "$1") health: $h"; return 1
}
all_good() { for t in webhook:mtls webhook:ip postgres:tls mysql:skipverify; do [ "$(delivered $t)" = "$N" ] || return 1; done; }
wait_until 20 all_good
mtls_done=$(now_ms)
sleep 1 # let the refused ones go through a few attempts

# (a) webhook over HTTPS with mTLS
check "webhook: $N events delivered over HTTPS with mTLS (https://localhost)" [ "$(delivered webhook:mtls)" = "$N" ]
check "webhook: and to https://127.0.0.1 (IP SAN)" [ "$(delivered webhook:ip)" = "$N" ]
check "webhook: the receiver got every envelope byte-identical, in order, with the client cert's CN" $PY -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ev = [r for r in recs if r["path"] == "/events"]
want = open(sys.argv[2]).read().splitlines()
sys.exit(not ([r["body"] for r in ev] == want and all(r["client_cn"] == "luagate test client" for r in ev)
              and all(r["tls"] in ("TLSv1.2", "TLSv1.3") for r in ev)))' "$T/rx.jsonl" "$EVENTS"
check "webhook: a server cert from an unknown CA is refused, events stay queued, /health says why" \
  stuck webhook:rogue "certificate|SSL"
check "webhook: a server cert for another host name is refused" stuck webhook:name "certificate|SSL|name"
check "webhook: without client_cert the mTLS server refuses the handshake, events stay queued" \
  stuck webhook:nocert "SSL|certificate|alert|receiv|send|peer"
check "webhook: without cert_authority the test CA is not trusted (system CAs only)" \
  stuck webhook:sysca "certificate|SSL"
check "webhook: the receiver saw no request from the refused targets" \
  sh -c "! grep -qE '\"path\": \"/(nocert|sysca)' '$T/rx.jsonl'"
check "webhook: the receiver logged the refused client-cert handshakes" grep -q 'handshake failed' "$T/rx.jsonl.err"

# (c) PostgreSQL with sslmode=verify-full
pg_rows() { [ "$(delivered postgres:tls)" = "$N" ] && [ "$(pg_admin luagate -Atc 'select count(*) from tls_access' 2>/dev/null)" = "$N" ]; }
check "postgres: $N rows through sslmode=verify-full sslrootcert=<test CA>" pg_rows
check "postgres: the gateway's connections are TLS (pg_stat_ssl)" \
  [ "$(pg_admin luagate -Atc "select count(*) from pg_stat_ssl s join pg_stat_activity a using (pid) where a.usename = 'gw' and s.ssl" 2>/dev/null)" -ge 1 ]
check "postgres: verify-full with another CA's root cert is refused, events stay queued" \
  stuck postgres:rogue "certificate|SSL"
check "postgres: verify-full to a host name the cert does not name is refused" \
  stuck postgres:name "not-this-host|name|certificate"

# (d) MySQL/MariaDB
my_rows() { [ "$(delivered mysql:skipverify)" = "$N" ] && [ "$(my_client -N -e 'select count(*) from luagate.tls_access')" = "$N" ]; }
check "mysql: $N rows over TLS with tls=skip-verify (user REQUIRE SSL)" my_rows
check "mysql: tls=true verifies against the system CAs (/etc/ssl/certs) and refuses the test CA's cert" \
  stuck mysql:verify "certificate|SSL|TLS"
if grep -q 'MYSQL_OPT_SSL_CAPATH, "/etc/ssl/certs"' targets/mysql.c && ! grep -qiE 'tls-ca|ssl-ca|cacert|sslrootcert' targets/mysql_dsn.c; then
  echo "# mysql: no way to give tls=true a custom CA: targets/mysql.c pins MYSQL_OPT_SSL_CAPATH to /etc/ssl/certs"
  echo "#   (SSL_CERT_FILE is ignored) and mysql_dsn.c takes no CA parameter (go-sql-driver would need a"
  echo "#   RegisterTLSConfig name, which MinIO does not register either). Missing: a CA key for mysql."
fi

# (b) MQTT over TLS: no key names a CA; paho falls back to OpenSSL's default paths
check "mqtt: ssl:// verifies the broker: refused with the system CAs only (the test CA is unknown)" \
  stuck mqtt:tls "connect|TLS"
check "mqtt: ssl:// to the rogue-CA listener is refused" stuck mqtt:rogue "connect|TLS"
if ! "$LUAGATE_BIN" --help-target mqtt | grep -qiE 'cert_authority|cafile|ca_|tls_ca'; then
  echo "# mqtt: no key for a CA (nor a client cert): targets/mqtt.c sets enableServerCertAuth/verify and leaves"
  echo "#   trustStore NULL, so only OpenSSL's default paths are used; SSL_CERT_FILE=<CA> is the only way in."
fi

# the mTLS webhook sat idle > 10 s: its idle health check must not call it offline
idle_left=$(( 11500 - ($(now_ms) - mtls_done) ))
[ "$idle_left" -gt 0 ] && sleep "$(awk -v ms="$idle_left" 'BEGIN { printf "%.2f", ms / 1000 }')"
h=$(health webhook:mtls)
check "webhook: an idle mTLS target stays online (idle health check uses cert_authority and the client cert)" \
  [ "${h%% *}" = online ]
[ "${h%% *}" = online ] || echo "#   webhook:mtls after 11 s idle: $h"

# MQTT again: the same gateway and queue, with SSL_CERT_FILE pointing at the test CA
gw_stop
export SSL_CERT_FILE=$C/ca.pem
gw_start "$T/gw.lua" || { fail "luagate did not restart"; sed 's/^/# /' "$T/gw.log"; exit 1; }
unset SSL_CERT_FILE
mqtt_done() { [ "$(delivered mqtt:tls)" = "$N" ]; }
wait_until 15 mqtt_done
check "mqtt: with SSL_CERT_FILE=<test CA> the queued events reach the broker over TLS (ssl://127.0.0.1)" \
  [ "$(delivered mqtt:tls)" = "$N" ]
check "mqtt: even so, the rogue-CA listener is still refused" stuck mqtt:rogue "connect|TLS"
check "mqtt: and a broker cert for another host name is refused (name checked, not just the chain)" \
  stuck mqtt:name "connect|TLS"
check "mosquitto saw TLS clients refused for an unknown CA" grep -qi 'unknown ca\|certificate' "$T/mosquitto.log"
gw_stop

# (e) Redis: no TLS in the client library this build links
hiredis=$(ldd "$LUAGATE_BIN" | awk '/libhiredis/ { print $3 }')
check "redis: TLS untestable: $(basename "${hiredis:-libhiredis?}") has no redisInitiateSSL and no hiredis_ssl is linked" \
  sh -c "[ -n '$hiredis' ] && ! nm -D --defined-only '$hiredis' | grep -q redisInitiateSSL &&
         ! ldd '$LUAGATE_BIN' | grep -q hiredis_ssl"
check "redis: --help-target redis offers no tls key (as MinIO's Redis target)" \
  sh -c "! '$LUAGATE_BIN' --help-target redis | grep -qi tls"

# (f) Kafka: the librdkafka mock listens in plain text only
MOCK=$(dirname "$LUAGATE_BIN")/peers/kafka_mock
if [ -x "$MOCK" ]; then
  "$MOCK" -b 1 -f "$T/kafka.bs" >"$T/kafka.out" 2>&1 </dev/null &
  echo $! >"$T/kafka.pid"
  wait_until 10 test -s "$T/kafka.bs"
  bs=$(cut -d, -f1 "$T/kafka.bs")
  check "kafka: TLS untestable: the librdkafka mock broker ($bs) answers no TLS handshake" \
    sh -c "[ -n '$bs' ] && ! timeout 5 openssl s_client -connect '$bs' -brief </dev/null >/dev/null 2>&1"
  cat >"$T/gw-kafka.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue-kafka"
targets = { ["kafka:tls"] = { brokers = "$bs", topic = "tls", tls = "on", $fast } }
EOF
  gw_start "$T/gw-kafka.lua" && post "$(head -1 "$EVENTS")" >/dev/null
  sleep 2
  kafka_held() { [ "$(delivered kafka:tls)" = 0 ] && [ "$(metric 'luagate_queue_depth{target="kafka:tls"}')" = 1 ]; }
  check "kafka: tls=on against the plain-text mock delivers nothing (no silent fallback to plain text)" kafka_held
  gw_stop; stop_pid "$T/kafka.pid"
else
  fail "kafka: no $MOCK (make builds it) to check that the mock has no TLS"
fi

# (g) covered elsewhere
check "amqps (custom CA via ?cacertfile=, refused without it): tests/integration/test_amqp.c TEST(amqps)" \
  grep -q 'TEST(amqps)' tests/integration/test_amqp.c
check "nats tls (cert_authority, tls_skip_verify, refused untrusted): tests/integration/test_nats.c TEST(tls)" \
  grep -q 'TEST(tls)' tests/integration/test_nats.c
check "nsq tls (after IDENTIFY, verify via SSL_CERT_FILE, refused untrusted): tests/integration/test_nsq.c TEST(tls)" \
  grep -q 'TEST(tls)' tests/integration/test_nsq.c
echo "# elasticsearch over https: not covered (es_peer.py has no TLS); same libcurl path as the webhook"
echo "# test_tls_targets took $(( $(now_ms) - started )) ms"
