#!/usr/bin/env bash
# bench/scale.sh -- the issue #8 measurements that bench/run.sh does not make.
# It takes about 2.5 minutes and writes bench/SCALE.md and bench/latency.png,
# then has bench/goals.sh update the goal table of bench/RESULTS.md.
#
#   1. fan-out      events/s and CPU per event with 1, 2, 4, 10 file targets
#                   (fsync on, default route: every target gets every event),
#                   then a short run of each under strace that counts the
#                   fdatasync calls by file (journal, target files, cursors)
#   2. latency      open loop (loadgen -r) at fractions of the closed-loop
#                   maximum measured first in the same run; p50/p99; PNG plot;
#                   the disk's own fdatasync latency for a 64 × 1.5 KB batch
#                   (bench/fsyncbench.c) in the queue's filesystem, same run
#   3. memory       VmRSS/VmHWM idle (1 and 10 targets) and with 100 000
#                   events queued for an offline webhook target
#   4. redis        (off by default: bench/run.sh's goal rows measure this
#                   path now) luagate -> default route -> redis namespace
#                   target against the floor server; SCALE_REDIS_CONNS="64 256"
#
# Every comparison is a ratio inside one run: the box is a noisy 2-vCPU VM
# shared with other engineers (background load is recorded per section).
# Server CPU is utime+stime from /proc/PID/stat, read after the targets have
# drained, divided by the events luagate received (luagate_events_received_total).
#
# Knobs (environment): SCALE_DURATION (5 s), SCALE_WARMUP (1 s),
# SCALE_FANOUT ("1 2 4 10"), SCALE_FANOUT_CONNS (64), SCALE_STRACE_SECS (3; 0
# skips the strace runs), SCALE_RATES ("10 25 50 75 90 100 110", % of the
# closed-loop maximum), SCALE_OL_CONNS (256), SCALE_HALF_REPEAT (3), SCALE_QUEUED (100000),
# SCALE_FSYNC_SECS (3; 0 skips the disk baseline), SCALE_REDIS_CONNS (""),
# SCALE_PORT (21200; luagate/floor use SCALE_PORT..+60), PORT_OFFSET (1700:
# redis on 16379+PORT_OFFSET), LUAGATE (./luagate), SCALE_DATA
# (examples/events/minio-webhook.jsonl), SCALE_OUT (bench/SCALE.md),
# SCALE_PNG (bench/latency.png), BENCH_LOCK (a file: hold `flock` on it while
# this script runs).
set -euo pipefail
if [ -n "${BENCH_LOCK:-}" ] && [ "${BENCH_LOCK_HELD:-}" != "$BENCH_LOCK" ]; then
    export BENCH_LOCK_HELD=$BENCH_LOCK
    exec flock "$BENCH_LOCK" "$BASH" "$0" "$@"
fi

cd "$(dirname "$0")/.."
DUR=${SCALE_DURATION:-5}
WARM=${SCALE_WARMUP:-1}
FANOUT=${SCALE_FANOUT:-"1 2 4 10"}
FAN_CONNS=${SCALE_FANOUT_CONNS:-64}
STRACE_SECS=${SCALE_STRACE_SECS:-3}
RATES=${SCALE_RATES:-"10 25 50 75 90 100 110"}
OL_CONNS=${SCALE_OL_CONNS:-256}
HALF_REPEAT=${SCALE_HALF_REPEAT:-3}
QUEUED=${SCALE_QUEUED:-100000}
REDIS_CONNS=${SCALE_REDIS_CONNS:-}
FSYNC_SECS=${SCALE_FSYNC_SECS:-3}
PORT=${SCALE_PORT:-21200}
LUAGATE=${LUAGATE:-./luagate}
DATA=${SCALE_DATA:-examples/events/minio-webhook.jsonl}
OUT=${SCALE_OUT:-bench/SCALE.md}
PNG=${SCALE_PNG:-bench/latency.png}
BIN=bench/build
CC=${CC:-cc}
CFLAGS="-std=c11 -Wall -Wextra -Werror -O2"
export PORT_OFFSET=${PORT_OFFSET:-1700}

die() { echo "scale: $*" >&2; exit 1; }
log() { echo "scale: $*" >&2; }
[ -r "$DATA" ] || die "cannot read $DATA"
command -v curl >/dev/null || die "curl is needed (luagate's /metrics)"

# ---- build (only what is missing or older than its source) ------------------
if [ ! -x "$LUAGATE" ]; then
    log "$LUAGATE missing: running make"
    make -s >/dev/null || die "make failed"
fi
[ -x "$LUAGATE" ] || die "$LUAGATE is not built"
mkdir -p "$BIN"
[ "$BIN/loadgen" -nt bench/loadgen.c ] || $CC $CFLAGS -o "$BIN/loadgen" bench/loadgen.c -lpthread
[ "$BIN/floor" -nt bench/floor.c ] || $CC $CFLAGS -o "$BIN/floor" bench/floor.c
[ "$BIN/fsyncbench" -nt bench/fsyncbench.c ] || $CC $CFLAGS -o "$BIN/fsyncbench" bench/fsyncbench.c

