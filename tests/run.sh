#!/usr/bin/env bash
# tests/run.sh [unit] [valgrind] [spec] [integration] [package] -- the suite
# (default: unit spec integration).
# Every test prints "ok - name" / "not ok - name" lines; this counts them
# and ends with one line: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
export LUAGATE_BUILD=${LUAGATE_BUILD:-build/release}
export LUAGATE_BIN=$PWD/$LUAGATE_BUILD/luagate
export LUA_CPATH="$PWD/$LUAGATE_BUILD/?.so;;"
export LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;"
export LUAGATE_EVENTS=${LUAGATE_EVENTS:-$PWD/examples/events/minio-webhook.jsonl}
if [ -z "${PORT_OFFSET:-}" ]; then
  # free test ports: the first offset at which every one is free (scripts/lib.sh)
  . scripts/lib.sh
  pick_port_offset || exit 1
fi
. scripts/lib.sh
if [ -n "${LUAGATE_SAN:-}" ]; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
fi
phases=${*:-unit spec integration}
log=$(mktemp -d /tmp/luagate-tests.XXXXXX)
passed=0; failed=0

# run NAME CMD...: run one test program, count its ok/not ok lines.
run() {
  local name=$1; shift
  local out="$log/$(echo "$name" | tr '/ ' '__').log"
  "$@" >"$out" 2>&1; local rc=$?
  local ok nok
  ok=$(grep -c '^ok ' "$out"); nok=$(grep -c '^not ok ' "$out")
  if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then nok=1; echo "not ok - $name exited $rc" >>"$out"; fi
  passed=$((passed + ok)); failed=$((failed + nok))
  if [ "$nok" -gt 0 ]; then
    echo "FAIL $name ($ok ok, $nok failed)"; grep -v '^ok ' "$out" | tail -40 | sed 's/^/    /'
  else
    echo "pass $name ($ok ok)"
  fi
}

for phase in $phases; do
  case $phase in
  unit)
    for t in "$LUAGATE_BUILD"/tests/test_*; do
      [ -x "$t" ] && run "unit/$(basename "$t")" "$t"
    done ;;
  valgrind)
    # the unit tests must not leak or touch bad memory
    for t in "$LUAGATE_BUILD"/tests/test_*; do
      [ -x "$t" ] && run "valgrind/$(basename "$t")" valgrind --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=9 -q "$t"
    done ;;
  spec)
    specs=$(ls tests/spec/*_spec.lua examples/*/*_spec.lua 2>/dev/null)
    if [ -n "$specs" ]; then
      if [ -n "${LUAGATE_SAN:-}" ]; then
        # the sanitized luagate.so needs the ASan runtime loaded first
        LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)" \
          ASAN_OPTIONS=detect_leaks=0 run "spec/busted" busted --output=TAP $specs
      else
        run "spec/busted" busted --output=TAP $specs
      fi
    fi ;;
  integration)
    export BASE=${BASE:-$(mktemp -d /tmp/luagate-it.XXXXXX)}
    . scripts/lib.sh
    if ! scripts/servers.sh start; then
      echo "not ok - test servers failed to start" ; failed=$((failed + 1))
    fi
    trap 'scripts/servers.sh stop >/dev/null 2>&1' EXIT
    for t in tests/integration/test_*.sh; do
      [ -f "$t" ] && run "integration/$(basename "$t")" bash "$t"
    done
    for t in "$LUAGATE_BUILD"/itests/test_*; do
      [ -x "$t" ] && run "integration/$(basename "$t")" "$t"
    done
    # every sh/lua example of README.md and docs/*.md, and its shown output (release pass)
    [ -z "${LUAGATE_SAN:-}" ] && run "docs/run_docs.py" $PY tests/docs/run_docs.py
    # docs/lua-api.md up to date and complete (release pass: loads luagate.so)
    [ -z "${LUAGATE_SAN:-}" ] && run "docs/test_lua_api.sh" bash tests/docs/test_lua_api.sh
    scripts/servers.sh stop >/dev/null 2>&1; trap - EXIT ;;
  package)
    # make deb, then the package installed, run and purged in a clean root
    run "package/test_deb.sh" bash tests/package/test_deb.sh ;;
  *) echo "unknown phase $phase"; exit 2 ;;
  esac
done
echo "logs in $log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
