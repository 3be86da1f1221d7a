local testing = require "luagate.testing"
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local samples = testing.events_from_file(os.getenv("LUAGATE_EVENTS") or dir .. "/../events/minio-webhook.jsonl")

describe("bucket-rules", function()
  local gw = testing.load(dir .. "/routes.lua", { config = dir .. "/luagate.conf.lua" })
  before_each(function() gw:reset() end)

  it("sends a new photo to Slack only, as MinIO's rule jpg-to-slack does", function()
    local s = gw:feed { name = "s3:ObjectCreated:Put", bucket = "images", key = "photos/a b.jpg", size = 3 }
    assert.same({ "webhook:slack" }, testing.names(s))
  end)

  it("tags audit messages with the rule that sent them", function()
    local s = gw:feed { name = "s3:ObjectRemoved:Delete", bucket = "images", key = "photos/a b.jpg" }
    assert.same({ "amqp:audit" }, testing.names(s))
    assert.same({ routing_key = "images", headers = { ["minio-rule"] = "deletes" } }, s[1].opts)
  end)

  it("adds what MinIO would not send: deletions in the rule-less bucket staging", function()
    assert.same({}, gw:feed { name = "s3:ObjectCreated:Put", bucket = "staging", key = "x" })
    local s = gw:feed { name = "s3:ObjectRemoved:Delete", bucket = "staging", key = "x" }
    assert.same({ "amqp:audit" }, testing.names(s))
  end)

  it("sends each sample event exactly where MinIO's rules say (and nothing for other buckets)", function()
    for _, ev in ipairs(samples) do
      local want = {}
      if ev.bucket == "images" and ev.name:match("^s3:ObjectCreated:") and ev.key:match("^photos/.*%.jpg$") then
        want[#want + 1] = "webhook:slack"
      end
      if (ev.bucket == "images" and ev.name:match("^s3:ObjectRemoved:"))
        or (ev.bucket == "logs" and ev.name:match("^s3:Object[CR][a-z]+ed:")) then
        table.insert(want, 1, "amqp:audit")
      end
      assert.same(want, testing.names(gw:feed(ev)), ev.name .. " " .. ev.bucket .. "/" .. ev.key)
    end
  end)
end)
