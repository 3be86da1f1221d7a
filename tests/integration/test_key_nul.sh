#!/usr/bin/env bash
# A key a script sets through send's opts.key is the whole Lua string, NULs
# and all (issue 16): "a\0x" and "a\0y" are two rows of a Redis namespace
# hash, not one row "a"; and `luagate dlq requeue` puts a dead letter's key
# and payload back whole; a PostgreSQL namespace table, whose text cannot
# hold a NUL, dead-letters "a\0x" instead of writing it onto row "a".
# Needs redis and postgres from scripts/redis.sh and scripts/postgres.sh
# (same BASE/PORT_OFFSET).
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
[ -f "$EVENTS" ] || { fail "no sample events in $EVENTS"; exit 1; }
id=keynul_$$
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
PG_PASSWORD=${PG_PASSWORD:-gw-pg-s3cret}
pg() { PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U gw luagate -tAc "$1"; }
for srv in "redis $REDIS_PORT" "postgres $PG_PORT"; do
  if ! port_in_use "${srv#* }"; then
    fail "${srv% *} is not reachable on 127.0.0.1:${srv#* } (scripts/${srv% *}.sh start; same BASE/PORT_OFFSET?)"
    exit 1
  fi
done
cat >"$T/gw.lua" <<CONF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
script = "$T/routes.lua"
targets = { ["redis:ns"] = { address = "127.0.0.1:$REDIS_PORT", key = "${id}_ns", format = "namespace" } }
CONF
cat >"$T/routes.lua" <<'LUA'
return function(event, send)
  send("redis:ns", event, { key = "a\0" .. event.key:sub(-5, -5) })
end
LUA
# event KEY: the first sample event with its object named KEY
event() { head -1 "$EVENTS" | sed "s/photo\.jpg/$1.jpg/g"; }
fields() { rcli --no-raw HKEYS "${id}_ns" | sed 's/^[0-9]*) //' | sort | tr '\n' ' '; }
rows() { [ "$(rcli HLEN "${id}_ns")" = "$1" ]; }

gw_start "$T/gw.lua" || { fail "gateway did not start: $(tail -3 "$T/gw.log")"; exit 1; }
code1=$(post "$(event photo-x)"); code2=$(post "$(event photo-y)")
check "two events are acknowledged" [ "$code1$code2" = 200200 ]
wait_until 10 rows 2
check "opts.key \"a\\0x\" and \"a\\0y\" are two rows of the namespace hash" rows 2
check "...each field holds its NUL ($(fields))" [ "$(fields)" = '"a\x00x" "a\x00y" ' ]
gw_stop

# --- dlq requeue keeps NULs in keys and payloads -------------------------------------------
mkdir -p "$T/queue/dlq"
for k in p q; do
  printf '{"time":"2026-11-21T08:00:00Z","target":"redis:ns","error":"test","attempts":1,"event_name":"s3:ObjectCreated:Put","key":"b\\u0000%s","event_time":"2026-11-21T08:00:00.000Z","op":"upsert","opts":null,"payload":"{\\"v\\":\\"1\\u0000%s\\"}"}\n' "$k" "$k"
done >"$T/queue/dlq/redis:ns.jsonl"
"$LUAGATE_BIN" -c "$T/gw.lua" dlq requeue redis:ns >"$T/dlq.out" 2>&1
check "luagate dlq requeue puts the two dead letters back" grep -q '2 dead letter(s) queued again' "$T/dlq.out"
gw_start "$T/gw.lua" || { fail "gateway did not start again: $(tail -3 "$T/gw.log")"; exit 1; }
wait_until 10 rows 4
check "the requeued keys \"b\\0p\" and \"b\\0q\" are two more rows ($(fields))" \
  [ "$(fields)" = '"a\x00x" "a\x00y" "b\x00p" "b\x00q" ' ]
# (an argument of redis-cli cannot hold a NUL: the command goes through its stdin)
value=$(printf 'HGET %s "b\\x00p"\n' "${id}_ns" | rcli --no-raw)
check "...and the payload keeps its NUL ($value)" [ "$value" = '"{\"v\":\"1\x00p\"}"' ]
gw_stop
rcli DEL "${id}_ns" >/dev/null

# --- postgres: "a\0x" is refused, never written onto row "a" ------------------------------
cat >"$T/pg.lua" <<CONF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue-pg"
script = "$T/pg-routes.lua"
targets = { ["postgres:ns"] = { connection_string = "host=127.0.0.1 port=$PG_PORT dbname=luagate user=gw password=$PG_PASSWORD sslmode=disable",
                                table = "${id}_ns", format = "namespace" } }
CONF
cat >"$T/pg-routes.lua" <<'LUA'
return function(event, send)
  local c = event.key:sub(-5, -5)
  send("postgres:ns", event, { key = c == "a" and "a" or "a\0" .. c })
end
LUA
gw_start "$T/pg.lua" || { fail "gateway did not start: $(tail -3 "$T/gw.log")"; exit 1; }
check "events with opts.key \"a\" and \"a\\0x\" are acknowledged" \
  [ "$(post "$(event photo-a)")$(post "$(event photo-x)")" = 200200 ]
dead() { [ "$(metric 'luagate_events_dead_lettered_total{target="postgres:ns"}')" = 1 ]; }
check "postgres dead-letters opts.key \"a\\0x\" (text cannot hold a NUL)" wait_until 10 dead
check "...and row \"a\" is the only row, its own event's" \
  [ "$(pg "select count(*) || ' ' || (value::text like '%photo-a.jpg%') from ${id}_ns group by value")" = "1 true" ]
check "...the dead letter says why" grep -q 'without NUL bytes' "$T/queue-pg/dlq/postgres:ns.jsonl"
gw_stop
pg "drop table if exists ${id}_ns" >/dev/null
exit 0
