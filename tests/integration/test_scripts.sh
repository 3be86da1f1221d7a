#!/usr/bin/env bash
# Routing scripts in the running gateway: errors, runaway and hostile
# scripts never stop it and never lose an event; SIGHUP reloads.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh

cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
script = "$T/routes.lua"
script_timeout = "60s" -- the memory hog takes seconds on a loaded machine: no supervisor kill here
targets = {
  ["file:a"] = { path = "$T/a.jsonl" },
  ["file:b"] = { path = "$T/b.jsonl" },
}
EOF
# every event to a; events of bucket "logs" also to b as a reshaped table;
# bucket "images" fails in the script, with a line number
cat >"$T/routes.lua" <<'EOF'
local json = require "luagate.json"
return function(event, send)
  send("file:a", event)
  if event.bucket == "logs" then
    send("file:b", { bucket = event.bucket, key = event.key, size = event.size, empty = json.array() })
  end
  if event.bucket == "images" then error("images are not allowed here") end
end
EOF
gw_start "$T/gw.lua" || { fail "luagate did not start"; cat "$T/gw.log"; exit 1; }
N=$(grep -c . "$EVENTS"); IMAGES=$(grep -c '"Key":"images/' "$EVENTS"); LOGS=$(grep -c '"Key":"logs/' "$EVENTS")
check "every event acknowledged, even those the script fails on" [ "$(post_all)" = "$N" ]
wait_lines "$T/a.jsonl" $((N - IMAGES))
sleep 0.3
check "events the script handled are delivered" [ "$(lines "$T/a.jsonl")" = $((N - IMAGES)) ]
check "a failed event sends nothing, not even what it sent before failing" [ "$(grep -c '"Key":"images/' "$T/a.jsonl")" = 0 ]
check "failed events are in the _script dead-letter queue" [ "$(lines "$T/queue/dlq/_script.jsonl")" = "$IMAGES" ]
check "...with the script's file:line: message" grep -q 'routes.lua:7: images are not allowed here' "$T/queue/dlq/_script.jsonl"
check "/metrics counts script errors" [ "$(metric luagate_script_errors_total)" = "$IMAGES" ]
check "table payloads are JSON with sorted keys and [] kept" \
  grep -q '^{"bucket":"logs","empty":\[\],"key":"photo.jpg","size":200436}$' "$T/b.jsonl"
check "the table target got only the logs bucket" [ "$(lines "$T/b.jsonl")" = "$LOGS" ]

# --- hostile and runaway scripts: the event is dead-lettered with the reason -----
line=$(head -1 "$EVENTS")
try_script() { # try_script NAME PATTERN LUA-BODY
  printf 'return function(event, send)\n%s\nend\n' "$3" >"$T/routes.lua"
  kill -HUP "$(cat "$T/gw.pid")"; sleep 0.3
  local before; before=$(lines "$T/queue/dlq/_script.jsonl")
  local code; code=$(post "$line")
  check "$1: acknowledged" [ "$code" = 200 ]
  check "$1: dead-lettered with the reason" sh -c "tail -n +$((before + 1)) '$T/queue/dlq/_script.jsonl' | grep -q \"$2\""
}
try_script "infinite loop" "budget of" '  while true do end'
try_script "memory hog" "not enough memory" '  local t = {} for i = 1, 1e9 do t[i] = ("x"):rep(1000) .. i end'
try_script "io.open" "attempt to index a nil value (global 'io')" '  io.open("/etc/passwd")'
try_script "os.execute" "attempt to call a nil value (field 'execute')" '  os.execute("touch /tmp/pwned")'
try_script "dofile" "attempt to call a nil value (global 'dofile')" '  dofile("/etc/passwd")'
try_script "binary chunk" "only text chunks" '  load(string.dump(function() end), "x", "b")'
try_script "require of a file module" "not found" '  require "posix"'
try_script "send to an unknown target" "unknown target 'kafka:nope'" '  send("kafka:nope", event)'
try_script "bad opts.op" 'opts.op must be' '  send("file:a", event, { op = "merge" })'
check "the gateway survived all of them" [ "$(curl -s -o /dev/null -w '%{http_code}' "$GW/health")" = 200 ]
check "a script cannot read files: /etc/passwd never reached a target" sh -c "! grep -q 'root:' '$T/a.jsonl'"

# --- SIGHUP: a broken script is refused, the old one keeps routing -----------------
printf 'return function(event, send) send("file:b", "v2") end\n' >"$T/routes.lua"
kill -HUP "$(cat "$T/gw.pid")"; sleep 0.3
before=$(lines "$T/b.jsonl")
post "$line" >/dev/null; wait_lines "$T/b.jsonl" $((before + 1)) 5
check "SIGHUP loads the new script" [ "$(tail -1 "$T/b.jsonl")" = v2 ]
printf 'return function(event, send) send("file:b", "v3" end\n' >"$T/routes.lua"
kill -HUP "$(cat "$T/gw.pid")"; sleep 0.3
post "$line" >/dev/null; wait_lines "$T/b.jsonl" $((before + 2)) 5
check "a script with a syntax error is refused and the old one keeps running" [ "$(tail -1 "$T/b.jsonl")" = v2 ]
check "...the error is logged with its line" grep -q "reload failed.*routes.lua:1:" "$T/gw.log"
check "...and counted" [ "$(metric 'luagate_script_reloads_total{result="failed"}')" = 1 ]

# --- reload under load: nothing lost, nothing routed twice ---------------------------
printf 'return function(event, send) send("file:a", event) end\n' >"$T/routes.lua"
kill -HUP "$(cat "$T/gw.pid")"; sleep 0.3
: >"$T/a.jsonl"; : >"$T/acked"
$PY tests/integration/load.py "$GW/" 2000 "$T/acked" 8 &
loadpid=$!
for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.1; kill -HUP "$(cat "$T/gw.pid")"; done
wait $loadpid
acked=$(lines "$T/acked")
wait_lines "$T/a.jsonl" "$acked" 30
sleep 0.3
check "10 reloads under load: $acked acknowledged, all delivered once" [ "$(lines "$T/a.jsonl")" = "$acked" ] && \
  [ "$(sort "$T/a.jsonl" | uniq -d | wc -l)" = 0 ]
check "reloads were counted" [ "$(metric 'luagate_script_reloads_total{result="ok"}')" -ge 12 ]
gw_stop
exit 0
