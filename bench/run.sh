#!/usr/bin/env bash
# bench/run.sh -- luagate's end-to-end benchmark (`make bench`, first of three scripts).
#
# Two load generators run against, in this order and for each concurrency:
#   bench/loadgen (closed loop, one epoll thread, N keep-alive connections,
#   one request in flight each, MinIO webhook envelopes):
#     floor          bench/floor.c, a minimal epoll server answering 200
#     evhttp         bench/evhttp_bare.c, bare libevent evhttp answering 200
#     luagate→redis  THE GOAL ROW of issue #8: default route → durable journal
#                    (fdatasync, group commit, ack after the sync) → one redis
#                    target, format namespace, redis-server from scripts/redis.sh
#     luagate→file   the same with one file target (fsync) instead of Redis: the
#                    gateway without redis-server on the CPUs
#   wrk -t2 (bench/wrk_events.lua: the same envelopes, one per POST, keep-alive):
#     floor, luagate→redis
# then luagate→file on tmpfs (diagnostic: fdatasync is free there), and the
# instructions per event of luagate→redis under callgrind.  Every ratio is
# taken against the floor measured with the same generator, at the same
# concurrency, in the same run: the box is noisy.
# Server CPU is utime+stime from /proc/PID/stat, read after the target has
# received every acknowledged event.  The run fails if a target misses an
# acknowledged event: the file must hold every one; for Redis luagate's
# delivered counter must reach the acknowledged count and redis-server's own
# HSET+HDEL count must reach the delivered one.
# At the end bench/goals.sh writes the goal table at the top of the report.
#
# Knobs (environment): BENCH_CONNS ("64 256"), BENCH_DURATION (5 s),
# BENCH_WARMUP (1 s, loadgen only), BENCH_WINDOW (commit_window of the main
# rows, 0 = natural group commit, the default), BENCH_SWEEP (other
# commit_window values for the luagate→redis row in the same run; default
# "1ms", the old default; "" for none), BENCH_EVHTTP (1), BENCH_WRK (1; 0 skips
# the wrk rows), BENCH_WRK_THREADS (2), BENCH_TMPFS (1), BENCH_CALLGRIND (1 =
# count instructions when valgrind is installed), BENCH_PORT (19500; the
# first free port from there), PORT_OFFSET (1700: redis-server on
# 16379+PORT_OFFSET), LUAGATE (./luagate), BENCH_DATA
# (examples/events/minio-webhook.jsonl), BENCH_OUT (bench/RESULTS.md),
# BENCH_LOCK (a file: hold `flock` on it while this script runs).
set -euo pipefail
if [ -n "${BENCH_LOCK:-}" ] && [ "${BENCH_LOCK_HELD:-}" != "$BENCH_LOCK" ]; then
    export BENCH_LOCK_HELD=$BENCH_LOCK
    exec flock "$BENCH_LOCK" "$BASH" "$0" "$@"
fi

cd "$(dirname "$0")/.."
CONNS=${BENCH_CONNS:-"64 256"}
DUR=${BENCH_DURATION:-5}
WARM=${BENCH_WARMUP:-1}
WINDOW=${BENCH_WINDOW:-0}
SWEEP=${BENCH_SWEEP-1ms}
EVHTTP=${BENCH_EVHTTP:-1}
WRK=${BENCH_WRK:-1}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
CALLGRIND=${BENCH_CALLGRIND:-1}
TMPFS=${BENCH_TMPFS:-1}
PORT=${BENCH_PORT:-19500}
LUAGATE=${LUAGATE:-./luagate}
DATA=${BENCH_DATA:-examples/events/minio-webhook.jsonl}
OUT=${BENCH_OUT:-bench/RESULTS.md}
BIN=bench/build
CC=${CC:-cc}
CFLAGS="-std=c11 -Wall -Wextra -Werror -O2"
export PORT_OFFSET=${PORT_OFFSET:-1700}

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$LUAGATE" ] || die "$LUAGATE is not built (run make)"
[ -r "$DATA" ] || die "cannot read $DATA"
command -v redis-server >/dev/null || die "redis-server is needed for the goal row (scripts/deps.sh installs it)"
command -v curl >/dev/null || die "curl is needed (luagate's /metrics)"
if [ "$WRK" = 1 ] && ! command -v wrk >/dev/null; then
    echo "bench: wrk is not installed (scripts/deps.sh installs it): no wrk rows" >&2
    WRK=0
