#!/usr/bin/env bash
# drills/outage.sh [--quick] -- a target's server goes away under load and
# comes back (issue #7, drill 2).  For each kind (DRILL_OUTAGE_TARGETS, default
# all ten): luagate with that one target; drills/load.py posts unique events
# one at a time (index order = queue order) at RATE/s for PRE + OUTAGE + POST
# seconds; PRE s in, the server is stopped for OUTAGE s (30; 5 with --quick).
# webhook_503 is a webhook whose receiver stays up but answers every request
# 503 for the outage (a proxy in front of a service that is down): the
# target must be offline and retry, never dead-letter (issue 16).
# SQL_CONNS=N sets max_open_connections of the postgres and mysql targets (default: the
# driver's, 2: a batch is split over the connections by row key, so a backlog is
# inserted in key-hash order, not in posting order).
# Checks: /health shows the target offline during the outage and online
# after; every acknowledged event reaches the server (0 lost), and in the
# order they were posted wherever the server shows order.
#   webhook   tests/peers/webhook_rx.py stopped/started; its log keeps arrivals in order
#   redis     a private redis-server with AOF (appendfsync always) on $DRILL_REDIS_PORT,
#             SIGTERM/start on the same dir; access format: the list keeps order
#   postgres  scripts/postgres.sh stop / up (data kept); access table, insertion order
#   mysql     scripts/mariadb.sh stop / up; access table, insertion order
#   amqp      scripts/rabbitmq.sh stop / start (data kept); durable exchange and queue,
#             delivery_mode 2, publisher confirms on; queue order
#   mqtt      a private mosquitto with persistence on $DRILL_MQTT_PORT, QoS 1, and a
#             persistent-session subscriber (drills/mqtt_sub.py); arrival order
#   nats      scripts/nats.sh stop / start; JetStream on (file stream): stream order
#   kafka     the mock of scripts/kafka.sh: SIGUSR1 brokers down, SIGUSR2 up; partition order
#   nsq       tests/peers/nsqd_peer.py killed and restarted; it keeps messages in memory,
#             so before the kill every publish is made to fail (/__fail) and what it
#             holds is saved; /__messages order
#   elasticsearch  tests/peers/es_peer.py, the same way (/__fail 503); access index order
. "$(dirname "$0")/lib.sh" "$@"
OUTAGE=${OUTAGE:-$([ "$QUICK" = 1 ] && echo 5 || echo 30)}
PRE=${PRE:-2}; POST=${POST:-3}
RATE=${RATE:-100}
KINDS=${DRILL_OUTAGE_TARGETS:-webhook webhook_503 redis postgres mysql amqp mqtt nats kafka nsq elasticsearch}
DRILL_REDIS_PORT=${DRILL_REDIS_PORT:-$(port 16390)}
DRILL_MQTT_PORT=${DRILL_MQTT_PORT:-$(port 11890)}
id=drill_out_$$
ORDER_NOTE=", in order"

