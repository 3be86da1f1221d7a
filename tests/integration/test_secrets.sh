#!/usr/bin/env bash
# Secrets never leave the config (issue #7).  Every secret key of every kind
# gets a distinctive value starting with S3CR3T-; the targets point at closed
# ports, at real servers with a wrong password (redis WRONGPASS, postgres and
# mysql auth failures, mosquitto bad credentials) and at small peers made here
# that echo credentials back in their error replies (redis, NATS, an HTTP
# server for Elasticsearch).  After the errors, retries and dead letters, the
# string "S3CR3T" must appear nowhere: the log, /health, /metrics, `check`,
# `--help-target`, `docs`, `dlq list`, the queue and dead-letter files, and
# the errors of configs refused at start.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
started=$(now_ms)
PG_PASSWORD=${PG_PASSWORD:-gw-pg-s3cret}
DEAD=$(port 21190)                 # nothing listens here (checked below)
ECHO_REDIS=$(port 21191); ECHO_NATS=$(port 21192); ECHO_HTTP=$(port 21193)
RX_PORT=$(port 21194); AUTH_REDIS=$(port 21195)
MQTT_AUTH_PORT=${MQTT_AUTH_PORT:-$((MQTT_PORT + 1))}
REDIS_NAME=redis-secrets.$$

peers_stop() {
  stop_pid "$T/echo.pid"; stop_pid "$T/rx2.pid"
  [ -f "$BASE/$REDIS_NAME/pid" ] && scripts/redis.sh stop "$REDIS_NAME" >/dev/null 2>&1
  rm -rf "${BASE:?}/$REDIS_NAME"
}
trap 'peers_stop; cleanup' EXIT
[ -n "$KEEP_T" ] && trap 'peers_stop; gw_stop' EXIT

# leaks FILE...: print the lines holding S3CR3T (with where), fail if any;
# also S3CR3T inside base64 (HTTP Basic credentials quoted by a server).
leaks() {
  local f hit=0
  for f in "$@"; do
    if [ -e "$f" ] && grep -aq S3CR3T "$f"; then
      hit=1; grep -aon '.\{0,60\}S3CR3T[-A-Za-z0-9]*.\{0,30\}' "$f" | head -3 | sed "s|^|#   leak in $(basename "$f"): |"
    fi
    if [ -e "$f" ] && ! $PY -c 'import base64, re, sys
hits = 0
for m in re.finditer(rb"[A-Za-z0-9+/]{8,}={0,2}", open(sys.argv[1], "rb").read()):
    t = m.group(0)
    for cut in range(4):  # any alignment
        s = t[cut:]
        s = s[:len(s) - len(s) % 4]
        try:
            d = base64.b64decode(s)
        except Exception:
            continue
        if b"S3CR3T" in d:
            hits += 1
            print("#   base64 leak in %s: %s -> %r" % (sys.argv[1].split("/")[-1], t[:60].decode(), d[:60]))
            break
sys.exit(1 if hits else 0)' "$f"; then hit=1; fi
  done
  return $hit
}
clean() { local name=$1; shift; check "no secret in $name" leaks "$@"; }

for p in $DEAD $ECHO_REDIS $ECHO_NATS $ECHO_HTTP $RX_PORT $AUTH_REDIS; do
  need_free_port "$p" || { fail "port $p is busy (set PORT_OFFSET)"; exit 1; }
done

# --- peers that echo what the client sent into their error replies --------------
cat >"$T/echo_peer.py" <<'PY'
import base64, json, socket, sys, threading
redis_port, nats_port, http_port = map(int, sys.argv[1:4])

def serve(port, handler):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()

def redis(c):  # every command: -ERR echoing all its arguments
    f = c.makefile("rb")
    try:
        while True:
            line = f.readline()
            if not line: return
            if line[:1] != b"*": continue
            args = []
            for _ in range(int(line[1:])):
                n = int(f.readline()[1:]); args.append(f.read(n + 2)[:-2].decode("utf-8", "replace"))
            c.sendall(("-ERR invalid password for AUTH %s\r\n" % " ".join(args)).encode())
    except Exception:
        pass
    finally:
        c.close()

