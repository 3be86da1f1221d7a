#!/usr/bin/env bash
# bench/profile.sh -- where luagate's CPU goes at 64 connections (issue #19:
# the stage that is the ceiling); writes bench/PROFILE.md.
#
#   1. system calls per event, by name (strace -c -f on the worker while
#      loadgen sends PROF_COUNT MinIO envelopes): counts, not times, so
#      they hold on a noisy box;
#   2. the worker's CPU by where it runs (perf record on the worker for
#      PROF_SECONDS while loadgen runs): kernel against user space, the
#      user-space libraries, the hottest symbols.
# luagate → redis (namespace), default route, commit_window 0, as bench/ack.sh.
#
# Knobs: PROF_CONNS (64), PROF_COUNT (20000), PROF_SECONDS (4), PROF_TOP
# (25), PROF_PORT (21900), PROF_OUT (bench/PROFILE.md), LUAGATE (./luagate),
# PORT_OFFSET (redis on 16379+PORT_OFFSET), BENCH_LOCK.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${BENCH_LOCK:-}" ] && [ "${BENCH_LOCK_HELD:-}" != "$BENCH_LOCK" ]; then
    export BENCH_LOCK_HELD=$BENCH_LOCK
    exec flock "$BENCH_LOCK" "$BASH" "$0" "$@"
fi
CONNS=${PROF_CONNS:-64}
COUNT=${PROF_COUNT:-20000}
DUR=${PROF_SECONDS:-4}
NTOP=${PROF_TOP:-25}
PORT=${PROF_PORT:-21900}
OUT=${PROF_OUT:-bench/PROFILE.md}
LUAGATE=${LUAGATE:-./luagate}
DATA=examples/events/minio-webhook.jsonl
BIN=bench/build
export PORT_OFFSET=${PORT_OFFSET:-1700}

die() { echo "profile: $*" >&2; exit 1; }
[ -x "$LUAGATE" ] || die "$LUAGATE is not built (run make)"
for t in strace perf redis-server; do
    command -v "$t" >/dev/null || die "$t is needed (scripts/deps.sh installs it)"
