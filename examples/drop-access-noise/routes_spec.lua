local testing = require "luagate.testing"
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local samples = testing.events_from_file(os.getenv("LUAGATE_EVENTS") or dir .. "/../events/minio-webhook.jsonl")

describe("drop-access-noise", function()
  local gw = testing.load(dir .. "/routes.lua", { config = dir .. "/luagate.conf.lua" })
  before_each(function() gw:reset() end)

  it("drops every s3:ObjectAccessed event", function()
    assert.same({}, gw:feed(samples[20])) -- Get
    assert.same({}, gw:feed(samples[21])) -- Head
    for _, n in ipairs { "Get", "Head", "GetRetention", "GetLegalHold", "Attributes" } do
      assert.same({}, gw:feed(testing.event { name = "s3:ObjectAccessed:" .. n, key = "x.csv" }))
    end
  end)

  it("forwards the rest as MinIO would, with each target's rules", function()
    local s = gw:feed(samples[12]) -- PutTagging backups/csv/data-2026-11-21.csv
    assert.same({ "redis:csv", "webhook:siem" }, testing.names(s))
    assert.equal(samples[12]:json(), gw.sent["webhook:siem"][1].payload)
    assert.equal('{"Records":[' .. samples[12]:record_json() .. "]}", gw.sent["redis:csv"][1].payload)
    assert.same({ "webhook:siem" }, testing.names(gw:feed(samples[15]))) -- a .pdf delete
  end)

  it("keeps all but the access events of the samples", function()
    local accessed = 0
    for _, ev in ipairs(samples) do
      if ev.name:find("^s3:ObjectAccessed:") then accessed = accessed + 1 end
      gw:feed(ev)
    end
    assert.is_true(accessed > 0)
    assert.equal(#samples - accessed, #gw.sent["webhook:siem"])
  end)
end)
