local testing = require "luagate.testing"
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local samples = testing.events_from_file(os.getenv("LUAGATE_EVENTS") or dir .. "/../events/minio-webhook.jsonl")

-- the first sample of an event name (the samples past line 24 are drawn at random)
local function first(name)
  for _, ev in ipairs(samples) do if ev.name == name then return ev end end
  error("no sample of " .. name)
end

describe("audit-deletes", function()
  local gw = testing.load(dir .. "/routes.lua", { config = dir .. "/luagate.conf.lua" })
  before_each(function() gw:reset() end)

  it("keeps the objects table and audits a delete", function()
    local s = gw:feed(samples[15]) -- Delete media-eu/docs/report final (v2).pdf
    assert.same({ "postgres:objects", "postgres:audit" }, testing.names(s))
    local body = '{"Records":[' .. samples[15]:record_json() .. "]}"
    assert.equal(body, s[1].payload)
    assert.equal(body, s[2].payload)
    assert.equal("delete", s[1].op) -- the namespace row goes away
    assert.equal("media-eu/docs/report final (v2).pdf", s[1].key)
  end)

  it("audits delete markers, all-versions deletes and lifecycle expiry", function()
    assert.equal(2, #gw:feed(samples[18])) -- DeleteMarkerCreated
    assert.equal(2, #gw:feed(first "s3:ObjectRemoved:DeleteAllVersions"))
    assert.equal(2, #gw:feed(testing.event { name = "s3:LifecycleDelMarkerExpiration:Delete", key = "old",
                                             internal = true, user_agent = "Internal: [ILM-Expiry]" }))
    assert.equal(3, #gw.sent["postgres:audit"])
  end)

  it("does not audit uploads, reads or NoOP deletes", function()
    assert.same({ "postgres:objects" }, testing.names(gw:feed(samples[1])))
    assert.same({ "postgres:objects" }, testing.names(gw:feed(samples[20])))
    assert.same({ "postgres:objects" }, testing.names(gw:feed(samples[19]))) -- NoOP: nothing was removed
  end)

  it("audits exactly the deletions among the samples", function()
    local want = 0
    for _, ev in ipairs(samples) do
      if ev.name ~= "s3:ObjectRemoved:NoOP" and ev.name:find("^s3:ObjectRemoved:") then want = want + 1 end
      gw:feed(ev)
    end
    assert.equal(#samples, #gw.sent["postgres:objects"])
    assert.equal(want, #gw.sent["postgres:audit"])
  end)
end)
