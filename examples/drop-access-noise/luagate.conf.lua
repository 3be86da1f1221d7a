-- Run from the repository root (relative paths are taken from the current
-- directory):  build/release/luagate -c examples/drop-access-noise/luagate.conf.lua
listen = "127.0.0.1:9100"
queue_dir = "./queue"
script = "examples/drop-access-noise/routes.lua"
targets = {
  ["webhook:siem"] = { endpoint = "http://127.0.0.1:8080/events" },
  ["redis:csv"] = { address = "127.0.0.1:6379", key = "csv-objects", format = "namespace", suffix = ".csv" },
}
