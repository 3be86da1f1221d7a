# bench/lib.sh -- helpers shared by bench/run.sh and bench/scale.sh (sourced after
# scripts/lib.sh, whose helpers of the same names these replace).  The caller
# defines die, PORT (the first of its 60 ports), PIDS and, for goal, START.

TCK=$(getconf CLK_TCK)
NPORT=0

# utime+stime of PID and of its live children in clock ticks (fields after
# "(comm)": state is 1, utime 12, stime 13): luagate's supervisor forks the
# worker that does the work, so a process alone would miss it
cpu_ticks() {
    local t=0 c
    t=$(sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }')
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        t=$((t + $(cpu_ticks "$c" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
# the worker luagate's supervisor forked (PID itself if it has no child)
worker_pid() { local c; c=$(cat /proc/"$1"/task/*/children 2>/dev/null | awk '{ print $1; exit }'); echo "${c:-$1}"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# value of key $2 in the key=value line $1
kv() { local v; v=$(tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"); echo "${v:-0}"; }
ms() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'; }
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN { if (b > 0) printf f, a / b; else print "-" }'; }
# µs of CPU per event from a tick difference
us_per() { awk -v d="$1" -v t="$TCK" -v n="$2" 'BEGIN { printf "%.1f", n ? d / t * 1e6 / n : 0 }'; }
wait_port() { # port pid seconds
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        kill -0 "$2" 2>/dev/null || return 1
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
next_port() { # sets P to a free port in PORT..PORT+59, a different one each call
    local i
    for ((i = 0; i < 60; i++)); do
        P=$((PORT + (NPORT + i) % 60))
        if port_free "$P"; then NPORT=$(( (NPORT + i + 1) % 60 )); return 0; fi
    done
    die "no free port in $PORT..$((PORT + 59))"
}
forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}
stop_pid() { # pid: SIGTERM, wait (SIGKILL after 10 s)
    local i
    kill -TERM "$1" 2>/dev/null || { forget_pid "$1"; return 0; }
    for ((i = 0; i < 200; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget_pid "$1"
}
# share of both CPUs busy during 1 s (background load before a run)
busy_pct() {
    local a b
    read -ra a </proc/stat; sleep 1; read -ra b </proc/stat
    local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) tot=0 i
    for ((i = 1; i < ${#a[@]}; i++)); do tot=$((tot + b[i] - a[i])); done
    echo $(( tot > 0 ? 100 * (tot - idle) / tot : 0 ))
}
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
metrics() { curl -s --max-time 5 "http://127.0.0.1:$1/metrics"; }
goal() { printf '<!-- goal\t%s\t%s\t%s\t%s -->\n' "$1" "$START" "$2" "$3"; }

# The exit trap of ack.sh, callgrind.sh and profile.sh: stop PIDS, the
# redis-server bench_redis_start started (REDIS_UP), remove TMP.
bench_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ "$REDIS_UP" = 1 ] && scripts/redis.sh stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
bench_redis_start() {
    scripts/redis.sh start >/dev/null || die "could not start redis-server on 127.0.0.1:$REDIS_PORT"
    REDIS_UP=1
}
