-- The configuration `make run` starts: every event MinIO posts is printed
-- to standard output as one JSON line (MinIO's webhook envelope).
-- Point MinIO at it:
--   mc admin config set ALIAS notify_webhook:gw endpoint=http://127.0.0.1:9100/
--   mc admin service restart ALIAS
--   mc event add ALIAS/bucket arn:minio:sqs::gw:webhook
listen = "127.0.0.1:9100"
queue_dir = "./queue"
targets = {
  ["file:stdout"] = { path = "-" },
}
