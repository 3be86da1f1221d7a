-- Run from the repository root (relative paths are taken from the current
-- directory):  build/release/luagate -c examples/amqp-headers/luagate.conf.lua
listen = "127.0.0.1:9100"
queue_dir = "./queue"
script = "examples/amqp-headers/routes.lua"
targets = {
  ["amqp:s3"] = {
    url = "amqp://guest:guest@127.0.0.1:5672/",
    exchange = "s3-events",
    exchange_type = "headers",
    durable = true,
    delivery_mode = 2,          -- persistent: the broker keeps them over a restart
    publisher_confirms = true,  -- at-least-once: a message leaves the queue on the broker's ack
  },
}
