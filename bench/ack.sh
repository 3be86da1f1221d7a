#!/usr/bin/env bash
# bench/ack.sh -- issue #19's rows: how fast a durable acknowledgement is,
# against the disk's own fdatasync, in one run; writes bench/ACK.md.
#
#   1. the disk alone: fdatasync p50/p99 of one 1.5 KB write into a
#      pre-zeroed file, as the journal writes (bench/fsyncbench ... zeroed,
#      same filesystem as the queue), before and after the rows;
#   2. luagate → redis (MinIO envelopes, one per POST, keep-alive, default
#      route, journal fdatasync before the 200, format namespace) at 1, 4,
#      64 and 256 connections, for each commit_window of ACK_WINDOWS
#      (0 = natural group commit, the default; 1ms = the old default):
#      acked events/s, p50/p99, luagate's CPU µs per event;
#   3. S3-style bodies of 1, 10 and 100 records per POST ({"Records":[...]}),
#      64 connections: events/s and CPU µs per event;
#   4. ingest_workers 1, 2 and 4, 64 connections.
# The ack-latency goal (ERRATA of issue #16/#19) is measured at 1 connection:
# events/s ≥ 0.7 / fdatasync p50 of the same run.
#
# Knobs: ACK_WINDOWS ("0 1ms"), ACK_CONNS ("1 4 64 256"), ACK_DURATION (4 s),
# ACK_RECORDS ("1 10 100"), ACK_WORKERS ("1 2 4"), ACK_PORT (21800),
# ACK_OUT (bench/ACK.md), LUAGATE (./luagate), ACK_BASELINE (another luagate
# binary: each latency row is run with it too, right after, to measure a
# change against its baseline in one run) and ACK_BASELINE_NAME (its label), PORT_OFFSET (redis on
# 16379+PORT_OFFSET), BENCH_LOCK (hold flock on it while running).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${BENCH_LOCK:-}" ] && [ "${BENCH_LOCK_HELD:-}" != "$BENCH_LOCK" ]; then
    export BENCH_LOCK_HELD=$BENCH_LOCK
    exec flock "$BENCH_LOCK" "$BASH" "$0" "$@"
fi
WINDOWS=${ACK_WINDOWS:-"0 1ms"}
CONNS=${ACK_CONNS:-"1 4 64 256"}
DUR=${ACK_DURATION:-4}
RECORDS=${ACK_RECORDS:-"1 10 100"}
WORKERS=${ACK_WORKERS:-"1 2 4"}
PORT=${ACK_PORT:-21800}
OUT=${ACK_OUT:-bench/ACK.md}
LUAGATE=${LUAGATE:-./luagate}
BASELINE=${ACK_BASELINE:-}
BASELINE_NAME=${ACK_BASELINE_NAME:-$BASELINE}
DATA=examples/events/minio-webhook.jsonl
BIN=bench/build
CC=${CC:-cc}
CFLAGS="-std=c11 -Wall -Wextra -Werror -O2"
export PORT_OFFSET=${PORT_OFFSET:-1700}

die() { echo "ack: $*" >&2; exit 1; }
[ -x "$LUAGATE" ] || die "$LUAGATE is not built (run make)"
command -v redis-server >/dev/null || die "redis-server is needed (scripts/deps.sh installs it)"
command -v python3 >/dev/null || die "python3 is needed (it writes the multi-record bodies)"
mkdir -p "$BIN"
[ "$BIN/loadgen" -nt bench/loadgen.c ] || $CC $CFLAGS -o "$BIN/loadgen" bench/loadgen.c -lpthread
[ "$BIN/fsyncbench" -nt bench/fsyncbench.c ] && grep -q zeroed "$BIN/fsyncbench" || $CC $CFLAGS -o "$BIN/fsyncbench" bench/fsyncbench.c
[ "$BIN/floor" -nt bench/floor.c ] || $CC $CFLAGS -o "$BIN/floor" bench/floor.c

TMP=$(mktemp -d /tmp/luagate-ack.XXXXXX)
export BASE=$TMP/servers
# shellcheck source=../scripts/lib.sh
. scripts/lib.sh
. bench/lib.sh
PIDS=()
REDIS_UP=0
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_redis_start
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

# S3-style bodies of N records each, from the records of the sample envelopes
bodies() { # n -> file
    python3 - "$DATA" "$1" "$TMP/body$1.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l)["Records"][0] for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
with open(sys.argv[3], "w") as f:
    for i in range(len(recs)):
        f.write(json.dumps({"Records": [recs[(i + j) % len(recs)] for j in range(n)]},
                           separators=(",", ":")) + "\n")
EOF
    echo "$TMP/body$1.jsonl"
}

