local testing = require "luagate.testing"
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local samples = testing.events_from_file(os.getenv("LUAGATE_EVENTS") or dir .. "/../events/minio-webhook.jsonl")

describe("kafka-topic-per-bucket", function()
  local gw = testing.load(dir .. "/routes.lua", { config = dir .. "/luagate.conf.lua" })
  before_each(function() gw:reset() end)

  it("publishes to s3.<bucket> keyed by bucket/object", function()
    local ev = testing.event { bucket = "raw.data", key = "2026/11/21/x.csv", size = 10 }
    local s = gw:feed(ev)
    assert.same({ topic = "s3.raw.data", key = "raw.data/2026/11/21/x.csv" }, s[1].opts)
    assert.equal("raw.data/2026/11/21/x.csv", s[1].key)
    assert.equal(ev:json(), s[1].payload)
  end)

  it("spreads the samples over one topic per bucket", function()
    local topics = {}
    for _, ev in ipairs(samples) do
      local s = gw:feed(ev)
      topics[s[1].opts.topic] = true
      assert.equal(ev.Key, s[1].opts.key)
    end
    assert.same({ ["s3.logs"] = true, ["s3.images"] = true, ["s3.media-eu"] = true, ["s3.raw.data"] = true,
                  ["s3.backups"] = true }, topics)
  end)

  it("sends deletes too, with MinIO's envelope", function()
    local s = gw:feed(samples[16])
    assert.equal("s3.images", s[1].opts.topic)
    assert.equal(samples[16]:json(), s[1].payload)
  end)
end)
