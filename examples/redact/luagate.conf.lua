-- Run from the repository root (relative paths are taken from the current
-- directory):  build/release/luagate -c examples/redact/luagate.conf.lua
listen = "127.0.0.1:9100"
queue_dir = "./queue"
script = "examples/redact/routes.lua"
targets = {
  ["webhook:partner"] = { endpoint = "https://partner.example.com/s3-events", auth_token = "change-me" },
}
