#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] [TARGET...] -- build and run the libFuzzer targets.
#
#   bash tests/fuzz/run.sh 60                  every target for 60 s each
#   bash tests/fuzz/run.sh 300 body queue      only fuzz_body and fuzz_queue
#   bash tests/fuzz/run.sh 0                   build only (and replay the reproducers)
#
# Builds tests/fuzz/fuzz_*.c with clang -fsanitize=fuzzer,address,undefined
# against the luagate sources (src/*.c but main.c and lmodule.c, targets/*.c,
# compiled once into build/fuzz/libluagate-fuzz.a and linked whole: the
# driver registry in src/drivers.c refers to the drivers through weak symbols,
# which would not pull them out of an archive), then runs each target for
# SECONDS on a scratch corpus under build/fuzz/corpus/<target> seeded from the
# committed tests/fuzz/corpus/<target>/ (new inputs never land in tests/).
# Reproducers in tests/fuzz/crashes/<target>-* are replayed first: one that
# still crashes fails the run like a new crash.  Prints, per target,
# executions, coverage, new corpus units and crashes; exits non-zero when a
# target crashed, with the crash file's path in the output.
#
# Environment: CC (default clang), FUZZ_OUT (default build/fuzz),
# FUZZ_FLAGS (extra libFuzzer flags), TMPDIR (scratch files of the targets),
# FUZZ_NEW_CRASHES=report (new findings are reported, only regressions fail),
# FUZZ_QUEUE_SKIP_KNOWN=1 (fuzz_queue steps around its open findings, see
# tests/fuzz/crashes/README).  tests/fuzz/<target>.dict is used when present.
set -uo pipefail

SECS=${1:-60}
shift || true
case $SECS in '' | *[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;; esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2
OUT=${FUZZ_OUT:-build/fuzz}
CC=${CC:-clang}
case $CC in cc | gcc | */gcc) CC=clang ;; esac # libFuzzer needs clang
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install clang)" >&2; exit 2; }

# The packages and libraries come from the Makefile (they change with the
# code), read through make itself; the lists below are only a fallback.
MK_PKGS="" MK_LDLIBS=""
eval "$(make -s --no-print-directory -f Makefile -f - luagate-fuzz-vars 2>/dev/null <<'EOF'
luagate-fuzz-vars:
	@echo "MK_PKGS='$(PKGS)'"
	@echo "MK_LDLIBS='$(LDLIBS)'"
EOF
)"
PKGS=${MK_PKGS:-"lua5.4 libevent libevent_pthreads libevent_openssl rdkafka librabbitmq libnats hiredis libpq libmariadb libcurl libcjson openssl expat"}
PKG_CFLAGS=$(pkg-config --cflags $PKGS) || exit 2
if [ -n "$MK_LDLIBS" ]; then
    LIBS="$MK_LDLIBS -lstdc++"
else
    LIBS="$(pkg-config --libs $PKGS) -lpaho-mqtt3as -lhighwayhash -lhttp_parser -lpthread -lm -lstdc++"
fi
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -DLUAGATE_VERSION=\"0.1.0-fuzz\" -Isrc $PKG_CFLAGS"

# Per-target extras: max_len and link flags.
max_len() { case $1 in body) echo 1048576 ;; *) echo 65536 ;; esac; }
# fuzz_config caps the config loader's Lua state (instructions, memory) by
# wrapping luaL_newstate; see the comment at the top of fuzz_config.c.
link_extra() { case $1 in config) echo "-Wl,--wrap=luaL_newstate" ;; *) echo "" ;; esac; }

mkdir -p "$OUT/obj" || exit 2

