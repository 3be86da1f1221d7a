#!/usr/bin/env bash
# /metrics is valid Prometheus text exposition: promtool accepts it on a
# busy gateway (several targets, a script error, a dead letter, requests of
# every kind in flight), a real Prometheus server scrapes it, and scrapes
# and health checks are counted apart from ingest requests.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
PROM_PORT=$(port 19090)
command -v promtool >/dev/null && command -v prometheus >/dev/null ||
  { fail "promtool and prometheus are not installed (scripts/deps.sh installs them)"; exit 0; }

# label values that need escaping: a queue directory with a quote and a backslash
QDIR="$T/queue \"q\" \\ dir"
cat >"$T/gw.lua" <<EOF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = [[$QDIR]]
targets = {
  ["file:all"] = { path = "$T/all.jsonl" },
  ["file:jpg"] = { path = "$T/jpg.jsonl", suffix = ".jpg", queue_dir = "$T/q2" },
}
EOF
gw_start "$T/gw.lua" || { fail "luagate did not start"; cat "$T/gw.log"; exit 1; }

# the counts are read after a fixed number of each kind of request
n_posts=$(head -40 "$EVENTS" | while IFS= read -r l; do post "$l"; echo; done | grep -c '^200$')
for i in 1 2 3 4 5; do curl -s -o /dev/null "$GW/health"; curl -s -o /dev/null -I "$GW/health"; done
for i in 1 2 3; do curl -s -o /dev/null "$GW/metrics"; done
curl -s -o /dev/null -X POST --data-binary 'not json' "$GW/"
m=$(curl -s "$GW/metrics")
val() { echo "$m" | awk -v k="$1" '$1 == k { print $2 }'; }
check "40 events posted" [ "$n_posts" = 40 ]
wreq=$(echo "$m" | awk '$1 ~ /^luagate_ingest_worker_requests_total\{/ { n += $2 } END { print n + 0 }')
check "luagate_ingest_worker_requests_total counts the 41 POSTs, not the 14 probes of /health and /metrics ($wreq)" \
  [ "$wreq" = 41 ]
check "...and its HELP says so" grep -q '^# HELP luagate_ingest_worker_requests_total POST requests.*/health, /metrics' <<<"$m"
check "luagate_http_requests_total counts ingest requests only (40 x 200, 1 x 400)" \
  [ "$(val 'luagate_http_requests_total{code="200"}')" = 40 -a "$(val 'luagate_http_requests_total{code="400"}')" = 1 ]
h=$(val 'luagate_http_monitor_requests_total{path="/health",code="200"}')
check "health checks counted apart: $h >= 10 (GET and HEAD)" [ "${h:-0}" -ge 10 ]
check "scrapes counted apart: 3" [ "$(val 'luagate_http_monitor_requests_total{path="/metrics",code="200"}')" = 3 ]
curl -s -o /dev/null "$GW/live"; curl -s -o /dev/null "$GW/live"; curl -s -o /dev/null "$GW/ready"
m=$(curl -s "$GW/metrics")
check "probes of /live and /ready counted under their own paths (2 and 1), not as /health (still $h)" \
  [ "$(val 'luagate_http_monitor_requests_total{path="/live",code="200"}')" = 2 -a \
    "$(val 'luagate_http_monitor_requests_total{path="/ready",code="200"}')" = 1 -a \
    "$(val 'luagate_http_monitor_requests_total{path="/health",code="200"}')" = "$h" ]

echo "$m" >"$T/idle.prom"
check "promtool check metrics accepts /metrics" sh -c "promtool check metrics <'$T/idle.prom' >'$T/promtool.out' 2>&1"
grep -v '^$' "$T/promtool.out" | sed 's/^/# promtool: /'
check "a label value is escaped (quote, backslash)" grep -qF 'dir="'"$T"'/queue \"q\" \\ dir"' "$T/idle.prom"

# busy: four clients posting while /metrics is read and checked
cat >"$T/load.py" <<'EOF'
import http.client, os, sys, threading
port = int(os.environ["GATEWAY_PORT"])
events = [l.rstrip("\n").encode() for l in open(os.environ["EVENTS"]) if l.strip()]
def client(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(300):
        c.request("POST", "/", events[(k * 300 + i) % len(events)])
        c.getresponse().read()
ts = [threading.Thread(target=client, args=(k,)) for k in range(4)]
for t in ts: t.start()
for t in ts: t.join()
EOF
GATEWAY_PORT=$GATEWAY_PORT EVENTS=$EVENTS $PY "$T/load.py" &
load=$!
bad=0 scrapes=0
while { alive "$load" || [ $scrapes -lt 20 ]; } && [ $scrapes -lt 200 ]; do
  curl -s "$GW/metrics" >"$T/busy.prom"
  promtool check metrics <"$T/busy.prom" >"$T/promtool.out" 2>&1 || { bad=$((bad + 1)); cp "$T/busy.prom" "$T/bad.prom"; }
  scrapes=$((scrapes + 1))
done
wait "$load"
check "promtool accepts all $scrapes scrapes taken under load" [ "$bad" = 0 ]
[ "$bad" = 0 ] || cat "$T/promtool.out"

# a real Prometheus server scrapes it every second
cat >"$T/prom.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: luagate
    static_configs: [ { targets: ["127.0.0.1:$GATEWAY_PORT"] } ]
EOF
need_free_port "$PROM_PORT" && {
  prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$T/prom.log" 2>&1 &
  echo $! >"$T/prom.pid"
}
P="http://127.0.0.1:$PROM_PORT"
received() { # the value Prometheus holds for luagate_events_received_total
  curl -s "$P/api/v1/query?query=luagate_events_received_total" |
    $PY -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}
expected=$(val luagate_events_received_total)
wait_until 40 sh -c "[ \"\$(curl -s '$P/api/v1/query?query=luagate_events_received_total' | grep -c '\"job\":\"luagate\"')\" -ge 1 ]"
got=$(received)
check "Prometheus scraped a luagate series (luagate_events_received_total = ${got:-none} >= $expected)" \
  [ -n "$got" -a "${got:-0}" -ge "${expected:-1}" ]
targets=$(curl -s "$P/api/v1/targets")
check "Prometheus reports the target up with no scrape error" \
  $PY -c 'import json,sys; t=json.loads(sys.argv[1])["data"]["activeTargets"]; sys.exit(not (t and t[0]["health"] == "up" and not t[0]["lastError"]))' "$targets"
[ -n "$got" ] || { echo "$targets" | head -c 600; tail -5 "$T/prom.log"; }
hist=$(curl -s "$P/api/v1/query?query=luagate_ingest_latency_seconds_count" | grep -c '"luagate_ingest_latency_seconds_count"')
check "the ingest latency histogram is stored as one" [ "$hist" -ge 1 ]
stop_pid "$T/prom.pid"
gw_stop
check "no sanitizer report in the log" sh -c "! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' '$T/gw.log'"
exit 0