TMP=$(mktemp -d /tmp/luagate-scale.XXXXXX)
export BASE=$TMP/servers
# shellcheck source=../scripts/lib.sh
. scripts/lib.sh # REDIS_PORT; its helpers are shadowed by this script's own below
. bench/lib.sh  # the helpers run.sh and scale.sh share
PIDS=()
REDIS_UP=0
cleanup() {
    local p
    # a luagate under strace is strace's child, not ours: kill it first, or
    # strace (and this script, holding the bench lock) waits for it forever
    [ -n "${STRACE_PID:-}" ] && [ -n "${LG:-}" ] && kill -KILL "$LG" 2>/dev/null
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.2
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    [ "$REDIS_UP" = 1 ] && scripts/redis.sh stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

thread_ticks() { local t; for t in /proc/"$1"/task/*; do echo "${t##*/} $(sed 's/^.*) //' "$t/stat" | awk '{ print $12 + $13 }')"; done; }
mb() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1024 }'; }



background() { echo "background: $(busy_pct)% of $(nproc) CPUs busy in the second before, load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

# ---- luagate helpers ----------------------------------------------------------

conf_head() { # dir port
    printf 'listen = "127.0.0.1:%s"\nqueue_dir = "%s/queue"\ntargets = {\n' "$2" "$1"
}
conf_files() { # dir port ntargets: N file targets with fsync
    local i
    { conf_head "$1" "$2"
      for ((i = 1; i <= $3; i++)); do printf '  ["file:%d"] = { path = "%s/out%d.jsonl", fsync = true },\n' "$i" "$1" "$i"; done
      echo "}"; } >"$1/conf.lua"
}

LG=""  # pid of the running luagate
start_luagate() { # dir port [strace-log]
    if [ -n "${3:-}" ]; then
        strace -f --seccomp-bpf -qq -y -T -e trace=fdatasync,fsync -o "$3" \
            "$LUAGATE" -c "$1/conf.lua" >"$1/log" 2>&1 &
        local sp=$! i
        PIDS+=("$sp")
        STRACE_PID=$sp
        for ((i = 0; i < 100; i++)); do LG=$(pgrep -P "$sp" | head -1 || true); [ -n "$LG" ] && break; sleep 0.05; done
        [ -n "$LG" ] || die "luagate did not start under strace"
    else
        "$LUAGATE" -c "$1/conf.lua" >"$1/log" 2>&1 &
        LG=$!
        PIDS+=("$LG")
    fi
    wait_port "$2" "$LG" 20 || { cat "$1/log" >&2; die "luagate did not start on 127.0.0.1:$2"; }
}
stop_luagate() {
    if [ -n "${STRACE_PID:-}" ]; then
        kill -TERM "$LG" 2>/dev/null || true
        local i
        for ((i = 0; i < 200; i++)); do kill -0 "$STRACE_PID" 2>/dev/null || break; sleep 0.05; done
        stop_pid "$STRACE_PID"
        STRACE_PID=""
    else
        stop_pid "$LG"
    fi
    LG=""
}

# metric PORT-output NAME [target]: value of NAME (or NAME{target="T"}) in a /metrics text
mval() { awk -v n="$2" -v t="${3:-}" '
    { name = $1; sub(/\{.*/, "", name) }
    name == n && (t == "" || index($1, "target=\"" t "\"")) { s += $NF; f = 1 }
    END { printf "%.0f\n", f ? s : 0 }' <<<"$1"; }

# wait_drained PORT OK_TOTAL: every target delivered all it was routed (depth 0) and at least OK_TOTAL
wait_drained() {
    local i m depth mind
    for ((i = 0; i < 1200; i++)); do
        m=$(metrics "$1")
        depth=$(awk '$1 ~ /^luagate_queue_depth\{/ { s += $NF } END { print s + 0 }' <<<"$m")
        mind=$(awk 'BEGIN { m = -1 } $1 ~ /^luagate_events_delivered_total\{/ { if (m < 0 || $NF < m) m = $NF } END { print m }' <<<"$m")
        [ "$depth" -eq 0 ] && [ "$mind" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}

# split of luagate's thread CPU: loop / committer / delivery (sum of the rest), µs per event
thread_split() { # th0 th1 events
    join <(sort <<<"$1") <(sort <<<"$2") | sort -n |
        awk -v t="$TCK" -v n="$3" '{ d = ($3 - $2) / t * 1e6 / n; if (NR == 1) l = d; else if (NR == 2) c = d; else r += d }
            END { printf "%.1f / %.1f / %.1f", l, c, r }'
}


START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
SECONDS=0
FAIL=0
GOALS=()

# =============================================================================
# 1. fan-out
# =============================================================================
log "1/4 fan-out: ${FANOUT} file targets, ${FAN_CONNS} connections, ${DUR}s each"
BG_FAN=$(background)
FAN_ROWS=()
FAN_FAIL=0
declare -A FAN_RPS FAN_CPU
for n in $FANOUT; do
    dir=$(mktemp -d "$TMP/fan$n.XXXX"); next_port; port=$P
    conf_files "$dir" "$port" "$n"
    start_luagate "$dir" "$port"
    t0=$(cpu_ticks "$LG"); th0=$(thread_ticks "$(worker_pid "$LG")")
    line=$("$BIN/loadgen" -p "$port" -c "$FAN_CONNS" -d "$DUR" -w "$WARM" -f "$DATA") ||
        { echo "$line" >&2; tail -5 "$dir/log" >&2; die "loadgen failed (fan-out $n)"; }
    ok_total=$(kv "$line" ok_total)
    wait_drained "$port" "$ok_total" || { log "FAIL: fan-out $n: targets did not drain"; FAIL=1; }
    t1=$(cpu_ticks "$LG"); th1=$(thread_ticks "$(worker_pid "$LG")")
    m=$(metrics "$port")
    ev=$(mval "$m" luagate_events_received_total)
    rss=$(status_kb "$(worker_pid "$LG")" VmRSS); hwm=$(status_kb "$(worker_pid "$LG")" VmHWM)
    split=$(thread_split "$th0" "$th1" "$ev")
    stop_luagate
    # every target's file holds every acknowledged event
    check="ok" minl=""
    for ((i = 1; i <= n; i++)); do
        l=$(lines "$dir/out$i.jsonl")
        if [ -z "$minl" ] || [ "$l" -lt "$minl" ]; then minl=$l; fi
    done
    if [ "$minl" -lt "$ok_total" ]; then check="FAIL: $minl/$ok_total"; FAIL=1; FAN_FAIL=1; else check="$minl/$ok_total"; fi
    rm -f "$dir"/out*.jsonl
    rm -rf "$dir/queue"
    rps=$(kv "$line" rps); cpu=$(us_per $((t1 - t0)) "$ev")
    FAN_RPS[$n]=$rps; FAN_CPU[$n]=$cpu
    msg_rate=$((rps * n))
    FAN_ROWS+=("| $n | $rps | $msg_rate | $(ms "$(kv "$line" p50_us)") | $(ms "$(kv "$line" p99_us)") | **$cpu** | $split | $(div "$cpu" "$n") | $(mb "$rss") / $(mb "$hwm") | $check |")
    log "  $n target(s): $rps ev/s, p99 $(ms "$(kv "$line" p99_us)") ms, $cpu us/event ($split), written/acked $check"
done

# fdatasync census under strace (a separate, shorter run per fan-out)
SYNC_ROWS=()
declare -A JSPS JEPS TSPE JSPE
if [ "$STRACE_SECS" -gt 0 ] && command -v strace >/dev/null; then
    log "    fdatasync census under strace, ${STRACE_SECS}s per fan-out"
    for n in $FANOUT; do
        dir=$(mktemp -d "$TMP/st$n.XXXX"); next_port; port=$P
        conf_files "$dir" "$port" "$n"
        start_luagate "$dir" "$port" "$dir/strace"
        line=$("$BIN/loadgen" -p "$port" -c "$FAN_CONNS" -d "$STRACE_SECS" -w 0 -f "$DATA") ||
            { echo "$line" >&2; die "loadgen failed under strace"; }
        wait_drained "$port" "$(kv "$line" ok_total)" || log "  (fan-out $n under strace did not drain)"
        ev=$(mval "$(metrics "$port")" luagate_events_received_total)
        secs=$(kv "$line" duration_s)
        stop_luagate
        # count calls by file: journal segments, journal directory, target files, cursors;
        # and the mean duration of a journal segment fdatasync
        read -r jn jdir tn cn jus < <(awk '
            function cat(p) { if (p ~ /\/journal\/[^\/]*\.seg$/) return "j"; if (p ~ /\/journal$/) return "d";
                              if (p ~ /\/cursors\//) return "c"; return "t" }
            / (fdatasync|fsync)\(/ {
                tid = $1; p = $0; sub(/^[^<]*</, "", p); sub(/>.*$/, "", p); c = cat(p); n[c]++
                if ($0 ~ /unfinished/) pend[tid] = c
                else if (match($0, /<[0-9.]+>$/)) { d = substr($0, RSTART + 1, RLENGTH - 2); s[c] += d; k[c]++ }
                next }
            /resumed>/ { tid = $1; c = pend[tid]; if (c != "" && match($0, /<[0-9.]+>$/)) { s[c] += substr($0, RSTART + 1, RLENGTH - 2); k[c]++ } }
            END { printf "%d %d %d %d %.0f\n", n["j"], n["d"], n["t"], n["c"], k["j"] ? s["j"] / k["j"] * 1e6 : 0 }' "$dir/strace")
        rm -rf "$dir/queue" "$dir"/out*.jsonl
        JSPS[$n]=$(div "$jn" "$secs" %.0f); JEPS[$n]=$(div "$ev" "$jn"); TSPE[$n]=$(div "$tn" "$ev" %.3f); JSPE[$n]=$(div "$jn" "$ev" %.4f)
        SYNC_ROWS+=("| $n | $ev | $(kv "$line" rps) | **$jn** (+$jdir dir) | $(div "$jn" "$secs" %.0f) | **$(div "$ev" "$jn")** | $jus | $tn | $cn | $(div "$((jn + jdir + tn + cn))" "$ev" %.3f) |")
        log "  $n target(s): $ev events, journal fdatasync $jn (+$jdir dir fsync), $(div "$ev" "$jn") events/sync, target files $tn, cursors $cn"
    done
fi

# =============================================================================
# 2. latency against offered load (open loop)
# =============================================================================
log "2/4 latency vs offered load: closed-loop maximum at $OL_CONNS connections, then open loop at ${RATES}%"
BG_LAT=$(background)
run_lat() { # mode-args... -> sets LINE, CPU
    local dir port t0 t1 ok
    dir=$(mktemp -d "$TMP/lat.XXXX"); next_port; port=$P
    conf_files "$dir" "$port" 1
    start_luagate "$dir" "$port"
    t0=$(cpu_ticks "$LG")
    LINE=$("$BIN/loadgen" -p "$port" -c "$OL_CONNS" -d "$DUR" -w "$WARM" -f "$DATA" "$@") ||
        { echo "$LINE" >&2; die "loadgen failed (latency $*)"; }
    ok=$(kv "$LINE" ok_total)
    wait_drained "$port" "$ok" || { log "FAIL: latency run did not drain"; FAIL=1; }
    t1=$(cpu_ticks "$LG")
    CPU=$(us_per $((t1 - t0)) "$(mval "$(metrics "$port")" luagate_events_received_total)")
    stop_luagate
    [ "$(lines "$dir/out1.jsonl")" -ge "$ok" ] || { log "FAIL: latency run lost events"; FAIL=1; }
    rm -rf "$dir"
}
run_lat
MAX=$(kv "$LINE" rps)
LAT_ROWS=("| closed loop (maximum) | - | $MAX | - | $(ms "$(kv "$LINE" p50_us)") | $(ms "$(kv "$LINE" p90_us)") | $(ms "$(kv "$LINE" p99_us)") | $(ms "$(kv "$LINE" max_us)") | 0 | $(kv "$LINE" non200)/$(kv "$LINE" errors) | $CPU |")
log "  closed loop: $MAX ev/s, p99 $(ms "$(kv "$LINE" p99_us)") ms"
# The disk alone, in the queue's filesystem: fdatasync of one group-commit-sized
# append (64 records of 1.5 KB), back to back, with nothing else of luagate's running.
DISK="" DISK_ROW=""
if [ "$FSYNC_SECS" != 0 ]; then
    dir=$(mktemp -d "$TMP/disk.XXXX")
    DISK=$("$BIN/fsyncbench" "$dir" "$FSYNC_SECS" 64 1536) || die "fsyncbench failed in $dir"
    rm -rf "$dir"
    DISK_ROW="| **disk alone**: fdatasync of a 64 × 1.5 KB append ($(df -T "$TMP" | awk 'NR == 2 { print $2 }'), bench/fsyncbench, ${FSYNC_SECS}s) | - | $(kv "$DISK" syncs_per_s) syncs/s | - | $(ms "$(kv "$DISK" p50_us)") | - | $(ms "$(kv "$DISK" p99_us)") | $(ms "$(kv "$DISK" max_us)") | - | - | - |"
    log "  disk alone: fdatasync of 64 x 1.5 KB: p50 $(kv "$DISK" p50_us) us, p99 $(kv "$DISK" p99_us) us, max $(kv "$DISK" max_us) us ($(kv "$DISK" syncs_per_s)/s)"
fi
DAT=$TMP/latency.dat
echo "# pct offered achieved p50_ms p90_ms p99_ms" >"$DAT"
P99_HALF="" P99_HALF_ALL=""
for pct in $RATES; do
    rate=$((MAX * pct / 100)); [ "$rate" -ge 1 ] || rate=1
    reps=1; [ "$pct" = 50 ] && reps=$HALF_REPEAT
    pts=()
    for ((k = 1; k <= reps; k++)); do
        run_lat -r "$rate"
        ach=$(kv "$LINE" rps); p50=$(ms "$(kv "$LINE" p50_us)"); p90=$(ms "$(kv "$LINE" p90_us)"); p99=$(ms "$(kv "$LINE" p99_us)")
        pts+=("$p99 $pct $rate $ach $p50 $p90 $p99")
        label="$pct %"; [ "$reps" -gt 1 ] && label="$pct % (#$k)"
        LAT_ROWS+=("| $label | $rate | $ach | $(div "$ach" "$rate" %.2f) | $p50 | $p90 | $p99 | $(ms "$(kv "$LINE" max_us)") | $(kv "$LINE" backlog) | $(kv "$LINE" non200)/$(kv "$LINE" errors) | $CPU |")
        log "  $label ($rate/s): achieved $ach, p50 $p50 ms, p99 $p99 ms"
    done
    # the plot and the goal take the repeat with the median p99
    med=$(printf '%s\n' "${pts[@]}" | sort -g | sed -n "$(( (reps + 1) / 2 ))p")
    cut -d' ' -f2- <<<"$med" >>"$DAT"
    if [ "$pct" = 50 ]; then
        P99_HALF=$(cut -d' ' -f1 <<<"$med")
        P50_HALF=$(cut -d' ' -f5 <<<"$med")
        P99_HALF_ALL=$(printf '%s\n' "${pts[@]}" | cut -d' ' -f1 | paste -sd' ')
        [ -n "$DISK_ROW" ] && LAT_ROWS+=("$DISK_ROW")
    fi
done
PLOT=""
if command -v gnuplot >/dev/null; then
    gnuplot -e "datafile='$DAT'; outfile='$PNG'; maxrate=$MAX; conns=$OL_CONNS; stamp='$START'" bench/plot.gp &&
        PLOT=$PNG || log "gnuplot failed; no plot"
else
    log "gnuplot not installed (apt-get install -y gnuplot-nox): no plot"
fi

# =============================================================================
# 3. memory
# =============================================================================
log "3/4 memory: idle with 1 and 10 targets, then $QUEUED events queued for an offline webhook"
BG_MEM=$(background)
MEM_ROWS=()
declare -A IDLE
for n in 1 10; do
    dir=$(mktemp -d "$TMP/mem$n.XXXX"); next_port; port=$P
    conf_files "$dir" "$port" "$n"
    start_luagate "$dir" "$port"
    sleep 2
    rss=$(status_kb "$(worker_pid "$LG")" VmRSS); hwm=$(status_kb "$(worker_pid "$LG")" VmHWM)
    MEM_ROWS+=("| idle, 2 s after start, $n file target(s) | - | $(mb "$rss") | $(mb "$hwm") | $(awk -v r="$hwm" 'BEGIN { print r <= 32768 ? "≤ 32 MB: met" : "> 32 MB: NOT met" }') |")
    IDLE["$n"]="$rss $hwm"
    [ "$n" = 10 ] && GOALS+=("- RSS idle with 10 targets: VmRSS $(mb "$rss") MB, VmHWM $(mb "$hwm") MB ($(awk -v r="$hwm" 'BEGIN { print r <= 32768 ? "≤ 32 MB: **met**" : "> 32 MB: **not met**" }'))")
    stop_luagate; rm -rf "$dir"
done
dir=$(mktemp -d "$TMP/memq.XXXX"); next_port; port=$P; next_port; dead=$P
{ conf_head "$dir" "$port"
  printf '  ["webhook:1"] = { endpoint = "http://127.0.0.1:%s/", queue_limit = %s },\n}\n' "$dead" "$QUEUED"; } >"$dir/conf.lua"
start_luagate "$dir" "$port"
sleep 1
rss0=$(status_kb "$(worker_pid "$LG")" VmRSS)
line=$("$BIN/loadgen" -p "$port" -c 64 -n "$QUEUED" -d 120 -f "$DATA") || { echo "$line" >&2; die "loadgen -n failed"; }
sleep 2
m=$(metrics "$port")
depth=$(mval "$m" luagate_queue_depth webhook:1)
qbytes=$(mval "$m" luagate_queue_bytes)
rss=$(status_kb "$(worker_pid "$LG")" VmRSS); hwm=$(status_kb "$(worker_pid "$LG")" VmHWM); QHWM=$hwm QRSS=$rss QDEPTH=$depth
qok="ok"; [ "$depth" -ge "$QUEUED" ] || qok="only $depth queued"
MEM_ROWS+=("| $QUEUED events queued for an offline webhook (closed port), 2 s after the last | $depth ($(awk -v b="$qbytes" 'BEGIN { printf "%.0f", b / 1048576 }') MB journal) | $(mb "$rss") | $(mb "$hwm") | $(awk -v r="$hwm" 'BEGIN { print r <= 65536 ? "≤ 64 MB: met" : "> 64 MB: NOT met" }') |")
GOALS+=("- RSS with $QUEUED events queued: VmRSS $(mb "$rss") MB, VmHWM $(mb "$hwm") MB (idle before the load $(mb "$rss0") MB; $(awk -v r="$hwm" 'BEGIN { print r <= 65536 ? "≤ 64 MB: **met**" : "> 64 MB: **not met**" }'); queue depth $depth: $qok)")
MEM_NOTE="posted at $(kv "$line" rps) events/s (64 connections), $(kv "$line" non200) non-200, $(kv "$line" errors) errors"
log "  queued $depth: VmRSS $(mb "$rss") MB, VmHWM $(mb "$hwm") MB ($MEM_NOTE)"
stop_luagate; rm -rf "$dir"

# =============================================================================
# 4. Redis end to end
# =============================================================================
RED_ROWS=()
REDIS_NOTE=""
if [ -z "${REDIS_CONNS// /}" ]; then
    log "4/4 redis: skipped (bench/run.sh measures luagate -> redis; SCALE_REDIS_CONNS=\"64 256\" runs it here too)"
    BG_RED="(skipped)"
elif command -v redis-server >/dev/null; then
    log "4/4 redis: floor vs luagate -> redis namespace target, ${REDIS_CONNS} connections"
    BG_RED=$(background)
    scripts/redis.sh start >/dev/null || die "could not start redis on 127.0.0.1:$REDIS_PORT"
    REDIS_UP=1
    RPID=$(cat "$BASE/redis/pid")
    rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
    declare -A FLOOR
    for c in $REDIS_CONNS; do
        next_port; port=$P
        "$BIN/floor" "$port" 2>/dev/null & fp=$!; PIDS+=("$fp")
        wait_port "$port" "$fp" 10 || die "floor did not start"
        t0=$(cpu_ticks "$fp")
        line=$("$BIN/loadgen" -p "$port" -c "$c" -d "$DUR" -w "$WARM" -f "$DATA") || die "loadgen failed against floor"
        t1=$(cpu_ticks "$fp")
        stop_pid "$fp"
        FLOOR[$c]=$(kv "$line" rps)
        RED_ROWS+=("| floor | $c | ${FLOOR[$c]} | 1.00 | $(ms "$(kv "$line" p50_us)") | $(ms "$(kv "$line" p99_us)") | $(us_per $((t1 - t0)) "$(kv "$line" answered_total)") | - | - | - | - |")

        dir=$(mktemp -d "$TMP/redis$c.XXXX"); next_port; port=$P
        { conf_head "$dir" "$port"
          printf '  ["redis:1"] = { address = "127.0.0.1:%s", key = "bucketevents", format = "namespace" },\n}\n' "$REDIS_PORT"; } >"$dir/conf.lua"
        rcli del bucketevents >/dev/null; rcli config resetstat >/dev/null
        start_luagate "$dir" "$port"
        t0=$(cpu_ticks "$LG"); r0=$(cpu_ticks "$RPID")
        line=$("$BIN/loadgen" -p "$port" -c "$c" -d "$DUR" -w "$WARM" -f "$DATA") ||
            { echo "$line" >&2; tail -5 "$dir/log" >&2; die "loadgen failed against luagate -> redis"; }
        ok_total=$(kv "$line" ok_total)
        drained=1; wait_drained "$port" "$ok_total" || drained=0
        t1=$(cpu_ticks "$LG"); r1=$(cpu_ticks "$RPID")
        m=$(metrics "$port")
        ev=$(mval "$m" luagate_events_received_total)
        deliv=$(mval "$m" luagate_events_delivered_total redis:1)
        routed=$(mval "$m" luagate_events_routed_total redis:1)
        dead=$(mval "$m" luagate_events_dead_lettered_total redis:1)
        stop_luagate
        calls=$(rcli info commandstats | tr -d '\r' | awk -F'[=:,]' '$1 == "cmdstat_hset" || $1 == "cmdstat_hdel" { s += $3 } END { print s + 0 }')
        hlen=$(rcli hlen bucketevents | tr -d '\r')
        if [ "$drained" = 1 ] && [ "$deliv" -ge "$ok_total" ] && [ "$deliv" = "$routed" ] && [ "$calls" -ge "$deliv" ]; then
            check="$deliv/$ok_total"
        else
            check="FAIL: delivered $deliv, routed $routed, acked $ok_total, redis calls $calls"; FAIL=1
        fi
        rps=$(kv "$line" rps)
        ratio=$(div "$rps" "${FLOOR[$c]}" %.2f)
        RED_ROWS+=("| luagate → redis:1 (namespace) | $c | $rps | **$ratio** | $(ms "$(kv "$line" p50_us)") | $(ms "$(kv "$line" p99_us)") | $(us_per $((t1 - t0)) "$ev") | $(us_per $((r1 - r0)) "$ev") | $check | $calls | $hlen |")
        GOALS+=("- Redis path at $c connections: $rps events/s = **$ratio × floor** ($(awk -v r="$ratio" 'BEGIN { print r >= 0.6 ? "≥ 0.6: **met**" : "< 0.6: **not met**" }')); delivered/acked $check, dead-lettered $dead")
        log "  c=$c: floor ${FLOOR[$c]}, luagate->redis $rps (x$ratio), delivered/acked $check, HSET+HDEL $calls, HLEN $hlen"
        rm -rf "$dir"
    done
    scripts/redis.sh stop >/dev/null 2>&1 || true
    REDIS_UP=0
    REDIS_NOTE="redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$REDIS_PORT (scripts/redis.sh, PORT_OFFSET=$PORT_OFFSET, no persistence)"
else
    log "4/4 redis: redis-server not installed, skipped"
    BG_RED="(skipped)"
fi

ELAPSED=$SECONDS

# ---- goals --------------------------------------------------------------------
if [ -n "$P99_HALF" ]; then
    dnote=""
    [ -n "$DISK" ] && dnote="; the disk alone (fdatasync of a 64 × 1.5 KB append, same run): p50 $(ms "$(kv "$DISK" p50_us)") ms, p99 $(ms "$(kv "$DISK" p99_us)") ms, max $(ms "$(kv "$DISK" max_us)") ms"
    GOALS=("- Open loop at 50 % of the closed-loop maximum ($((MAX / 2))/s): median p99 $P99_HALF ms of $HALF_REPEAT runs ($P99_HALF_ALL) ($(awk -v p="$P99_HALF" 'BEGIN { print p <= 10 ? "≤ 10 ms: **met**" : "> 10 ms: **not met**" }'))$dnote" "${GOALS[@]}")
fi
if [ ${#SYNC_ROWS[@]} -gt 0 ]; then
    g="- One journal fdatasync per group commit, not one per target (strace):"
    for n in $FANOUT; do g+=" $n target(s) ${JSPS[$n]} journal syncs/s, ${JEPS[$n]} events per sync (${JSPE[$n]} per event);"; done
    n1=${FANOUT%% *}; nN=${FANOUT##* }
    g+=" with $nN targets the journal makes $(div "${JSPE[$nN]}" "${JSPE[$n1]}" %.1f)× the syncs per event of $n1 (one sync per target would be $((nN / n1))×; journal syncs per second stay roughly level, one per commit cycle of window + fdatasync, so syncs per event rise only because fewer events arrive per cycle when the delivery threads share the CPUs)."
    g+=" The \`file\` targets' own output-file fdatasyncs do multiply (one per delivery batch per target:"
    for n in $FANOUT; do g+=" ${TSPE[$n]}"; done
    GOALS+=("$g per event)")
fi

# ---- goal records (bench/goals.sh puts them in RESULTS.md's goal table) -------
verdict() { awk -v v="$1" -v bar="$2" 'BEGIN { print v <= bar ? "met" : "not met" }'; }
goal_records() {
    local n fig
    if [ -n "$P99_HALF" ]; then
        fig="**p99 $P99_HALF ms** (median of $HALF_REPEAT runs: $P99_HALF_ALL), p50 $P50_HALF ms, at $((MAX / 2)) ev/s = 50 % of the closed-loop maximum $MAX/s (luagate → file, $OL_CONNS conns, open loop)"
        [ -n "$DISK" ] && fig+="; the disk alone: fdatasync p50 $(ms "$(kv "$DISK" p50_us)") / p99 $(ms "$(kv "$DISK" p99_us)") / max $(ms "$(kv "$DISK" max_us)") ms"
        goal p99-half "$fig" "$(verdict "$P99_HALF" 10)"
    fi
    if [ -n "${IDLE[10]:-}" ]; then
        read -r r1 h1 <<<"${IDLE[1]}"; read -r r10 h10 <<<"${IDLE[10]}"
        goal rss-idle "**$(mb "$h10") MB** peak with 10 targets (VmRSS $(mb "$r10")); $(mb "$h1") MB with 1" "$(verdict "$h10" 32768)"
    fi
    [ -n "${QHWM:-}" ] && goal rss-queued "**$(mb "$QHWM") MB** peak (VmRSS $(mb "$QRSS")) with $QDEPTH events queued for an offline webhook" \
        "$( [ "$QDEPTH" -ge "$QUEUED" ] && verdict "$QHWM" 65536 || echo "not met; only $QDEPTH queued" )"
    fig=""
    for n in $FANOUT; do fig+="${fig:+, }$n → **${FAN_RPS[$n]}** ev/s (${FAN_CPU[$n]} µs CPU/event)"; done
    goal fanout "$fig; $FAN_CONNS conns, file targets with fsync" "$( [ "$FAN_FAIL" = 0 ] && echo "met (measured; every target got every acked event)" || echo "not met; a target missed acked events" )"
    if [ ${#SYNC_ROWS[@]} -gt 0 ]; then
        local n1=${FANOUT%% *} nN=${FANOUT##* } grow
        fig=""
        for n in $FANOUT; do fig+="${fig:+, }$n → ${JSPS[$n]}/s (${JEPS[$n]} ev/sync)"; done
        grow=$(div "${JSPS[$nN]}" "${JSPS[$n1]}" %.2f)
        goal fsync "journal fdatasyncs/s by targets: $fig: **${grow}×** the syncs/s with $nN targets as with $n1 (one per target would be $((nN / n1))×); cursors ≤ 1 sync/s per target (strace)" \
            "$(awk -v g="$grow" 'BEGIN { print g <= 1.5 ? "met" : "not met" }')"
    fi
    return 0
}

# ---- report -------------------------------------------------------------------
HIST=""
[ -f "$OUT" ] && HIST=$(sed -n '/^## Run history/,$p' "$OUT" | grep '^- ' || true)
fanline=""; for n in $FANOUT; do fanline+="${fanline:+, }$n→${FAN_RPS[$n]}/s ${FAN_CPU[$n]} µs"; done
redline=""; for r in "${GOALS[@]}"; do case $r in *"Redis path"*) redline+="${redline:+, }$(sed 's/.*Redis path at \([0-9]*\) connections:.*= \*\*\([0-9.]*\) × floor.*/\1 conns \2×/' <<<"$r")" ;; esac; done
HIST+=$'\n'"- $START: fan-out $fanline; closed max $MAX/s, p99 at 50 % ${P99_HALF:--} ms; RSS $QUEUED queued $(mb "$QHWM") MB peak; redis ${redline:--} floor; load average $(cut -d' ' -f1 /proc/loadavg)"
{
    echo "# luagate scale measurements (issue #8)"
    echo
    echo "Produced by \`bash bench/scale.sh\`. Date: $START. Run time ${ELAPSED}s. ${DUR}s measured after ${WARM}s warm-up per row."
    echo
    echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r)," \
        "$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo). Load generator: bench/loadgen (one epoll thread) on the same CPUs." \
        "The box is noisy and shared: compare within a table, trust CPU µs per event more than events/s."
    echo
    echo "## Goals"
    echo
    printf '%s\n' "${GOALS[@]}"
    echo
    echo "## 1. Fan-out: one event to N file targets"
    echo
    echo "Default route, N \`file\` targets with \`fsync = true\` (every target matches every event), commit_window 0 (the default: natural group commit),"
    echo "$FAN_CONNS connections, closed loop. CPU is luagate's utime+stime until every target has delivered every event,"
    echo "per event received; the thread split is event loop / journal committer / all delivery threads."
    echo
    echo "_${BG_FAN}_"
    echo
    echo "| targets | events/s | messages delivered/s | p50 ms | p99 ms | CPU µs/event | loop / commit / delivery µs | CPU µs per message | RSS / peak MB | min lines written/acked |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    printf '%s\n' "${FAN_ROWS[@]}"
    echo
    if [ ${#SYNC_ROWS[@]} -gt 0 ]; then
        echo "### fdatasync census (strace)"
        echo
        echo "A separate ${STRACE_SECS}s run per row with luagate started under"
        echo "\`strace -f --seccomp-bpf -y -T -e trace=fdatasync,fsync\` (only those calls stop the process), same load,"
        echo "until the targets drained. Calls are sorted by the file they sync: journal segments (the shared queue,"
        echo "src/queue.c; \"dir\" is the fsync of the journal directory after a segment rotation), the targets' output"
        echo "files (the file driver syncs once per delivery batch) and the per-target cursor files (synced at most once a second)."
        echo
        echo "| targets | events | events/s (under strace) | journal fdatasync | journal syncs/s | events per journal sync | µs per journal sync | target-file fdatasync | cursor fdatasync | all syncs per event |"
        echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        printf '%s\n' "${SYNC_ROWS[@]}"
        echo
    fi
    echo "## 2. Latency against offered load (open loop)"
    echo
    echo "luagate → one \`file\` target (fsync), $OL_CONNS connections. First a closed loop finds the maximum; then"
    echo "\`loadgen -r RATE\` offers a fixed timetable at each fraction of it. Latency is measured from the time each"
    echo "request was due, so queueing behind a slow server counts (no coordinated omission); \"backlog\" is the"
    echo "requests that were due but had not been sent when the run ended. A fresh luagate per row; the 50 % point"
    echo "is run $HALF_REPEAT times and the plot shows the run with the median p99. The **disk alone** row (after the"
    echo "50 % runs) is \`bench/fsyncbench\` in the same filesystem as the queue, measured in this run before the"
    echo "open-loop rows: one write of 64 records of 1.5 KB, then fdatasync, back to back for ${FSYNC_SECS}s; its"
    echo "p50/p99/max is the fdatasync alone, the floor under every acknowledgement."
    echo
    echo "_${BG_LAT}_"
    echo
    echo "| offered (% of max) | offered /s | achieved /s | achieved/offered | p50 ms | p90 ms | p99 ms | max ms | backlog | non-200/errors | luagate CPU µs/event |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    printf '%s\n' "${LAT_ROWS[@]}"
    echo
    [ -n "$PLOT" ] && echo "![achieved events/s and latency against offered load]($(basename "$PLOT"))" && echo
    echo "## 3. Memory"
    echo
    echo "VmRSS and VmHWM (peak) from /proc/PID/status. The queued row: one \`webhook\` target whose endpoint is a"
    echo "closed port on 127.0.0.1 (offline, retrying with backoff), \`loadgen -n $QUEUED\`: $MEM_NOTE."
    echo
    echo "_${BG_MEM}_"
    echo
    echo "| state | queue depth | VmRSS MB | VmHWM MB | goal |"
    echo "| --- | --- | --- | --- | --- |"
    printf '%s\n' "${MEM_ROWS[@]}"
    echo
    echo "## 4. Redis end to end"
    echo
    if [ ${#RED_ROWS[@]} -gt 0 ]; then
        echo "luagate, default route, one \`redis\` target, format \`namespace\` (HSET per event, HDEL on delete), against"
        echo "$REDIS_NOTE; the floor server at the same concurrency in the same run. Delivered/acked: luagate's"
        echo "\`luagate_events_delivered_total{target=\"redis:1\"}\` after the queue drained against loadgen's acknowledged"
        echo "count (delivered must equal routed and be at least acknowledged; luagate also answers the requests still"
        echo "in flight when loadgen stops counting); \"HSET+HDEL\" is Redis's own command count (INFO commandstats,"
        echo "reset before each run). HLEN is at most the number of distinct keys in the sample file (loadgen cycles its"
        echo "$(wc -l <"$DATA") lines; deletes remove keys)."
        echo
        echo "_${BG_RED}_"
        echo
        echo "| server | conns | events/s | × floor | p50 ms | p99 ms | luagate (or floor) CPU µs/event | redis-server CPU µs/event | delivered/acked | HSET+HDEL | HLEN |"
        echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        printf '%s\n' "${RED_ROWS[@]}"
    else
        echo "Skipped: redis-server is not installed."
    fi
    echo
    echo "## Run history"
    echo
    echo "One line per run of this script (fan-out: targets→events/s CPU µs/event)."
    echo
    grep '^- ' <<<"$HIST" || true
    echo
    goal_records
} >"$OUT"
log "wrote $OUT${PLOT:+ and $PLOT} (${ELAPSED}s)"
SCALE_OUT=$OUT bash bench/goals.sh || log "bench/goals.sh could not update the goal table (run bench/run.sh first)"
[ "$FAIL" = 0 ] || die "FAILED: see the messages above"
