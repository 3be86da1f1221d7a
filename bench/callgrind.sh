#!/usr/bin/env bash
# bench/callgrind.sh -- user-space instructions per event (callgrind, every
# thread of the supervisor and of the worker it forks) on the file path and
# on the redis path; writes bench/CALLGRIND.md and prints
#   callgrind path=file ir_per_event=N
#   callgrind path=redis ir_per_event=N
#
# Method: (Ir of a run that served B events − Ir of a run that served A) /
# (B − A), so start-up and shutdown cancel out.  Each run: a fresh luagate
# under valgrind --tool=callgrind (one output per process), loadgen -c 64
# -n COUNT with the MinIO envelopes, then wait until the target has every
# event, then SIGTERM.  Deterministic to ~0.5 %: the figure to compare
# between commits (wall-clock rates are not, on this shared box).
#
# Knobs: CG_PATHS ("file redis"), CG_A (2000), CG_B (6000), CG_WINDOW
# (commit_window, 0), CG_TOP (15 functions listed), CG_PORT (22400), CG_KEEP
# (a directory: keep the worker's callgrind output of each run there),
# CALLGRIND_OUT (bench/CALLGRIND.md), LUAGATE (./luagate), PORT_OFFSET
# (redis on 16379+PORT_OFFSET), BENCH_LOCK.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${BENCH_LOCK:-}" ] && [ "${BENCH_LOCK_HELD:-}" != "$BENCH_LOCK" ]; then
    export BENCH_LOCK_HELD=$BENCH_LOCK
    exec flock "$BENCH_LOCK" "$BASH" "$0" "$@"
fi
PATHS=${CG_PATHS:-"file redis"}
A=${CG_A:-2000}
B=${CG_B:-6000}
WINDOW=${CG_WINDOW:-0}
NTOP=${CG_TOP:-15}
PORT=${CG_PORT:-22400}
OUT=${CALLGRIND_OUT:-bench/CALLGRIND.md}
LUAGATE=${LUAGATE:-./luagate}
DATA=examples/events/minio-webhook.jsonl
BIN=bench/build
export PORT_OFFSET=${PORT_OFFSET:-1700}

die() { echo "callgrind: $*" >&2; exit 1; }
[ -x "$LUAGATE" ] || die "$LUAGATE is not built (run make)"
command -v valgrind >/dev/null || die "valgrind is needed (scripts/deps.sh installs it)"
mkdir -p "$BIN"
[ "$BIN/loadgen" -nt bench/loadgen.c ] || cc -std=c11 -Wall -Wextra -Werror -O2 -o "$BIN/loadgen" bench/loadgen.c -lpthread

TMP=$(mktemp -d /tmp/luagate-cg.XXXXXX)
export BASE=$TMP/servers
# shellcheck source=../scripts/lib.sh
. scripts/lib.sh
. bench/lib.sh
PIDS=()
REDIS_UP=0
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
if [[ " $PATHS " == *" redis "* ]]; then
    bench_redis_start
fi

delivered() { # dir port path: events the target has
    case $3 in
    file) lines "$1/out.jsonl" ;;
    redis) printf '%.0f\n' "$(metrics "$2" | awk '$1 ~ /^luagate_events_delivered_total/ { s += $NF } END { print s + 0 }')" ;;
    esac
}