ROWS=()
declare -A R # "window conns" -> "rps p50 p99 cpu"
# one_run LABEL CONNS WINDOW WORKERS FILE EVENTS_PER_POST: sets R-style LINE_OUT
one_run() {
    local label=$1 c=$2 win=$3 wk=$4 file=$5 per=$6 port dir pid
    next_port; port=$P
    dir=$(mktemp -d "$TMP/run.XXXX")
    printf 'listen = "127.0.0.1:%s"\nqueue_dir = "%s/queue"\ncommit_window = "%s"\ningest_workers = %s\ntargets = {\n  ["redis:bench"] = { address = "127.0.0.1:%s", key = "bucketevents", format = "namespace" },\n}\n' \
        "$port" "$dir" "$win" "$wk" "$REDIS_PORT" >"$dir/conf.lua"
    rcli del bucketevents >/dev/null
    "${LG_BIN:-$LUAGATE}" -c "$dir/conf.lua" >"$dir/log" 2>&1 & pid=$!
    PIDS+=("$pid")
    wait_port "$port" "$pid" 10 || { cat "$dir/log" >&2; die "luagate did not start"; }
    local t0 t1 line i m depth=1
    # warm-up outside the CPU count: the worker's start (Lua, the first
    # spare segment's zeros) is not per-event work
    "$BIN/loadgen" -p "$port" -c "$c" -d 1 -f "$file" >/dev/null || { tail -5 "$dir/log" >&2; die "loadgen failed"; }
    # and until the journal writes into a segment the spare thread zeroed
    # ahead, as a gateway does after its first seconds (the first segment
    # is a plain file: each commit also syncs its growing size)
    for ((i = 0; i < 10; i++)); do
        ls "$dir/queue/journal" | grep -v '^0*1\.seg$' | grep -q '\.seg$' && break
        "$BIN/loadgen" -p "$port" -c "$c" -d 1 -f "$file" >/dev/null || die "loadgen failed"
    done
    t0=$(cpu_ticks "$pid")
    line=$("$BIN/loadgen" -p "$port" -c "$c" -d "$DUR" -w 0 -f "$file") || { tail -5 "$dir/log" >&2; die "loadgen failed"; }
    for ((i = 0; i < 600; i++)); do # delivery counts in the CPU per event
        m=$(metrics "$port")
        depth=$(awk '$1 ~ /^luagate_queue_depth/ { s += $NF } END { print s + 0 }' <<<"$m")
        [ "$depth" = 0 ] && break
        sleep 0.05
    done
    t1=$(cpu_ticks "$pid")
    local full # 503 "queue full": the ingest outran the delivery by queue_limit events
    full=$(awk '/^luagate_http_requests_total\{code="503"\}/ { print $2 }' <<<"$m")
    stop_pid "$pid"
    rm -rf "$dir"
    local ok dur_s answered non200 err rps evs cpu
    ok=$(kv "$line" ok); dur_s=$(kv "$line" duration_s); answered=$(kv "$line" answered_total)
    non200=$(kv "$line" non200); err=$(kv "$line" errors)
    rps=$(div "$ok" "$dur_s" %.0f)
    evs=$(awk -v r="$rps" -v n="$per" 'BEGIN { printf "%.0f", r * n }')
    cpu=$(us_per $((t1 - t0)) $((answered * per)))
    LINE_OUT="$evs $(kv "$line" p50_us) $(kv "$line" p99_us) $cpu $non200 $err $depth"
    ROWS+=("| $label | $c | $win | $wk | $per | $evs | $(ms "$(kv "$line" p50_us)") | $(ms "$(kv "$line" p99_us)") | $cpu | $(kv "$line" cpu_us_per_req) | $non200/$err (503: ${full:-0}) | $depth |")
    echo "ack: $label c=$c window=$win workers=$wk records=$per: $evs ev/s p50 $(kv "$line" p50_us) us p99 $(kv "$line" p99_us) us cpu $cpu us/ev non200/err $non200/$err left $depth"
}