# ---- servers this drill runs itself ---------------------------------------------
redis_up() {
  mkdir -p "$T/redis"
  need_free_port "$DRILL_REDIS_PORT" || return 1
  redis-server --bind 127.0.0.1 --port "$DRILL_REDIS_PORT" --dir "$T/redis" --save '' \
    --appendonly yes --appendfsync always --daemonize no --logfile "$T/redis/redis.log" \
    >/dev/null 2>&1 </dev/null &
  echo $! >"$T/redis.pid"; disown $!
  wait_until 20 sh -c "redis-cli -h 127.0.0.1 -p $DRILL_REDIS_PORT ping | grep -q PONG"
}
mosq_up() {
  mkdir -p "$T/mosq"
  need_free_port "$DRILL_MQTT_PORT" || return 1
  cat >"$T/mosq/mosquitto.conf" <<CONF
user root
persistence true
persistence_location $T/mosq/
autosave_interval 1
log_dest file $T/mosq/mosquitto.log
listener $DRILL_MQTT_PORT 127.0.0.1
allow_anonymous true
max_queued_messages 0
CONF
  mosquitto -c "$T/mosq/mosquitto.conf" >/dev/null 2>&1 </dev/null &
  echo $! >"$T/mosq.pid"; disown $!
  wait_until 20 mosquitto_pub -h 127.0.0.1 -p "$DRILL_MQTT_PORT" -t drill/ready -m x -q 1
}
nsq_up() {
  need_free_port "$NSQ_TCP_PORT" && need_free_port "$NSQ_HTTP_PORT" || return 1
  $PY tests/peers/nsqd_peer.py "$NSQ_TCP_PORT" "$NSQ_HTTP_PORT" >>"$T/nsq.log" 2>&1 &
  echo $! >"$T/nsq.pid"; disown $!
  wait_until 10 curl -fsS "http://127.0.0.1:$NSQ_HTTP_PORT/ping"
}
es_up() {
  need_free_port "$ES_PORT" || return 1
  $PY tests/peers/es_peer.py --port "$ES_PORT" >>"$T/es.log" 2>&1 &
  echo $! >"$T/es.pid"; disown $!
  wait_until 10 curl -fsS "http://127.0.0.1:$ES_PORT/"
}
drill_cleanup() {
  stop_pid "$T/redis.pid"; stop_pid "$T/mosq.pid"; stop_pid "$T/sub.pid"
  stop_pid "$T/nsq.pid"; stop_pid "$T/es.pid"
  [ -n "${LOADPID:-}" ] && kill "$LOADPID" 2>/dev/null
  # a shared server this drill stopped comes back for whoever runs next
  [ -n "${RESTORE:-}" ] && eval "$RESTORE" >/dev/null 2>&1
}

need_port() { port_in_use "$2" || { fail "outage/$1: its server is not running on 127.0.0.1:$2 (scripts/servers.sh start)"; return 1; }; }

