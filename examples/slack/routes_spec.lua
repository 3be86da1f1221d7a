local testing = require "luagate.testing"
local json = require "luagate.json"
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local samples = testing.events_from_file(os.getenv("LUAGATE_EVENTS") or dir .. "/../events/minio-webhook.jsonl")

local function text(s) return json.decode(s[1].payload).text end

describe("slack", function()
  local gw = testing.load(dir .. "/routes.lua", { config = dir .. "/luagate.conf.lua" })
  before_each(function() gw:reset() end)

  it("announces an upload with size and uploader", function()
    local s = gw:feed(samples[1]) -- PUT logs/photo.jpg, 200436 bytes
    assert.equal(":inbox_tray: uploaded `photo.jpg` in *logs* (Put), 195.7 KiB by AKIAIOSFODNN7EXAMPLE", text(s))
  end)

  it("writes a Slack message body and nothing else", function()
    local s = gw:feed(testing.event { bucket = "b", key = "a b.txt", size = 12, principal = "bob" })
    assert.equal('{"text":":inbox_tray: uploaded `a b.txt` in *b* (Put), 12 B by bob"}', s[1].payload)
    assert.is_nil(s[1].opts)
  end)

  it("escapes Slack's markup characters in keys", function()
    local s = gw:feed(samples[18]) -- DeleteMarkerCreated logs/weird/&<>"'?=#%+.txt
    assert.equal(":wastebasket: deleted `weird/&amp;&lt;&gt;\"'?=#%+.txt` in *logs* (DeleteMarkerCreated) by svc-ingest",
      text(s))
  end)

  it("stays quiet on reads and names internal events without a user", function()
    assert.same({}, gw:feed(samples[20]))
    assert.same({}, gw:feed(samples[24])) -- ObjectTransition
    assert.same({}, gw:feed(samples[12])) -- PutTagging: no new content
    assert.same({}, gw:feed(samples[14])) -- PutLegalHold
    assert.equal(":twisted_rightwards_arrows: replicated `dir/` in *logs* (OperationCompletedReplication), 54.7 KiB",
      text(gw:feed(samples[22])))
  end)
end)
