#!/usr/bin/env bash
# log_level / LUAGATE_LOG_LEVEL choose the least severe level logged, and
# luagate.log.debug shows at debug; with log_format = json every line on
# stderr is one JSON object, start errors and the supervisor's included.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh

line=$(head -1 "$EVENTS")
cat >"$T/routes.lua" <<'EOF'
local log = require "luagate.log"
return function(event, send)
  log.debug("debug about " .. event.key)
  log.info("info about " .. event.key)
  log.warn("warn about " .. event.key)
  send("file:out", event)
end
EOF
conf() { # conf LEVEL FORMAT: a config at that level and format
  cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
script = "$T/routes.lua"
log_level = "$1"
log_format = "$2"
targets = { ["file:out"] = { path = "$T/out.jsonl" } }
EOF
}
# run_one: start, post one event, stop; stderr in $T/err.log (stdout apart)
run_one() {
  : >"$T/err.log"
  need_free_port "$GATEWAY_PORT" || return 1
  "$LUAGATE_BIN" -c "$T/gw.lua" >"$T/stdout.log" 2>"$T/err.log" &
  echo $! >"$T/gw.pid"
  wait_until 20 curl -fsS "$GW/health" || return 1
  local before; before=$(lines "$T/out.jsonl")
  post "$line" >/dev/null
  wait_lines "$T/out.jsonl" $((before + 1)) 10
  gw_stop
}
all_json() { $PY -c 'import json, sys
n = 0
for l in open(sys.argv[1]):
    o = json.loads(l); n += 1
    assert set(o) == {"time", "level", "source", "msg"}, o
sys.exit(0 if n else 1)' "$1"; }

conf debug json; run_one
check "log_level debug: luagate.log.debug shows" grep -q '"level":"debug","source":"script routes.lua","msg":"[^"]*routes.lua:3: debug about photo.jpg"' "$T/err.log"
check "log_format json: every stderr line is a JSON log object (start, script, stop)" all_json "$T/err.log"
check "...the lines of the start and the stop among them" grep -q '"msg":"listening on .*"msg":"stopped"' <(tr -d '\n' <"$T/err.log")

# the supervisor's lines: a worker killed under it is restarted, and logged
conf info json; : >"$T/err.log"
"$LUAGATE_BIN" -c "$T/gw.lua" >"$T/stdout.log" 2>"$T/err.log" &
echo $! >"$T/gw.pid"
wait_until 20 curl -fsS -o /dev/null "$GW/health"
worker=$(pgrep -P "$(cat "$T/gw.pid")" | head -1)
[ -n "$worker" ] && kill -KILL "$worker"
supervisor_logged() { grep -q '"source":"supervisor","msg":"worker [0-9]* ended' "$T/err.log"; }
wait_until 20 supervisor_logged
wait_until 20 curl -fsS -o /dev/null "$GW/health"
gw_stop
check "log_format json: the supervisor's line on a killed worker is JSON" supervisor_logged
check "...and so is every line of the restart" all_json "$T/err.log"

conf info text; run_one
check "log_level info (the default level): no debug line" sh -c "! grep -q 'debug about' '$T/err.log'"
check "...info shows" grep -q 'info  script routes.lua: .*routes.lua:4: info about photo.jpg' "$T/err.log"

conf warn text; run_one
check "log_level warn: no info line (not even 'listening')" sh -c "! grep -q ' info ' '$T/err.log'"
check "...warn shows" grep -q 'warn  script routes.lua: .*routes.lua:5: warn about photo.jpg' "$T/err.log"

conf debug text; LUAGATE_LOG_LEVEL=error run_one
check "LUAGATE_LOG_LEVEL=error overrides the file: nothing below error" [ ! -s "$T/err.log" ]

conf verbose text
"$LUAGATE_BIN" -c "$T/gw.lua" >"$T/stdout.log" 2>"$T/err.log"; rc=$?
check "an unknown level is refused at start, naming the key and the levels" \
  grep -q "key 'log_level' must be debug, info, warn or error, not 'verbose'" "$T/err.log"
check "...with a non-zero exit" [ "$rc" != 0 ]

conf info json
printf 'return function(event, send) send("file:out", event end\n' >"$T/routes.lua"
"$LUAGATE_BIN" -c "$T/gw.lua" >"$T/stdout.log" 2>"$T/err.log"; rc=$?
check "log_format json: a start error (a broken script) is a JSON line too" \
  sh -c "[ $rc != 0 ] && grep -q '\"level\":\"error\".*routes.lua:1:' '$T/err.log'"
check "...and so is every other line of that start" all_json "$T/err.log"
LUAGATE_LOG_FORMAT=json "$LUAGATE_BIN" -c "$T/nope.lua" 2>"$T/err.log"
check "LUAGATE_LOG_FORMAT=json: a configuration error is a JSON line" all_json "$T/err.log"
