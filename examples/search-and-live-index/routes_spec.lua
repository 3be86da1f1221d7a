local testing = require "luagate.testing"
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local samples = testing.events_from_file(os.getenv("LUAGATE_EVENTS") or dir .. "/../events/minio-webhook.jsonl")

-- the first sample of an event name (the samples past line 24 are drawn at random)
local function first(name)
  for _, ev in ipairs(samples) do if ev.name == name then return ev end end
  error("no sample of " .. name)
end

describe("search-and-live-index", function()
  local gw = testing.load(dir .. "/routes.lua", { config = dir .. "/luagate.conf.lua" })
  before_each(function() gw:reset() end)

  it("indexes an upload in both stores in MinIO's namespace shapes", function()
    local s = gw:feed(samples[2])
    assert.same({ "elasticsearch:search", "redis:live" }, testing.names(s))
    local rec = samples[2]:record_json()
    assert.equal('{"Records":[' .. rec .. ']}\n', s[1].payload) -- Elasticsearch: json.NewEncoder's newline
    assert.equal('{"Records":[' .. rec .. "]}", s[2].payload)
    assert.same({ "images/photos/2026/11/a b.jpg", "upsert", "upsert" }, { s[2].key, s[1].op, s[2].op })
  end)

  it("removes delete markers from the live index but not from search", function()
    local s = gw:feed(samples[18]) -- DeleteMarkerCreated
    assert.equal("upsert", s[1].op)
    assert.equal("delete", s[2].op)
    s = gw:feed(samples[15]) -- Delete: both
    assert.same({ "delete", "delete" }, { s[1].op, s[2].op })
    s = gw:feed(first "s3:ObjectRemoved:DeleteAllVersions")
    assert.equal("delete", s[2].op)
  end)

  it("skips reads", function()
    assert.same({}, gw:feed(samples[20]))
    assert.same({}, gw:feed(testing.event { name = "s3:ObjectAccessed:Head", key = "x" }))
  end)

  it("keeps the two stores in step over the samples", function()
    for _, ev in ipairs(samples) do gw:feed(ev) end
    assert.equal(#gw.sent["elasticsearch:search"], #gw.sent["redis:live"])
    for i, m in ipairs(gw.sent["redis:live"]) do assert.equal(gw.sent["elasticsearch:search"][i].key, m.key) end
  end)
end)
