#!/usr/bin/env bash
# End to end: a MinIO setup (targets from `mc admin config export`, bucket
# rules as the S3 XML, `mc event list` text and `mc event list --json`)
# carried over by one `luagate import`; the sample events posted; each
# webhook target holds exactly what MinIO would have sent it (computed by
# minio_rules.py from MinIO's Go code), with MinIO's request headers, and
# the Redis target (access format, on scripts/servers.sh's Redis) every
# event MinIO would have pushed, in order.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
N=$(grep -c . "$EVENTS")
RX="http://127.0.0.1:$WEBHOOK_PORT"
RKEY="bucketrules_$$"
redis-cli -p "$REDIS_PORT" DEL "$RKEY" >/dev/null 2>&1 ||
  fail "redis is not reachable on 127.0.0.1:$REDIS_PORT (scripts/servers.sh start redis; same BASE/PORT_OFFSET?)"

# `mc admin config export` prints every sub-system; two webhook targets
cat >"$T/export.txt" <<EOF
api requests_max=0 requests_deadline=10s cluster_deadline=10s
site name= region=
notify_webhook:slack endpoint="$RX/slack" auth_token="" queue_limit="0" queue_dir="" client_cert="" client_key=""
notify_webhook:audit endpoint="$RX/audit" auth_token="rx-token" queue_limit="0"
notify_webhook:off endpoint="$RX/off" enable="off"
notify_redis:logs address="127.0.0.1:$REDIS_PORT" key="$RKEY" format="access"
# MINIO_NOTIFY_WEBHOOK_ENABLE_env=on
scanner speed=default
EOF
# images: GetBucketNotificationConfiguration's XML (AWS writes Prefix/Suffix names as MinIO stores them)
cat >"$T/images.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <QueueConfiguration><Id>jpg-to-slack</Id>
    <Filter><S3Key><FilterRule><Name>prefix</Name><Value>photos/</Value></FilterRule>
      <FilterRule><Name>suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter>
    <Queue>arn:minio:sqs::slack:webhook</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>
  <QueueConfiguration><Id>gif-to-slack</Id>
    <Filter><S3Key><FilterRule><Name>suffix</Name><Value>.gif</Value></FilterRule></S3Key></Filter>
    <Queue>arn:minio:sqs::slack:webhook</Queue><Event>s3:ObjectCreated:Put</Event><Event>s3:ObjectCreated:Post</Event></QueueConfiguration>
  <QueueConfiguration><Id>deletes</Id>
    <Queue>arn:minio:sqs::audit:webhook</Queue><Event>s3:ObjectRemoved:*</Event></QueueConfiguration>
  <QueueConfiguration><Id>thumbs</Id>
    <Filter><S3Key><FilterRule><Name>prefix</Name><Value>thumbs/?</Value></FilterRule></S3Key></Filter>
    <Queue>arn:minio:sqs::audit:webhook</Queue><Event>s3:ObjectCreated:Put</Event></QueueConfiguration>
  <QueueConfiguration><Id>off</Id>
    <Queue>arn:minio:sqs::off:webhook</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration>
