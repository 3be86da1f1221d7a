-- Start from MinIO's decision (the bucket rules of luagate.conf.lua, matched
-- exactly as MinIO matches them), then change it:
--   * every message to AMQP carries the id of the rule that sent it, so a
--     consumer knows why it got the event (MinIO's configurationId is always
--     "Config");
--   * the bucket "staging" has no rules, so MinIO would send its events
--     nowhere: its deletions go to the audit exchange anyway.
local rules = require "luagate.rules"

return function(event, send)
  for _, d in ipairs(rules.decide(event)) do
    if d.target == "amqp:audit" then
      send(d.target, event, { routing_key = event.bucket, headers = { ["minio-rule"] = d.rule.id } })
    else
      send(d.target, event)
    end
  end
  if event.bucket == "staging" and event.name:match("^s3:ObjectRemoved:") then
    send("amqp:audit", event, { routing_key = "staging", headers = { ["minio-rule"] = "staging-deletes" } })
  end
end
