#!/usr/bin/env bash
# examples/monitoring: the alert rules pass promtool's checks and their unit
# tests, every metric the rules and the Grafana dashboard use is one a
# running gateway exports, and a real Prometheus scraping a gateway with an
# unreachable target evaluates the rules: LuagateTargetOffline fires for it
# (its `for` shortened to 0s in a copy), and no rule is unhealthy.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
M=examples/monitoring
PROM_PORT=$(port 19095)
check "promtool check rules $M/alerts.yml" promtool check rules "$M/alerts.yml"
check "promtool test rules $M/alerts_test.yml (each alert fires and stays quiet when it should)" \
  promtool test rules "$M/alerts_test.yml"
check "the Grafana dashboard is valid JSON" $PY -c 'import json, sys; json.load(open(sys.argv[1]))' "$M/grafana-dashboard.json"

# a gateway with one reachable target (file) and one that is down (webhook to a closed port)
cat >"$T/gw.conf.lua" <<CONF
listen = "127.0.0.1:$GATEWAY_PORT"
queue_dir = "$T/q"
targets = {
  ["file:all"] = { path = "$T/all.jsonl" },
  ["webhook:down"] = { endpoint = "http://127.0.0.1:$(port 19096)/", retry_min = "50ms", retry_max = "200ms" },
}
CONF
gw_start "$T/gw.conf.lua" || { fail "luagate did not start: $(tail -3 "$T/gw.log")"; exit 1; }
post "$(head -1 "$EVENTS")" >/dev/null
wait_until 10 sh -c "curl -s '$GW/metrics' | grep -q '^luagate_target_online{target=\"webhook:down\"} 0'"
metric() { curl -s "$GW/metrics" | sed -n "s/^$1{target=\"$2\"} //p"; }
wait_until 10 sh -c "[ \"\$(curl -s '$GW/metrics' | sed -n 's/^luagate_queue_oldest_seconds{target=\"webhook:down\"} //p')\" -ge 2 ]"
check "luagate_queue_oldest_seconds grows for the target that is down ($(metric luagate_queue_oldest_seconds webhook:down) s)" \
  [ "$(metric luagate_queue_oldest_seconds webhook:down)" -ge 2 ]
check "and is 0 for the target that delivered" [ "$(metric luagate_queue_oldest_seconds file:all)" = 0 ]
check "luagate_queue_limit is the queue_limit (100000 by default)" [ "$(metric luagate_queue_limit webhook:down)" = 100000 ]
curl -s "$GW/metrics" >"$T/metrics.prom"
families=$(sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$T/metrics.prom" | sort -u)
missing=
for m in $(grep -oh 'luagate_[a-z_]*' "$M/alerts.yml" "$M/grafana-dashboard.json" | sort -u); do
  base=${m%_bucket}
  grep -qx "$base" <<<"$families" || missing="$missing $m"
done
check "every metric of the rules and the dashboard is exported by the gateway${missing:+ (missing:$missing)}" \
  [ -z "$missing" ]

# a real Prometheus evaluates the rules against it
sed 's/for: 5m/for: 0s/' "$M/alerts.yml" >"$T/alerts.yml"
cat >"$T/prom.yml" <<CONF
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [ "$T/alerts.yml" ]
scrape_configs:
  - job_name: luagate
    static_configs: [ { targets: ["127.0.0.1:$GATEWAY_PORT"] } ]
CONF
need_free_port "$PROM_PORT" || exit 1
prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$T/prom.log" 2>&1 &
echo $! >"$T/prom.pid"
P="http://127.0.0.1:$PROM_PORT"
firing() { curl -s "$P/api/v1/alerts" | $PY -c '
import json, sys
a = json.load(sys.stdin)["data"]["alerts"]
sys.exit(not any(x["labels"]["alertname"] == "LuagateTargetOffline" and x["labels"].get("target") == "webhook:down"
                 and x["state"] == "firing" for x in a))'; }
wait_until 60 firing
check "Prometheus fires LuagateTargetOffline for the unreachable target" firing
rules=$(curl -s "$P/api/v1/rules")
check "Prometheus loaded every rule and none is unhealthy" $PY -c '
import json, sys
g = json.loads(sys.argv[1])["data"]["groups"]
r = [x for grp in g for x in grp["rules"]]
sys.exit(not (len(r) == 7 and all(x["health"] in ("ok", "unknown") for x in r)))' "$rules"
offline_ok=$(curl -s "$P/api/v1/alerts" | grep -c '"target":"file:all"')
check "no alert for the target that works" [ "$offline_ok" = 0 ]
stop_pid "$T/prom.pid"
gw_stop
exit 0