def nats(c):  # INFO asking for auth, then -ERR echoing the CONNECT line
    try:
        c.sendall(b'INFO {"server_id":"echo","version":"2.9.10","go":"go","host":"127.0.0.1","port":%d,'
                  b'"max_payload":1048576,"proto":1,"auth_required":true}\r\n' % nats_port)
        f = c.makefile("rb")
        while True:
            line = f.readline()
            if not line: return
            if line.startswith(b"CONNECT"):
                c.sendall(b"-ERR 'Authorization Violation: " + line.strip().replace(b"'", b'"') + b"'\r\n")
                return
            if line.startswith(b"PING"):
                c.sendall(b"PONG\r\n")
    except Exception:
        pass
    finally:
        c.close()

def http(c):  # 500 with an Elasticsearch error body echoing the credentials
    try:
        f = c.makefile("rb")
        req = f.readline().decode("latin-1").strip()
        hdrs, n = [], 0
        while True:
            h = f.readline().decode("latin-1").strip()
            if not h: break
            hdrs.append(h)
            if h.lower().startswith("content-length:"): n = int(h.split(":", 1)[1])
            if h.lower().startswith("authorization: basic "):
                hdrs.append("decoded " + base64.b64decode(h.split()[-1]).decode("utf-8", "replace"))
        f.read(n)
        why = req + " " + " ".join(hdrs)
        body = json.dumps({"error": {"root_cause": [{"type": "security_exception", "reason": why}],
                                     "type": "security_exception", "reason": why}, "status": 500}).encode()
        c.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                  b"X-Elastic-Product: Elasticsearch\r\nWWW-Authenticate: Basic realm=\"" + why.encode() +
                  b"\"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    except Exception:
        pass
    finally:
        c.close()

for port, h in ((redis_port, redis), (nats_port, nats)):
    threading.Thread(target=serve, args=(port, h), daemon=True).start()
serve(http_port, http)
PY
$PY "$T/echo_peer.py" "$ECHO_REDIS" "$ECHO_NATS" "$ECHO_HTTP" >"$T/echo.log" 2>&1 &
echo $! >"$T/echo.pid"
wait_until 10 port_in_use "$ECHO_HTTP" || fail "echo peers did not start ($(tail -1 "$T/echo.log"))"
$PY tests/peers/webhook_rx.py "$RX_PORT" "$T/rx2.jsonl" >"$T/rx2.out" 2>&1 &
echo $! >"$T/rx2.pid"
wait_until 10 curl -fsS "http://127.0.0.1:$RX_PORT/__health" || fail "webhook receiver did not start"
curl -s -X POST "http://127.0.0.1:$RX_PORT/__fail?status=400&match=Records" >/dev/null  # refuse all: DLQ
scripts/redis.sh start "$REDIS_NAME" "$AUTH_REDIS" --requirepass right-redis-pw >"$T/redis.start" 2>&1 ||
  fail "extra redis with --requirepass did not start ($(tail -1 "$T/redis.start"))"

# the real servers of scripts/servers.sh, with a wrong password
reach() { port_in_use "$2" && return 0; fail "$1 is not reachable on 127.0.0.1:$2 (scripts/servers.sh start; same BASE/PORT_OFFSET?)"; return 1; }
reach postgres "$PG_PORT"; reach mariadb "$MYSQL_PORT"; reach "mosquitto (password listener)" "$MQTT_AUTH_PORT"
f='max_attempts = 2, retry_min = "50ms", retry_max = "300ms"'
extra=""
if port_in_use "$AMQP_PORT"; then
  extra+="  [\"amqp:real\"] = { url = \"amqp://guest:S3CR3T-amqp-real@127.0.0.1:$AMQP_PORT/\", exchange = \"lg-secrets\", $f },"$'\n'