</NotificationConfiguration>
EOF
# logs: what `mc event list ALIAS/logs` prints
cat >"$T/logs.txt" <<'EOF'
arn:minio:sqs::audit:webhook   s3:ObjectCreated:*,s3:ObjectRemoved:*   Filter: 
arn:minio:sqs::logs:redis   s3:ObjectCreated:*,s3:ObjectRemoved:*,s3:ObjectRestore:*   Filter: 
arn:minio:sqs::slack:webhook   s3:ObjectRestore:*   Filter: suffix=".gif"
arn:minio:sqs::slack:webhook   s3:ObjectCreated:*   Filter: prefix="csv/"suffix=".csv"
EOF
# media-eu: `mc event list ALIAS/media-eu --json`, piped (one object per line)
cat >"$T/media.json" <<'EOF'
{"status":"success","id":"","event":["s3:ObjectCreated:Put"],"prefix":"a","suffix":"","arn":"arn:minio:sqs::slack:webhook"}
{"status":"success","id":"gz","event":["s3:ObjectRemoved:*","s3:ObjectCreated:*"],"prefix":"","suffix":".gz","arn":"arn:minio:sqs::audit:webhook"}
{"status":"success","id":"deep","event":["s3:ObjectCreated:*"],"prefix":"deep/","suffix":"","arn":"arn:minio:sqs::audit:webhook"}
EOF
# the same rules for minio_rules.py (targets by the path they post to)
cat >"$T/rules.json" <<'EOF'
{"images": [{"target": "/slack", "events": ["s3:ObjectCreated:*"], "prefix": "photos/", "suffix": ".jpg"},
            {"target": "/slack", "events": ["s3:ObjectCreated:Put", "s3:ObjectCreated:Post"], "suffix": ".gif"},
            {"target": "/audit", "events": ["s3:ObjectRemoved:*"]},
            {"target": "/audit", "events": ["s3:ObjectCreated:Put"], "prefix": "thumbs/?"}],
 "logs": [{"target": "/audit", "events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]},
          {"target": "redis:logs", "events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:ObjectRestore:*"]},
          {"target": "/slack", "events": ["s3:ObjectRestore:*"], "suffix": ".gif"},
          {"target": "/slack", "events": ["s3:ObjectCreated:*"], "prefix": "csv/", "suffix": ".csv"}],
 "media-eu": [{"target": "/slack", "events": ["s3:ObjectCreated:Put"], "prefix": "a"},
              {"target": "/audit", "events": ["s3:ObjectRemoved:*", "s3:ObjectCreated:*"], "suffix": ".gz"},
              {"target": "/audit", "events": ["s3:ObjectCreated:*"], "prefix": "deep/"}]}
EOF

# --- one import call ----------------------------------------------------------
"$LUAGATE_BIN" import "$T/export.txt" --bucket images "$T/images.xml" --bucket logs "$T/logs.txt" \
  --bucket media-eu "$T/media.json" >"$T/imported.lua" 2>"$T/import.err"
rc=$?
check "import of export output + XML + text + JSON exits 0" [ "$rc" = 0 ]
check "import notes the sub-systems it ignored on stderr" grep -q 'ignored, not notification targets: api site scanner' "$T/import.err"
check "import writes the rules of all three buckets" grep -q '\["media-eu"\] = {' "$T/imported.lua"
{ echo "listen = \"127.0.0.1:$GATEWAY_PORT\""; echo "queue_dir = \"$T/queue\""
  cat "$T/imported.lua"
  # a target with no bucket rule gets nothing once bucket rules exist
  echo "targets[\"file:norules\"] = { path = \"$T/norules.jsonl\" }"; } >"$T/gw.lua"
"$LUAGATE_BIN" check -c "$T/gw.lua" "$EVENTS" >"$T/check.out" 2>&1
check "luagate check accepts the imported configuration" [ $? = 0 ]
check "check names the rule that sent an event" \
  grep -q "rule: bucket 'images' rule 1 (id 'jpg-to-slack') -> webhook:slack" "$T/check.out"
check "check says when a bucket has no rules" grep -q "rule: bucket 'backups' has no rules" "$T/check.out"
check "check shows a rule whose target is disabled as skipped" \
  grep -q "rule: bucket 'images' rule 5 (id 'off') -> webhook:off: target not enabled, skipped" "$T/check.out"

# --- the events -------------------------------------------------------------------
rx_start || fail "webhook receiver did not start"
gw_start "$T/gw.lua" || { fail "luagate did not start"; cat "$T/gw.log"; exit 1; }
acked=$(post_all)
check "all $N sample events acknowledged with 200" [ "$acked" = "$N" ]
want=$($PY tests/integration/minio_rules.py "$T/rules.json" "$EVENTS" /dev/null | grep -o 'sent [0-9]*' | awk '{s += $2} END {print s}')
wait_lines "$RX_LOG" "$want" 20
sleep 0.3 # anything sent beyond what MinIO would have sent would land now
$PY tests/integration/minio_rules.py "$T/rules.json" "$EVENTS" "$RX_LOG"
check "the target without bucket rules received nothing" [ ! -s "$T/norules.jsonl" ]
$PY tests/integration/minio_rules.py --subset redis:logs "$T/rules.json" "$EVENTS" >"$T/redis.jsonl"
nr=$(grep -c . "$T/redis.jsonl")
for _ in $(seq 200); do
  [ "$(metric 'luagate_events_delivered_total{target="redis:logs"}')" = "$nr" ] && break; sleep 0.1
