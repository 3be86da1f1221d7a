#!/usr/bin/env bash
# tests/docs/test_lua_api.sh -- docs/lua-api.md is generated from the doc
# comments (tests/docs/gen_lua_api.lua, `make docs`) and committed: fail when
# the two differ, and when a function the modules export at run time
# (tests/docs/api_names.lua through luagate.so, and the gateway's own
# luagate.json, luagate.log and luagate.rules inside a routing script) has no
# entry in it.
cd "$(dirname "$0")/../.." || exit 1
LUAGATE_BUILD=${LUAGATE_BUILD:-build/release}
export LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;" LUA_CPATH="$PWD/$LUAGATE_BUILD/?.so;;"
out=$(mktemp /tmp/luagate-lua-api.XXXXXX)
LUAGATE_BIN=${LUAGATE_BIN:-$PWD/$LUAGATE_BUILD/luagate}
trap 'rm -f "$out" "$out.names" "$out.heads" "$out.conf" "$out.lua"' EXIT

if lua5.4 tests/docs/gen_lua_api.lua >"$out" 2>"$out.names"; then
  echo "ok - the Lua API reference generates"
else
  echo "not ok - tests/docs/gen_lua_api.lua failed: $(head -3 "$out.names")"
  exit 1
fi
if diff -u docs/lua-api.md "$out" >"$out.heads"; then
  echo "ok - docs/lua-api.md matches the doc comments"
else
  echo "not ok - docs/lua-api.md is out of date (run: make docs)"
  head -40 "$out.heads" | sed 's/^/# /'
fi
if ! lua5.4 tests/docs/api_names.lua >"$out.names" 2>&1; then
  echo "not ok - tests/docs/api_names.lua failed: $(head -3 "$out.names")"
  exit 1
fi
sed -n 's/^### `\([^`(]*\).*/\1/p' docs/lua-api.md | sort -u >"$out.heads"
missing=$(sort -u "$out.names" | comm -23 - "$out.heads")
if [ -z "$missing" ] && [ "$(wc -l <"$out.names")" -gt 40 ]; then
  echo "ok - every function the modules export ($(wc -l <"$out.names")) has its entry in docs/lua-api.md"
else
  echo "not ok - exported but not documented in docs/lua-api.md: $(echo $missing)"
fi

# the modules as the gateway gives them to a script (src/sandbox.c, src/json.c)
cat >"$out.conf" <<CONF
targets = { ["file:x"] = { path = "$out.x" } }
CONF
cat >"$out.lua" <<'LUA'
local names = {}
for _, m in ipairs { "luagate.json", "luagate.log", "luagate.rules" } do
  for k, v in pairs(require(m)) do
    if type(v) == "function" then names[#names + 1] = m .. "." .. k end
  end
end
table.sort(names)
local list = table.concat(names, " ")
return function(event, send) send("file:x", list) end
LUA
got=$(head -1 examples/events/minio-webhook.jsonl | "$LUAGATE_BIN" check -c "$out.conf" "$out.lua" - 2>&1 |
  sed -n 's/^     //p' | tr ' ' '\n')
missing=$(printf '%s\n' "$got" | sort -u | comm -23 - "$out.heads")
if [ -n "$got" ] && [ -z "$missing" ]; then
  echo "ok - every function of the gateway's luagate.json, luagate.log and luagate.rules has its entry ($(printf '%s\n' "$got" | wc -l))"
else
  echo "not ok - in the gateway but not documented in docs/lua-api.md: $(echo $missing) (got: $(echo $got | head -c 200))"
fi

# every event field the reference documents is one the gateway's event has
# (a name it does not know reads as nil): read them all on a PUT with a
# version, metadata and a size (the samples' second line)
fields=$(sed -n 's/^### `event\.\([A-Za-z_]*\)`$/\1/p' docs/lua-api.md | tr '\n' ' ')
printf 'local F = {}\nfor f in ("%s"):gmatch("%%S+") do F[#F + 1] = f end\n' "$fields" >"$out.lua"
cat >>"$out.lua" <<'LUA'
return function(event, send)
  local missing = {}
  for _, f in ipairs(F) do if event[f] == nil then missing[#missing + 1] = f end end
  send("file:x", "nil:" .. table.concat(missing, ",") .. " of " .. #F)
end
LUA
got=$(sed -n 2p examples/events/minio-webhook.jsonl | "$LUAGATE_BIN" check -c "$out.conf" "$out.lua" - 2>&1 |
  sed -n 's/^     //p')
if [[ "$got" =~ ^nil:\ of\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 14 ]; then
  echo "ok - every documented event field (${BASH_REMATCH[1]}) is one the gateway's event has"
else
  echo "not ok - documented event fields the gateway's event does not have: $got"
fi