else echo "# rabbitmq not running on $AMQP_PORT: amqp only against a closed port"; fi
KAFKA_BS=$(cat "$BASE/kafka/bootstrap" 2>/dev/null)
if [ -n "$KAFKA_BS" ] && port_in_use "${KAFKA_BS##*:}"; then
  extra+="  [\"kafka:mock\"] = { brokers = \"$KAFKA_BS\", topic = \"lg-secrets\", sasl = \"on\", sasl_username = \"lg\", sasl_password = \"S3CR3T-kafka-mock\", $f },"$'\n'
else echo "# kafka mock not running: kafka only against a closed port"; fi

# --- the gateway: a secret in every secret key of every kind ---------------------
pg="host=127.0.0.1 port=$PG_PORT dbname=luagate user=gw password=S3CR3T-pg-pass sslmode=disable connect_timeout=3"
cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
auth_token = "S3CR3T-gw-token"
targets = {
  ["webhook:dead"] = { endpoint = "http://127.0.0.1:$DEAD/", auth_token = "S3CR3T-webhook-token", $f },
  ["webhook:userinfo"] = { endpoint = "http://lg:S3CR3T-webhook-urlpass@127.0.0.1:$DEAD/", $f },
  ["webhook:refused"] = { endpoint = "http://127.0.0.1:$RX_PORT/x", auth_token = "Basic S3CR3T-webhook-basic", $f },
  ["amqp:dead"] = { url = "amqp://lg:S3CR3T-amqp-pass@127.0.0.1:$DEAD/vh", exchange = "x", $f },
  ["kafka:dead"] = { brokers = "127.0.0.1:$DEAD", topic = "t", sasl = "on", sasl_username = "lg",
                     sasl_password = "S3CR3T-kafka-sasl", $f },
  ["mqtt:real"] = { broker = "tcp://127.0.0.1:$MQTT_AUTH_PORT", topic = "lg/secrets", username = "luagate",
                    password = "S3CR3T-mqtt-pass", qos = 1, $f },
  ["nats:echo"] = { address = "127.0.0.1:$ECHO_NATS", subject = "s", username = "lg", password = "S3CR3T-nats-pass", $f },
  ["nats:token"] = { address = "127.0.0.1:$ECHO_NATS", subject = "s", token = "S3CR3T-nats-token", $f },
  ["redis:echo"] = { address = "127.0.0.1:$ECHO_REDIS", key = "k", password = "S3CR3T-redis-echo", $f },
  ["redis:real"] = { address = "127.0.0.1:$AUTH_REDIS", key = "k", password = "S3CR3T-redis-pass", $f },
  ["redis:dead"] = { address = "127.0.0.1:$DEAD", key = "k", user = "lg", password = "S3CR3T-redis-dead", $f },
  ["postgres:real"] = { connection_string = "$pg", table = "secrets_t", $f },
  ["postgres:url"] = { connection_string = "postgres://gw:S3CR3T-pg-urlpass@127.0.0.1:$PG_PORT/luagate?sslmode=disable",
                       table = "secrets_t", $f },
  ["postgres:dead"] = { connection_string = "host=127.0.0.1 port=$DEAD dbname=x user=gw password=S3CR3T-pg-dead connect_timeout=2",
                        table = "t", $f },
  ["mysql:real"] = { dsn_string = "gw:S3CR3T-mysql-pass@tcp(127.0.0.1:$MYSQL_PORT)/luagate?timeout=3s", table = "secrets_t", $f },
  ["mysql:dead"] = { dsn_string = "gw:S3CR3T-mysql-dead@tcp(127.0.0.1:$DEAD)/luagate?timeout=2s", table = "t", $f },
  ["elasticsearch:userinfo"] = { url = "http://lg:S3CR3T-es-urlpass@127.0.0.1:$ECHO_HTTP", index = "i", $f },
  ["elasticsearch:pass"] = { url = "http://127.0.0.1:$ECHO_HTTP", index = "i", username = "lg",
                             password = "S3CR3T-es-pass", $f },
  ["elasticsearch:dead"] = { url = "http://lg:S3CR3T-es-dead@127.0.0.1:$DEAD", index = "i", $f },
$extra
}
EOF
check "the config is valid (luagate check)" "$LUAGATE_BIN" check -c "$T/gw.lua"
"$LUAGATE_BIN" check -c "$T/gw.lua" >"$T/check.out" 2>&1
head -3 "$EVENTS" >"$T/three.jsonl"
"$LUAGATE_BIN" check -c "$T/gw.lua" "$T/three.jsonl" >"$T/check-events.out" 2>&1
gw_start "$T/gw.lua" || { fail "luagate did not start"; sed 's/^/# /' "$T/gw.log"; exit 1; }
EVENTS=$T/three.jsonl
acked=$(post_all -H "Authorization: Bearer S3CR3T-gw-token")
check "3 events acknowledged with the gateway's token" [ "$acked" = 3 ]
check "a wrong token is refused with 401" [ "$(post "$(head -1 "$EVENTS")" -H "Authorization: Bearer S3CR3T-wrong-token")" = 401 ]
cp "$T/resp" "$T/resp-401"
check "a token without Bearer is refused with 401" [ "$(post "$(head -1 "$EVENTS")" -H "Authorization: S3CR3T-gw-token")" = 401 ]
cp "$T/resp" "$T/resp-401b"

