#!/usr/bin/env bash
# Strict at the edges (issue 16): a body whose strings are not UTF-8 or whose
# fields do not have the JSON types MinIO writes is refused with 400 naming
# the record and the field, and nothing of that request is queued; an object
# name holding %00 keeps its NUL in the journal key, so two such objects are
# two rows of a Redis namespace hash, not one; a PostgreSQL namespace table,
# whose text cannot hold a NUL, dead-letters such an event instead of cutting
# its key onto another object's row.  Needs redis and postgres from
# scripts/servers.sh (same BASE/PORT_OFFSET).
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
id=strict_$$
PG_PASSWORD=${PG_PASSWORD:-gw-pg-s3cret}
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
pg() { PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U gw luagate -tAc "$1"; }

for s in "redis $REDIS_PORT" "postgres $PG_PORT"; do
  if ! port_in_use "${s#* }"; then
    fail "${s% *} is not reachable on 127.0.0.1:${s#* } (scripts/servers.sh start; same BASE/PORT_OFFSET?)"
    exit 1
  fi
done
cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
targets = {
  ["file:all"] = { path = "$T/all.jsonl" },
  ["redis:ns"] = { address = "127.0.0.1:$REDIS_PORT", key = "${id}_ns", format = "namespace" },
  ["postgres:ns"] = { connection_string = "host=127.0.0.1 port=$PG_PORT dbname=luagate user=gw password=$PG_PASSWORD sslmode=disable",
                      table = "${id}_ns", format = "namespace" },
}
EOF
gw_start "$T/gw.lua" || { fail "gateway did not start: $(tail -3 "$T/gw.log")"; exit 1; }

# one valid MinIO record, with its object key and size replaceable
rec() { # rec KEY SIZE_JSON
  printf '{"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"","eventTime":"2026-11-21T08:00:02.653Z","eventName":"s3:ObjectCreated:Put","userIdentity":{"principalId":"minioadmin"},"requestParameters":{"principalId":"minioadmin","region":"","sourceIPAddress":"10.0.0.5"},"responseElements":{"x-amz-request-id":"1816A2B3C4D5E6F7"},"s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"b","ownerIdentity":{"principalId":"minioadmin"},"arn":"arn:aws:s3:::b"},"object":{"key":"%s","size":%s,"eTag":"5d284463f9da279f060f0ea4d11af098","sequencer":"1816A2B3C4D5E6F7"}},"source":{"host":"10.0.0.5","port":"","userAgent":"mc"}}' "$1" "$2"
}
s3body() { echo "{\"Records\":[$1]}"; }
received() { metric luagate_events_received_total; }
before=$(received)

# --- refused, naming the field; nothing queued ------------------------------------
code=$(post "$(s3body "$(rec ok.jpg 1),$(rec $'bad\xff.jpg' 2)")")
check "a raw 0xFF in Records[1]'s object key -> 400" [ "$code" = 400 ]
check "  the answer names the record and the field" grep -q '"Records\[1\].s3.object.key: not valid UTF-8' "$T/resp"
code=$(post "$(s3body "$(rec ok.jpg 1),$(rec big.jpg '"12"')")")
check "size as a string in Records[1] -> 400" [ "$code" = 400 ]
check "  the answer names it" grep -q 'Records\[1\].s3.object.size: a string where MinIO writes an integer' "$T/resp"
code=$(post "$(s3body "$(rec ok.jpg 1.5)")")
check "size with a fraction -> 400" [ "$code" = 400 ]
code=$(post '{"EventName":7,"Key":"b/ok.jpg","Records":['"$(rec ok.jpg 1)"']}')
check "the envelope's EventName a number -> 400" [ "$code" = 400 ] && grep -q 'EventName: an integer' "$T/resp"
code=$(post $'{"EventName":"s3:ObjectCreated:Put","Key":"b/\xc0\xaf","Records":['"$(rec ok.jpg 1)"']}')
check "an overlong UTF-8 '/' in the envelope's Key -> 400" [ "$code" = 400 ] && grep -q '"Key: not valid UTF-8' "$T/resp"
check "nothing of the refused requests was received" [ "$(received)" = "$before" ]
sleep 0.3
check "nothing of them reached the file target" [ "$(lines "$T/all.jsonl")" = 0 ]

# --- a NUL in an object name stays in the key: never the row of another object ------
check "object b/a is accepted" [ "$(post "$(s3body "$(rec a 7)")")" = 200 ]
pg_row() { [ "$(pg "select value->'Records'->0->'s3'->'object'->>'size' from ${id}_ns where key = 'b/a'" 2>/dev/null)" = 7 ]; }
wait_until 10 pg_row
code1=$(post "$(s3body "$(rec 'a%00x' 1)")"); code2=$(post "$(s3body "$(rec 'a%00y' 2)")")
check "two objects whose names differ after a %00 are accepted" [ "$code1$code2" = 200200 ]
wait_lines "$T/all.jsonl" 3 10
rows() { [ "$(rcli HLEN "${id}_ns")" = 3 ]; }
wait_until 10 rows
check "  they are two more rows of the redis namespace hash" rows
check "  each field holds its NUL" [ "$(rcli --no-raw HKEYS "${id}_ns" | sed 's/^[0-9]*) //' | sort | tr '\n' ' ')" = '"b/a" "b/a\x00x" "b/a\x00y" ' ]

dead() { [ "$(metric 'luagate_events_dead_lettered_total{target="postgres:ns"}')" = 2 ]; }
wait_until 10 dead
check "  postgres dead-letters both (text cannot hold a NUL)" dead
check "  and object b/a's row is still its own" pg_row
check "  the only row" [ "$(pg "select count(*) from ${id}_ns")" = 1 ]
check "  the dead letter says why" grep -q 'without NUL bytes' "$T/queue/dlq/postgres:ns.jsonl"

gw_stop
rcli DEL "${id}_ns" >/dev/null
pg "drop table if exists ${id}_ns" >/dev/null
