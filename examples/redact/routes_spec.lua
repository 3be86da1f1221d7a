local testing = require "luagate.testing"
local json = require "luagate.json"
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local samples = testing.events_from_file(os.getenv("LUAGATE_EVENTS") or dir .. "/../events/minio-webhook.jsonl")

describe("redact", function()
  local gw = testing.load(dir .. "/routes.lua", { config = dir .. "/luagate.conf.lua" })
  before_each(function() gw:reset() end)

  it("replaces principal ids and source IPs, keeps everything else", function()
    local ev = testing.event { bucket = "hr", key = "payroll/2026-11.xlsx", size = 4096, etag = "abc",
                               principal = "alice", source_ip = "192.0.2.7" }
    local s = gw:feed(ev)
    local out = json.decode(s[1].payload)
    local r = out.Records[1]
    assert.equal("REDACTED", r.userIdentity.principalId)
    assert.equal("REDACTED", r.s3.bucket.ownerIdentity.principalId)
    assert.same({ principalId = "REDACTED", region = "", sourceIPAddress = "REDACTED" }, r.requestParameters)
    assert.equal("REDACTED", r.source.host)
    assert.equal("s3:ObjectCreated:Put", out.EventName)
    assert.equal("hr/payroll/2026-11.xlsx", out.Key)
    assert.equal("payroll%2F2026-11.xlsx", r.s3.object.key)
    assert.equal(4096, r.s3.object.size)
    assert.falsy(s[1].payload:find("alice", 1, true))
    assert.falsy(s[1].payload:find("192.0.2.7", 1, true))
  end)

  it("leaves no access key or client IP of any sample in the payload", function()
    for _, ev in ipairs(samples) do
      local s = gw:feed(ev)
      assert.equal(1, #s)
      if ev.principal ~= "" then assert.falsy(s[1].payload:find(ev.principal, 1, true)) end
      if ev.source_ip then assert.falsy(s[1].payload:find(ev.source_ip, 1, true)) end
      -- whatever the redaction, the record still says what happened to which object
      local r = json.decode(s[1].payload).Records[1]
      assert.equal(ev.record.s3.object.key, r.s3.object.key)
      assert.equal(ev.name, r.eventName)
    end
  end)

  it("keeps internal events' null requestParameters and empty principal", function()
    local s = gw:feed(samples[22]) -- replication: requestParameters null
    local r = json.decode(s[1].payload).Records[1]
    assert.equal(json.null, r.requestParameters)
    assert.equal("", r.userIdentity.principalId)
    assert.equal("", r.source.host)
  end)
end)
