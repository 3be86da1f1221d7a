#!/usr/bin/env bash
# tests/integration/test_docs.sh -- docs/configuration.md is `luagate docs`
# output, committed; regenerate it and fail when the two differ, so the
# reference cannot drift from the key tables.  Fix: luagate docs > docs/configuration.md
cd "$(dirname "$0")/../.." || exit 1
LUAGATE_BIN=${LUAGATE_BIN:-$PWD/build/release/luagate}
out=$(mktemp /tmp/luagate-docs.XXXXXX)
trap 'rm -f "$out" "$out.err"' EXIT

if "$LUAGATE_BIN" docs >"$out" 2>"$out.err"; then
  echo "ok - luagate docs runs"
else
  echo "not ok - luagate docs exited $?: $(head -1 "$out.err")"
  exit 1
fi
if [ -s "$out" ] && grep -q '^## webhook$' "$out" && grep -q '^## Keys of every target$' "$out"; then
  echo "ok - luagate docs prints every section"
else
  echo "not ok - luagate docs output lacks its sections"
fi
if diff -u docs/configuration.md "$out" >"$out.err"; then
  echo "ok - docs/configuration.md matches the key tables"
else
  echo "not ok - docs/configuration.md is out of date (run: luagate docs > docs/configuration.md)"
  head -40 "$out.err" | sed 's/^/# /'
fi
# every kind the gateway knows has its section
for kind in $("$LUAGATE_BIN" --help-target 2>/dev/null | sed -n 's/^known kinds://p'); do
  grep -q "^## $kind\$" docs/configuration.md || echo "not ok - docs/configuration.md has no section for $kind"
done
