#!/usr/bin/env bash
# The admin listener (admin_listen): the probes' rules (one target down:
# ready; every queue full: not ready; draining: not ready), the admin token,
# admin TLS, the socket surviving a worker restart, the probes on the ingest
# listener without admin_listen, and refused admin settings.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
ADMIN_PORT=$(port 19097)
DOWN_PORT=$(port 19098)
ADM="http://127.0.0.1:$ADMIN_PORT"
code() { curl -s -o "$T/body" -w '%{http_code}' --max-time 20 "$@"; }

# ---- without admin_listen: /live and /ready on the ingest listener
cat >"$T/plain.conf.lua" <<CONF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/q0"
targets = { ["file:all"] = { path = "$T/all.jsonl" } }
CONF
gw_start "$T/plain.conf.lua" || { fail "luagate did not start: $(tail -3 "$T/gw.log")"; exit 1; }
check "without admin_listen, /live is on the ingest listener (200)" [ "$(code "$GW/live")" = 200 ]
c=$(code "$GW/ready")
check "without admin_listen, /ready is on the ingest listener ($c: $(cat "$T/body"))" [ "$c" = 200 ]
gw_stop

# ---- one target down, admin token
cat >"$T/admin.conf.lua" <<CONF
listen = "127.0.0.1:$GATEWAY_PORT"
admin_listen = "127.0.0.1:$ADMIN_PORT"
admin_token = "s3cret-admin"
queue_dir = "$T/q1"
targets = {
  ["file:all"] = { path = "$T/all.jsonl" },
  ["webhook:down"] = { endpoint = "http://127.0.0.1:$DOWN_PORT/", retry_min = "50ms", retry_max = "200ms" },
}
CONF
gw_start "$T/admin.conf.lua" || { fail "luagate did not start: $(tail -3 "$T/gw.log")"; exit 1; }
check "the ingest answers a post" [ "$(post "$(head -1 "$EVENTS")")" = 200 ]
wait_until 20 sh -c "curl -s -H 'Authorization: Bearer s3cret-admin' '$ADM/metrics' | grep -q '^luagate_target_online{target=\"webhook:down\"} 0'"
check "webhook:down is offline" sh -c "curl -s -H 'Authorization: Bearer s3cret-admin' '$ADM/health' | grep -q '\"webhook:down\":{\"state\":\"offline\"'"
check "one target down: /ready is 200 ($(code "$ADM/ready"; cat "$T/body"))" [ "$(code "$ADM/ready")" = 200 ]
check "/live is 200" [ "$(code "$ADM/live")" = 200 ]
check "the probes need no token, /metrics without it is 401" [ "$(code "$ADM/metrics")" = 401 ]
check "the 401 says why ($(cat "$T/body"))" grep -q admin_token "$T/body"
check "/health with a wrong token is 401" [ "$(code -H 'Authorization: Bearer nope' "$ADM/health")" = 401 ]
check "/metrics with the admin token is 200" [ "$(code -H 'Authorization: Bearer s3cret-admin' "$ADM/metrics")" = 200 ]
check "/admin/stats with the admin token is JSON" sh -c "curl -s -H 'Authorization: Bearer s3cret-admin' '$ADM/admin/stats' | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d[\"events\"] >= 1'"
check "an unknown admin path is 404 naming the known ones" sh -c "[ \$(curl -s -o '$T/b404' -w '%{http_code}' -H 'Authorization: Bearer s3cret-admin' '$ADM/nope') = 404 ] && grep -q /ready '$T/b404'"
check "the ingest token is not the admin's: /ready on the ingest listener is not served there (405)" \
  [ "$(code "$GW/ready")" = 405 ]

# ---- the admin socket is the supervisor's: it survives a worker restart
pid1=$(curl -s -H 'Authorization: Bearer s3cret-admin' "$ADM/health" | $PY -c 'import json,sys; print(json.load(sys.stdin)["worker"]["pid"])')
kill -KILL "$pid1"
check "after kill -9 of the worker, /live answers again (waiting in the backlog, not refused)" [ "$(code "$ADM/live")" = 200 ]
wait_until 20 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer s3cret-admin' '$ADM/health' | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"worker\"][\"pid\"])')\" != $pid1 ]"
pid2=$(curl -s -H 'Authorization: Bearer s3cret-admin' "$ADM/health" | $PY -c 'import json,sys; print(json.load(sys.stdin)["worker"]["pid"])')
check "a new worker serves the admin listener ($pid1 -> $pid2)" [ -n "$pid2" ] && [ "$pid2" != "$pid1" ]
gw_stop

# ---- every queue full: not ready
cat >"$T/full.conf.lua" <<CONF
listen = "127.0.0.1:$GATEWAY_PORT"
admin_listen = "127.0.0.1:$ADMIN_PORT"
queue_dir = "$T/q2"
targets = {
  ["webhook:down"] = { endpoint = "http://127.0.0.1:$DOWN_PORT/", queue_limit = 3, retry_min = "30s", retry_max = "60s" },
}
CONF
gw_start "$T/full.conf.lua" || { fail "luagate did not start: $(tail -3 "$T/gw.log")"; exit 1; }
for i in 1 2 3; do post "$(head -1 "$EVENTS")" >/dev/null; done
check "the queue is at its limit: the next event gets 503" [ "$(post "$(head -1 "$EVENTS")")" = 503 ]
check "every queue full: /ready is 503" [ "$(code "$ADM/ready")" = 503 ]
check "and says why ($(cat "$T/body"))" grep -q "every queue is full" "$T/body"
check "/live stays 200" [ "$(code "$ADM/live")" = 200 ]
gw_stop