# cg_run PATH COUNT: sets IR (all processes) and TOP (the worker's hottest functions, Ir per event)
cg_run() {
    local path=$1 n=$2 dir port pid i target
    next_port; port=$P
    dir=$(mktemp -d "$TMP/cg.XXXX")
    case $path in
    file) target="[\"file:bench\"] = { path = \"$dir/out.jsonl\", fsync = true }" ;;
    redis) target="[\"redis:bench\"] = { address = \"127.0.0.1:$REDIS_PORT\", key = \"bucketevents\", format = \"namespace\" }" ;;
    esac
    printf 'listen = "127.0.0.1:%s"\nqueue_dir = "%s/queue"\ncommit_window = "%s"\nscript_timeout = "60s"\ntargets = {\n  %s,\n}\n' \
        "$port" "$dir" "$WINDOW" "$target" >"$dir/conf.lua"
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out.%p" "$LUAGATE" -c "$dir/conf.lua" \
        >"$dir/log" 2>&1 & pid=$!
    PIDS+=("$pid")
    wait_port "$port" "$pid" 120 || { cat "$dir/log" >&2; die "luagate under callgrind did not start"; }
    "$BIN/loadgen" -p "$port" -c 64 -n "$n" -d 300 -f "$DATA" >"$dir/lg" || die "loadgen failed under callgrind"
    for ((i = 0; i < 2400; i++)); do
        [ "$(delivered "$dir" "$port" "$path")" -ge "$n" ] && break
        sleep 0.05
    done
    [ "$(delivered "$dir" "$port" "$path")" -ge "$n" ] || die "$path: the target did not get all $n events"
    stop_pid "$pid"
    IR=$(cat "$dir"/cg.out.* | awk '$1 == "totals:" { s += $2 } END { printf "%.0f\n", s }')
    [ -n "$IR" ] || die "no callgrind totals in $dir"
    local worker_out; worker_out=$(ls -S "$dir"/cg.out.* | head -1) # the worker's is the big one
    TOP=$(callgrind_annotate --inclusive=no "$worker_out" 2>/dev/null | awk -v n="$n" -v k="$NTOP" '
        /file:function/ { on = 1; next }
        on && /^ *[0-9,]+ \(/ && c < k {
            ir = $1; gsub(",", "", ir)
            line = $0; sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", line)
            sub(/ \[[^]]*\]$/, "", line); sub(/^.*\/(src|targets)\//, "", line); sub(/^\?\?\?:/, "", line)
            printf "%8.0f  %s\n", ir / n, line; c++
        }')
    if [ -n "${CG_KEEP:-}" ]; then mkdir -p "$CG_KEEP"; cp "$worker_out" "$CG_KEEP/$path.$n.out"; fi
    # inclusive Ir of the stages (STAGES) in the worker, and the other processes' total
    STAGE_IR=$(callgrind_annotate --inclusive=yes --threshold=100 "$worker_out" 2>/dev/null | awk -v list="$STAGES" '
        BEGIN { n = split(list, want, " "); for (i = 1; i <= n; i++) got[want[i]] = 0 }
        /^ *[0-9,]+ \(/ {
            ir = $1; gsub(",", "", ir); f = $0; sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", f); sub(/ \[[^]]*\]$/, "", f)
            sub(/^.*:/, "", f); sub(/\(.*$/, "", f); sub(/\.constprop\.[0-9]+$/, "", f)
            if (f in got && got[f] == 0) got[f] = ir
        }
        END { for (i = 1; i <= n; i++) printf "%s=%s ", want[i], got[want[i]] }')
    local others=0 f
    for f in "$dir"/cg.out.*; do
        [ "$f" = "$worker_out" ] && continue
        others=$((others + $(awk '$1 == "totals:" { print $2 }' "$f")))
    done
    STAGE_IR+="other_processes=$others"
    rm -rf "$dir"
}
# the stages of the worker whose inclusive Ir per event is listed (function names)
STAGES="http_parse event_parse_step jscan_step check_object route_some heartbeat_event_id router_route ingest_finish queue_append_all qrec_encode ingest_on_durable_event delivery_main redis_send file_send committer_main ingest_on_batch_end"
stage_table() { # a b: STAGE_IR lines of runs A and B -> "| stage | Ir/event |" rows
    local k va vb
    for k in $STAGES other_processes; do
        va=$(tr ' ' '\n' <<<"$1" | sed -n "s/^$k=//p"); vb=$(tr ' ' '\n' <<<"$2" | sed -n "s/^$k=//p")
        [ -n "$va" ] && [ -n "$vb" ] && [ "$vb" != 0 ] || continue
        awk -v k="$k" -v a="$va" -v b="$vb" -v na="$A" -v nb="$B" 'BEGIN { printf "| %s | %.0f |\n", k, (b - a) / (nb - na) }'
    done
}

START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
SECONDS=0
declare -A PER TOPS STAGE_ROWS
for p in $PATHS; do
    cg_run "$p" "$A"; ia=$IR; sa=$STAGE_IR
    cg_run "$p" "$B"; ib=$IR; sb=$STAGE_IR
    STAGE_ROWS[$p]=$(stage_table "$sa" "$sb")
    PER[$p]=$(awk -v a="$ia" -v b="$ib" -v na="$A" -v nb="$B" 'BEGIN { printf "%.0f", (b - a) / (nb - na) }')
    TOPS[$p]=$TOP
    echo "callgrind path=$p ir_per_event=${PER[$p]}"
done
{
    echo "# Instructions per event (callgrind)"
    echo
    echo "Produced by \`bash bench/callgrind.sh\` (part of \`make bench\`). Date: $START, ${SECONDS}s. luagate $("$LUAGATE" --version 2>/dev/null | head -1 || true), commit_window $WINDOW."
    echo
    echo "Ir per event = (Ir of a run serving $B events − Ir of a run serving $A) / $((B - A)), user space, every thread of both processes (supervisor and worker), MinIO envelopes one per POST, 64 connections, default route."
    echo
    echo "| path | Ir/event |"
    echo "| --- | --- |"
    for p in $PATHS; do echo "| luagate → $p | **${PER[$p]}** |"; done
    echo
    for p in $PATHS; do
        echo "Where the instructions of the $p path go: inclusive Ir per event of the worker's stages, by the same difference of runs (nested stages are inside their callers: http_parse and event_parse_step are inside the request, jscan_step and check_object inside event_parse_step, heartbeat_event_id and router_route inside route_some, queue_append_all inside ingest_finish; a function the compiler inlined is not listed):"
        echo
        echo "| stage (function) | Ir/event |"
        echo "| --- | --- |"
        echo "${STAGE_ROWS[$p]}"
        echo
        echo "Hottest functions of the worker, $p path (self Ir of the $B-event run, start-up included, divided by $B):"
        echo
        echo '```'
        echo "${TOPS[$p]}"
        echo '```'
        echo
    done
    if [ -n "${PER[redis]:-}" ]; then
        goal ir19 "**${PER[redis]} Ir/event** luagate → redis$([ -n "${PER[file]:-}" ] && echo ", ${PER[file]} luagate → file") (callgrind, both processes, all threads)" \
            "$(awk -v v="${PER[redis]}" 'BEGIN { print v <= 20000 ? "met" : "not met: see CALLGRIND.md for what costs what" }')"
    fi
} >"$OUT"
echo "callgrind: wrote $OUT"
if [ -f "${BENCH_OUT:-bench/RESULTS.md}" ]; then CALLGRIND_OUT=$OUT bash bench/goals.sh; fi
