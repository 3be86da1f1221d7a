#!/usr/bin/env bash
# `luagate check` prints, per event, what each target would receive; its
# output is compared with golden files (regenerate: UPDATE_GOLDEN=1).
cd "$(dirname "$0")/../.." || exit 1
LUAGATE_BIN=${LUAGATE_BIN:-$PWD/build/release/luagate}
G=tests/golden
golden() { # golden NAME EXPECTED_RC ARGS...
  local name=$1 want=$2; shift 2
  local out; out=$("$LUAGATE_BIN" "$@" 2>&1); local rc=$?
  if [ -n "${UPDATE_GOLDEN:-}" ]; then printf '%s\n' "$out" >"$G/$name.out"; fi
  if [ "$rc" = "$want" ] && [ "$out" = "$(cat "$G/$name.out")" ]; then
    echo "ok - check $name (exit $rc, output as in $G/$name.out)"
  else
    echo "not ok - check $name: exit $rc (want $want), output differs from $G/$name.out:"
    diff <(printf '%s\n' "$out") "$G/$name.out" | head -20 | sed 's/^/#   /'
  fi
}
golden default 0 check -c $G/default.conf.lua $G/events.jsonl
golden thumbnails 0 check -c examples/thumbnails/luagate.conf.lua examples/thumbnails/routes.lua $G/events.jsonl
golden script-error 1 check -c $G/default.conf.lua $G/broken.lua $G/events.jsonl
printf 'return function(event, send)\n  send("webhook:all", event\nend\n' >/tmp/luagate-check-syntax.lua
golden syntax-error 2 check -c $G/default.conf.lua /tmp/luagate-check-syntax.lua
rm -f /tmp/luagate-check-syntax.lua
golden bad-config 2 check -c $G/broken.lua
exit 0
