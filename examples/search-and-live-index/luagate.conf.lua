-- Run from the repository root (relative paths are taken from the current
-- directory):  build/release/luagate -c examples/search-and-live-index/luagate.conf.lua
listen = "127.0.0.1:9100"
queue_dir = "./queue"
script = "examples/search-and-live-index/routes.lua"
targets = {
  ["elasticsearch:search"] = { url = "http://127.0.0.1:9200", index = "s3-objects", format = "namespace" },
  ["redis:live"] = { address = "127.0.0.1:6379", key = "s3:live", format = "namespace" },
}
