#!/usr/bin/env bash
# `luagate check --connect` (issue 18 item 6) against the real test servers
# (scripts/servers.sh: redis mosquitto nats postgres mariadb rabbitmq kafka)
# and the NSQ and Elasticsearch peers (started here): right credentials and
# existing destinations pass, wrong credentials, a server that is down and a
# missing destination fail with a line naming the target and the reason,
# and nothing is sent.  Then start-up honesty (item 7): a queue holding
# events for a target no longer configured is reported at start and by check.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
PG_PASSWORD=${PG_PASSWORD:-gw-pg-s3cret}
MYSQL_PASSWORD=${MYSQL_PASSWORD:-g@te:pw/1}
MQTT_AUTH_PORT=${MQTT_AUTH_PORT:-$((MQTT_PORT + 1))}
id=cc_$$
has() { printf '%s\n' "$out" | grep -q -- "$1"; }
hasnt() { ! has "$1"; }
peers_stop() { stop_pid "$T/nsq.pid"; stop_pid "$T/es.pid"; }
trap 'peers_stop; cleanup' EXIT

reach() { port_in_use "$2" || fail "$1 is not reachable on 127.0.0.1:$2 (scripts/servers.sh start; same BASE/PORT_OFFSET?)"; }
reach redis "$REDIS_PORT"; reach mosquitto "$MQTT_PORT"; reach nats "$NATS_PORT"
reach postgres "$PG_PORT"; reach mariadb "$MYSQL_PORT"; reach rabbitmq "$AMQP_PORT"
KAFKA_BS=$(cat "$BASE/kafka/bootstrap" 2>/dev/null)
[ -n "$KAFKA_BS" ] && port_in_use "${KAFKA_BS##*:}" || { fail "kafka mock is not running ($BASE/kafka/bootstrap)"; KAFKA_BS=127.0.0.1:1; }
if need_free_port "$NSQ_TCP_PORT" && need_free_port "$NSQ_HTTP_PORT"; then
  $PY tests/peers/nsqd_peer.py "$NSQ_TCP_PORT" "$NSQ_HTTP_PORT" >"$T/nsq.log" 2>&1 &
  echo $! >"$T/nsq.pid"
  wait_until 10 curl -fsS "http://127.0.0.1:$NSQ_HTTP_PORT/ping" || fail "nsqd_peer.py did not start"
else
  fail "nsqd_peer.py cannot start: port $NSQ_TCP_PORT or $NSQ_HTTP_PORT is in use"
fi
if need_free_port "$ES_PORT"; then
  $PY tests/peers/es_peer.py --port "$ES_PORT" --auth elastic:es-pw >"$T/es.log" 2>&1 &
  echo $! >"$T/es.pid"
  wait_until 10 curl -fsS "http://elastic:es-pw@127.0.0.1:$ES_PORT/" || fail "es_peer.py did not start"
else
  fail "es_peer.py cannot start: port $ES_PORT is in use"
fi

# destinations that exist: a table in each database, a JetStream stream, a hash
PGPASSWORD=$PG_PASSWORD psql -q -h 127.0.0.1 -p "$PG_PORT" -U gw luagate \
  -c "CREATE TABLE ${id}_t (key VARCHAR PRIMARY KEY, value JSONB)" >/dev/null 2>&1 || fail "cannot create the postgres table"
mariadb -h 127.0.0.1 -P "$MYSQL_PORT" -u gw -p"$MYSQL_PASSWORD" luagate \
  -e "CREATE TABLE ${id}_t (key_name VARCHAR(2048), value JSON, key_hash CHAR(64) AS (SHA2(key_name, 256)) STORED, UNIQUE KEY (key_hash))" \
  2>"$T/my.err" || fail "cannot create the mariadb table ($(head -1 "$T/my.err"))"
redis-cli -p "$REDIS_PORT" HSET "${id}_h" k v >/dev/null
redis-cli -p "$REDIS_PORT" SET "${id}_s" v >/dev/null
$PY - "$NATS_PORT" "$id" <<'EOF' || fail "cannot create the JetStream stream"
import json, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.recv(4096)
body = json.dumps({"name": sys.argv[2].upper(), "subjects": [sys.argv[2] + ".>"], "storage": "memory"}).encode()
s.sendall(b'CONNECT {"verbose":false}\r\nSUB _INBOX.cc 1\r\nPUB $JS.API.STREAM.CREATE.%s _INBOX.cc %d\r\n%s\r\n'
          % (sys.argv[2].upper().encode(), len(body), body))
got = b""
deadline = time.time() + 5
while b"stream_create_response" not in got and time.time() < deadline:
    got += s.recv(65536)