fi

# ---- build ------------------------------------------------------------------
mkdir -p "$BIN"
$CC $CFLAGS -o "$BIN/loadgen" bench/loadgen.c -lpthread
$CC $CFLAGS -o "$BIN/floor" bench/floor.c
# shellcheck disable=SC2046
$CC $CFLAGS $(pkg-config --cflags libevent) -o "$BIN/evhttp_bare" bench/evhttp_bare.c $(pkg-config --libs libevent)

TMP=$(mktemp -d /tmp/luagate-bench.XXXXXX)
export BASE=$TMP/servers
# shellcheck source=../scripts/lib.sh
. scripts/lib.sh # REDIS_PORT; its helpers are shadowed by this script's own below
. bench/lib.sh  # the helpers run.sh and scale.sh share
SHM=""
[ "$TMPFS" = 1 ] && [ -d /dev/shm ] && SHM=$(mktemp -d /dev/shm/luagate-bench.XXXXXX)
PIDS=()
REDIS_UP=0
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ "$REDIS_UP" = 1 ] && scripts/redis.sh stop >/dev/null 2>&1 || true
    rm -rf "$TMP" ${SHM:+"$SHM"}
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# "tid ticks name" for every thread of PID
thread_ticks() {
    local t
    for t in /proc/"$1"/task/*; do
        echo "${t##*/} $(sed 's/^.*) //' "$t/stat" | awk '{ print $12 + $13 }') $(tr -d ' ' <"$t/comm")"
    done
}



# ---- redis-server (scripts/redis.sh: 127.0.0.1:16379+PORT_OFFSET, no persistence)
scripts/redis.sh start >/dev/null || die "could not start redis-server on 127.0.0.1:$REDIS_PORT (PORT_OFFSET=$PORT_OFFSET)"
REDIS_UP=1
RPID=$(cat "$BASE/redis/pid")
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
redis_writes() { # HSET + HDEL calls since the last CONFIG RESETSTAT
    rcli info commandstats | tr -d '\r' | awk -F'[=:,]' '$1 == "cmdstat_hset" || $1 == "cmdstat_hdel" { s += $3 } END { print s + 0 }'
}

luagate_conf() { # dir port window target(file|redis)
    {
        printf 'listen = "127.0.0.1:%s"\nqueue_dir = "%s/queue"\ncommit_window = "%s"\ntargets = {\n' "$2" "$1" "$3"
        case $4 in
        file) printf '  ["file:bench"] = { path = "%s/out.jsonl", fsync = true },\n' "$1" ;;
        redis) printf '  ["redis:bench"] = { address = "127.0.0.1:%s", key = "bucketevents", format = "namespace" },\n' "$REDIS_PORT" ;;
        esac
        echo "}"
    } >"$1/conf.lua"
}