# ---- build --------------------------------------------------------------------
echo "== fuzz: building into $OUT with $($CC --version | head -1)"
SRCS=()
for f in src/*.c targets/*.c; do
    case $f in src/main.c | src/lmodule.c) continue ;; esac
    SRCS+=("$f")
done
build_obj() { # src -> obj, rebuilt when the source or any header is newer
    local src=$1 obj="$OUT/obj/${1//\//_}.o"
    if [ -f "$obj" ] && [ "$obj" -nt "$src" ] && [ -z "$(find src targets -name '*.h' -newer "$obj" | head -1)" ]; then
        return 0
    fi
    # shellcheck disable=SC2086
    $CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c -o "$obj" "$src" 2>"$obj.log" ||
        { echo "fuzz: cannot compile $src:" >&2; cat "$obj.log" >&2; return 1; }
}
export -f build_obj
export OUT CC CFLAGS SAN
printf '%s\n' "${SRCS[@]}" | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} bash -c 'build_obj "$@"' _ {} ||
    { echo "fuzz: build failed" >&2; exit 2; }
OBJS=()
for f in "${SRCS[@]}"; do OBJS+=("$OUT/obj/${f//\//_}.o"); done
rm -f "$OUT/libluagate-fuzz.a"
ar rcs "$OUT/libluagate-fuzz.a" "${OBJS[@]}" || exit 2

if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=()
    for f in tests/fuzz/fuzz_*.c; do
        t=${f#tests/fuzz/fuzz_}
        TARGETS+=("${t%.c}")
    done
fi

for t in "${TARGETS[@]}"; do
    [ -f "tests/fuzz/fuzz_$t.c" ] || { echo "fuzz: no tests/fuzz/fuzz_$t.c" >&2; exit 2; }
    # shellcheck disable=SC2086
    $CC $CFLAGS $SAN -fsanitize=fuzzer $(link_extra "$t") -o "$OUT/fuzz_$t" "tests/fuzz/fuzz_$t.c" \
        -Wl,--whole-archive "$OUT/libluagate-fuzz.a" -Wl,--no-whole-archive $LIBS || { echo "fuzz: cannot build fuzz_$t" >&2; exit 2; }
done

# ---- run ------------------------------------------------------------------------
# One scratch directory for the targets' temp files (in memory when /dev/shm
# is there: fuzz_queue fsyncs), removed at the end even after a crash or a
# timeout, which skip the targets' own clean-up.
SCRATCH_BASE=${TMPDIR:-/tmp}
[ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && SCRATCH_BASE=/dev/shm
SCRATCH=$(mktemp -d "$SCRATCH_BASE/luagate-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$SCRATCH"' EXIT
export TMPDIR="$SCRATCH"
export LUAGATE_LUA_DIR="$ROOT/lua"
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:print_stacktrace=1:halt_on_error=1"
[ -f tests/lsan.supp ] && export LSAN_OPTIONS="${LSAN_OPTIONS:-}:suppressions=$ROOT/tests/lsan.supp"

failed=0
SUMMARY=()
for t in "${TARGETS[@]}"; do
    bin="$OUT/fuzz_$t" corpus="$OUT/corpus/$t" art="$OUT/artifacts/$t/" log="$OUT/fuzz_$t.log"
    mkdir -p "$corpus" "$art"
    [ -d "tests/fuzz/corpus/$t" ] && cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null
    dict=()
    [ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")

    # known reproducers first: each must run clean now
    regress=0
    for c in tests/fuzz/crashes/"$t"-*; do
        [ -f "$c" ] || continue
        if ! "$bin" -rss_limit_mb=2048 -timeout=10 "$c" >"$log.regress" 2>&1; then
            echo "fuzz_$t: reproducer $c still crashes:"
            grep -m3 -E 'ERROR|runtime error|^fuzz_[a-z_]+: |SUMMARY' "$log.regress" | sed 's/^/    /'
            regress=$((regress + 1))
        fi
    done

    if [ "$SECS" -eq 0 ]; then
        line=$(printf 'fuzz_%-10s built: %s' "$t" "$bin")
        [ $regress -gt 0 ] && line="$line ($regress known reproducers still crash)" && failed=1
        SUMMARY+=("$line")
        continue
    fi
    echo "== fuzz_$t: ${SECS}s (corpus $corpus, $(ls "$corpus" | wc -l) inputs)"
    # shellcheck disable=SC2086
    "$bin" "$corpus" "${dict[@]}" -max_total_time="$SECS" -max_len="$(max_len "$t")" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art" ${FUZZ_FLAGS:-} >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    newu=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
    cov=$(grep -oE '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+)/\1 edges, \2 features/')
    crashes=$(grep -E 'Test unit written to' "$log" | sed -E 's/.*Test unit written to //')
    ncrash=$(printf '%s' "$crashes" | grep -c . || true)
    if [ $rc -ne 0 ] && [ "$ncrash" -eq 0 ]; then
        ncrash=1
        crashes="(exit $rc, no test unit written: see $log)"
    fi
    line=$(printf 'fuzz_%-10s executions %-9s coverage %-28s new units %-5s crashes %s' "$t" "${execs:-?}" \
        "${cov:-?}" "${newu:-?}" "$ncrash")
    [ $regress -gt 0 ] && line="$line (+$regress known reproducers still crash)"
    echo "$line"
    SUMMARY+=("$line")
    if [ "$ncrash" -gt 0 ]; then
        # FUZZ_NEW_CRASHES=report (CI): a new finding is printed, with its input,
        # for the next session to triage, but does not fail the run; a known
        # reproducer that crashes again (a regression) always does
        if [ "${FUZZ_NEW_CRASHES:-fail}" = report ]; then
            echo "not ok - fuzz_$t found a new crash (reported, not a regression): triage it"
        else
            failed=1
        fi
        grep -m5 -E 'ERROR|runtime error|^fuzz_[a-z_]+: |SUMMARY|timeout|out-of-memory' "$log" | sed 's/^/    /'
        printf '%s\n' "$crashes" | sed 's/^/    crash file: /'
        echo "    log: $log"
    fi
    [ $regress -gt 0 ] && failed=1
done

echo "== fuzz summary"
printf '%s\n' "${SUMMARY[@]}"
exit $failed