# wait until every target has failed and retried; the answering ones dead-letter
TARGETS=$(grep -o '^  \["[a-z]*:[a-z]*"\]' "$T/gw.lua" | tr -d ' []"')
failed() { metric "luagate_events_failed_total{target=\"$1\"}"; }
all_failed_twice() { local t; for t in $TARGETS; do [ "$(failed "$t")" -ge 2 ] 2>/dev/null || return 1; done; }
wait_until 30 all_failed_twice
for t in $TARGETS; do
  n=$(failed "$t")
  check "$t: delivery failed and was retried (failed attempts: ${n:-none})" [ "${n:-0}" -ge 2 ]
done
sleep 1
curl -s "$GW/health" >"$T/health.json"
curl -s "$GW/metrics" >"$T/metrics.txt"
check "/health reports errors for the failing targets" grep -q '"error"' "$T/health.json"
for t in redis:real postgres:real mysql:real mqtt:real; do
  check "$t: /health shows the server's refusal (not a connect error)" \
    $PY -c 'import json,sys; e=json.load(open(sys.argv[1]))["targets"][sys.argv[2]].get("error","").lower()
sys.exit(not any(w in e for w in ("wrongpass", "password", "access denied", "not authorized", "bad user", "auth")))' \
    "$T/health.json" "$t"
done
check "dead letters were written (webhook 400s, answering targets after max_attempts)" \
  sh -c "ls '$T/queue/dlq/'*.jsonl >/dev/null 2>&1"
for t in $TARGETS; do "$LUAGATE_BIN" -c "$T/gw.lua" dlq list "$t"; done >"$T/dlq-list.out" 2>&1
gw_stop
cp "$T/gw.log" "$T/gw-log.txt"

clean "the gateway's log (stderr, after errors, retries, dead letters and SIGTERM)" "$T/gw-log.txt"
clean "/health" "$T/health.json"
clean "/metrics" "$T/metrics.txt"
clean "the 401 answers to wrong tokens" "$T/resp-401" "$T/resp-401b"
clean "luagate check -c" "$T/check.out"
clean "luagate check -c CONFIG EVENTS" "$T/check-events.out"
clean "luagate dlq list (every target)" "$T/dlq-list.out"
check "dead-letter files hold the payloads" grep -q 'Records' $(ls "$T/queue/dlq/"*.jsonl 2>/dev/null | head -1) /dev/null
clean "the dead-letter files (payloads yes, credentials no)" $(find "$T/queue" -path '*dlq*' -type f)
clean "the queue journal and cursors" $(find "$T/queue" -type f ! -path '*dlq*')
$PY -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l); print(r["path"], r["body"])' "$T/rx2.jsonl" >"$T/rx2-bodies.txt"
clean "the webhook receiver's request bodies and paths (only the Authorization header may carry its token)" \
  "$T/rx2-bodies.txt"
