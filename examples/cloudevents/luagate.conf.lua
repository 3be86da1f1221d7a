-- Run from the repository root (relative paths are taken from the current
-- directory):  build/release/luagate -c examples/cloudevents/luagate.conf.lua
listen = "127.0.0.1:9100"
queue_dir = "./queue"
script = "examples/cloudevents/routes.lua"
targets = {
  ["webhook:knative"] = { endpoint = "http://broker-ingress.knative-eventing.svc.cluster.local/default/s3" },
}
