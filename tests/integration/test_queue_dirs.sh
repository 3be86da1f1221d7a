#!/usr/bin/env bash
# One directory is one queue however it is spelt (issue 16): "/q", "/q/",
# "./q" and a symlink to /q share one journal and its lock, and count once
# against the 8 queue directories one request may span.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
[ -f "$EVENTS" ] || { fail "no sample events in $EVENTS"; exit 1; }

# --- 8 directories, then the first again under three other names: still 8 ---------------
mkdir -p "$T/q1"
ln -s "$T/q1" "$T/link1"
{
  echo "listen = \"127.0.0.1:$GATEWAY_PORT\""
  echo "queue_dir = \"./q1\""
  echo "targets = {"
  for i in 1 2 3 4 5 6 7 8; do echo "  [\"file:f$i\"] = { path = \"$T/f$i.jsonl\", queue_dir = \"$T/q$i\" },"; done
  echo "  [\"file:slash\"] = { path = \"$T/slash.jsonl\", queue_dir = \"$T/q1/\" },"
  echo "  [\"file:link\"] = { path = \"$T/link.jsonl\", queue_dir = \"$T/link1\" },"
  echo "  [\"file:dot\"] = { path = \"$T/dot.jsonl\" }," # the global queue_dir, relative
  echo "  [\"file:new\"] = { path = \"$T/new.jsonl\", queue_dir = \"$T/q2/../q2/./\" },"
  echo "}"
} >"$T/spell.lua"
(cd "$T" && "$LUAGATE_BIN" check -c "$T/spell.lua") >"$T/spell.out" 2>&1; rc=$?
check "luagate check counts q1, q1/, ./q1 and a symlink to q1 as one directory (exit $rc)" [ "$rc" = 0 ]
sed 's/^/# /' "$T/spell.out" | grep -i "queue\|error" | head -3

# --- the gateway opens one journal for them all --------------------------------------------
(cd "$T" && exec "$LUAGATE_BIN" -c "$T/spell.lua" >>"$T/gw.log" 2>&1) &
echo $! >"$T/gw.pid"
if ! wait_until 20 curl -fsS "$GW/health"; then
  fail "the gateway starts with one directory spelt four ways"
  sed 's/^/# /' "$T/gw.log" | tail -3
  exit 0
fi
ok "the gateway starts with one directory spelt four ways"
check "...not 'in use by another luagate process'" sh -c "! grep -q 'in use by another' '$T/gw.log'"
check "an event is acknowledged" [ "$(post "$(head -1 "$EVENTS")")" = 200 ]
for t in f1 slash link dot new; do
  check "...and delivered to file:$t" wait_until 10 test -s "$T/$t.jsonl"
done
n=$(curl -s "$GW/metrics" | grep -c '^luagate_queue_bytes{dir=')
check "/metrics shows 8 queue directories ($n)" [ "$n" = 8 ]
check "no second journal appeared under the symlink's or the relative name" \
  [ ! -e "$T/link1/link1" ] && [ "$(ls -d "$T"/q1* | wc -l)" = 1 ]
gw_stop
exit 0
