-- Run from the repository root (relative paths are taken from the current
-- directory):  build/release/luagate -c examples/bucket-rules/luagate.conf.lua
-- MinIO's bucket notification rules as `luagate import --bucket` writes
-- them, plus a script that starts from MinIO's decision and changes it.
listen = "127.0.0.1:9100"
queue_dir = "./queue"
script = "examples/bucket-rules/routes.lua"
targets = {
  ["webhook:slack"] = { endpoint = "http://127.0.0.1:8080/slack" },
  ["amqp:audit"] = { url = "amqp://guest:guest@127.0.0.1:5672/", exchange = "audit", exchange_type = "topic",
                     publisher_confirms = true },
}
buckets = {
  images = {
    { id = "jpg-to-slack", arn = "arn:minio:sqs::slack:webhook", events = { "s3:ObjectCreated:*" },
      prefix = "photos/", suffix = ".jpg" },
    { id = "deletes", arn = "arn:minio:sqs::audit:amqp", events = { "s3:ObjectRemoved:*" } },
  },
  logs = { { id = "all-logs", arn = "amqp:audit", events = { "put", "delete" } } },
}