# ---- disk full: not ready.  The rule is "less free space than one largest
# request (body_limit)": a body_limit beyond any disk's size shows it.
cat >"$T/disk.conf.lua" <<CONF
listen = "127.0.0.1:$GATEWAY_PORT"
admin_listen = "127.0.0.1:$ADMIN_PORT"
queue_dir = "$T/q6"
body_limit = 1000000000000000000
targets = { ["file:all"] = { path = "$T/all6.jsonl" } }
CONF
gw_start "$T/disk.conf.lua" || { fail "luagate did not start: $(tail -3 "$T/gw.log")"; exit 1; }
c=$(code "$ADM/ready")
check "a queue directory with less room than body_limit: /ready is 503 ($c $(cat "$T/body"))" \
  sh -c "[ $c = 503 ] && grep -q 'disk full' '$T/body'"
gw_stop

# ---- draining: not ready.  An event whose route() takes ~3 s holds the
# worker while SIGTERM arrives: the admin thread must say "draining" at once.
cat >"$T/slow.lua" <<'LUA'
return function(event, send)
  local t = os.time()
  while os.time() < t + 3 do end
  send("file:all")
end
LUA
cat >"$T/drain.conf.lua" <<CONF
listen = "127.0.0.1:$GATEWAY_PORT"
admin_listen = "127.0.0.1:$ADMIN_PORT"
queue_dir = "$T/q3"
script = "$T/slow.lua"
script_timeout = "60s"
script_instructions = 100000000000
targets = { ["file:all"] = { path = "$T/all3.jsonl" } }
CONF
gw_start "$T/drain.conf.lua" || { fail "luagate did not start: $(tail -3 "$T/gw.log")"; exit 1; }
post "$(head -1 "$EVENTS")" --max-time 60 >"$T/slow.code" &
poster=$!
wait_until 20 sh -c "curl -s '$ADM/metrics' | grep -q '^luagate_script_runs_total [1-9]'"
kill -TERM "$(cat "$T/gw.pid")"
c=$(code "$ADM/ready")
check "draining: /ready is 503 at once, while the worker still routes ($c $(cat "$T/body"))" \
  sh -c "[ $c = 503 ] && grep -q draining '$T/body'"
check "draining: /live stays 200" [ "$(code "$ADM/live")" = 200 ]
wait "$poster"
check "the event in flight was still answered 200" [ "$(cat "$T/slow.code")" = 200 ]
stop_pid "$T/gw.pid"

# ---- admin TLS (and `luagate top` finding it from -c)
bash tests/certs/gen.sh "$T/pki" >/dev/null 2>&1
cat >"$T/tls.conf.lua" <<CONF
listen = "127.0.0.1:$GATEWAY_PORT"
admin_listen = "127.0.0.1:$ADMIN_PORT"
admin_tls_cert = "$T/pki/server.pem"
admin_tls_key = "$T/pki/server.key"
queue_dir = "$T/q4"
targets = { ["file:all"] = { path = "$T/all4.jsonl" } }
CONF
gw_start "$T/tls.conf.lua" || { fail "luagate did not start: $(tail -3 "$T/gw.log")"; exit 1; }
check "admin TLS: /ready over https with the CA is 200" [ "$(code --cacert "$T/pki/ca.pem" "https://127.0.0.1:$ADMIN_PORT/ready")" = 200 ]
check "admin TLS: plain http to it gets no answer" [ "$(code "$ADM/ready")" != 200 ]
check "admin TLS: a client trusting another CA is refused" [ "$(code --cacert "$T/pki/rogue-ca.pem" "https://127.0.0.1:$ADMIN_PORT/ready")" = 000 ]
check "the ingest listener stays plain http" [ "$(post "$(head -1 "$EVENTS")")" = 200 ]
check "luagate top --once -c CONFIG reaches the admin listener over TLS" \
  sh -c "'$LUAGATE_BIN' top --once -c '$T/tls.conf.lua' >'$T/top.out' 2>&1 && grep -q 'file:all' '$T/top.out'"
gw_stop

# ---- refused settings
refused() { # NAME EXPECTED-TEXT CONFIG-LINES
  printf 'listen = "127.0.0.1:%s"\nqueue_dir = "%s"\n%s\n' "$GATEWAY_PORT" "$T/q5" "$3" >"$T/bad.conf.lua"
  "$LUAGATE_BIN" check -c "$T/bad.conf.lua" >"$T/bad.out" 2>&1
  local rc=$?
  local what="$1 is refused ($(head -1 "$T/bad.out"))"
  if [ $rc -ne 0 ] && grep -qF -- "$2" "$T/bad.out"; then ok "$what"; else fail "$what"; fi
}
refused "admin_token without admin_listen" "needs 'admin_listen'" 'admin_token = "x"'
refused "admin_tls_cert without admin_tls_key" "admin_tls_key" "admin_listen = \"127.0.0.1:$ADMIN_PORT\"
admin_tls_cert = \"$T/pki/server.pem\""
refused "admin_listen equal to listen" "must differ" "admin_listen = \"127.0.0.1:$GATEWAY_PORT\""
refused "admin_listen without a port" "host:port" 'admin_listen = "localhost"'
