local testing = require "luagate.testing"
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local samples = testing.events_from_file(os.getenv("LUAGATE_EVENTS") or dir .. "/../events/minio-webhook.jsonl")

describe("multi-suffix-regex", function()
  local gw = testing.load(dir .. "/routes.lua", { config = dir .. "/luagate.conf.lua" })
  before_each(function() gw:reset() end)

  it("takes several document suffixes, in any case", function()
    for _, key in ipairs { "a.pdf", "b.DOCX", "dir/c.Xlsx", "d.pptx", "e.odt" } do
      assert.same({ "webhook:docs" }, testing.names(gw:feed(testing.event { key = key })), key)
    end
    for _, key in ipairs { "a.pdf.bak", "pdf", "b.doc", "c.txt" } do
      assert.same({}, gw:feed(testing.event { key = key }), key)
    end
  end)

  it("sends MinIO's envelope for a sample document", function()
    local s = gw:feed(samples[3]) -- PUT images/docs/report final (v2).pdf
    assert.same({ "webhook:docs" }, testing.names(s))
    assert.equal(samples[3]:json(), s[1].payload)
  end)

  it("routes date-partitioned CSVs to a subject per day", function()
    local s = gw:feed(samples[12]) -- PutTagging backups/csv/data-2026-11-21.csv
    assert.same({ "nats:datasets" }, testing.names(s))
    assert.same({ subject = "datasets.backups.2026-11-21" }, s[1].opts)
    assert.same({}, gw:feed(testing.event { key = "csv/data-2026-1-21.csv" }))
    assert.same({}, gw:feed(samples[34])) -- data-2026-11-21.csv658: not a .csv
  end)

  it("ignores removals of matching keys", function()
    assert.same({}, gw:feed(samples[15])) -- Delete of a .pdf
    assert.same({}, gw:feed(testing.event { name = "s3:ObjectRemoved:Delete", key = "x/data-2026-01-01.csv" }))
  end)
end)
