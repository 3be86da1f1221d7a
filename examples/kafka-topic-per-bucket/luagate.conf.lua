-- Run from the repository root (relative paths are taken from the current
-- directory):  build/release/luagate -c examples/kafka-topic-per-bucket/luagate.conf.lua
-- The topics s3.<bucket> must exist or the brokers must auto-create them.
listen = "127.0.0.1:9100"
queue_dir = "./queue"
script = "examples/kafka-topic-per-bucket/routes.lua"
targets = {
  ["kafka:s3"] = {
    brokers = "127.0.0.1:9092",
    topic = "s3.unrouted", -- only used by a send without opts.topic
  },
}
