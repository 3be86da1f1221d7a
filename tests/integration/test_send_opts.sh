#!/usr/bin/env bash
# send() options are checked against the target kind's table: `luagate check`
# reports a bad option with the script's file:line and exits non-zero, and the
# running gateway dead-letters the event in _script with that error, sending
# nothing of it.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh

cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
script = "$T/routes.lua"
targets = {
  ["file:out"] = { path = "$T/out.jsonl" },
  ["mqtt:m"] = { broker = "tcp://127.0.0.1:1", topic = "t" },
}
EOF
cat >"$T/routes.lua" <<'EOF'
return function(event, send)
  send("file:out", event, { key = "k" })
  if event.bucket == "logs" then send("mqtt:m", event, { qos = 3 }) end
  if event.bucket == "images" then send("file:out", event, { headers = { a = "b" } }) end
end
EOF
"$LUAGATE_BIN" check -c "$T/gw.lua" "$T/routes.lua" "$EVENTS" >"$T/check.out" 2>&1; rc=$?
check "luagate check exits non-zero on a bad send() option" [ "$rc" != 0 ]
check "...naming the out-of-range value with file:line" \
  grep -q "script error: .*routes.lua:3: send: mqtt:m: option 'qos' must be an integer in 0..2, not 3" "$T/check.out"
check "...and an option the kind does not take, with what it takes" \
  grep -q "routes.lua:4: send: file:out: unknown option 'headers' for a file target (it takes key, op)" "$T/check.out"

gw_start "$T/gw.lua" || { fail "luagate did not start"; cat "$T/gw.log"; exit 1; }
N=$(grep -c . "$EVENTS"); BAD=$(grep -c '"Key":"\(logs\|images\)/' "$EVENTS")
check "every event acknowledged" [ "$(post_all)" = "$N" ]
wait_lines "$T/out.jsonl" $((N - BAD)) 20
sleep 0.3
check "events with good options are delivered" [ "$(lines "$T/out.jsonl")" = $((N - BAD)) ]
check "an event with a bad option sends nothing, not even its good sends" \
  sh -c "! grep -q '\"Key\":\"\\(logs\\|images\\)/' '$T/out.jsonl'"
check "...it is in the _script dead-letter queue" [ "$(lines "$T/queue/dlq/_script.jsonl")" = "$BAD" ]
check "...with the option error and its file:line" \
  grep -q "routes.lua:3: send: mqtt:m: option 'qos' must be an integer in 0..2, not 3" "$T/queue/dlq/_script.jsonl"
check "/metrics counts them as script errors" [ "$(metric luagate_script_errors_total)" = "$BAD" ]
gw_stop
