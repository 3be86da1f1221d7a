-- Run from the repository root (relative paths are taken from the current
-- directory):  build/release/luagate -c examples/audit-deletes/luagate.conf.lua
-- Tables are created with MinIO's DDL when missing.
listen = "127.0.0.1:9100"
queue_dir = "./queue"
script = "examples/audit-deletes/routes.lua"
local db = "host=127.0.0.1 port=5432 user=luagate password=change-me dbname=s3 sslmode=disable"
targets = {
  ["postgres:objects"] = { connection_string = db, table = "s3_objects", format = "namespace" },
  ["postgres:audit"] = { connection_string = db, table = "s3_deletions", format = "access" },
}
