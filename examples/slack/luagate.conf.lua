-- Run from the repository root (relative paths are taken from the current
-- directory):  build/release/luagate -c examples/slack/luagate.conf.lua
-- The endpoint is the channel's incoming-webhook URL (a secret: prefer
-- MINIO_NOTIFY_WEBHOOK_ENDPOINT_SLACK in the environment).
listen = "127.0.0.1:9100"
queue_dir = "./queue"
script = "examples/slack/routes.lua"
targets = {
  ["webhook:slack"] = { endpoint = "https://hooks.slack.com/services/T000/B000/XXXXXXXX" },
}
