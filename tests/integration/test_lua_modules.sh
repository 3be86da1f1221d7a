#!/usr/bin/env bash
# The drivers and the queue as Lua modules (luagate.so) from plain lua5.4.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
if [ -n "${LUAGATE_SAN:-}" ]; then
  # the sanitized luagate.so needs the ASan runtime loaded first
  export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
  export ASAN_OPTIONS=detect_leaks=0
fi
exec lua5.4 tests/integration/test_lua_modules.lua
