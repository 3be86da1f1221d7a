-- busted spec: luagate.testing refuses what the gateway refuses (issue #16).
-- gw:feed of a body the gateway answers 400 fails the same way, with the
-- same message: the gateway's own parser (event.c, through luagate.so) is
-- asked first.  The messages are compared with `luagate check`, which
-- prints the gateway's parse error of each line.
local testing = require "luagate.testing"
local h = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/helpers.lua")

local ok_record = testing.event { key = "a.txt", size = 3 }:record_json()
local BAD = {
  not_utf8 = '{"Records":[' .. ok_record:gsub('"a.txt"', '"a\255.txt"') .. "]}",
  size_string = '{"Records":[' .. ok_record:gsub('"size":3', '"size":"3"') .. "]}",
  bucket_number = '{"Records":[' .. ok_record:gsub('"name":"bucket"', '"name":7') .. "]}",
  array = "[1, 2]",
  no_records = '{"Records":[]}',
  record_not_object = '{"Records":[1]}',
  no_event_name = '{"Records":[{"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}',
  truncated = '{"Records":[',
}
local ORDER = { "not_utf8", "size_string", "bucket_number", "array", "no_records", "record_not_object",
  "no_event_name", "truncated" }

-- The gateway's message for each body of ORDER, from `luagate check`.
local function gateway_errors()
  local bin = os.getenv("LUAGATE_BIN") or (h.root .. "/build/release/luagate")
  local dir = h.tmpdir()
  local script, conf, events = dir .. "/r.lua", dir .. "/c.lua", dir .. "/bad.jsonl"
  local f = assert(io.open(script, "w")); f:write('return function(event, send) send("file:out", event) end\n'); f:close()
  f = assert(io.open(conf, "w")); f:write('targets = { ["file:out"] = { path = "' .. dir .. '/out" } }\n'); f:close()
  f = assert(io.open(events, "w"))
  for _, k in ipairs(ORDER) do f:write(BAD[k], "\n") end
  f:close()
  local p = assert(io.popen(("%s -c %s check %s %s 2>&1"):format(h.shq(bin), h.shq(conf), h.shq(script),
    h.shq(events))))
  local out = {}
  for l in p:lines() do
    local n, msg = l:match("^.-bad%.jsonl:(%d+): error: (.*)$")
    if n then out[ORDER[tonumber(n)]] = msg end
  end
  p:close()
  h.rmdir(dir)
  return out
end

describe("luagate.testing's ingest validation", function()
  local gw = testing.load(function(event, send) send("file:out", event) end, { targets = { "file:out" } })
  local theirs = gateway_errors()

  for _, k in ipairs(ORDER) do
    it("refuses the body '" .. k .. "' with the gateway's own message", function()
      assert.is_string(theirs[k], "luagate check did not refuse " .. k)
      local sends, err = gw:try(BAD[k])
      assert.is_nil(sends)
      assert.equal(theirs[k], err)
      assert.has_error(function() testing.events_from_json(BAD[k]) end, theirs[k])
    end)
  end

  it("names the field and the byte", function()
    assert.equal("Records[0].s3.object.size: a string where MinIO writes an integer", theirs.size_string)
    assert.matches("not valid UTF%-8", theirs.not_utf8)
  end)

  it("still routes what the gateway accepts", function()
    local sends = assert(gw:try('{"Records":[' .. ok_record .. "]}"))
    assert.equal(1, #sends)
  end)
end)
