#!/usr/bin/env bash
# drills/run.sh [--quick] [DRILL...] -- the reliability drills (issue #7).
# Starts the servers the drills need once (scripts/servers.sh, only those not
# already running at this BASE/PORT_OFFSET; stopped again on exit), runs
# kill9 outage overload poison corrupt (or the ones named), prints every
# drill's ok / not ok lines, a summary table of the figures (offered,
# acknowledged, delivered, duplicates, lost) and "N passed, N failed";
# exits non-zero on any failure.  --quick: fewer cycles and short outages
# (CI, a few minutes); the full run takes about half an hour.
set -u
cd "$(dirname "$0")/.." || exit 1
QUICK=0; drills=()
for a in "$@"; do case $a in --quick) QUICK=1 ;; *) drills+=("$a") ;; esac; done
[ ${#drills[@]} = 0 ] && drills=(kill9 outage overload poison corrupt)
export DRILL_QUICK=$QUICK
. scripts/lib.sh
mkdir -p "$BASE"
export BASE
LOG=$(mktemp -d "$BASE/drills.XXXXXX")
export DRILL_FIGURES=$LOG/figures
: >"$DRILL_FIGURES"
started=()
stop_servers() { [ ${#started[@]} -gt 0 ] && scripts/servers.sh stop "${started[@]}" >/dev/null 2>&1; }
trap stop_servers EXIT

# the servers: redis + kafka (kill9), the rest for outage
want=(redis postgres mariadb rabbitmq nats kafka)
declare -A sport=([redis]=$REDIS_PORT [postgres]=$PG_PORT [mariadb]=$MYSQL_PORT [rabbitmq]=$AMQP_PORT [nats]=$NATS_PORT)
need=()
for s in "${want[@]}"; do
  if [ "$s" = kafka ]; then
    bs=$(cat "$BASE/kafka/bootstrap" 2>/dev/null)
    [ -n "$bs" ] && port_in_use "${bs##*:}" && continue
  elif port_in_use "${sport[$s]}"; then continue; fi
  need+=("$s")
done
t0=$(now_ms)
if [ ${#need[@]} -gt 0 ]; then
  echo "# starting servers: ${need[*]} (BASE=$BASE PORT_OFFSET=$PORT_OFFSET)"
  scripts/servers.sh start "${need[@]}" || echo "# some servers did not start: their drills will fail"
  started=("${need[@]}")
fi
echo "# servers ready in $(( ($(now_ms) - t0) / 1000 )) s"

passed=0; failed=0
declare -A took
for d in "${drills[@]}"; do
  [ -f "drills/$d.sh" ] || { echo "not ok - no drill drills/$d.sh"; failed=$((failed + 1)); continue; }
  echo "=== $d$([ "$QUICK" = 1 ] && echo ' (quick)')"
  s=$(now_ms)
  bash "drills/$d.sh" $([ "$QUICK" = 1 ] && echo --quick) 2>&1 | tee "$LOG/$d.log"
  rc=${PIPESTATUS[0]}
  took[$d]=$(( ($(now_ms) - s) / 1000 ))
  ok=$(grep -c '^ok ' "$LOG/$d.log"); nok=$(grep -c '^not ok ' "$LOG/$d.log")
  if [ "$rc" != 0 ] && [ "$nok" = 0 ]; then echo "not ok - $d exited $rc"; nok=1; fi
  passed=$((passed + ok)); failed=$((failed + nok))
  echo "=== $d: $ok ok, $nok not ok, ${took[$d]} s"
done

echo
echo "# summary ($([ "$QUICK" = 1 ] && echo quick || echo full) run, $(( ($(now_ms) - t0) / 1000 )) s; logs in $LOG)"
$PY - "$DRILL_FIGURES" <<'PY'
import re, sys
rows = []
for l in open(sys.argv[1]):
    m = re.match(r"(\S+) # figures (\S+): (.*)", l.strip())
    if not m:
        continue
    kv = dict(x.split("=", 1) for x in m.group(3).split())
    rows.append((m.group(2), kv))
cols = ["offered", "acknowledged", "delivered", "duplicates", "lost"]
print("%-26s %9s %12s %9s %10s %5s  %s" % ("drill", *cols, "other"))
for name, kv in rows:
    other = " ".join("%s=%s" % (k, v) for k, v in kv.items() if k not in cols)
    print("%-26s %9s %12s %9s %10s %5s  %s" % (name, *[kv.get(c, "-") for c in cols], other))
PY
for d in "${drills[@]}"; do
  [ -f "$LOG/$d.log" ] && grep '^not ok ' "$LOG/$d.log" | sed "s/^/  /"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
