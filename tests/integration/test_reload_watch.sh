#!/usr/bin/env bash
# The script reloads when its file or a module it requires changes on disk
# (script_watch, inotify on the directories), however the file is replaced:
# written in place, renamed over (editors), a ConfigMap's ..data symlink
# swapped.  A broken edit keeps the running script and sets the failed
# gauge; the next good edit clears it.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh

line=$(head -1 "$EVENTS")
OUT=$T/out.jsonl
# route VERSION: a script whose only message is {"v":"VERSION"}
route() { printf 'local m = require "lib.mark"\nreturn function(event, send) send("file:out", { v = "%s", m = m }) end\n' "$1"; }
mark() { mkdir -p "$1/lib"; printf 'return "%s"\n' "$2" >"$1/lib/mark.lua"; }
# sent_now: post one event, print the payload it produced
sent_now() {
  local before; before=$(lines "$OUT")
  post "$line" >/dev/null
  wait_lines "$OUT" $((before + 1)) 10 && tail -n 1 "$OUT"
}
sent_is() { sent_now | grep -qF "$1"; }
# until_sent TEXT: the script in force sends TEXT (reloads are asynchronous)
until_sent() {
  local i
  for i in $(seq 1 160); do # 40 s and more: a loaded machine
    sent_now | grep -qF "$1" && return 0
    sleep 0.25
  done
  return 1
}
reloads() { metric 'luagate_script_reloads_total{result="ok"}'; }

# ---- a script in a plain directory ------------------------------------------------
D=$T/scripts
mkdir -p "$D"
route v1 >"$D/routes.lua"; mark "$D" m1
cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/queue"
script = "$D/routes.lua"
targets = { ["file:out"] = { path = "$OUT" } }
EOF
gw_start "$T/gw.lua" || { fail "luagate did not start"; cat "$T/gw.log"; exit 1; }
check "the first script runs" until_sent '"v":"v1"'
check "the loaded gauge is the start time" \
  awk -v t="$(metric luagate_script_loaded_timestamp_seconds)" -v now="$(date +%s)" 'BEGIN { exit !(t > now - 120 && t <= now + 1) }'
check "the failed gauge is 0" [ "$(metric luagate_script_reload_failed)" = 0 ]

loaded1=$(metric luagate_script_loaded_timestamp_seconds)
sleep 1.1
route v2 >"$D/routes.lua" # written in place
check "an edit in place reloads" until_sent '"v":"v2"'
check "...and the log says which file changed" grep -q "routes.lua changed: reloading" "$T/gw.log"
check "...and the loaded gauge moved" \
  awk -v a="$loaded1" -v b="$(metric luagate_script_loaded_timestamp_seconds)" 'BEGIN { exit !(b > a) }'

route v3 >"$D/.routes.lua.swp"; mv "$D/.routes.lua.swp" "$D/routes.lua" # an editor's rename-replace
check "a rename over the file reloads" until_sent '"v":"v3"'

mark "$D" m2
check "a change of a module the script requires reloads" until_sent '"m":"m2"'

n0=$(reloads)
for i in 1 2 3 4 5 6 7 8; do route "burst$i" >"$D/routes.lua"; done
check "a burst of writes ends on the last version" until_sent '"v":"burst8"'
sleep 1
check "...with one reload for the burst" [ "$(reloads)" = $((n0 + 1)) ]

n0=$(reloads)
echo "not a lua file" >"$D/notes.txt"; touch "$D/other.lua"
sleep 1
check "a change of an unrelated file in the directory does not reload" [ "$(reloads)" = "$n0" ]

f0=$(metric 'luagate_script_reloads_total{result="failed"}')
printf 'return function(event, send) send("file:out", { v = "broken" } end\n' >"$D/routes.lua"
for i in $(seq 1 40); do [ "$(metric luagate_script_reload_failed)" = 1 ] && break; sleep 0.25; done
check "a broken edit sets the failed gauge" [ "$(metric luagate_script_reload_failed)" = 1 ]
check "...counts a failed reload" [ "$(metric 'luagate_script_reloads_total{result="failed"}')" = $((f0 + 1)) ]
check "...logs the error with file and line" grep -q "reload failed, the previous script keeps running: .*routes.lua:1:" "$T/gw.log"
check "...and the previous script keeps routing" sent_is '"v":"burst8"'
route v4 >"$D/routes.lua"
check "the next good edit reloads" until_sent '"v":"v4"'
check "...and clears the failed gauge" [ "$(metric luagate_script_reload_failed)" = 0 ]
hups=$(grep -c "reloaded $D/routes.lua" "$T/gw.log")
kill -HUP "$(cat "$T/gw.pid")"
sighup_reloaded() { [ "$(grep -c "reloaded $D/routes.lua" "$T/gw.log")" -gt "$hups" ]; }
check "SIGHUP still reloads" wait_until 10 sighup_reloaded
gw_stop

# ---- a ConfigMap volume: files are symlinks through ..data, swapped atomically ----
C=$T/configmap
mkdir -p "$C/..2026_01_01_00_00_00.1/lib"
route cm1 >"$C/..2026_01_01_00_00_00.1/routes.lua"; mark "$C/..2026_01_01_00_00_00.1" m1
ln -s ..2026_01_01_00_00_00.1 "$C/..data"
ln -s ..data/routes.lua "$C/routes.lua"
ln -s ..data/lib "$C/lib"
sed -i "s|^script = .*|script = \"$C/routes.lua\"|" "$T/gw.lua"
gw_start "$T/gw.lua" || { fail "luagate did not start on the ConfigMap"; cat "$T/gw.log"; exit 1; }
check "the ConfigMap's script runs" until_sent '"v":"cm1"'
# kubelet's update (atomic_writer.go): a new timestamped directory, a
# ..data_tmp symlink to it renamed over ..data, then the old directory removed
swap() {
  local new="..2026_01_01_00_00_0$1.1"
  mkdir -p "$C/$new/lib"; route "$2" >"$C/$new/routes.lua"; mark "$C/$new" "$3"
  ln -s "$new" "$C/..data_tmp"; mv -T "$C/..data_tmp" "$C/..data"
  rm -rf "${C:?}/$4"
}
swap 1 cm2 m1 ..2026_01_01_00_00_00.1
check "a ConfigMap update (..data symlink swap) reloads" until_sent '"v":"cm2"'
swap 2 cm2 m9 ..2026_01_01_00_00_01.1
check "a ConfigMap update of a required module reloads" until_sent '"m":"m9"'
gw_stop

# ---- script_watch = off: only SIGHUP reloads ---------------------------------------
route off1 >"$D/routes.lua"
sed -i "s|^script = .*|script = \"$D/routes.lua\"\nscript_watch = false|" "$T/gw.lua"
gw_start "$T/gw.lua" || { fail "luagate did not start with script_watch off"; exit 1; }
check "script_watch off: the script runs" until_sent '"v":"off1"'
route off2 >"$D/routes.lua"; sleep 1.5
check "script_watch off: an edit does not reload" sent_is '"v":"off1"'
gw_stop
