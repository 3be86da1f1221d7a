#!/usr/bin/env bash
# Strict at the edges (issue 16): a body whose strings are not UTF-8 or whose
# fields do not have the JSON types MinIO writes is refused with 400 naming
# the record and the field, and nothing of that request is queued; an object
# name holding %00 keeps its NUL in the journal key, so two such objects are
# two rows of a Redis namespace hash, not one.  Needs redis from
# scripts/servers.sh (same BASE/PORT_OFFSET).
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
id=strict_$$
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

if ! port_in_use "$REDIS_PORT"; then
  fail "redis is not reachable on 127.0.0.1:$REDIS_PORT (scripts/servers.sh start redis; same BASE/PORT_OFFSET?)"
  exit 1
fi
cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
targets = {
  ["file:all"] = { path = "$T/all.jsonl" },
  ["redis:ns"] = { address = "127.0.0.1:$REDIS_PORT", key = "${id}_ns", format = "namespace" },
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

# --- a NUL in an object name stays in the key: two objects, two rows ----------------
code1=$(post "$(s3body "$(rec 'a%00x' 1)")"); code2=$(post "$(s3body "$(rec 'a%00y' 2)")")
check "two objects whose names differ after a %00 are accepted" [ "$code1$code2" = 200200 ]
wait_lines "$T/all.jsonl" 2 10
rows() { [ "$(rcli HLEN "${id}_ns")" = 2 ]; }
wait_until 10 rows
check "  and are two rows of the redis namespace hash" rows
check "  each field holds its NUL" [ "$(rcli --no-raw HKEYS "${id}_ns" | sed 's/^[0-9]*) //' | sort | tr '\n' ' ')" = '"b/a\x00x" "b/a\x00y" ' ]

gw_stop
rcli DEL "${id}_ns" >/dev/null