START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
SECONDS=0
BG=$(busy_pct)
mkdir -p "$TMP/disk"
# The disk alone, three times (start, after the latency rows, end).  Other
# work on the disk can only make a p50 too high (other people's I/O; on a
# filesystem mounted with `discard`, probably the discards of files deleted
# just before: two back-to-back runs gave 0.26 and 2.5 ms), so the bar is
# the lowest p50 of the three: the disk at its best in this run.
DISKS=()
disk() {
    local d
    d=$("$BIN/fsyncbench" "$TMP/disk" 3 1 1536 zeroed) || die "fsyncbench failed"
    DISKS+=("$(kv "$d" p50_us) $(kv "$d" p99_us)")
    echo "ack: the disk alone: fdatasync of one 1.5 KB write into a pre-zeroed file: p50 $(kv "$d" p50_us) us p99 $(kv "$d" p99_us) us"
}
disk
# The round trip alone at 1 connection: bench/floor (a minimal epoll
# server) under the same generator.  A durable ack at 1 connection costs
# at least this plus one fdatasync.
next_port
"$BIN/floor" "$P" 2>/dev/null & FLOOR_PID=$!
PIDS+=("$FLOOR_PID")
wait_port "$P" "$FLOOR_PID" 5 || die "bench/floor did not start"
FLOOR_LINE=$("$BIN/loadgen" -p "$P" -c 1 -d 2 -w 1 -f "$DATA") || die "loadgen failed against the floor"
stop_pid "$FLOOR_PID"
FLOOR_RPS=$(div "$(kv "$FLOOR_LINE" ok)" "$(kv "$FLOOR_LINE" duration_s)" %.0f)
FLOOR_P50=$(kv "$FLOOR_LINE" p50_us)
echo "ack: the round trip alone (bench/floor, 1 connection): $FLOOR_RPS req/s, p50 $FLOOR_P50 us"
for w in $WINDOWS; do
    for c in $CONNS; do
        one_run "luagate → redis" "$c" "$w" 1 "$DATA" 1
        R["$w $c"]=$LINE_OUT
        if [ -n "$BASELINE" ]; then # the same row with another build, right after
            LG_BIN=$BASELINE one_run "baseline: $BASELINE_NAME" "$c" "$w" 1 "$DATA" 1
        fi
    done
done
disk
DEFW=0
declare -A REC WK
for n in $RECORDS; do
    f=$DATA; [ "$n" = 1 ] || f=$(bodies "$n")
    one_run "records per POST (S3 bodies)" 64 "$DEFW" 1 "$f" "$n"
    REC[$n]=$LINE_OUT
done
for k in $WORKERS; do
    one_run "ingest_workers" 64 "$DEFW" "$k" "$DATA" 1
    WK[$k]=$LINE_OUT
done
disk
F50=$(printf '%s\n' "${DISKS[@]}" | sort -n | head -1 | cut -d' ' -f1)
F99=$(printf '%s\n' "${DISKS[@]}" | sort -n | head -1 | cut -d' ' -f2)
ELAPSED=$SECONDS
BG_END=$(busy_pct)

goal_records() {
    local evs p50 p99 cpu non200 err left bar c fig=""
    if [ -n "${R["$DEFW 1"]:-}" ]; then
        read -r evs p50 p99 cpu non200 err left <<<"${R["$DEFW 1"]}"
        bar=$(awk -v f="$F50" 'BEGIN { printf "%.0f", 0.7 * 1e6 / f }')
        goal ack-1 "**$evs ev/s** at 1 connection (p50 $(ms "$p50") ms, p99 $(ms "$p99") ms, $cpu µs CPU/event) vs 0.7 / fdatasync p50 ($(ms "$F50") ms) = $bar/s; commit_window $DEFW; the round trip alone (bench/floor, 1 connection) p50 $(ms "$FLOOR_P50") ms: fdatasync + round trip allow at most $(awk -v f="$F50" -v r="$FLOOR_P50" 'BEGIN { printf "%.0f", 1e6 / (f + r) }')/s" \
            "$(awk -v a="$evs" -v b="$bar" -v n="$non200$err" 'BEGIN { print (a >= b && n == "00") ? "met" : "not met" }')"
        goal ack-p50 "p50 **$(ms "$p50") ms** at 1 connection vs fdatasync p50 $(ms "$F50") ms + 0.3 ms" \
            "$(awk -v a="$p50" -v f="$F50" 'BEGIN { print a <= f + 300 ? "met" : "not met" }')"
    fi
    for c in 4 64; do
        [ -n "${R["$DEFW $c"]:-}" ] || continue
        read -r evs p50 p99 cpu non200 err left <<<"${R["$DEFW $c"]}"
        fig+="${fig:+; }$c conns: $evs ev/s, p50 $(ms "$p50") ms, p99 $(ms "$p99") ms"
    done
    [ -n "$fig" ] && goal ack-4-64 "$fig (commit_window $DEFW)" "reported"
    fig=""
    for c in $RECORDS; do
        [ -n "${REC[$c]:-}" ] || continue
        read -r evs p50 p99 cpu non200 err left <<<"${REC[$c]}"
        fig+="${fig:+, }$c → **$evs** ev/s ($cpu µs CPU/event)"
    done
    [ -n "$fig" ] && goal records "$fig; 64 conns, S3-style bodies" "reported"
    fig=""
    for c in $WORKERS; do
        [ -n "${WK[$c]:-}" ] || continue
        read -r evs p50 p99 cpu non200 err left <<<"${WK[$c]}"
        fig+="${fig:+, }$c → **$evs** ev/s ($cpu µs CPU/event)"
    done
    [ -n "$fig" ] && goal workers "$fig; 64 conns, 2 CPUs (8/16 cores: see the expectation in ACK.md)" "reported"
    return 0
}

