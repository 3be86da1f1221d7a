local testing = require "luagate.testing"
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local samples = testing.events_from_file(os.getenv("LUAGATE_EVENTS") or dir .. "/../events/minio-webhook.jsonl")

describe("amqp-headers", function()
  local gw = testing.load(dir .. "/routes.lua", { config = dir .. "/luagate.conf.lua" })
  before_each(function() gw:reset() end)

  it("sends the MinIO envelope with bucket and event headers", function()
    local ev = testing.event { name = "s3:ObjectCreated:Put", bucket = "images", key = "photos/a b.jpg", size = 2586 }
    local s = gw:feed(ev)
    assert.equal(1, #s)
    assert.equal("amqp:s3", s[1].target)
    assert.equal(ev:json(), s[1].payload)
    assert.same({ routing_key = "s3.images",
                  headers = { ["minio-bucket"] = "images", ["minio-event"] = "s3:ObjectCreated:Put" } }, s[1].opts)
  end)

  it("routes every sample event by its own bucket", function()
    for _, ev in ipairs(samples) do
      local s = gw:feed(ev)
      assert.equal(1, #s)
      assert.equal("s3." .. ev.bucket, s[1].opts.routing_key)
      assert.equal(ev.name, s[1].opts.headers["minio-event"])
      assert.equal(ev:json(), s[1].payload)
    end
    assert.equal(#samples, #gw.sent["amqp:s3"])
  end)

  it("keeps the removal event's name in the header", function()
    local s = gw:feed(samples[15])
    assert.equal("s3:ObjectRemoved:Delete", s[1].opts.headers["minio-event"])
    assert.equal("media-eu", s[1].opts.headers["minio-bucket"])
  end)
end)
