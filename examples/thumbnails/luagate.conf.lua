-- Run from the repository root (relative paths are taken from the current
-- directory):  build/release/luagate -c examples/thumbnails/luagate.conf.lua
listen = "127.0.0.1:9100"
queue_dir = "./queue"
script = "examples/thumbnails/routes.lua"
targets = {
  ["webhook:thumbs"] = { endpoint = "http://127.0.0.1:8080/thumbnail", auth_token = "change-me" },
}