sys.exit(0 if b'"error"' not in got and b"stream_create_response" in got else 1)
EOF

pg="host=127.0.0.1 port=$PG_PORT dbname=luagate user=gw password=$PG_PASSWORD sslmode=disable"
pgbad="host=127.0.0.1 port=$PG_PORT dbname=luagate user=gw password=wrong-pw sslmode=disable"
cat >"$T/good.lua" <<EOF
queue_dir = "$T/queue"
targets = {
  ["amqp:1"] = { url = "amqp://guest:guest@127.0.0.1:$AMQP_PORT/", exchange = "amq.topic" },
  ["amqp:declared"] = { url = "amqp://guest:guest@127.0.0.1:$AMQP_PORT/", exchange = "${id}_x", exchange_type = "topic" },
  ["postgres:1"] = { connection_string = "$pg", table = "${id}_t" },
  ["mysql:1"] = { dsn_string = "gw:$MYSQL_PASSWORD@tcp(127.0.0.1:$MYSQL_PORT)/luagate", table = "${id}_t" },
  ["redis:1"] = { address = "127.0.0.1:$REDIS_PORT", key = "${id}_h" },
  ["nats:1"] = { address = "127.0.0.1:$NATS_PORT", subject = "$id.events", jetstream = "on" },
  ["mqtt:1"] = { broker = "tcp://127.0.0.1:$MQTT_AUTH_PORT", topic = "$id/events", username = "luagate", password = "luagate-pw" },
  ["kafka:1"] = { brokers = "$KAFKA_BS", topic = "notify" },
  ["nsq:1"] = { nsqd_address = "127.0.0.1:$NSQ_TCP_PORT", topic = "$id" },
  ["elasticsearch:1"] = { url = "http://elastic:es-pw@127.0.0.1:$ES_PORT", index = "$id" },
  ["webhook:1"] = { endpoint = "http://127.0.0.1:$ES_PORT/hook" },
}
EOF
out=$("$LUAGATE_BIN" check --connect -c "$T/good.lua" 2>&1); rc=$?
echo "$out" | sed -n '/^connect:/,$p' | sed 's/^/# /'
check "right credentials: exit 0 (got $rc)" [ "$rc" = 0 ]
for t in amqp:1 amqp:declared postgres:1 mysql:1 redis:1 nats:1 mqtt:1 kafka:1 nsq:1 elasticsearch:1; do
  check "$t: ok, reachable and authenticated" has "^  $t  *ok   reachable yes, authenticated yes"