check "...and the webhook token did reach the receiver (the echo is real)" grep -q 'Basic S3CR3T-webhook-basic' "$T/rx2.jsonl"
check "...and the echo peer does echo credentials (so masking is really tested)" \
  sh -c "curl -s -u lg:S3CR3T-es-pass 'http://127.0.0.1:$ECHO_HTTP/' | grep -q S3CR3T-es-pass"

# --- --help-target and docs, with the secrets also in MINIO_NOTIFY_* variables ----
envs=(MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_E=S3CR3T-env-webhook MINIO_NOTIFY_REDIS_PASSWORD_E=S3CR3T-env-redis
      MINIO_NOTIFY_AMQP_URL_E=amqp://u:S3CR3T-env-amqp@127.0.0.1:1/ MINIO_NOTIFY_KAFKA_SASL_PASSWORD_E=S3CR3T-env-kafka
      MINIO_NOTIFY_NATS_PASSWORD_E=S3CR3T-env-nats MINIO_NOTIFY_NATS_TOKEN_E=S3CR3T-env-natstoken
      MINIO_NOTIFY_MQTT_PASSWORD_E=S3CR3T-env-mqtt MINIO_NOTIFY_ELASTICSEARCH_PASSWORD_E=S3CR3T-env-es
      "MINIO_NOTIFY_POSTGRES_CONNECTION_STRING_E=host=x password=S3CR3T-env-pg"
      "MINIO_NOTIFY_MYSQL_DSN_STRING_E=u:S3CR3T-env-mysql@tcp(127.0.0.1:1)/d" LUAGATE_AUTH_TOKEN=S3CR3T-env-gw)
for k in webhook amqp kafka mqtt nats nsq mysql postgres redis elasticsearch file; do
  env "${envs[@]}" "$LUAGATE_BIN" --help-target "$k"
done >"$T/help.out" 2>&1
env "${envs[@]}" "$LUAGATE_BIN" docs >"$T/docs.out" 2>&1
check "--help-target lists the secret keys as (secret)" grep -q 'password .*(secret)' "$T/help.out"
clean "luagate --help-target KIND (all kinds, secrets in the environment)" "$T/help.out"
clean "luagate docs (secrets in the environment)" "$T/docs.out"

