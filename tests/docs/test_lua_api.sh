#!/usr/bin/env bash
# tests/docs/test_lua_api.sh -- docs/lua-api.md is generated from the doc
# comments (tests/docs/gen_lua_api.lua, `make docs`) and committed: fail when
# the two differ, and when a function the modules export at run time
# (tests/docs/api_names.lua) has no entry in it.
cd "$(dirname "$0")/../.." || exit 1
LUAGATE_BUILD=${LUAGATE_BUILD:-build/release}
export LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;" LUA_CPATH="$PWD/$LUAGATE_BUILD/?.so;;"
out=$(mktemp /tmp/luagate-lua-api.XXXXXX)
trap 'rm -f "$out" "$out.names" "$out.heads"' EXIT

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