{
    echo "# Durable acknowledgements against the disk (issue #19)"
    echo
    echo "Produced by \`bash bench/ack.sh\` (part of \`make bench\`). Date: $START, ${ELAPSED}s." \
        "Background load: ${BG}% of $(nproc) CPUs before, ${BG_END}% after."
    echo
    echo "The disk alone (bench/fsyncbench zeroed: one 1.5 KB write into a pre-zeroed file, as the journal writes, then fdatasync, back to back, 3 s, same filesystem):" \
        "three times (start, after the latency rows, end): p50/p99 $(for x in "${DISKS[@]}"; do read -r a b <<<"$x"; printf '%s/%s ms, ' "$(ms "$a")" "$(ms "$b")"; done)" \
        "the bar is the lowest p50, **$(ms "$F50") ms** (other work on the disk can only make a p50 too high; two back-to-back runs of fsyncbench alone gave p50 0.26 and 2.5 ms on this box)." \
        "The round trip alone at 1 connection (bench/floor, a minimal epoll server answering 200, same generator): $FLOOR_RPS req/s, p50 $(ms "$FLOOR_P50") ms; a durable ack at 1 connection costs at least one fdatasync plus that."
    echo
    echo "Every row: luagate → redis (namespace), MinIO envelopes (or S3 bodies) over keep-alive, bench/loadgen closed loop," \
        "1 s warm-up (a separate loadgen run) then ${DUR} s; CPU µs/event is luagate's utime+stime (all threads, delivery included: read once the queue is empty)" \
        "over the events answered; \"left\" is the queue depth when it was read (0: everything delivered);" \
        "a 503 is \"queue full\": the requests outran the delivery to redis by queue_limit (100,000) events, MinIO retries them." \
        "Each run first warms up (1 s, then until the journal writes into a segment zeroed ahead, as after a gateway's first seconds)."
    echo
    echo "| row | conns | commit_window | ingest_workers | records/POST | acked events/s | p50 ms | p99 ms | luagate CPU µs/event | loadgen CPU µs/req | non-200/errors | left |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    printf '%s\n' "${ROWS[@]}"
    echo
    cat <<'EOF'
## What 8 and 16 cores would change (the design's expectation, not measured)

- Shared by every ingest worker: the journal of a queue directory (one lock around the append, one
  committer thread, one fdatasync per group) and the delivery thread of each target. The append under
  the lock is the record's encoding (~1.5k instructions with its CRC32C, bench/callgrind.sh) and one
  pwrite into the page cache (~1–3 µs per request here); it is a small share of a worker's ~10–25 µs
  per event, so the journal lock should not be the limit below roughly 8 busy workers on one queue
  directory; past that, one queue directory per group of targets splits it (queue_dir per target).
- The group commit gets better with more cores: more requests arrive during each fdatasync, so the
  syncs per event fall (natural group commit needs no tuning for it).
- Per worker, nothing is shared on the request path (own event loop, own Lua state, own buffers):
  ingest should scale with workers until the committer or a target's delivery thread is the limit;
  a redis delivery thread (pipelined HSETs) spends ~0.5–1 µs per event here.
- On this 2-core box more workers than cores only add context switches: the rows above show it.
EOF
    echo
    goal_records
} >"$OUT"
echo "ack: wrote $OUT (${ELAPSED}s)"
if [ -f "${BENCH_OUT:-bench/RESULTS.md}" ]; then ACK_OUT=$OUT bash bench/goals.sh; fi