# mval METRICS NAME [target]: value of NAME (summed over its labels, or NAME{target="T"})
mval() { awk -v n="$2" -v t="${3:-}" '
    { name = $1; sub(/\{.*/, "", name) }
    name == n && (t == "" || index($1, "target=\"" t "\"")) { s += $NF; f = 1 }
    END { printf "%.6f\n", f ? s : 0 }' <<<"$1"; }
int() { printf '%.0f' "$1"; }


# ---- load generators: each sets LINE to "key=value ..." with acked_rps (200
# answers per second in the measured window: the rate every ratio uses),
# p50_us, p99_us, non200, errors, answered (requests answered over the whole
# run), acked (of those, answered 200) and gen_cpu (the generator's own CPU
# µs per request).
gen_loadgen() { # port conns
    LINE=$("$BIN/loadgen" -p "$1" -c "$2" -d "$DUR" -w "$WARM" -f "$DATA") || return 1
    LINE+=" acked_rps=$(div "$(kv "$LINE" ok)" "$(kv "$LINE" duration_s)" %.0f)"
    LINE+=" answered=$(kv "$LINE" answered_total) acked=$(kv "$LINE" ok_total) gen_cpu=$(kv "$LINE" cpu_us_per_req)"
}
# cutime+cstime of PID: the CPU of the children it has waited for
child_ticks() { local st; read -r st <"/proc/$1/stat"; sed 's/^.*) //' <<<"$st" | awk '{ print $14 + $15 }'; }
gen_wrk() { # port conns: wrk's CPU is the child time of the subshell that waited for it
    local out=$TMP/wrk.out ticks
    ticks=$(
        wrk -t"$WRK_THREADS" -c"$2" -d"${DUR}s" --latency -s bench/wrk_events.lua \
            "http://127.0.0.1:$1/" -- "$DATA" >"$out" 2>&1 || exit 1
        child_ticks "$BASHPID"
    ) || { cat "$out" >&2; return 1; }
    LINE=$(grep '^wrk ' "$out") || { cat "$out" >&2; return 1; }
    local req non2xx
    req=$(kv "$LINE" requests); non2xx=$(kv "$LINE" non2xx)
    LINE+=" acked_rps=$(div $((req - non2xx)) "$(kv "$LINE" duration_s)" %.0f)"
    LINE+=" non200=$non2xx answered=$req acked=$((req - non2xx)) gen_cpu=$(us_per "$ticks" "$req")"
}

ROWS=()   # markdown rows
declare -A FLOOR_RPS FLOOR_GEN_CPU MAIN LUA
FAIL=0

# run_one GEN NAME CONNS [WINDOW]: start the server, load it with GEN, record a row.
run_one() {
    local gen=$1 name=$2 c=$3 win=${4:-$WINDOW} port dir pid
    next_port; port=$P
    dir=$(mktemp -d "$TMP/run.XXXX")
    case $name in
    floor) "$BIN/floor" "$port" 2>"$dir/log" & pid=$! ;;
    evhttp) "$BIN/evhttp_bare" "$port" 2>"$dir/log" & pid=$! ;;
    luagate-redis)
        luagate_conf "$dir" "$port" "$win" redis
        rcli del bucketevents >/dev/null; rcli config resetstat >/dev/null
        "$LUAGATE" -c "$dir/conf.lua" >"$dir/log" 2>&1 & pid=$! ;;
    luagate-file)
        luagate_conf "$dir" "$port" "$win" file
        "$LUAGATE" -c "$dir/conf.lua" >"$dir/log" 2>&1 & pid=$! ;;
    luagate-tmpfs) # diagnostic: fdatasync is free on tmpfs, so this is luagate minus the disk
        dir=$(mktemp -d "$SHM/run.XXXX")
        luagate_conf "$dir" "$port" "$win" file
        "$LUAGATE" -c "$dir/conf.lua" >"$dir/log" 2>&1 & pid=$! ;;
    esac
    PIDS+=("$pid")
    wait_port "$port" "$pid" 10 || { cat "$dir/log" >&2; die "$name did not start on 127.0.0.1:$port"; }

    local t0 t1 th0 th1="" r0 r1
    t0=$(cpu_ticks "$pid"); th0=$(thread_ticks "$(worker_pid "$pid")"); r0=$(cpu_ticks "$RPID")
    "gen_$gen" "$port" "$c" || { tail -5 "$dir/log" >&2; die "$gen failed against $name"; }
    t1=$(cpu_ticks "$pid")
    local rss hwm
    rss=$(status_kb "$(worker_pid "$pid")" VmRSS); hwm=$(status_kb "$(worker_pid "$pid")" VmHWM)

    local rps p50 p99 answered acked label=$name check="-" redis_cpu="-" lua="-" m i
    rps=$(kv "$LINE" acked_rps); p50=$(kv "$LINE" p50_us); p99=$(kv "$LINE" p99_us)
    answered=$(kv "$LINE" answered); acked=$(kv "$LINE" acked)
    case $name in
    luagate-redis)
        label="**luagate → redis (namespace)**, commit_window $win"
        # luagate's delivered counter must reach every acknowledged event,
        # and redis-server must have executed at least that many writes
        local deliv=0 depth=1 calls
        for ((i = 0; i < 600; i++)); do
            m=$(metrics "$port")
            deliv=$(int "$(mval "$m" luagate_events_delivered_total redis:bench)")
            depth=$(int "$(mval "$m" luagate_queue_depth redis:bench)")
            [ "$depth" -eq 0 ] && [ "$deliv" -ge "$acked" ] && break
            sleep 0.05
        done
        calls=$(redis_writes)
        if [ "$acked" -gt 0 ] && [ "$deliv" -ge "$acked" ] && [ "$calls" -ge "$deliv" ]; then
            check="$deliv/$acked, HSET+HDEL $calls"
        else
            echo "bench: FAIL: luagate acknowledged $acked events, delivered $deliv, redis counted $calls HSET+HDEL" >&2
            tail -5 "$dir/log" >&2
            FAIL=1; check="FAIL: $deliv/$acked, HSET+HDEL $calls"
        fi
        r1=$(cpu_ticks "$RPID")
        redis_cpu=$(us_per $((r1 - r0)) "$answered")
        lua=$(awk -v s="$(mval "$m" luagate_script_seconds_total)" -v n="$(mval "$m" luagate_script_runs_total)" \
            'BEGIN { if (n > 0) printf "%.2f", s * 1e6 / n; else print "-" }')
        ;;
    luagate-file | luagate-tmpfs)
        label="luagate → file (fsync), commit_window $win"
        [ "$name" = luagate-tmpfs ] && label="luagate → file on tmpfs, commit_window $win (not durable, diagnostic)"
        # every acknowledged event must reach the file target
        local n=0
        for ((i = 0; i < 600; i++)); do
            n=$(lines "$dir/out.jsonl")
            [ "$n" -ge "$acked" ] && break
            sleep 0.05
        done
        m=$(metrics "$port")
        lua=$(awk -v s="$(mval "$m" luagate_script_seconds_total)" -v n="$(mval "$m" luagate_script_runs_total)" \
            'BEGIN { if (n > 0) printf "%.2f", s * 1e6 / n; else print "-" }')
        if [ "$n" -lt "$acked" ] || [ "$acked" -eq 0 ]; then
            echo "bench: FAIL: luagate acknowledged $acked events but $dir/out.jsonl has $n lines" >&2
            tail -5 "$dir/log" >&2
            FAIL=1; check="FAIL: $n/$acked"
        elif [ "$(head -50 "$dir/out.jsonl" | grep -cvxFf "$DATA" || true)" != 0 ]; then
            echo "bench: FAIL: luagate wrote lines that are not the posted envelopes" >&2
            FAIL=1; check="FAIL: foreign lines"
        else
            check="$n/$acked"
        fi
        ;;
    esac
    if [ "$name" != "${name#luagate}" ]; then
        t1=$(cpu_ticks "$pid") # includes the delivery thread's work
        th1=$(thread_ticks "$(worker_pid "$pid")")
        hwm=$(status_kb "$(worker_pid "$pid")" VmHWM)
    fi
    stop_pid "$pid"
    rm -rf "$dir/queue" "$dir/out.jsonl"

    local cpu_us split="-" ratio
    cpu_us=$(us_per $((t1 - t0)) "$answered")
    if [ "$name" = floor ]; then FLOOR_RPS["$gen $c"]=$rps; FLOOR_GEN_CPU["$gen $c"]=$(kv "$LINE" gen_cpu); fi
    ratio=$(div "$rps" "${FLOOR_RPS["$gen $c"]:-0}" %.2f)
    if [ "$name" = luagate-redis ] && [ "$win" = "$WINDOW" ]; then
        MAIN["$gen $c"]="$rps $ratio $p50 $p99 $(kv "$LINE" non200) $(kv "$LINE" errors)"
        LUA["$gen $c"]=$lua
    fi
    [ "$name" = luagate-redis ] && ratio="**$ratio**"
    if [ -n "$th1" ]; then
        # threads in creation order (tid), by name: event loop (HTTP, router, journal append), committer, delivery...
        split=$(join <(sort <<<"$th0") <(sort <<<"$th1") | sort -n |
            awk -v t="$TCK" -v n="$answered" '{ printf "%s%s%.1f", (NR > 1 ? " / " : ""), ($5 == "luagate" ? "" : $5 " "), (n ? ($4 - $2) / t * 1e6 / n : 0) }')
    fi
    ROWS+=("| $gen | $label | $c | $rps | $ratio | $(ms "$p50") | $(ms "$p99") | $cpu_us | $split | $redis_cpu | $lua | $(awk -v a="$rss" -v b="$hwm" 'BEGIN{printf "%.1f / %.1f", a/1024, b/1024}') | $(kv "$LINE" non200)/$(kv "$LINE" errors) | $check | $(kv "$LINE" gen_cpu) |")
    printf '%-8s %-44s c=%-4s %7s acked/s  x%-5s p50 %6s us  p99 %7s us  non200/err %s/%s  srv %6s us/req (%s)  redis %s us  lua %s us  %s\n' \
        "$gen" "${label//\*/}" "$c" "$rps" "${ratio//\*/}" "$p50" "$p99" "$(kv "$LINE" non200)" "$(kv "$LINE" errors)" \
        "$cpu_us" "$split" "$redis_cpu" "$lua" "$check"
}