# setup_KIND: prints the target's keys; down_KIND / up_KIND; seen_KIND > file
setup() {
  local k=$1
  case $k in
    webhook|webhook_503) rx_start >/dev/null || return 1
      echo "endpoint = \"http://127.0.0.1:$WEBHOOK_PORT/drill\"" ;;
    redis) redis_up || return 1
      echo "address = \"127.0.0.1:$DRILL_REDIS_PORT\", key = \"${id}\", format = \"access\"" ;;
    postgres) need_port postgres "$PG_PORT" || return 1
      echo "connection_string = \"host=127.0.0.1 port=$PG_PORT dbname=luagate user=gw password=$PG_PASSWORD sslmode=disable\", table = \"${id}\", format = \"access\"${SQL_CONNS:+, max_open_connections = $SQL_CONNS}" ;;
    mysql) need_port mysql "$MYSQL_PORT" || return 1
      echo "dsn_string = \"gw:$MYSQL_PASSWORD@tcp(127.0.0.1:$MYSQL_PORT)/luagate?timeout=5s\", table = \"${id}\", format = \"access\"${SQL_CONNS:+, max_open_connections = $SQL_CONNS}" ;;
    amqp) need_port amqp "$AMQP_PORT" || return 1
      $PY drills/seen.py amqp-setup "$AMQP_PORT" "$id" "${id}_q" || return 1
      echo "url = \"amqp://guest:guest@127.0.0.1:$AMQP_PORT/\", exchange = \"$id\", exchange_type = \"topic\", routing_key = \"drill\", durable = true, delivery_mode = 2, publisher_confirms = true" ;;
    mqtt) mosq_up || return 1
      $PY drills/mqtt_sub.py "$DRILL_MQTT_PORT" "drill/$id" "$T/mqtt.out" "sub-$id" >"$T/sub.log" 2>&1 &
      echo $! >"$T/sub.pid"; disown $!
      wait_until 10 test -f "$T/mqtt.out.ready" || return 1
      echo "broker = \"tcp://127.0.0.1:$DRILL_MQTT_PORT\", topic = \"drill/$id\", qos = 1" ;;
    nats) need_port nats "$NATS_PORT" || return 1
      $PY drills/seen.py nats-setup "$NATS_PORT" "$id" "drill.$id" >&2 || return 1
      echo "address = \"127.0.0.1:$NATS_PORT\", subject = \"drill.$id\", jetstream = true" ;;
    kafka) KBS=$(cat "$BASE/kafka/bootstrap" 2>/dev/null)
      [ -n "$KBS" ] && need_port kafka "${KBS##*:}" || return 1
      echo "brokers = \"$KBS\", topic = \"$id\"" ;;
    nsq) nsq_up || return 1
      echo "nsqd_address = \"127.0.0.1:$NSQ_TCP_PORT\", topic = \"$id\", max_attempts = 0" ;;
    elasticsearch) es_up || return 1
      echo "url = \"http://127.0.0.1:$ES_PORT\", index = \"$id\", format = \"access\", max_attempts = 0" ;;
  esac
}
down() {
  case $1 in
    webhook) rx_stop ;;
    webhook_503) curl -s -X POST "http://127.0.0.1:$WEBHOOK_PORT/__fail?status=503&body=upstream%20down" ;;
    redis) stop_pid "$T/redis.pid" ;;
    postgres) scripts/postgres.sh stop; RESTORE="scripts/postgres.sh up" ;;
    mysql) scripts/mariadb.sh stop; RESTORE="scripts/mariadb.sh up" ;;
    amqp) scripts/rabbitmq.sh stop; RESTORE="scripts/rabbitmq.sh start" ;;
    mqtt) stop_pid "$T/mosq.pid" ;;
    nats) scripts/nats.sh stop; RESTORE="scripts/nats.sh start" ;;
    kafka) kill -USR1 "$(cat "$BASE/kafka/pid")"; RESTORE="kill -USR2 $(cat "$BASE/kafka/pid")" ;;
    nsq) curl -s -X POST "http://127.0.0.1:$NSQ_HTTP_PORT/__fail?cmd=any&count=1000000000" >/dev/null
         $PY drills/seen.py nsq "$NSQ_HTTP_PORT" "$id" >>"$T/snap"; stop_pid "$T/nsq.pid" KILL ;;
    elasticsearch) curl -s -X POST "http://127.0.0.1:$ES_PORT/__fail?status=503&count=1000000000" >/dev/null
         $PY drills/seen.py es "$ES_PORT" "$id" >>"$T/snap"; stop_pid "$T/es.pid" KILL ;;
  esac
}
up() {
  case $1 in
    webhook) rx_start ;;
    webhook_503) curl -fsS -X DELETE "http://127.0.0.1:$WEBHOOK_PORT/__fail" ;;
    redis) redis_up ;;
    postgres) scripts/postgres.sh up ;;
    mysql) scripts/mariadb.sh up ;;
    amqp) scripts/rabbitmq.sh start ;;
    mqtt) mosq_up ;;
    nats) scripts/nats.sh start ;;
    kafka) kill -USR2 "$(cat "$BASE/kafka/pid")" ;;
    nsq) nsq_up ;;
    elasticsearch) es_up ;;
  esac
  local rc=$?; RESTORE=; return $rc
}
seen() {
  case $1 in
    webhook|webhook_503) $PY drills/seen.py webhook "$RX_LOG" ;;
    redis) $PY drills/seen.py redis-list "$DRILL_REDIS_PORT" "$id" ;;
    postgres) $PY drills/seen.py pg "$PG_PORT" "$PG_PASSWORD" "$id" ;;
    mysql) $PY drills/seen.py mysql "$MYSQL_PORT" "$MYSQL_PASSWORD" "$id" ;;
    amqp) $PY drills/seen.py amqp "$AMQP_PORT" "${id}_q" ;;
    mqtt) sleep 1; $PY drills/seen.py lines "$T/mqtt.out" ;;
    nats) $PY drills/seen.py nats "$NATS_PORT" "$id" ;;
    kafka) $PY drills/seen.py kafka "$(cat "$BASE/kafka/bootstrap")" "$id" ;;
    nsq) cat "$T/snap"; $PY drills/seen.py nsq "$NSQ_HTTP_PORT" "$id" ;;
    elasticsearch) cat "$T/snap"; $PY drills/seen.py es "$ES_PORT" "$id" ;;
  esac
}
teardown() {
  case $1 in
    webhook|webhook_503) rx_stop; rm -f "$RX_LOG" ;;
    redis) stop_pid "$T/redis.pid"; rm -rf "$T/redis" ;;
    mqtt) stop_pid "$T/sub.pid"; stop_pid "$T/mosq.pid"; rm -rf "$T/mosq" ;;
    nsq) stop_pid "$T/nsq.pid" ;;
    elasticsearch) stop_pid "$T/es.pid" ;;
  esac
  rm -f "$T/snap"
}