done
check "redis:logs confirmed the $nr events MinIO would have sent it" \
  [ "$(metric 'luagate_events_delivered_total{target="redis:logs"}')" = "$nr" ]
$PY tests/integration/e2e_verify.py "$T/redis.jsonl" redis-access "$REDIS_PORT" "$RKEY"
redis-cli -p "$REDIS_PORT" DEL "$RKEY" >/dev/null 2>&1
check "webhook requests carry User-Agent: Go-http-client/1.1, as MinIO's" \
  $PY -c 'import json,sys; sys.exit(any(json.loads(l)["headers"].get("user-agent") != "Go-http-client/1.1" for l in open(sys.argv[1])))' "$RX_LOG"
check "webhook requests carry no Accept, Expect or Accept-Encoding header (Go sends none)" \
  $PY -c 'import json,sys; sys.exit(any(set(json.loads(l)["headers"]) & {"accept", "expect", "accept-encoding"} for l in open(sys.argv[1])))' "$RX_LOG"
check "only the audit target carries its token" \
  $PY -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["headers"].get("authorization") != ("Bearer rx-token" if r["path"] == "/audit" else None): sys.exit(1)' "$RX_LOG"
gw_stop

# --- user_agent changes the header ---------------------------------------------------
: >"$RX_LOG"
cat >"$T/ua.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue-ua"
targets = {
  ["webhook:a"] = { endpoint = "$RX/a", user_agent = "MinIO-gateway/2 (test)" },
  ["webhook:b"] = { endpoint = "$RX/b", user_agent = "" },  -- empty: the default, as every key
}
EOF
gw_start "$T/ua.lua" || { fail "luagate did not start with user_agent"; cat "$T/gw.log"; exit 1; }
post "$(head -1 "$EVENTS")" >/dev/null
wait_lines "$RX_LOG" 2
check "user_agent sets the User-Agent header" \
  $PY -c 'import json,sys; sys.exit(not any(json.loads(l)["path"] == "/a" and json.loads(l)["headers"].get("user-agent") == "MinIO-gateway/2 (test)" for l in open(sys.argv[1])))' "$RX_LOG"
check "user_agent = \"\" keeps MinIO's Go-http-client/1.1" \
  $PY -c 'import json,sys; sys.exit(not any(json.loads(l)["path"] == "/b" and json.loads(l)["headers"].get("user-agent") == "Go-http-client/1.1" for l in open(sys.argv[1])))' "$RX_LOG"
gw_stop
printf 'targets = { ["webhook:c"] = { endpoint = "http://127.0.0.1:1/", user_agent = "a\\r\\nX-Evil: 1" } }\n' >"$T/bad-ua.lua"
"$LUAGATE_BIN" check -c "$T/bad-ua.lua" >"$T/bad-ua.out" 2>&1
check "a user_agent with CR/LF is refused, naming the key" grep -q "webhook:c: key 'user_agent' must not hold control characters" "$T/bad-ua.out"

# --- invalid rule sets are refused at start, naming bucket and rule -------------------
cat >"$T/bad.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue-bad"
targets = { ["webhook:a"] = { endpoint = "$RX/a" } }
buckets = { images = { { arn = "webhook:a", events = { "put" } }, { id = "x", arn = "arn:minio:sqs::zz:webhook", events = { "put" } } } }
EOF
"$LUAGATE_BIN" -c "$T/bad.lua" >"$T/bad.out" 2>&1
rc=$?
check "luagate refuses to start with a rule naming an unconfigured ARN (exit 2)" [ "$rc" = 2 ]
check "the refusal names the bucket, the rule and the ARN" \
  grep -q "bucket 'images' rule 2 (id 'x'): ARN 'arn:minio:sqs::zz:webhook' not found" "$T/bad.out"
