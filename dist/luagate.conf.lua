-- /etc/luagate/luagate.conf.lua: the configuration the systemd unit starts.
-- As installed, every event MinIO posts is written to the journal (standard
-- output) as one JSON line; replace the target with your own (see
-- `luagate --help-target KIND`, and `luagate import` to carry a MinIO
-- deployment's notify_* settings over).  Check a change with
--   luagate -c /etc/luagate/luagate.conf.lua check
-- then `systemctl restart luagate`.
listen = "127.0.0.1:9100"
queue_dir = "/var/lib/luagate"
targets = {
  ["file:stdout"] = { path = "-" },
}
