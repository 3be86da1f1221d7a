#!/usr/bin/env bash
# examples/kubernetes: the manifests parse, the probes and Prometheus'
# annotations point at the admin listener, the queue is a claim per pod, the
# ConfigMap is mounted where the script is read (no subPath, so updates reach
# it), MinIO posts to the sidecar's ingest over TLS with a CA it trusts; and the
# config the ConfigMap holds passes `luagate check` and runs, with ingest TLS on.
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
. tests/integration/lib_gateway.sh
K=examples/kubernetes

# ---- the manifests ---------------------------------------------------------------
$PY - "$K" "$T" >"$T/yaml.out" 2>&1 <<'EOF'
import os, sys, yaml
k, t = sys.argv[1], sys.argv[2]
docs = {}
for f in ("configmap.yaml", "statefulset.yaml"):
    for d in yaml.safe_load_all(open(os.path.join(k, f))):
        docs[d["kind"]] = d
def say(ok, name): print(("ok - " if ok else "not ok - ") + name)
say(set(docs) >= {"ConfigMap", "Service", "StatefulSet"}, "the manifests parse: ConfigMap, Service, StatefulSet")
ss = docs["StatefulSet"]; pod = ss["spec"]["template"]; spec = pod["spec"]
c = {x["name"]: x for x in spec["containers"]}
gw, minio = c["luagate"], c["minio"]
env = {e["name"]: e for e in gw["env"]}
admin = env["LUAGATE_ADMIN_LISTEN"]["value"]
aport = int(admin.rsplit(":", 1)[1])
say(admin.startswith("0.0.0.0:"), "the admin listener is on the pod's IP (kubelet and Prometheus reach it): " + admin)
ports = {p["name"]: p["containerPort"] for p in gw["ports"]}
def port_of(probe):
    p = probe["httpGet"]["port"]
    return ports.get(p) if isinstance(p, str) else p
for kind, path in (("livenessProbe", "/live"), ("readinessProbe", "/ready"), ("startupProbe", "/live")):
    pr = gw[kind]
    say(pr["httpGet"]["path"] == path and port_of(pr) == aport and pr["httpGet"].get("scheme", "HTTP") == "HTTP",
        "%s asks %s on the admin port %d over HTTP" % (kind, path, aport))
ann = pod["metadata"]["annotations"]
say(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == str(aport)
    and ann.get("prometheus.io/path") == "/metrics", "Prometheus scrape annotations: the admin port's /metrics")
claims = {v["metadata"]["name"] for v in ss["spec"]["volumeClaimTemplates"]}
mounts = {m["name"]: m for m in gw["volumeMounts"]}
say("queue" in claims and mounts["queue"]["mountPath"] == "/var/lib/luagate",
    "the queue is a volume claim per pod, mounted at the queue_dir")
say(ss["spec"]["replicas"] >= 4 and "{0..." in " ".join(minio["args"]), "MinIO runs distributed, one sidecar per node")
vols = {v["name"]: v for v in spec["volumes"]}
say(vols["config"]["configMap"]["name"] == docs["ConfigMap"]["metadata"]["name"]
    and mounts["config"]["mountPath"] == "/etc/luagate" and "subPath" not in mounts["config"],
    "the ConfigMap is mounted whole at /etc/luagate (no subPath: its updates reach the pod)")
menv = {e["name"]: e for e in minio["env"]}
say(menv["MINIO_NOTIFY_WEBHOOK_ENDPOINT_GW"]["value"] == "https://127.0.0.1:9100/"
    and "LUAGATE_TLS_CERT" in env and "LUAGATE_TLS_KEY" in env,
    "MinIO posts to the sidecar's ingest over HTTPS on localhost")
say(any(m["mountPath"] == "/etc/minio/certs/CAs" for m in minio["volumeMounts"]) and "/etc/minio/certs" in minio["args"],
    "MinIO trusts the ingest certificate's CA (certs-dir/CAs)")