one() {
  local k=$1 tname="${1%_503}:out" conf=$T/out-$1.lua acked=$T/out-$1.acked tconf st t0 n
  local saw_offline=0 back=0
  tconf=$(setup "$k") || { fail "outage/$k: could not set up the server or its consumer"; teardown "$k"; return; }
  cat >"$conf" <<EOC
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/q-out-$k"
targets = { ["$tname"] = { $tconf, retry_min = "100ms", retry_max = "1s" } }
EOC
  : >"$acked"; : >"$T/gw.log"
  gw_up "$conf" || { fail "outage/$k: luagate did not start"; tail -5 "$T/gw.log" | sed 's/^/# /'; teardown "$k"; return; }
  n=$((RATE * (PRE + OUTAGE + POST)))
  $PY "${LOAD[@]}" "$GW/" "$n" "$acked" --conc 1 --rate "$RATE" --offered "$T/out-$k.offered" &
  LOADPID=$!
  sleep "$PRE"
  t0=$(now_ms)
  local out=$OUTAGE
  # the kafka driver waits message.timeout.ms (5 s, sarama's producer timeout) for
  # delivery reports, and the nats driver its 5 s flush timeout, before they call
  # the target offline: a shorter outage may not show
  { [ "$k" = kafka ] || [ "$k" = nats ]; } && [ "$out" -lt 8 ] && out=8
  down "$k" >>"$T/servers.log" 2>&1
  while [ $(( $(now_ms) - t0 )) -lt $((out * 1000)) ]; do
    st=$(target_state "$tname")
    [ "$st" = offline ] && saw_offline=1
    sleep 0.5
  done
  check "outage/$k: /health shows $tname offline during the ${out} s outage" [ $saw_offline = 1 ]
  t0=$(now_ms)
  if ! up "$k" >>"$T/servers.log" 2>&1; then
    fail "outage/$k: the server did not come back"; tail -5 "$T/servers.log" | sed 's/^/# /'
  fi
  wait_until 60 sh -c "[ \"\$(curl -s -m 5 '$GW/health' | grep -o '\"$tname\":{\"state\":\"[a-z]*\"')\" = '\"$tname\":{\"state\":\"online\"' ]" && back=1
  check "outage/$k: /health shows $tname online again ($(( ($(now_ms) - t0) / 1000 )) s after the server's restart began)" [ $back = 1 ]
  wait "$LOADPID"; LOADPID=
  wait_until 120 drained "$tname" || fail "outage/$k: queue not drained 120 s after the outage (depth $(depth "$tname"))"
  local dl; dl=$(metric "luagate_events_dead_lettered_total{target=\"$tname\"}")
  check "outage/$k: nothing dead-lettered by the outage (${dl:-?})" [ "${dl:-x}" = 0 ]
  gw_alive || fail "outage/$k: luagate is not running any more"
  seen "$k" >"$T/out-$k.seen" 2>"$T/seen.err" || { fail "outage/$k: cannot read what the server holds"; sed 's/^/# /' "$T/seen.err" | tail -3; }
  figures "outage/$k" "$acked" "$T/out-$k.seen" --offered "$T/out-$k.offered" --order
  gw_stop
  teardown "$k"
}

for k in $KINDS; do one "$k"; done
exit $((NFAIL > 0))