done
check "webhook:1: reachable, credentials not checked (no request is sent)" has "^  webhook:1  *ok   reachable yes, authenticated -"
check "amqp:1: the exchange exists" has "amqp:1 .*exchange \"amq.topic\" exists"
check "amqp:declared: absent, luagate declares it" has "amqp:declared .*absent (luagate creates it"
check "postgres:1: the table exists" has "postgres:1 .*table ${id}_t exists"
check "mysql:1: the table exists" has "mysql:1 .*table ${id}_t exists"
check "redis:1: the hash exists" has "redis:1 .*key \"${id}_h\" (a hash) exists"
check "nats:1: the JetStream stream exists" has "nats:1 .*stream \"$(echo $id | tr a-z A-Z)\" .* exists"
check "kafka:1: the topic exists" has "kafka:1 .*topic \"notify\" exists"
check "elasticsearch:1: absent index, luagate creates it" has "elasticsearch:1 .*index \"$id\" absent"
check "nothing was sent: the hash still holds one field" [ "$(redis-cli -p "$REDIS_PORT" HLEN "${id}_h")" = 1 ]
check "nothing was sent: the postgres table is empty" [ "$(PGPASSWORD=$PG_PASSWORD psql -tA -h 127.0.0.1 -p "$PG_PORT" -U gw luagate -c "SELECT count(*) FROM ${id}_t")" = 0 ]
check "nothing was sent: the index was not created" [ "$(curl -s -o /dev/null -w '%{http_code}' -I "http://elastic:es-pw@127.0.0.1:$ES_PORT/$id")" = 404 ]
check "nothing was sent: the exchange was not declared" sh -c "! $LUAGATE_BIN check --connect -c '$T/good.lua' 2>&1 | grep -q 'amqp:declared .*exists'"

cat >"$T/bad.lua" <<EOF
queue_dir = "$T/queue"
targets = {
  ["amqp:badpw"] = { url = "amqp://guest:wrong-pw@127.0.0.1:$AMQP_PORT/", exchange = "amq.topic" },
  ["amqp:noexchange"] = { url = "amqp://guest:guest@127.0.0.1:$AMQP_PORT/", exchange = "${id}_missing" },
  ["postgres:badpw"] = { connection_string = "$pgbad", table = "${id}_t" },
  ["mysql:badpw"] = { dsn_string = "gw:wrong-pw@tcp(127.0.0.1:$MYSQL_PORT)/luagate", table = "${id}_t" },
  ["redis:wrongtype"] = { address = "127.0.0.1:$REDIS_PORT", key = "${id}_s" },
  ["redis:down"] = { address = "127.0.0.1:9", key = "k" },
  ["webhook:down"] = { endpoint = "http://127.0.0.1:9/hook" },
  ["nats:nostream"] = { address = "127.0.0.1:$NATS_PORT", subject = "${id}_none.events", jetstream = "on" },
  ["mqtt:badpw"] = { broker = "tcp://127.0.0.1:$MQTT_AUTH_PORT", topic = "t", username = "luagate", password = "wrong-pw" },
  ["kafka:notopic"] = { brokers = "$KAFKA_BS", topic = "${id}_none" },
  ["elasticsearch:badpw"] = { url = "http://elastic:wrong-pw@127.0.0.1:$ES_PORT", index = "$id" },
}
EOF
out=$("$LUAGATE_BIN" check --connect -c "$T/bad.lua" 2>&1); rc=$?
echo "$out" | sed -n '/^connect:/,$p' | sed 's/^/# /'
check "wrong credentials / missing destinations: exit 1 (got $rc)" [ "$rc" = 1 ]
for t in amqp:badpw postgres:badpw mysql:badpw mqtt:badpw elasticsearch:badpw; do
  check "$t: FAIL, reachable but not authenticated" has "^  $t  *FAIL reachable yes, authenticated no"
done
for t in amqp:noexchange redis:wrongtype nats:nostream kafka:notopic; do
  check "$t: FAIL, its destination missing or unusable" has "^  $t  *FAIL reachable yes, authenticated yes, .*MISSING or unusable"
done
check "redis:down: FAIL, not reachable" has "^  redis:down  *FAIL reachable no"
check "webhook:down: FAIL, not reachable (a plain connection, as MinIO checks)" has "^  webhook:down  *FAIL reachable no"
check "no password is printed" hasnt "wrong-pw\|$PG_PASSWORD"

# --- start-up honesty: a backlog for a target no longer configured ----------------
cat >"$T/old.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/bq"
targets = { ["webhook:old"] = { endpoint = "http://127.0.0.1:9/hook" } }
EOF
sed 's/webhook:old/webhook:new/' "$T/old.lua" >"$T/new.lua"
gw_start "$T/old.lua" || fail "luagate did not start"
n=0; for i in 1 2 3; do [ "$(post "$(sed -n ${i}p "$EVENTS")")" = 200 ] && n=$((n + 1)); done
check "3 events acknowledged for webhook:old (unreachable)" [ "$n" = 3 ]
gw_stop
: >"$T/gw.log"
gw_start "$T/new.lua" || fail "luagate did not start with webhook:old removed"
check "start-up log: 3 events for webhook:old, not configured, oldest, how to deliver or drop" \
  grep -q "queue $T/bq holds 3 event(s) for webhook:old, which is not configured to read it (oldest queued 20.*Z); to deliver them configure webhook:old again, to drop them stop luagate and delete $T/bq/cursors/webhook:old.cur" "$T/gw.log"
gw_stop
out=$("$LUAGATE_BIN" check -c "$T/new.lua" 2>&1)
check "check reports the same backlog" has "holds 3 event(s) for webhook:old"
gw_start "$T/old.lua" || fail "luagate did not start with webhook:old back"
check "with webhook:old configured again, no backlog line" sh -c "! grep -q 'which is not configured' '$T/gw.log' || [ \$(grep -c 'which is not configured' '$T/gw.log') = 1 ]"
check "...and its 3 events are still queued" sh -c "curl -s '$GW/metrics' | grep -q 'luagate_queue_depth{target=\"webhook:old\"} 3'"
gw_stop
# leave the shared servers as found
PGPASSWORD=$PG_PASSWORD psql -q -h 127.0.0.1 -p "$PG_PORT" -U gw luagate -c "DROP TABLE IF EXISTS ${id}_t" >/dev/null 2>&1
mariadb -h 127.0.0.1 -P "$MYSQL_PORT" -u gw -p"$MYSQL_PASSWORD" luagate -e "DROP TABLE IF EXISTS ${id}_t" 2>/dev/null
redis-cli -p "$REDIS_PORT" DEL "${id}_h" "${id}_s" >/dev/null
check "no sanitizer report in the gateway's log" sh -c "! grep -q 'ERROR: AddressSanitizer\\|ERROR: LeakSanitizer\\|runtime error' '$T/gw.log'"
exit 0