done
mkdir -p "$BIN"
[ "$BIN/loadgen" -nt bench/loadgen.c ] || ${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -o "$BIN/loadgen" bench/loadgen.c -lpthread

TMP=$(mktemp -d /tmp/luagate-profile.XXXXXX)
export BASE=$TMP/servers
# shellcheck source=../scripts/lib.sh
. scripts/lib.sh
. bench/lib.sh
PIDS=()
REDIS_UP=0
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_redis_start

start_gateway() { # sets GW (the supervisor's pid), WK (its worker's), GPORT
    next_port; GPORT=$P
    local dir; dir=$(mktemp -d "$TMP/run.XXXX")
    printf 'listen = "127.0.0.1:%s"\nqueue_dir = "%s/queue"\ntargets = {\n  ["redis:bench"] = { address = "127.0.0.1:%s", key = "bucketevents", format = "namespace" },\n}\n' \
        "$GPORT" "$dir" "$REDIS_PORT" >"$dir/conf.lua"
    "$LUAGATE" -c "$dir/conf.lua" >"$dir/log" 2>&1 & GW=$!
    PIDS+=("$GW")
    wait_port "$GPORT" "$GW" 10 || { cat "$dir/log" >&2; die "luagate did not start"; }
    WK=$(worker_pid "$GW")
    "$BIN/loadgen" -p "$GPORT" -c "$CONNS" -d 2 -f "$DATA" >/dev/null || die "loadgen failed"
}

START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
SECONDS=0

# 1. system calls per event
start_gateway
strace -c -f -q -o "$TMP/strace" -p "$WK" & ST=$!
sleep 1 # strace attached to every thread
"$BIN/loadgen" -p "$GPORT" -c "$CONNS" -n "$COUNT" -d 300 -f "$DATA" >/dev/null || die "loadgen failed under strace"
sleep 1 # the deliveries of the last events
kill -INT "$ST"; wait "$ST" 2>/dev/null || true
stop_pid "$GW"
SYSCALLS=$(awk -v n="$COUNT" '
    $1 ~ /^[0-9.]+$/ && NF >= 5 { calls = $4; name = $NF; if (name == "total") next
        printf "| %s | %.3f |\n", name, calls / n; tot += calls }
    END { printf "%.2f\n", tot / n > "/dev/stderr" }' "$TMP/strace" 2>"$TMP/all" | sort -t'|' -k3 -rn)
ALL=$(cat "$TMP/all")

# 2. where the CPU goes
start_gateway
"$BIN/loadgen" -p "$GPORT" -c "$CONNS" -d $((DUR + 2)) -w 0 -f "$DATA" >"$TMP/lg" & LG=$!
sleep 1
perf record -q -F 999 -p "$WK" -o "$TMP/perf.data" -- sleep "$DUR" >/dev/null 2>&1 || die "perf record failed"
wait "$LG" || die "loadgen failed under perf"
stop_pid "$GW"
report() { perf report -i "$TMP/perf.data" --no-children -g none --percent-limit 0.5 "$@" 2>/dev/null | awk '/%/ && !/^#/'; }
DSOS=$(report --sort dso | awk '{ p = $1; $1 = ""; sub(/^ +/, ""); printf "| %s | %s |\n", $0, p }')
SYMS=$(report --sort dso,sym | head -"$NTOP" | awk '{ p = $1; $1 = ""; sub(/^ +/, ""); printf "| `%s` | %s |\n", $0, p }')
THREADS=$(report --sort comm | awk '{ printf "| %s | %s |\n", $2, $1 }')
KERNEL=$(report --sort dso | awk '$2 == "[kernel.kallsyms]" { print $1 }')

{
    echo "# Where the CPU goes at $CONNS connections (issue #19)"
    echo
    echo "Produced by \`bash bench/profile.sh\` (part of \`make bench\`). Date: $START, ${SECONDS}s." \
        "luagate → redis (namespace), MinIO envelopes one per POST over keep-alive, default route, commit_window 0, $CONNS connections (bench/loadgen); the worker process only (the supervisor does nothing per event)."
    echo
    echo "## System calls per event"
    echo
    echo "strace -c -f on the worker while loadgen sent $COUNT events (counts: they do not depend on the box's load; strace slows the gateway, so the groups of a commit are larger than without it and the per-commit calls, fdatasync and the wake-ups, are if anything undercounted):"
    echo
    echo "| system call | calls per event |"
    echo "| --- | --- |"
    echo "$SYSCALLS"
    echo "| **all** | **$ALL** |"
    echo
    echo "## The worker's CPU"
    echo
    echo "perf record -F 999 on the worker for ${DUR} s under load (loadgen: $(tr ' ' '\n' <<<"$(cat "$TMP/lg")" | sed -n 's/^rps=//p') requests/s). In the kernel: **${KERNEL:-?}** of the samples."
    echo
    echo "| thread | share |"
    echo "| --- | --- |"
    echo "$THREADS"
    echo
    echo "| where (binary or library) | share |"
    echo "| --- | --- |"
    echo "$DSOS"
    echo
    echo "Hottest symbols (≥ 0.5 %):"
    echo
    echo "| binary, symbol | share |"
    echo "| --- | --- |"
    echo "$SYMS"
    echo
    top3=$(sed -n '1,3p' <<<"$SYSCALLS" | awk -F'|' '{ gsub(/ /, "", $2); gsub(/ /, "", $3); printf "%s%s %s", sep, $2, $3; sep = ", " }')
    pv=$(awk -F'|' '/irq_enable/ { gsub(/ /, "", $3); print $3; exit }' <<<"$SYMS")
    goal ceiling "**${ALL} system calls per event** ($top3; the rest per commit or per delivery batch); the kernel runs **${KERNEL:-?}** of the worker's CPU${pv:+ (${pv} in the paravirtualised interrupt enable alone, once per system call and switch)}, user space the rest; $CONNS connections" "reported"
} >"$OUT"
echo "profile: wrote $OUT (${SECONDS}s)"
if [ -f "${BENCH_OUT:-bench/RESULTS.md}" ]; then PROF_OUT=$OUT bash bench/goals.sh; fi
