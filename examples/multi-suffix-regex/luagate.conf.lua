-- Run from the repository root (relative paths are taken from the current
-- directory):  build/release/luagate -c examples/multi-suffix-regex/luagate.conf.lua
listen = "127.0.0.1:9100"
queue_dir = "./queue"
script = "examples/multi-suffix-regex/routes.lua"
targets = {
  ["webhook:docs"] = { endpoint = "http://127.0.0.1:8080/index-document" },
  ["nats:datasets"] = { address = "127.0.0.1:4222", subject = "datasets" },
}
