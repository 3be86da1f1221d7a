-- A partner gets our bucket events but must not learn who made the request
-- nor from where: access keys name people and service accounts, client IPs are
-- personal data.  The record is rebuilt from event.record with those fields
-- replaced, so the shape stays MinIO's (keys come out sorted: luagate.json
-- writes objects that way).  Internal events (replication, ILM) have no
-- requestParameters and an empty principal/host: left as they are.
local json = require "luagate.json"

local R = "REDACTED"

local function redact(v) if type(v) == "string" and v ~= "" then return R end return v end

return function(event, send)
  local r = event.record
  r.userIdentity.principalId = redact(r.userIdentity.principalId)
  r.s3.bucket.ownerIdentity.principalId = redact(r.s3.bucket.ownerIdentity.principalId)
  if type(r.requestParameters) == "table" then
    r.requestParameters.principalId = redact(r.requestParameters.principalId)
    r.requestParameters.sourceIPAddress = redact(r.requestParameters.sourceIPAddress)
  end
  r.source.host = redact(r.source.host)
  send("webhook:partner", { EventName = event.name, Key = event.Key, Records = json.array { r } })
end
