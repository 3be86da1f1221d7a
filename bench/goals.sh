#!/usr/bin/env bash
# bench/goals.sh -- the goal table of issues #8 and #19 at the top of bench/RESULTS.md.
#
# run.sh, targets.sh, scale.sh, ack.sh and callgrind.sh each end by calling this script.  Each of
# their reports carries machine-readable goal records, HTML comments that
# markdown does not show:
#   <!-- goal<TAB>KEY<TAB>STAMP<TAB>FIGURE<TAB>VERDICT -->
# This script collects the records of the three reports, puts them in the
# order of the issue's goals (GOALS below) and writes the table between
# the <!-- goals:begin --> and <!-- goals:end --> lines of RESULTS.md.  A goal
# without a record reads "not measured".  `make bench` runs run.sh, targets.sh,
# scale.sh in that order, so after it every row comes from the same run; the
# "from" column names the script and its start time.
#
# Knobs: BENCH_OUT (bench/RESULTS.md), TARGETS_OUT (bench/TARGETS.md), SCALE_OUT (bench/SCALE.md),
# ACK_OUT (bench/ACK.md), CALLGRIND_OUT (bench/CALLGRIND.md), PROF_OUT (bench/PROFILE.md).
set -euo pipefail
cd "$(dirname "$0")/.."
RESULTS=${BENCH_OUT:-bench/RESULTS.md}
TARGETS=${TARGETS_OUT:-bench/TARGETS.md}
SCALE=${SCALE_OUT:-bench/SCALE.md}
ACK=${ACK_OUT:-bench/ACK.md}
CGR=${CALLGRIND_OUT:-bench/CALLGRIND.md}
PROF=${PROF_OUT:-bench/PROFILE.md}
[ -f "$RESULTS" ] || { echo "goals: $RESULTS does not exist (run bench/run.sh)" >&2; exit 1; }

# KEY<TAB>script<TAB>the goal as issue #8 states it
GOALS="e2e-lg-64	run.sh	End-to-end ≥ 0.6 × floor, **64** connections, generator **bench/loadgen**: MinIO envelopes, one per POST over keep-alive → default route → durable queue (fsync, group commit) → Redis (namespace format); floor = minimal epoll server, same generator, same run
e2e-lg-256	run.sh	the same at **256** connections, **bench/loadgen**
e2e-wrk-64	run.sh	the same at **64** connections, generator **wrk** (the issue's own floor of ~71k/s was measured with wrk)
e2e-wrk-256	run.sh	the same at **256** connections, **wrk**
ir	run.sh	≤ 20k user-space instructions per event in luagate for that path (callgrind)
p99-half	scale.sh	p99 acknowledgement latency ≤ 10 ms at half the maximum rate (p50 and p99 are reported for every row)
lua	run.sh	Lua routing ≤ 3 µs per event for the default route (/metrics: luagate_script_seconds_total / luagate_script_runs_total)
rss-idle	scale.sh	RSS ≤ 32 MB idle
rss-queued	scale.sh	RSS ≤ 64 MB with 100k events queued for an offline target
fanout	scale.sh	Scale: events/s with 1, 2, 4, 10 targets per event
fsync	scale.sh	Durability cost stays one fsync per group commit, not one per target
targets	targets.sh	Delivery to every one of the ten targets benchmarked against its own raw client rate
ack-1	ack.sh	(#19, ERRATA) events/s at **1** connection ≥ 0.7 / fdatasync p50 of the same run (one request in flight: MinIO's queue_dir replay)
ack-p50	ack.sh	(#19, ERRATA) p50 acknowledgement latency at **1** connection ≤ the disk's fdatasync p50 + 0.3 ms
ack-4-64	ack.sh	(#19) p50/p99 at 4 and 64 connections, reported beside it
ir19	callgrind.sh	(#19) ≤ 20k instructions per event on the luagate → redis path with the supervisor and the checks of #13 (bench/callgrind.sh)
records	ack.sh	(#19) Scaling with the work: events/s and CPU µs per event for 1, 10, 100 records per POST
workers	ack.sh	(#19) events/s and CPU µs per event for 1, 2, 4 ingest workers (2 CPUs; 8/16 cores: the design's expectation in ACK.md)
ceiling	profile.sh	(#19) the stage that is the ceiling at 64 connections: system calls per event and where the worker's CPU goes (PROFILE.md)"

records() { # file...: KEY<TAB>STAMP<TAB>FIGURE<TAB>VERDICT for every goal record
    local f
    for f in "$@"; do
        [ -f "$f" ] || continue
        sed -n 's/^<!-- goal\t\(.*\) -->$/\1/p' "$f"
    done
}
REC=$(records "$RESULTS" "$TARGETS" "$SCALE" "$ACK" "$CGR" "$PROF")

TABLE=$(
    echo "| goal (issue #8; #19) | measured | verdict | from |"
    echo "| --- | --- | --- | --- |"
    while IFS=$'\t' read -r key script text; do
        line=$(awk -F'\t' -v k="$key" '$1 == k { print; exit }' <<<"$REC")
        if [ -n "$line" ]; then
            IFS=$'\t' read -r _ stamp figure verdict <<<"$line"
            case $verdict in # bold the verdict, not its explanation
            met*) verdict="**met**${verdict#met}" ;;
            "not met"*) verdict="**not met**${verdict#not met}" ;;
            esac
            echo "| $text | $figure | $verdict | $script $stamp |"
        else
            echo "| $text | not measured | - | run bench/$script |"
        fi
    done <<<"$GOALS"
)

tmp=$(mktemp "$RESULTS.XXXXXX")
printf '%s\n' "$TABLE" >"$tmp.table"
awk -v tablefile="$tmp.table" '
    /^<!-- goals:begin -->$/ { print; while ((getline l <tablefile) > 0) print l; skip = 1; done = 1; next }
    /^<!-- goals:end -->$/ { skip = 0 }
    !skip { print }
    END { if (!done) exit 3 }' "$RESULTS" >"$tmp" || { rm -f "$tmp" "$tmp.table"; echo "goals: no goals block in $RESULTS" >&2; exit 1; }
rm -f "$tmp.table"
cat "$tmp" >"$RESULTS" # rewrite in place: keeps the file's mode (mktemp makes 0600)
rm -f "$tmp"
echo "goals: wrote the goal table of $RESULTS" >&2
