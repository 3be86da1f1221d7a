local testing = require "luagate.testing"
local json = require "luagate.json"
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local samples = testing.events_from_file(os.getenv("LUAGATE_EVENTS") or dir .. "/../events/minio-webhook.jsonl")

describe("cloudevents", function()
  local gw = testing.load(dir .. "/routes.lua", { config = dir .. "/luagate.conf.lua" })
  before_each(function() gw:reset() end)

  it("wraps a sample record in a CloudEvents 1.0 structured envelope", function()
    local s = gw:feed(samples[2])
    local ce = json.decode(s[1].payload)
    assert.same({ "1.0", samples[2].record.s3.object.sequencer, "minio:s3:images", "s3:ObjectCreated:Put", samples[2].time,
                  "photos/2026/11/a b.jpg", "application/json" },
      { ce.specversion, ce.id, ce.source, ce.type, ce.time, ce.subject, ce.datacontenttype })
    assert.same(samples[2].record, ce.data)
    assert.is_nil(s[1].opts) -- the webhook target takes no headers: send() refuses them
  end)

  it("writes the exact bytes expected for a built event", function()
    local ev = testing.event { bucket = "b", key = "k", time = "2026-01-02T03:04:05.678Z" }
    local s = gw:feed(ev)
    assert.equal('{"data":' .. json.encode(ev.record) .. ',"datacontenttype":"application/json",'
      .. '"id":"1886CAF244FFA780","source":"minio:s3:b","specversion":"1.0","subject":"k",'
      .. '"time":"2026-01-02T03:04:05.678Z","type":"s3:ObjectCreated:Put"}', s[1].payload)
  end)

  it("falls back to the request id when the record has no sequencer", function()
    local built = testing.event { bucket = "b", key = "k", request_id = "18EA00REQUEST1D" }
    local ev = testing.event_from_json((built:json():gsub(',"sequencer":"[^"]*"', "")))
    local ce = json.decode(gw:feed(ev)[1].payload)
    assert.equal("18EA00REQUEST1D", ce.id)
  end)

  it("gives every sample a unique id", function()
    local seen = {}
    for _, ev in ipairs(samples) do
      local ce = json.decode(gw:feed(ev)[1].payload)
      assert.is_nil(seen[ce.id])
      seen[ce.id] = true
      assert.equal("minio:s3:" .. ev.bucket, ce.source)
    end
  end)
end)
