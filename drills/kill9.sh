#!/usr/bin/env bash
# drills/kill9.sh [--quick] -- kill -9 under load (issue #7, drill 1).
# For each target (DRILL_KILL9_TARGETS, default "file redis kafka"): CYCLES
# times (50; 5 with --quick) drills/load.py posts unique events over 8
# connections, luagate gets SIGKILL after a random 0.2-1.5 s, and is started
# again on the same queue.  Odd cycles kill the worker process (its parent
# must start another at once), even cycles the parent (the worker must go
# with it).  Then every acknowledged event must reach the target at least
# once; duplicates are counted, not failed.
#   file:  JSON lines, counted by the unique object key
#   redis: namespace format, HSET field bucket/object (HKEYS)
#   kafka: the mock of scripts/kafka.sh, consumed with kcat from the beginning
. "$(dirname "$0")/lib.sh" "$@"
CYCLES=${CYCLES:-$([ "$QUICK" = 1 ] && echo 5 || echo 50)}
TARGETS=${DRILL_KILL9_TARGETS:-file redis kafka}
id=drill_k9_$$

gone() { ! alive "$1"; }

one() { # one KIND
  local kind=$1 tname conf=$T/k9-$1.lua seen=$T/k9-$1.seen acked=$T/k9-$1.acked offered=$T/k9-$1.offered
  local tconf
  case $kind in
    file) tname=file:k9; tconf="path = \"$T/k9.jsonl\"" ;;
    redis) tname=redis:k9
      port_in_use "$REDIS_PORT" || { fail "kill9/redis: redis is not running on $REDIS_PORT (scripts/servers.sh start redis)"; return; }
      tconf="address = \"127.0.0.1:$REDIS_PORT\", key = \"${id}\", format = \"namespace\"" ;;
    kafka) tname=kafka:k9
      local bs; bs=$(cat "$BASE/kafka/bootstrap" 2>/dev/null)
      [ -n "$bs" ] && port_in_use "${bs##*:}" || { fail "kill9/kafka: kafka mock not running (no $BASE/kafka/bootstrap)"; return; }
      tconf="brokers = \"$bs\", topic = \"${id}\"" ;;
    *) fail "kill9: unknown target kind $kind"; return ;;
  esac
  cat >"$conf" <<EOC
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/q-k9-$kind"
targets = { ["$tname"] = { $tconf, retry_min = "50ms", retry_max = "1s" } }
EOC
  : >"$acked"; : >"$offered"
  local started=$(now_ms) restarts=0 worker_kills=0 c lp kc= w
  if [ "$kind" = kafka ]; then
    # consume during the whole drill: the mock keeps only ~5 MB per partition
    # (rdkafka_mock's max_size), so reading at the end would miss trimmed messages
    kcat -C -b "$(cat "$BASE/kafka/bootstrap")" -t "$id" -o beginning -q -f '%p %k\n' \
      -X topic.metadata.refresh.interval.ms=1000 >"$T/k9-kafka.txt" 2>/dev/null &
    kc=$!
  fi
  gw_up "$conf" || { fail "kill9/$kind: luagate did not start"; tail -5 "$T/gw.log" | sed 's/^/# /'; return; }
  for c in $(seq 1 "$CYCLES"); do
    $PY "${LOAD[@]}" "$GW/" 1000000 "$acked" --start $((c * 1000000)) --conc 8 --offered "$offered" &
    lp=$!
    rnd_sleep 0.2 1.5
    if ! gw_alive; then fail "kill9/$kind: luagate died by itself in cycle $c"; tail -5 "$T/gw.log" | sed 's/^/# /'; fi
    if [ $((c % 2)) = 1 ]; then
      w=$(pgrep -P "$(gw_pid)" | head -1)
      [ -n "$w" ] && kill -KILL "$w"
      # the parent keeps the listening socket: the load goes on against the
      # next worker, so it is stopped here (what it recorded as acknowledged stays)
      rnd_sleep 0.2 0.6
      kill "$lp" 2>/dev/null
      wait $lp
      if ! wait_until 20 gw_answers; then
        fail "kill9/$kind: no new worker after kill -9 of worker $w (#$c)"; tail -5 "$T/gw.log" | sed 's/^/# /'; return
      fi
      worker_kills=$((worker_kills + 1))
    else
      w=$(pgrep -P "$(gw_pid)" | head -1)
      gw_kill 2>/dev/null
      wait $lp
      if [ -n "$w" ] && ! wait_until 10 gone "$w"; then
        fail "kill9/$kind: worker $w outlived its parent's kill -9 (#$c)"
      fi
      if ! gw_up "$conf"; then
        fail "kill9/$kind: luagate did not come back after kill -9 #$c"; tail -5 "$T/gw.log" | sed 's/^/# /'; return
      fi
    fi
    restarts=$((restarts + 1))
  done
  ok "kill9/$kind: $restarts restarts after kill -9 under load ($worker_kills of the worker, the others of the parent)"
  if ! wait_until 180 drained "$tname"; then
    fail "kill9/$kind: queue not drained 180 s after the last restart (depth $(depth "$tname"))"
  fi
  case $kind in
    file) $PY drills/seen.py lines "$T/k9.jsonl" >"$seen" ;;
    redis) $PY drills/seen.py redis-hash "$REDIS_PORT" "$id" >"$seen"
           redis-cli -h 127.0.0.1 -p "$REDIS_PORT" del "$id" >/dev/null ;;
    kafka) sleep 2; kill "$kc" 2>/dev/null; wait "$kc" 2>/dev/null
           $PY drills/seen.py kafka-file "$T/k9-kafka.txt" >"$seen" ;;
  esac
  figures "kill9/$kind" "$acked" "$seen" --offered "$offered"
  local cut; cut=$(metric_sum luagate_queue_cut_records_total)
  note "kill9/$kind: $CYCLES cycles in $(( ($(now_ms) - started) / 1000 )) s; records cut at recovery in the last run: ${cut:-?}"
  gw_stop
  rm -f "$T/k9.jsonl"
}

for k in $TARGETS; do one "$k"; done
exit $((NFAIL > 0))
