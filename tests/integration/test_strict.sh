#!/usr/bin/env bash
# Strict at the edges (issue 16): misspelled settings stop the gateway
# before it starts, `luagate check` refuses what start-up would, and a
# text log line cannot be forged by what a client sends.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
san_clean() { check "no sanitizer report in the gateway's log ($1)" sh -c "! grep -q 'ERROR: AddressSanitizer\\|ERROR: LeakSanitizer\\|runtime error' '$T/gw.log'"; }

# --- misspelled variables: exit 2 at start and in check, naming the closest ------------
run_env() { # run_env NAME EXPECTED-TEXT VAR=VALUE...
  local name=$1 want=$2; shift 2
  env "$@" LUAGATE_LISTEN="127.0.0.1:$GATEWAY_PORT" LUAGATE_QUEUE_DIR="$T/q-env" \
    timeout 10 "$LUAGATE_BIN" >"$T/env.out" 2>&1; local rc=$?
  check "$name: the gateway refuses to start (exit $rc): $(head -1 "$T/env.out")" [ "$rc" = 2 ]
  check "$name: ...saying $want" grep -q "$want" "$T/env.out"
  env "$@" "$LUAGATE_BIN" check >"$T/env.out" 2>&1; rc=$?
  check "$name: luagate check refuses it too (exit $rc)" [ "$rc" = 2 ]
}
run_env "LUAGATE_QUEUE_DIRR" "did you mean LUAGATE_QUEUE_DIR?" LUAGATE_QUEUE_DIRR=/var/lib/luagate
run_env "MINIO_NOTIFY_REDDIS_ENABLE" "did you mean MINIO_NOTIFY_REDIS_" MINIO_NOTIFY_REDDIS_ENABLE=on
run_env "LUAGATE_BODYLIMIT" "did you mean LUAGATE_BODY_LIMIT?" LUAGATE_BODYLIMIT=10
check "...and no queue was created in the meantime" [ ! -e "$T/q-env" ]
run_env "enable=yes" "must be on or off, not 'yes'" \
  MINIO_NOTIFY_WEBHOOK_ENABLE_X=yes MINIO_NOTIFY_WEBHOOK_ENDPOINT_X=http://127.0.0.1:1/
run_env "a port out of range" "the port 99999 is out of range (1-65535)" \
  MINIO_NOTIFY_REDIS_ENABLE_X=on MINIO_NOTIFY_REDIS_ADDRESS_X=127.0.0.1:99999 MINIO_NOTIFY_REDIS_KEY_X=k
run_env "retry_min above retry_max" "'retry_min' (5s) must not be above 'retry_max' (1s)" \
  MINIO_NOTIFY_WEBHOOK_ENABLE_X=on MINIO_NOTIFY_WEBHOOK_ENDPOINT_X=http://127.0.0.1:1/ \
  MINIO_NOTIFY_WEBHOOK_RETRY_MIN_X=5s MINIO_NOTIFY_WEBHOOK_RETRY_MAX_X=1s
run_env "AMQP delivery_mode=9" "'delivery_mode' must be 1 (transient), 2 (persistent) or 0" \
  MINIO_NOTIFY_AMQP_ENABLE_X=on MINIO_NOTIFY_AMQP_URL_X=amqp://127.0.0.1:1/ MINIO_NOTIFY_AMQP_EXCHANGE_X=x \
  MINIO_NOTIFY_AMQP_DELIVERY_MODE_X=9

# --- check does what start-up does, without starting anything ----------------------------
touch "$T/a-file"
chk() { # chk NAME EXPECTED-TEXT CONFIG-BODY
  printf '%s\n' "$3" >"$T/chk.lua"
  "$LUAGATE_BIN" check -c "$T/chk.lua" >"$T/chk.out" 2>&1; local rc=$?
  check "check refuses $1 (exit $rc): $(head -1 "$T/chk.out")" [ "$rc" = 2 ]
  check "...saying $2" grep -q "$2" "$T/chk.out"
}
chk "a queue_dir under a plain file" "queue directory $T/a-file/q cannot be created" "queue_dir = \"$T/a-file/q\""
chk "a target queue_dir under a plain file" "webhook:1: queue directory $T/a-file/q2 cannot be created" \
  "targets = { [\"webhook:1\"] = { endpoint = \"http://127.0.0.1:1/\", queue_dir = \"$T/a-file/q2\" } }"
chk "an unreadable webhook cert_authority" "key 'cert_authority': cannot read $T/none.pem" \
  "targets = { [\"webhook:1\"] = { endpoint = \"https://127.0.0.1:1/\", cert_authority = \"$T/none.pem\" } }"
chk "an unreadable ingest TLS certificate" "cannot read $T/none.crt" \
  "tls_cert = \"$T/none.crt\"
tls_key = \"$T/a-file\""
chk "a missing script" "cannot open $T/none.lua" "script = \"$T/none.lua\""
printf 'queue_dir = "%s"\n' "$T/new/deeper/q" >"$T/ok.lua"
check "check accepts a queue_dir that does not exist yet but can be created" sh -c "'$LUAGATE_BIN' check -c '$T/ok.lua' >/dev/null"
check "...and creates nothing" [ ! -e "$T/new" ]

# --- a newline in an object key does not forge a log line --------------------------------
cat >"$T/fail.lua" <<'EOF'
return function(event, send) error("refused by the test script") end
EOF
cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
script = "$T/fail.lua"
EOF
gw_start "$T/gw.lua" || { fail "luagate did not start"; cat "$T/gw.log"; exit 1; }
forged=$($PY -c 'import json,sys
e = json.loads(open(sys.argv[1]).readline())
r = e["Records"][0]
tail = "\n2026-01-01T00:00:00.000Z error luagate: FORGED\r\x1b[2K"
r["s3"]["object"]["key"] = "x%0A2026-01-01T00%3A00%3A00.000Z+error+luagate%3A+FORGED%0D%1B%5B2K"
e["Key"] = r["s3"]["bucket"]["name"] + "/x" + tail
print(json.dumps(e, separators=(",", ":")))' "$EVENTS")
check "an event whose key holds %0A is acknowledged" [ "$(post "$forged")" = 200 ]
wait_until 5 grep -q 'refused by the test script' "$T/gw.log"
check "the script error is logged" grep -q 'refused by the test script' "$T/gw.log"
check "no log line starts with the forged text" sh -c "! grep -q '^2026-01-01T00:00:00.000Z error luagate: FORGED' '$T/gw.log'"
check "...the newline is written as \\n inside the one line" grep -q 'x\\n2026-01-01T00:00:00.000Z error luagate: FORGED\\r\\x1b\[2K' "$T/gw.log"
check "no raw escape character reached the log" sh -c "! grep -q \$'\\x1b' '$T/gw.log'"
gw_stop
san_clean "the last gateway"
