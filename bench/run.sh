#!/usr/bin/env bash
# bench/run.sh -- luagate's end-to-end benchmark (`make bench`).
#
# The same load generator (bench/loadgen.c: closed loop, N keep-alive
# connections, one request in flight each, MinIO webhook envelopes) runs
# against, in this order and for each concurrency:
#   floor        bench/floor.c, a minimal epoll server answering 200 (the ceiling)
#   evhttp       bench/evhttp_bare.c, bare libevent evhttp answering 200
#   luagate      ./luagate, default route -> one file target with fsync,
#                durable journal with group commit (ack after fdatasync)
# Every comparison is a ratio measured in the same run: the box is noisy.
# Server CPU is utime+stime from /proc/PID/stat around the load; for luagate
# it is read after the file target has drained, so it includes delivery.
# The run fails if luagate's output file does not hold every acknowledged event.
#
# Knobs (environment): BENCH_CONNS ("64 256"), BENCH_DURATION (5 s),
# BENCH_WARMUP (1 s), BENCH_WINDOW (commit_window of the main rows, 1ms),
# BENCH_SWEEP (other commit_window values tried at every concurrency, "0 2ms";
# "" to skip), BENCH_CALLGRIND (1 = count instructions per event with
# valgrind when it is installed, 0 = skip), BENCH_PORT (19500), LUAGATE (./luagate),
# BENCH_DATA (../shared/data/events/minio-webhook.jsonl), BENCH_OUT (bench/RESULTS.md).
set -euo pipefail

cd "$(dirname "$0")/.."
CONNS=${BENCH_CONNS:-"64 256"}
DUR=${BENCH_DURATION:-5}
WARM=${BENCH_WARMUP:-1}
WINDOW=${BENCH_WINDOW:-1ms}
SWEEP=${BENCH_SWEEP-"0 2ms"}
CALLGRIND=${BENCH_CALLGRIND:-1}
TMPFS=${BENCH_TMPFS:-1}
PORT=${BENCH_PORT:-19500}
LUAGATE=${LUAGATE:-./luagate}
DATA=${BENCH_DATA:-../shared/data/events/minio-webhook.jsonl}
OUT=${BENCH_OUT:-bench/RESULTS.md}
BIN=bench/build
CC=${CC:-cc}
CFLAGS="-std=c11 -Wall -Wextra -Werror -O2"

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$LUAGATE" ] || die "$LUAGATE is not built (run make)"
[ -r "$DATA" ] || die "cannot read $DATA"

# ---- build ------------------------------------------------------------------
mkdir -p "$BIN"
$CC $CFLAGS -o "$BIN/loadgen" bench/loadgen.c -lpthread
$CC $CFLAGS -o "$BIN/floor" bench/floor.c
# shellcheck disable=SC2046
$CC $CFLAGS $(pkg-config --cflags libevent) -o "$BIN/evhttp_bare" bench/evhttp_bare.c $(pkg-config --libs libevent)

