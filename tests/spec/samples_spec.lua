-- The committed sample events are what examples/events/generate.lua writes:
-- a change to the generator or to luagate.testing.event that would alter
-- them fails here until `make events` regenerates the file.
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local root = here .. "/../.."

describe("examples/events/minio-webhook.jsonl", function()
  it("is exactly what examples/events/generate.lua writes", function()
    local lines = {}
    local env = setmetatable({ print = function(s) lines[#lines + 1] = s end }, { __index = _G })
    assert(loadfile(root .. "/examples/events/generate.lua", "t", env))()
    local committed = {}
    for l in io.lines(root .. "/examples/events/minio-webhook.jsonl") do committed[#committed + 1] = l end
    assert.equal(#committed, #lines)
    for i = 1, #lines do assert.equal(committed[i], lines[i], "line " .. i) end
  end)

  it("covers what the README promises of the samples", function()
    local testing = require "luagate.testing"
    local evs = testing.events_from_file(root .. "/examples/events/minio-webhook.jsonl")
    local groups, big, empty, internal = {}, false, false, false
    for _, ev in ipairs(evs) do
      groups[ev.name:match("^s3:([^:]+)")] = true
      if (ev.size or 0) > 5 * 1024 ^ 3 then big = true end
      if ev.name:find("^s3:ObjectCreated:") and ev.size == nil then empty = true end
      if ev.record.requestParameters == testing.json.null then internal = true end
    end
    for _, g in ipairs { "ObjectCreated", "ObjectRemoved", "ObjectAccessed", "Replication", "ObjectRestore",
                         "ObjectTransition" } do
      assert.is_true(groups[g], g)
    end
    assert.is_true(big, "an object larger than 5 GiB")
    assert.is_true(empty, "an empty object (size omitted, as MinIO does)")
    assert.is_true(internal, "an internal event with requestParameters null")
  end)
end)
