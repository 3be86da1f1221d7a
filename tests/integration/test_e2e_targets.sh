#!/usr/bin/env bash
# End to end through the gateway, database and broker targets (issues 3, 4, 5):
# MinIO's 60 sample events are POSTed to one luagate serving one target of
# every kind on the real test servers (scripts/servers.sh: redis mosquitto nats
# postgres mariadb rabbitmq kafka) and the protocol peers (nsqd_peer.py,
# es_peer.py, started here), then what each server holds is compared from the
# outside with what MinIO would have written there (e2e_verify.py computes it
# from the sample file).  A server that cannot be reached is a failure.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
N=$(grep -c . "$EVENTS")
PG_PASSWORD=${PG_PASSWORD:-gw-pg-s3cret}
MYSQL_PASSWORD=${MYSQL_PASSWORD:-g@te:pw/1}
VERIFY=(tests/integration/e2e_verify.py "$EVENTS")
id=e2e_$$                      # unique names: the driver tests use the same servers
started=$(now_ms)

peers_stop() { stop_pid "$T/nsq.pid"; stop_pid "$T/es.pid"; stop_pid "$T/sub.pid"; }
trap 'peers_stop; cleanup' EXIT
[ -n "$KEEP_T" ] && trap 'peers_stop; gw_stop; rx_stop' EXIT

# --- the servers: every one must answer, or its checks fail ----------------------
reach() { # reach NAME PORT
  if port_in_use "$2"; then return 0; fi
  fail "$1 is not reachable on 127.0.0.1:$2 (scripts/servers.sh start; same BASE/PORT_OFFSET?)"
  return 1
}
reach redis "$REDIS_PORT"; reach mosquitto "$MQTT_PORT"; reach nats "$NATS_PORT"
reach postgres "$PG_PORT"; reach mariadb "$MYSQL_PORT"; reach rabbitmq "$AMQP_PORT"
KAFKA_BS=$(cat "$BASE/kafka/bootstrap" 2>/dev/null)
if [ -z "$KAFKA_BS" ] || ! port_in_use "${KAFKA_BS##*:}"; then
  fail "kafka mock is not running: no bootstrap in $BASE/kafka/bootstrap or nothing listens there"
  KAFKA_BS=${KAFKA_BS:-127.0.0.1:1}
fi

# nsqd and Elasticsearch have no server here: their protocol peers, started by us
# (a busy port would mean someone else's peer: fail rather than read its state)
if need_free_port "$NSQ_TCP_PORT" && need_free_port "$NSQ_HTTP_PORT"; then
  $PY tests/peers/nsqd_peer.py "$NSQ_TCP_PORT" "$NSQ_HTTP_PORT" >"$T/nsq.log" 2>&1 &
  echo $! >"$T/nsq.pid"
  wait_until 10 curl -fsS "http://127.0.0.1:$NSQ_HTTP_PORT/ping" ||
    fail "nsqd_peer.py did not start on $NSQ_TCP_PORT/$NSQ_HTTP_PORT ($(tail -1 "$T/nsq.log"))"
else
  fail "nsqd_peer.py cannot start: port $NSQ_TCP_PORT or $NSQ_HTTP_PORT is in use (set PORT_OFFSET)"
fi
if need_free_port "$ES_PORT"; then
  $PY tests/peers/es_peer.py --port "$ES_PORT" >"$T/es.log" 2>&1 &
  echo $! >"$T/es.pid"
  wait_until 10 curl -fsS "http://127.0.0.1:$ES_PORT/" ||
    fail "es_peer.py did not start on $ES_PORT ($(tail -1 "$T/es.log"))"
else
  fail "es_peer.py cannot start: port $ES_PORT is in use (set PORT_OFFSET)"
fi

# --- consumers first: mqtt and nats subscribers, an amqp queue bound ------------
mkdir -p "$T/sub"
$PY tests/integration/e2e_sub.py "$T/sub" "$MQTT_PORT" "$id/events" "$NATS_PORT" "$id.events" \
  >"$T/sub.log" 2>&1 &
echo $! >"$T/sub.pid"
sub_settled() { [ -f "$T/sub/ready" ] || ! alive "$(cat "$T/sub.pid")"; }
wait_until 10 sub_settled; [ -f "$T/sub/ready" ] || fail "mqtt/nats subscribers not ready ($(tail -1 "$T/sub.log"))"
$PY "${VERIFY[@]}" amqp-setup "$AMQP_PORT" "$id" "${id}_q"

# --- one gateway, one target of every kind ---------------------------------------
pg="host=127.0.0.1 port=$PG_PORT dbname=luagate user=gw password=$PG_PASSWORD sslmode=disable"
my="gw:$MYSQL_PASSWORD@tcp(127.0.0.1:$MYSQL_PORT)/luagate?timeout=5s"
cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
targets = {
  ["redis:ns"] = { address = "127.0.0.1:$REDIS_PORT", key = "${id}_ns", format = "namespace" },
  ["redis:access"] = { address = "127.0.0.1:$REDIS_PORT", key = "${id}_access", format = "access" },
  ["postgres:ns"] = { connection_string = "$pg", table = "${id}_ns", format = "namespace" },
  ["postgres:access"] = { connection_string = "$pg", table = "${id}_access", format = "access" },
  ["mysql:ns"] = { dsn_string = "$my", table = "${id}_ns", format = "namespace" },
  ["mysql:access"] = { dsn_string = "$my", table = "${id}_access", format = "access" },
  ["amqp:1"] = { url = "amqp://guest:guest@127.0.0.1:$AMQP_PORT/", exchange = "$id",
                 exchange_type = "topic", routing_key = "minio.events" },
  ["mqtt:1"] = { broker = "tcp://127.0.0.1:$MQTT_PORT", topic = "$id/events", qos = 1 },
  ["nats:1"] = { address = "127.0.0.1:$NATS_PORT", subject = "$id.events" },
  ["kafka:1"] = { brokers = "$KAFKA_BS", topic = "${id}_notify" },
  ["nsq:1"] = { nsqd_address = "127.0.0.1:$NSQ_TCP_PORT", topic = "$id" },
  ["elasticsearch:ns"] = { url = "http://127.0.0.1:$ES_PORT", index = "${id}_ns", format = "namespace" },
  ["elasticsearch:access"] = { url = "http://127.0.0.1:$ES_PORT", index = "${id}_access", format = "access" },
}
EOF
TARGETS="amqp:1 elasticsearch:access elasticsearch:ns kafka:1 mqtt:1 mysql:access mysql:ns nats:1 nsq:1
         postgres:access postgres:ns redis:access redis:ns"