# --- configs refused at start: the error names the key, never the secret ---------
# refused NAME CONFIG-BODY [ENV...]: luagate check must exit 2 without printing S3CR3T
n=0
refused() {
  local name=$1 body=$2; shift 2; n=$((n + 1))
  printf '%s\n' "$body" >"$T/bad$n.lua"
  env "$@" "$LUAGATE_BIN" check -c "$T/bad$n.lua" >"$T/bad$n.out" 2>&1; local rc=$?
  if [ "$rc" != 2 ]; then fail "config refused ($name): exit $rc, not 2"; sed 's/^/#   /' "$T/bad$n.out"; return; fi
  check "config refused without the secret in the error ($name): $(head -c 150 "$T/bad$n.out" | tr '\n' ' ' | sed 's/S3CR3T[-A-Za-z0-9]*/<SECRET>/g')" \
    leaks "$T/bad$n.out"
}
t() { printf 'targets = { ["%s"] = { %s } }' "$1" "$2"; }
refused "webhook auth_token + bad queue_limit" "$(t webhook:1 'endpoint = "http://127.0.0.1:1/", auth_token = "S3CR3T-a", queue_limit = "many"')"
refused "webhook auth_token of three words" "$(t webhook:1 'endpoint = "http://127.0.0.1:1/", auth_token = "a b S3CR3T-b"')"
refused "webhook bad client_cert pair with a token" "$(t webhook:1 'endpoint = "http://127.0.0.1:1/", auth_token = "S3CR3T-c", client_cert = "/x"')"
refused "amqp url without ://" "$(t amqp:1 'url = "amqp//lg:S3CR3T-d@127.0.0.1:5672/", exchange = "x"')"
refused "amqp url with a bad port" "$(t amqp:1 'url = "amqp://lg:S3CR3T-e@127.0.0.1:notaport/", exchange = "x"')"
refused "amqp url with a bad scheme" "$(t amqp:1 'url = "http://lg:S3CR3T-f@127.0.0.1/", exchange = "x"')"
refused "amqp url with blanks" "$(t amqp:1 'url = "amqp://lg:S3CR3T-g pw@127.0.0.1/", exchange = "x"')"
refused "amqp url with a bad %-escape" "$(t amqp:1 'url = "amqp://lg:S3CR3T-h%zz@127.0.0.1/", exchange = "x"')"
refused "amqp url + bad queue_limit" "$(t amqp:1 'url = "amqp://lg:S3CR3T-i@127.0.0.1/", exchange = "x", queue_limit = "-1"')"
refused "kafka sasl_password + bad sasl_mechanism" "$(t kafka:1 'brokers = "127.0.0.1:1", topic = "t", sasl = "on", sasl_username = "u", sasl_password = "S3CR3T-j", sasl_mechanism = "bogus"')"
refused "kafka sasl_password + bad tls" "$(t kafka:1 'brokers = "127.0.0.1:1", topic = "t", sasl_password = "S3CR3T-l", tls = "maybe"')"
refused "mqtt password + bad qos" "$(t mqtt:1 'broker = "tcp://127.0.0.1:1", topic = "t", username = "u", password = "S3CR3T-m", qos = 7')"
refused "nats password + bad address" "$(t nats:1 'address = "nohost", subject = "s", username = "u", password = "S3CR3T-n"')"
refused "nats token + bad queue_limit" "$(t nats:1 'address = "127.0.0.1:1", subject = "s", token = "S3CR3T-o", queue_limit = "x"')"
refused "redis password + bad format" "$(t redis:1 'address = "127.0.0.1:1", key = "k", password = "S3CR3T-p", format = "bogus"')"
refused "postgres connection_string unterminated quote" "$(t postgres:1 "connection_string = \"host=127.0.0.1 password='S3CR3T-r\", table = \"t\"")"
refused "postgres connection_string bad keyword" "$(t postgres:1 'connection_string = "host=127.0.0.1 passwrd=S3CR3T-s", table = "t"')"
refused "postgres URL with an unknown parameter" "$(t postgres:1 'connection_string = "postgres://gw:S3CR3T-t@127.0.0.1/db?bogus=1", table = "t"')"
refused "postgres connection_string + bad table name" "$(t postgres:1 'connection_string = "host=127.0.0.1 password=S3CR3T-u", table = "bad name;"')"
refused "mysql dsn unclosed tcp(" "$(t mysql:1 'dsn_string = "gw:S3CR3T-v@tcp(127.0.0.1:1/luagate", table = "t"')"
refused "mysql dsn bad tls" "$(t mysql:1 'dsn_string = "gw:S3CR3T-w@tcp(127.0.0.1:1)/luagate?tls=bogus", table = "t"')"
refused "mysql dsn bad timeout" "$(t mysql:1 'dsn_string = "gw:S3CR3T-y@tcp(127.0.0.1:1)/luagate?timeout=zz", table = "t"')"
refused "mysql dsn without a /" "$(t mysql:1 'dsn_string = "gw:S3CR3T-z@tcp(127.0.0.1:1)", table = "t"')"
refused "elasticsearch url without ://" "$(t elasticsearch:1 'url = "http//lg:S3CR3T-aa@127.0.0.1:9200", index = "i"')"
refused "elasticsearch url with a bad scheme" "$(t elasticsearch:1 'url = "ftp://lg:S3CR3T-ab@127.0.0.1:9200", index = "i"')"
refused "elasticsearch password without username" "$(t elasticsearch:1 'url = "http://127.0.0.1:9200", index = "i", password = "S3CR3T-ac"')"
refused "elasticsearch url userinfo + bad queue_limit" "$(t elasticsearch:1 'url = "http://lg:S3CR3T-ad@127.0.0.1:9200", index = "i", queue_limit = "lots"')"
refused "gateway auth_token of three words" 'auth_token = "a b S3CR3T-ae"'
refused "gateway auth_token + bad listen" 'auth_token = "S3CR3T-af"
listen = "nowhere"'
refused "a misspelt secret key (passwrd) in the file" "$(t redis:1 'address = "127.0.0.1:1", key = "k", passwrd = "S3CR3T-ag"')"
refused "a misspelt secret variable (MINIO_NOTIFY_REDIS_PASSWRD_E)" "" \
  MINIO_NOTIFY_REDIS_ENABLE_E=on MINIO_NOTIFY_REDIS_ADDRESS_E=127.0.0.1:1 MINIO_NOTIFY_REDIS_KEY_E=k \
  MINIO_NOTIFY_REDIS_PASSWRD_E=S3CR3T-ah
refused "secret variables + bad MINIO_NOTIFY_REDIS_FORMAT_E" "" MINIO_NOTIFY_REDIS_ENABLE_E=on \
  MINIO_NOTIFY_REDIS_ADDRESS_E=127.0.0.1:1 MINIO_NOTIFY_REDIS_KEY_E=k MINIO_NOTIFY_REDIS_PASSWORD_E=S3CR3T-ai \
  MINIO_NOTIFY_REDIS_FORMAT_E=bogus
refused "bad MINIO_NOTIFY_AMQP_URL_E" "" MINIO_NOTIFY_AMQP_ENABLE_E=on MINIO_NOTIFY_AMQP_URL_E=amqp://u:S3CR3T-aj@h:xx/ \
  MINIO_NOTIFY_AMQP_EXCHANGE_E=x
refused "bad LUAGATE_AUTH_TOKEN" "" "LUAGATE_AUTH_TOKEN=a b S3CR3T-ak"
# issue 16: address keys take host:port only; a URL with userinfo is refused, masked
refused "nats address with userinfo" "$(t nats:1 'address = "nats://lg:S3CR3T-al@127.0.0.1:4222", subject = "s"')"
refused "redis address with userinfo" "$(t redis:1 'address = "redis://:S3CR3T-am@127.0.0.1:6379", key = "k"')"
refused "nsq address with userinfo" "$(t nsq:1 'nsqd_address = "lg:S3CR3T-an@127.0.0.1:4150", topic = "t"')"
refused "kafka brokers with userinfo" "$(t kafka:1 'brokers = "127.0.0.1:9092,sasl://lg:S3CR3T-ao@127.0.0.1:9093", topic = "t"')"
refused "bad MINIO_NOTIFY_NATS_ADDRESS_E" "" MINIO_NOTIFY_NATS_ENABLE_E=on \
  MINIO_NOTIFY_NATS_ADDRESS_E=nats://u:S3CR3T-ap@127.0.0.1:4222 MINIO_NOTIFY_NATS_SUBJECT_E=s
refused "webhook endpoint with userinfo and a port out of range" "$(t webhook:1 'endpoint = "http://lg:S3CR3T-aq@127.0.0.1:99999/"')"
refused "a secret as a list, not a string" "$(t redis:1 'address = "127.0.0.1:1", key = "k", password = { "S3CR3T-al", false }')"
refused "a Lua syntax error: unfinished string holding the secret" "$(t redis:1 'address = "127.0.0.1:1", key = "k", password = "S3CR3T-am')"
refused "webhook endpoint with user:password@ and a bad scheme (credentials in a non-secret key)" \
  "$(t webhook:1 'endpoint = "ftp://lg:S3CR3T-an@127.0.0.1:1/"')"

echo "# test_secrets took $(( $(now_ms) - started )) ms"