say("valueFrom" in env["LUAGATE_AUTH_TOKEN"] and "valueFrom" in env["MINIO_NOTIFY_AMQP_URL_EVENTS"]
    and "valueFrom" in menv["MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_GW"], "secrets come from Secrets, not the manifests")
# the ConfigMap's files, as the volume's items lay them out
items = vols["config"]["configMap"]["items"]
data = docs["ConfigMap"]["data"]
say({i["key"] for i in items} == set(data), "every key of the ConfigMap is projected into the volume")
for i in items:
    p = os.path.join(t, "etc", i["path"])
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "w").write(data[i["key"]])
EOF
rc=$?
cat "$T/yaml.out"
[ $rc = 0 ] || fail "the manifest checks stopped with an error (above)"

# ---- the config it holds ---------------------------------------------------------
bash tests/certs/gen.sh "$T/pki" || { fail "tests/certs/gen.sh made no certificates"; exit 1; }
# the pod's environment, with paths and the listen address of this machine
POD_ENV=(LUAGATE_SCRIPT="$T/etc/routes.lua" LUAGATE_QUEUE_DIR="$T/queue" LUAGATE_LISTEN="127.0.0.1:$GATEWAY_PORT"
  LUAGATE_TLS_CERT="$T/pki/server.pem" LUAGATE_TLS_KEY="$T/pki/server.key" LUAGATE_AUTH_TOKEN=gw-token
  MINIO_NOTIFY_AMQP_URL_EVENTS="amqp://luagate:secret@127.0.0.1:$AMQP_PORT/")
env "${POD_ENV[@]}" "$LUAGATE_BIN" check -c "$T/etc/luagate.conf.lua" "$T/etc/routes.lua" "$EVENTS" >"$T/check.out" 2>&1
check "luagate check passes the ConfigMap's config and script on the sample events" [ $? = 0 ]
check "...which route created objects to amqp:EVENTS with the module's routing key" \
  grep -q 'amqp:EVENTS .*"routing_key":"ObjectCreated.Put.logs"' "$T/check.out"

# run it as the pod does: ingest on HTTPS, admin listener (when built) plain
ADMIN=$(port 19101); admin_env=()
"$LUAGATE_BIN" docs | grep -q admin_listen && admin_env=(LUAGATE_ADMIN_LISTEN="127.0.0.1:$ADMIN")
need_free_port "$GATEWAY_PORT" || exit 1
env "${POD_ENV[@]}" "${admin_env[@]}" "$LUAGATE_BIN" -c "$T/etc/luagate.conf.lua" >>"$T/gw.log" 2>&1 &
echo $! >"$T/gw.pid" # env execs luagate: this is its pid
wait_until 20 curl -fsS -o /dev/null --cacert "$T/pki/ca.pem" "https://127.0.0.1:$GATEWAY_PORT/health" ||
  wait_until 20 curl -fsS -o /dev/null "http://127.0.0.1:$ADMIN/live"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/pki/ca.pem" -H "Authorization: Bearer gw-token" \
  -X POST --data-binary "$(head -1 "$EVENTS")" "https://127.0.0.1:$GATEWAY_PORT/")
check "the ConfigMap's config runs: its ingest takes an event over HTTPS, as MinIO posts it" [ "$code" = 200 ]
if [ ${#admin_env[@]} -gt 0 ]; then
  check "with ingest TLS on, /live answers 200 on the admin port" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN/live")" = 200 ]
  check "...and /ready 200 while RabbitMQ is unreachable (the queue absorbs it)" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN/ready")" = 200 ]
  check "...and /metrics on the admin port has the script gauges" \
    sh -c "curl -s http://127.0.0.1:$ADMIN/metrics | grep -q '^luagate_script_reload_failed 0'"
else
  echo "ok - # SKIP the admin listener (admin_listen) is not in this build: the probes were not asked"
fi
gw_stop