gw_start "$T/gw.lua" || { fail "luagate did not start"; sed 's/^/# /' "$T/gw.log"; exit 1; }
arns() { for t in $TARGETS; do k=${t%%:*}; [ "$k" = postgres ] && k=postgresql; echo "arn:minio:sqs::${t#*:}:$k"; done; }
check "startup prints the SQS ARNs of all 13 targets (postgres as MinIO's 'postgresql')" \
  cmp -s <(arns | LC_ALL=C sort) <(grep '^SQS ARNs: ' "$T/gw.log" | head -1 | cut -d' ' -f3- | tr ' ' '\n' | grep . | LC_ALL=C sort)
grep '^SQS ARNs' "$T/gw.log" | sed 's/^/# /'

acked=$(post_all)
check "all $N sample events acknowledged with 200" [ "$acked" = "$N" ]

# --- wait for every target to confirm all of them (one shared deadline) ----------
delivered() { metric "luagate_events_delivered_total{target=\"$1\"}"; }
all_delivered() {
  local t; for t in $TARGETS; do [ "$(delivered "$t")" = "$N" ] || return 1; done
}
wait_until 25 all_delivered
for t in $TARGETS; do
  d=$(delivered "$t")
  check "$t: luagate_events_delivered_total = $N (got ${d:-none})" [ "$d" = "$N" ]
  if [ "$d" != "$N" ]; then
    echo "#   $t: dead-lettered $(metric "luagate_events_dead_lettered_total{target=\"$t\"}")," \
         "failed attempts $(metric "luagate_events_failed_total{target=\"$t\"}")," \
         "queue $(metric "luagate_queue_depth{target=\"$t\"}")"
    grep -F "$t" "$T/gw.log" | tail -3 | sed 's/^/#   /'
    [ -f "$T/queue/dlq/$t.jsonl" ] && head -c 600 "$T/queue/dlq/$t.jsonl" | sed 's/^/#   dlq: /'
  fi
done
curl -s "$GW/health" >"$T/health.json"
check "/health lists all 13 targets online with empty queues, status ok" $PY -c '
import json, sys
h = json.load(open(sys.argv[1])); want = sys.argv[2].split()
t = h.get("targets", {})
bad = [n for n in want if t.get(n, {}).get("state") != "online" or t.get(n, {}).get("queue") != 0]
if bad or sorted(t) != sorted(want) or h.get("status") != "ok":
    print("#   not online/empty:", {n: t.get(n) for n in bad}, "status:", h.get("status"), "targets:", sorted(t))
    sys.exit(1)' "$T/health.json" "$TARGETS"

# --- what each server holds vs what MinIO would have written -------------------------
sleep 0.3   # mqtt/nats subscribers see the messages a moment after the PUBACK / flush
stop_pid "$T/sub.pid"
$PY "${VERIFY[@]}" amqp "$AMQP_PORT" "$id" "${id}_q" minio.events
$PY "${VERIFY[@]}" subfile mqtt "$T/sub/mqtt.jsonl" "$id/events" 1
$PY "${VERIFY[@]}" subfile nats "$T/sub/nats.jsonl" "$id.events"
check "nats: the gateway's connection is named \"Minio Notification\" (nats-server /connz)" \
  sh -c "curl -fsS 'http://127.0.0.1:$NATS_MON_PORT/connz' | grep -q '\"name\": *\"Minio Notification\"'"
$PY "${VERIFY[@]}" nsq "$NSQ_HTTP_PORT" "$id"
$PY "${VERIFY[@]}" kafka "$KAFKA_BS" "${id}_notify"
$PY "${VERIFY[@]}" redis-ns "$REDIS_PORT" "${id}_ns"
$PY "${VERIFY[@]}" redis-access "$REDIS_PORT" "${id}_access"
$PY "${VERIFY[@]}" pg-ns "$PG_PORT" "$PG_PASSWORD" "${id}_ns"
$PY "${VERIFY[@]}" pg-access "$PG_PORT" "$PG_PASSWORD" "${id}_access"
$PY "${VERIFY[@]}" mysql-ns "$MYSQL_PORT" "$MYSQL_PASSWORD" "${id}_ns"
$PY "${VERIFY[@]}" mysql-access "$MYSQL_PORT" "$MYSQL_PASSWORD" "${id}_access"
$PY "${VERIFY[@]}" es "$ES_PORT" "${id}_ns" "${id}_access"

gw_stop
check "no dead letters in any target's queue" [ -z "$(find "$T/queue" -path '*dlq*' -type f -size +0 2>/dev/null)" ]
echo "# e2e through the gateway took $(( ($(now_ms) - started) )) ms"