TMP=$(mktemp -d /tmp/luagate-bench.XXXXXX)
SHM=""
[ "$TMPFS" = 1 ] && [ -d /dev/shm ] && SHM=$(mktemp -d /dev/shm/luagate-bench.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP" ${SHM:+"$SHM"}
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TCK=$(getconf CLK_TCK)
# utime+stime of PID in clock ticks (fields after "(comm)": state is 1, utime 12, stime 13)
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# "tid ticks" for every thread of PID
thread_ticks() { local t; for t in /proc/"$1"/task/*; do echo "${t##*/} $(sed 's/^.*) //' "$t/stat" | awk '{ print $12 + $13 }')"; done; }
# value of key $2 in the key=value line $1
kv() { local v; v=$(tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"); echo "${v:-0}"; }

wait_port() { # port pid seconds
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        kill -0 "$2" 2>/dev/null || return 1
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

stop_pid() { # pid: SIGTERM, then wait (SIGKILL after 10 s)
    local i
    kill -TERM "$1" 2>/dev/null || return 0
    for ((i = 0; i < 200; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

luagate_conf() { # dir port window
    cat >"$1/conf.lua" <<EOF
listen = "127.0.0.1:$2"
queue_dir = "$1/queue"
commit_window = "$3"
targets = {
  ["file:bench"] = { path = "$1/out.jsonl", fsync = true },
}
EOF
}

lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# Background load: share of both CPUs busy during 1 s before the run.
busy_pct() {
    local a b
    read -ra a </proc/stat; sleep 1; read -ra b </proc/stat
    local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) tot=0 i
    for ((i = 1; i < ${#a[@]}; i++)); do tot=$((tot + b[i] - a[i])); done
    echo $(( tot > 0 ? 100 * (tot - idle) / tot : 0 ))
}

ROWS=()   # markdown rows
declare -A FLOOR_RPS LG_RPS
FAIL=0

# run_one NAME CONNS [WINDOW]: start the server, load it, record a row.
run_one() {
    local name=$1 c=$2 win=${3:-} port dir pid
    port=$((PORT + ${#ROWS[@]} % 50))
    dir=$(mktemp -d "$TMP/run.XXXX")
    case $name in
    floor) "$BIN/floor" "$port" 2>"$dir/log" & pid=$! ;;
    evhttp) "$BIN/evhttp_bare" "$port" 2>"$dir/log" & pid=$! ;;
    luagate)
        luagate_conf "$dir" "$port" "$win"
        "$LUAGATE" -c "$dir/conf.lua" >"$dir/log" 2>&1 & pid=$! ;;
    luagate-tmpfs) # diagnostic: fdatasync is free on tmpfs, so this is luagate minus the disk
        dir=$(mktemp -d "$SHM/run.XXXX")
        luagate_conf "$dir" "$port" "$win"
        "$LUAGATE" -c "$dir/conf.lua" >"$dir/log" 2>&1 & pid=$! ;;
    esac
    PIDS+=("$pid")
    wait_port "$port" "$pid" 10 || { cat "$dir/log" >&2; die "$name did not start on 127.0.0.1:$port"; }

    local t0 t1 line th0 th1
    t0=$(cpu_ticks "$pid")
    th0=$(thread_ticks "$pid")
    line=$("$BIN/loadgen" -p "$port" -c "$c" -d "$DUR" -w "$WARM" -f "$DATA") ||
        { echo "$line" >&2; tail -5 "$dir/log" >&2; die "loadgen failed against $name"; }
    t1=$(cpu_ticks "$pid")
    local rss hwm
    rss=$(status_kb "$pid" VmRSS)
    hwm=$(status_kb "$pid" VmHWM)

    local rps p50 p99 non200 errors answered ok_total label check="-"
    rps=$(kv "$line" rps); p50=$(kv "$line" p50_us); p99=$(kv "$line" p99_us)
    non200=$(kv "$line" non200); errors=$(kv "$line" errors)
    answered=$(kv "$line" answered_total); ok_total=$(kv "$line" ok_total)
    label=$name
    if [ "$name" != "${name#luagate}" ]; then
        label="luagate, commit_window $win"
        [ "$name" = luagate-tmpfs ] && label="luagate on tmpfs, commit_window $win (not durable, diagnostic)"
        # every acknowledged event must reach the file target
        local i n=0
        for ((i = 0; i < 600; i++)); do
            n=$(lines "$dir/out.jsonl")
            [ "$n" -ge "$ok_total" ] && break
            sleep 0.05
        done
        t1=$(cpu_ticks "$pid") # includes the delivery thread's work
        th1=$(thread_ticks "$pid")
        hwm=$(status_kb "$pid" VmHWM)
        if [ "$n" -lt "$ok_total" ] || [ "$ok_total" -eq 0 ]; then
            echo "bench: FAIL: luagate acknowledged $ok_total events but $dir/out.jsonl has $n lines" >&2
            tail -5 "$dir/log" >&2
            FAIL=1; check="FAIL: $n/$ok_total"
        elif [ "$(head -50 "$dir/out.jsonl" | grep -cvxFf "$DATA" || true)" != 0 ]; then
            echo "bench: FAIL: luagate wrote lines that are not the posted envelopes" >&2
            FAIL=1; check="FAIL: foreign lines"
        else
            check="$n/$ok_total"
        fi
    fi
    stop_pid "$pid"

    local cpu_us
    cpu_us=$(awk -v d=$((t1 - t0)) -v t="$TCK" -v n="$answered" 'BEGIN { printf "%.1f", n ? d / t * 1e6 / n : 0 }')
    [ "$name" = floor ] && FLOOR_RPS[$c]=$rps
    [ "$name" = luagate ] && LG_RPS["$c $win"]=$rps
    local ratio
    ratio=$(awk -v a="$rps" -v b="${FLOOR_RPS[$c]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    local lg_cpu split="-"
    lg_cpu=$(kv "$line" cpu_us_per_req)
    if [ -n "${th1:-}" ]; then
        # threads in creation order: event loop (HTTP, router, journal append), committer (fdatasync), delivery
        split=$(join <(sort <<<"$th0") <(sort <<<"$th1") | sort -n |
            awk -v t="$TCK" -v n="$answered" '{ printf "%s%.1f", (NR > 1 ? " / " : ""), (n ? ($3 - $2) / t * 1e6 / n : 0) }')
    fi
    ROWS+=("| $label | $c | $rps | $ratio | $(awk -v v="$p50" 'BEGIN{printf "%.2f", v/1000}') | $(awk -v v="$p99" 'BEGIN{printf "%.2f", v/1000}') | $cpu_us | $split | $(awk -v a="$rss" -v b="$hwm" 'BEGIN{printf "%.1f / %.1f", a/1024, b/1024}') | $non200/$errors | $check | $lg_cpu |")
    printf '%-30s c=%-4s %7s req/s  x%-5s p50 %6s us  p99 %7s us  srv %6s us/req (%s)  non200/err %s/%s  written %s\n' \
        "$label" "$c" "$rps" "$ratio" "$p50" "$p99" "$cpu_us" "$split" "$non200" "$errors" "$check"
}

BG=$(busy_pct)
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
SECONDS=0
echo "bench: background load before the run: ${BG}% of $(nproc) CPUs; ${DUR}s per run after ${WARM}s warm-up"
for c in $CONNS; do
    run_one floor "$c"
    run_one evhttp "$c"
    run_one luagate "$c" "$WINDOW"
done
for w in $SWEEP; do
    for c in $CONNS; do run_one luagate "$c" "$w"; done
done
if [ -n "$SHM" ]; then
    for c in $CONNS; do run_one luagate-tmpfs "$c" "$WINDOW"; done
fi

# ---- instructions per event (callgrind) -------------------------------------
CG=""
if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null; then
    cg_run() { # count -> IR = total Ir of a luagate that served COUNT events and drained them
        local n=$1 dir port=$((PORT + 60)) pid i
        dir=$(mktemp -d "$TMP/cg.XXXX")
        luagate_conf "$dir" "$port" "$WINDOW"
        valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$LUAGATE" -c "$dir/conf.lua" \
            >"$dir/log" 2>&1 & pid=$!
        PIDS+=("$pid")
        wait_port "$port" "$pid" 60 || { cat "$dir/log" >&2; die "luagate under callgrind did not start"; }
        "$BIN/loadgen" -p "$port" -c 64 -n "$n" -d 120 -f "$DATA" >"$dir/lg" || die "loadgen failed under callgrind"
        for ((i = 0; i < 1200; i++)); do [ "$(lines "$dir/out.jsonl")" -ge "$n" ] && break; sleep 0.05; done
        stop_pid "$pid"
        IR=$(awk '$1 == "totals:" { print $2 }' "$dir/cg.out")
        CG_TOP=$(callgrind_annotate --inclusive=no "$dir/cg.out" 2>/dev/null | awk -v n="$n" '
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
        [ -n "$IR" ] || die "no callgrind totals in $dir/cg.out"
    }
    cg_run 2000; ir1=$IR
    cg_run 6000; ir2=$IR
    CG=$(awk -v a="$ir1" -v b="$ir2" 'BEGIN { printf "%.0f", (b - a) / 4000 }')
    echo "bench: callgrind: luagate $CG Ir per event (user space, all threads; (Ir(6000) - Ir(2000)) / 4000)"
fi
ELAPSED=$SECONDS
BG_END=$(busy_pct)

# ---- report -----------------------------------------------------------------
{
    echo "# luagate end-to-end benchmark"
    echo
    echo "Produced by \`make bench\` (bench/run.sh). Date: $START. Run time ${ELAPSED}s."
    echo
    echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r)," \
        "$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)." \
        "Background load: ${BG}% of the CPUs busy in the second before the run, ${BG_END}% after" \
        "(load average now $(cut -d' ' -f1-3 /proc/loadavg))."
    echo
    echo "| server | conns | req/s | × floor | p50 ms | p99 ms | server CPU µs/req | luagate threads µs/req: loop / commit / delivery | RSS / peak MB | non-200/errors | events written/acked | loadgen CPU µs/req |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Bar of issue #2 (luagate ≥ 0.25 × the floor's req/s in the same run):"
    echo
    for c in $CONNS; do
        best="" bestw=""
        for w in $WINDOW $SWEEP; do
            r=${LG_RPS["$c $w"]:-0}
            if [ -z "$best" ] || [ "$r" -gt "$best" ]; then best=$r bestw=$w; fi
        done
        awk -v c="$c" -v w="$WINDOW" -v a="${LG_RPS["$c $WINDOW"]:-0}" -v bw="$bestw" -v b="$best" -v f="${FLOOR_RPS[$c]:-0}" 'BEGIN {
            if (f <= 0) exit
            printf "- %s connections: commit_window %s: %.2f × floor (%s); best window %s: %.2f × floor (%s)\n",
                c, w, a / f, a / f >= 0.25 ? "meets the bar" : "below the bar", bw, b / f, b / f >= 0.25 ? "meets the bar" : "below the bar" }'
    done
    echo
    if [ -n "$CG" ]; then
        echo "Instructions (callgrind, user space, all of luagate's threads, commit_window $WINDOW):" \
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

- Load: \`bench/loadgen\` (one epoll thread), closed loop: each of *conns* keep-alive
  connections to 127.0.0.1 has one POST in flight (what MinIO's webhook client does) and sends
  the next as soon as the answer arrives. Bodies are the lines of \`$DATA\`, cycled, with
  Content-Length. ${WARM}s warm-up, then ${DUR}s measured; req/s and the latency histogram
  (log-linear, 1.6 % buckets) cover the measured window only.
- The load generator shares the $(nproc) CPUs with the server; its own CPU per request is the
  last column.
- "× floor" is req/s divided by the floor server's req/s at the same concurrency in this run.
- Server CPU µs/req: utime+stime of the server process (/proc/PID/stat) across the whole load
  (warm-up included) divided by every request it answered. For luagate it is read after the
  file target has written every acknowledged event, so it includes delivery (the target's
  write and fdatasync), the journal's group commit and the cursor updates.
- luagate's CPU per thread (/proc/PID/task/*/stat, threads in creation order): the event loop
  (HTTP parsing, JSON check, Lua router, journal append with CRC, replies), the journal's
  committer (fdatasync per group) and the file target's delivery thread (read the journal,
  write + fdatasync the output file, save the cursor).
- RSS: VmRSS at the end of the load / VmHWM (peak), from /proc/PID/status.
- luagate: a fresh process and queue directory per row; built-in MinIO router; one target
  \`file:bench\` with \`fsync = true\`; answers 200 only once the journal append is fdatasync'ed
  (group commit, window \`commit_window\`). The run fails unless the target's file holds at
  least as many lines as luagate acknowledged, and the lines are the posted envelopes.
- The box is noisy (±30 % between runs): compare ratios within one run, and trust CPU per
  request more than throughput.
EOF
} >"$OUT"
echo "bench: wrote $OUT (${ELAPSED}s)"
cat "$OUT" | sed -n '/^| server/,/^$/p'
[ "$FAIL" = 0 ] || die "FAILED: luagate lost acknowledged events (see above)"