BG=$(busy_pct)
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
SECONDS=0
echo "bench: background load before the run: ${BG}% of $(nproc) CPUs; ${DUR}s per run (loadgen after ${WARM}s warm-up)"
for c in $CONNS; do
    run_one loadgen floor "$c"
    [ "$EVHTTP" = 1 ] && run_one loadgen evhttp "$c"
    run_one loadgen luagate-redis "$c"
    run_one loadgen luagate-file "$c"
    if [ "$WRK" = 1 ]; then
        run_one wrk floor "$c"
        run_one wrk luagate-redis "$c"
    fi
done
for w in $SWEEP; do
    for c in $CONNS; do run_one loadgen luagate-redis "$c" "$w"; done
done
if [ -n "$SHM" ]; then
    for c in $CONNS; do run_one loadgen luagate-tmpfs "$c"; done
fi

# ---- instructions per event (callgrind), on the goal path: luagate → redis ----
CG=""
if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null; then
    cg_run() { # count -> IR = total Ir of a luagate that served COUNT events and delivered them to Redis
        local n=$1 dir port pid i
        next_port; port=$P
        dir=$(mktemp -d "$TMP/cg.XXXX")
        luagate_conf "$dir" "$port" "$WINDOW" redis
        # one output per process (%p): the supervisor and the worker it forks
        valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out.%p" "$LUAGATE" -c "$dir/conf.lua" \
            >"$dir/log" 2>&1 & pid=$!
        PIDS+=("$pid")
        wait_port "$port" "$pid" 60 || { cat "$dir/log" >&2; die "luagate under callgrind did not start"; }
        "$BIN/loadgen" -p "$port" -c 64 -n "$n" -d 120 -f "$DATA" >"$dir/lg" || die "loadgen failed under callgrind"
        for ((i = 0; i < 1200; i++)); do
            [ "$(int "$(mval "$(metrics "$port")" luagate_events_delivered_total redis:bench)")" -ge "$n" ] && break
            sleep 0.05
        done
        stop_pid "$pid"
        IR=$(cat "$dir"/cg.out.* | awk '$1 == "totals:" { s += $2 } END { printf "%.0f\n", s }')
        local worker_out; worker_out=$(ls -S "$dir"/cg.out.* | head -1) # the worker's is the big one
        CG_TOP=$(callgrind_annotate --inclusive=no "$worker_out" 2>"$TMP/ann.err" | awk -v n="$n" '
            /file:function/ { on = 1; next }
            on && /^ *[0-9,]+ \(/ && k < 15 {
                ir = $1; gsub(",", "", ir)
                pct = ""; if (match($0, /\( *[0-9.]+%\)/)) { pct = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", pct) }
                line = $0; sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", line)
                obj = ""
                if (match(line, /\[[^]]*\]$/)) {
                    obj = substr(line, RSTART + 1, RLENGTH - 2); sub(/.*\//, "", obj)
                    line = substr(line, 1, RSTART - 2)
                }
                sub(/^.*\/(include|src|targets|malloc|libio|string|stdio-common|elf)\//, "&", line)
                printf "%8.0f Ir/event %7s  %s%s\n", ir / n, pct, line, obj == "" ? "" : "  (" obj ")"; k++
            }')
        [ -n "$CG_TOP" ] || { cat "$TMP/ann.err" >&2; echo "bench: callgrind_annotate gave no table" >&2; }
        [ -n "$IR" ] || die "no callgrind totals in $dir/cg.out"
        rm -rf "$dir/queue"
    }
    cg_run 2000; ir1=$IR
    cg_run 6000; ir2=$IR
    CG=$(awk -v a="$ir1" -v b="$ir2" 'BEGIN { printf "%.0f", (b - a) / 4000 }')
    echo "bench: callgrind: luagate → redis $CG Ir per event (user space, all threads; (Ir(6000) - Ir(2000)) / 4000)"
fi
ELAPSED=$SECONDS
BG_END=$(busy_pct)
scripts/redis.sh stop >/dev/null 2>&1 || true
REDIS_UP=0

# ---- goal records (bench/goals.sh turns them into the table at the top) ------
goal_records() {
    local gen c rps ratio p50 p99 non200 errors v
    for gen in loadgen wrk; do
        for c in 64 256; do
            if [ -z "${MAIN["$gen $c"]:-}" ]; then continue; fi
            read -r rps ratio p50 p99 non200 errors <<<"${MAIN["$gen $c"]}"
            # a refused request (non-200) is not an event through: MinIO would have to resend it
            v=$(awk -v r="$ratio" 'BEGIN { print r >= 0.6 ? "met" : "not met" }')
            [ "$non200" != 0 ] || [ "$errors" != 0 ] && v="not met; $non200 non-200 answers, $errors errors"
            goal "e2e-$( [ $gen = loadgen ] && echo lg || echo wrk )-$c" \
                "**$ratio ×** floor: $rps acked ev/s vs floor ${FLOOR_RPS["$gen $c"]}/s ($gen); p50 $(ms "$p50") ms, p99 $(ms "$p99") ms" "$v"
        done
    done
    if [ -n "$CG" ]; then
        goal ir "**$CG Ir/event** (callgrind, luagate → redis, all threads)" "$(awk -v v="$CG" 'BEGIN { print v <= 20000 ? "met" : "not met" }')"
    fi
    local k fig="" worst=0
    for k in "loadgen 64" "loadgen 256" "wrk 64" "wrk 256"; do
        [ -n "${LUA[$k]:-}" ] && [ "${LUA[$k]}" != - ] || continue
        fig+="${fig:+, }${k/ /@} **${LUA[$k]} µs**"
        worst=$(awk -v a="$worst" -v b="${LUA[$k]}" 'BEGIN { print (b > a ? b : a) }')
    done
    [ -n "$fig" ] && goal lua "$fig (luagate → redis rows)" "$(awk -v v="$worst" 'BEGIN { print v <= 3 ? "met" : "not met" }')"
    return 0
}

# ---- report -----------------------------------------------------------------
gen_ratio_note() { # one line per concurrency: both generators' floors, their own CPU, and the ratios
    local c
    for c in $CONNS; do
        [ -n "${MAIN["loadgen $c"]:-}" ] || continue
        printf -- '- %s connections: bench/loadgen: floor %s/s (loadgen %s µs CPU/req), luagate → redis **%s ×** floor' \
            "$c" "${FLOOR_RPS["loadgen $c"]}" "${FLOOR_GEN_CPU["loadgen $c"]}" "$(cut -d' ' -f2 <<<"${MAIN["loadgen $c"]}")"
        [ -n "${MAIN["wrk $c"]:-}" ] &&
            printf '; wrk: floor %s/s (wrk %s µs CPU/req, %s× loadgen'"'"'s), luagate → redis **%s ×** floor' \
                "${FLOOR_RPS["wrk $c"]}" "${FLOOR_GEN_CPU["wrk $c"]}" \
                "$(div "${FLOOR_GEN_CPU["wrk $c"]}" "${FLOOR_GEN_CPU["loadgen $c"]}")" "$(cut -d' ' -f2 <<<"${MAIN["wrk $c"]}")"
        echo
    done
}
{
    echo "# luagate end-to-end benchmark (issues #8, #19)"
    echo
    echo "Produced by \`make bench\` (bench/run.sh, then bench/targets.sh and bench/scale.sh). Date: $START. run.sh took ${ELAPSED}s."
    echo
    echo "## Goals"
    echo
    echo "Written by bench/goals.sh from the goal records of RESULTS.md (run.sh), TARGETS.md and SCALE.md;"
    echo "\"from\" is the script and the start of its run. The end-to-end ratio is given with both generators,"
    echo "each against the floor measured with itself: the generator shares the 2 CPUs, so the cheaper it is"
    echo "per request, the higher the floor and the harder the same ratio."
    echo
    echo "<!-- goals:begin -->"
    echo "<!-- goals:end -->"
    echo
    echo "Issue #19's rows come from bench/ack.sh (ACK.md: acknowledgement latency at 1, 4, 64, 256 connections"
    echo "against the disk's fdatasync, commit_window 0 beside 1ms, records per POST, ingest workers) and"
    echo "bench/callgrind.sh (CALLGRIND.md: Ir per event by stage); what was built, measured and left is in"
    echo "bench/README.md, \"Durable acks at the speed of the disk\"."
    echo
    echo "The goal row side by side, by generator (this run):"
    echo
    gen_ratio_note
    echo
    echo "## Rows"
    echo
    echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r)," \
        "$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)." \
        "Background load: ${BG}% of the CPUs busy in the second before the run, ${BG_END}% after" \
        "(load average now $(cut -d' ' -f1-3 /proc/loadavg))."
    echo
    echo "| generator | server | conns | acked req/s | × floor (same generator) | p50 ms | p99 ms | server CPU µs/req | luagate threads µs/req (thread name, creation order) | redis-server CPU µs/event | Lua route µs/event | RSS / peak MB | non-200/errors | delivered (or written)/acked | generator CPU µs/req |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    printf '%s\n' "${ROWS[@]}"
    echo
    if [ -n "$CG" ]; then
        echo "Instructions (callgrind, user space, all of luagate's threads, luagate → redis, commit_window $WINDOW):" \
            "**$CG Ir per event** = (Ir of a run with 6000 requests − Ir of a run with 2000) / 4000."
        echo
        echo "Where the instructions go (self Ir of the 6000-request run, start-up included, divided by 6000):"
        echo
        echo '```'
        echo "$CG_TOP"
        echo '```'
        echo
    fi
    cat <<EOF
How it was measured:

- Generators, both on the same $(nproc) CPUs as the servers:
  - \`bench/loadgen\` (one epoll thread), closed loop: each of *conns* keep-alive connections to
    127.0.0.1 has one POST in flight (what MinIO's webhook client does) and sends the next as soon
    as the answer arrives. ${WARM}s warm-up, then ${DUR}s measured; req/s and the latency histogram
    (log-linear, 1.6 % buckets) cover the measured window only. Its CPU per request is its own
    getrusage.
  - \`wrk -t$WRK_THREADS -cN -d${DUR}s --latency -s bench/wrk_events.lua\`: the same envelopes, one per
    POST, keep-alive, Content-Type application/json, requests formatted once at start. No warm-up
    (wrk has none); req/s, p50 and p99 are wrk's own (\`done()\` prints them). Its CPU per request
    is the cutime+cstime of the shell that waited for it, over the requests it completed.
- Bodies are the lines of \`$DATA\` ($(wc -l <"$DATA") MinIO webhook envelopes, one event each), cycled, with Content-Length.
- "acked req/s" counts the requests answered 200 in the measured window; "× floor" is that rate divided by the floor server's (bench/floor.c) req/s with the same generator
  at the same concurrency in this run.
- Server CPU µs/req: utime+stime of the server process (/proc/PID/stat) across the whole load
  (warm-up included) divided by every request it answered. For luagate it is read after the
  target has received every acknowledged event, so it includes delivery, the journal's group
  commit and the cursor updates. redis-server's CPU (same method, same interval) is its own column.
- luagate's CPU per thread (/proc/PID/task/*/stat and comm, threads in creation order): the event
  loop (HTTP parsing, JSON scan, Lua router, journal append with CRC, replies), the journal's
  committer (fdatasync per group), the target's delivery thread, and whatever else luagate runs.
- Lua route µs/event: luagate_script_seconds_total / luagate_script_runs_total from /metrics after
  the row (the default route, timed around each route() call).
- luagate: a fresh process and queue directory per row; default route; answers 200 only once the
  journal append is fdatasync'ed (group commit, window \`commit_window\`). Redis rows: one target
  \`redis:bench\`, format \`namespace\` (HSET per event, HDEL on delete) on redis-server
  $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') (scripts/redis.sh, 127.0.0.1:$REDIS_PORT, no persistence);
  the row fails unless luagate_events_delivered_total reaches the acknowledged count and Redis's
  own HSET+HDEL count (INFO commandstats, reset before the row) reaches the delivered count.
  File rows: one target \`file:bench\` with \`fsync = true\`; the row fails unless the file holds
  every acknowledged event and its lines are the posted envelopes.
- The box is noisy (±30 % between runs): compare ratios within one run, and trust CPU per
  request more than throughput.
EOF
    echo
    goal_records
} >"$OUT"
echo "bench: wrote $OUT (${ELAPSED}s)"
BENCH_OUT=$OUT bash bench/goals.sh
sed -n '/^<!-- goals:begin/,/^<!-- goals:end/p' "$OUT" | grep '^|'
[ "$FAIL" = 0 ] || die "FAILED: luagate lost acknowledged events (see above)"
