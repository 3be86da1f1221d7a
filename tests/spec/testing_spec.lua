-- busted specs for luagate.testing (lua/luagate/testing.lua).
local testing = require "luagate.testing"
local json = require "luagate.json"

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local root = here .. "/../.."
local events_file = os.getenv("LUAGATE_EVENTS") or (root .. "/examples/events/minio-webhook.jsonl")

local function lines(file)
  local out = {}
  for l in io.lines(file) do out[#out + 1] = l end
  return out
end
local SAMPLES = lines(events_file)
-- Envelopes as a MinIO server posted them (lines 2, 6, 15 and 22 of a capture),
-- kept apart from the generated samples: testing.event must reproduce them.
local REF = {}
for i, l in ipairs(lines(here .. "/fixtures/minio-reference.jsonl")) do REF[({ 2, 6, 15, 22 })[i]] = l end

-- a throwaway script file (the gateway's errors name the file and line)
local function script_file(text)
  local name = os.tmpname() .. ".lua"
  local f = assert(io.open(name, "w"))
  f:write(text)
  f:close()
  return name
end

describe("testing.event", function()
  it("reproduces MinIO's bytes for a PUT of 'photos/2026/11/a b.jpg' (MinIO capture, line 2)", function()
    local ev = testing.event {
      name = "s3:ObjectCreated:Put", bucket = "images", key = "photos/2026/11/a b.jpg", size = 26,
      etag = "25b153bdfadfb83c7c3576be3a0ba046", content_type = "image/jpeg",
      metadata = { ["X-Amz-Meta-Owner"] = "team-b", ["content-type"] = "image/jpeg" },
      version_id = "90c192cf-1fb1-4f28-a392-a09fa170b338", time = "2026-11-21T08:00:04.412Z",
      sequencer = "18EA008C62B4C700", principal = "minioadmin", source_ip = "10.222.214.18",
      host_id = "54b881a2c2d767a43417f4347c4b72091f40a81b5ecd5b2dff268aa5e814003c",
    }
    assert.equal(REF[2], ev:json())
    assert.equal("photos%2F2026%2F11%2Fa+b.jpg", ev.record.s3.object.key)
    assert.equal("images/photos/2026/11/a b.jpg", ev.Key)
  end)

  it("escapes keys as url.QueryEscape and strings as Go's json (MinIO capture, line 6)", function()
    local ev = testing.event {
      name = "s3:ObjectCreated:Put", bucket = "raw.data", key = "weird/&<>\"'?=#%+.txt", size = 56060,
      etag = "6ee3e4517959cc7ba1c1dead6d70a251", content_type = "application/octet-stream",
      metadata = { ["X-Amz-Meta-Owner"] = "team-a", ["content-type"] = "application/octet-stream" },
      version_id = "6b0a18e8-2a3a-4c1d-a579-eeea26e87555", time = "2026-11-21T08:00:13.028Z",
      sequencer = "18EA008E64428100", principal = "AKIAIOSFODNN7EXAMPLE", source_ip = "10.253.175.187",
      host_id = "565d031a8cb82daa89ab20dc8474951bd57d8287a93116e0d4f937f483c50a40",
    }
    assert.equal(REF[6], ev:json())
    assert.truthy(ev:json():find('"Key":"raw.data/weird/\\u0026\\u003c\\u003e\\"\'?=#%+.txt"', 1, true))
  end)

  it("drops size, eTag, contentType and userMetadata from removal events (MinIO capture, line 15)", function()
    local ev = testing.event {
      name = "s3:ObjectRemoved:Delete", bucket = "media-eu", key = "docs/report final (v2).pdf",
      size = 999, etag = "ignored", content_type = "application/pdf",
      time = "2026-11-21T08:00:49.822Z", sequencer = "18EA0096F55A6400", principal = "AKIAIOSFODNN7EXAMPLE",
      source_ip = "10.204.201.27", host_id = "a7f303ec8dfcc38c9949395fb5a10d21d2215cd13f592775c22482f73c61129c",
    }
    assert.equal(REF[15], ev:json())
    assert.is_nil(ev.size)
  end)

  it("writes internal events with null requestParameters (MinIO capture, line 22)", function()
    local ev = testing.event {
      name = "s3:Replication:OperationCompletedReplication", bucket = "logs", key = "dir/", internal = true,
      size = 56060, etag = "bd11d130de561bf1a878cf098da12ed3", content_type = "application/octet-stream",
      version_id = "8483f8b8-7e26-45b0-abb2-fd56076b3e36", time = "2026-11-21T08:01:07.408Z",
      sequencer = "18EA009B0D8F7400", host_id = "92c7b390f3a0b57fe94a92a272ecd4b2ae3a740b3b7b2900f7b452c634fbac08",
    }
    assert.equal(REF[22], ev:json())
    assert.equal("", ev.principal)
    assert.is_nil(ev.source_ip)
  end)

  it("rebuilds every sample line from the fields of its own event", function()
    for i, line in ipairs(SAMPLES) do
      local ev = testing.event_from_json(line)
      local r = ev.record
      local again = testing.event {
        name = ev.name, bucket = ev.bucket, key = ev.key, size = ev.size, etag = ev.etag,
        content_type = ev.content_type, metadata = ev.metadata or {}, version_id = ev.version_id,
        time = ev.time, principal = ev.principal, source_ip = ev.source_ip,
        internal = r.requestParameters == json.null, sequencer = r.s3.object.sequencer,
        request_id = r.responseElements["x-amz-request-id"], host_id = r.responseElements["x-amz-id-2"],
        user_agent = r.source.userAgent,
      }
      assert.equal(line, again:json(), "sample line " .. i)
    end
  end)

  it("omits a zero size, derives the sequencer from the time, and fills defaults", function()
    local ev = testing.event { key = "empty.txt", size = 0, time = "2026-11-21T08:00:02.653Z" }
    assert.is_nil(ev.size)
    assert.equal("18EA008BF9DC9140", ev.record.s3.object.sequencer)
    assert.equal("18EA008BF9DC9140", ev.record.responseElements["x-amz-request-id"])
    assert.equal("s3:ObjectCreated:Put", ev.name)
    assert.equal("bucket/empty.txt", ev.Key)
    assert.has_error(function() testing.event { name = "s3:ObjectCreated:Put" } end)
  end)

  it("offers the gateway event's fields", function()
    local ev = testing.event_from_json(REF[2])
    assert.equal("s3:ObjectCreated:Put", ev.name)
    assert.equal(ev.name, ev.EventName)
    assert.equal("images", ev.bucket)
    assert.equal("photos/2026/11/a b.jpg", ev.key)
    assert.equal("images/photos/2026/11/a b.jpg", ev.Key)
    assert.equal("2026-11-21T08:00:04.412Z", ev.time)
    assert.equal(26, ev.size)
    assert.equal("25b153bdfadfb83c7c3576be3a0ba046", ev.etag)
    assert.equal("image/jpeg", ev.content_type)
    assert.equal("90c192cf-1fb1-4f28-a392-a09fa170b338", ev.version_id)
    assert.same({ ["X-Amz-Meta-Owner"] = "team-b", ["content-type"] = "image/jpeg" }, ev.metadata)
    assert.equal("minioadmin", ev.principal)
    assert.equal("10.222.214.18", ev.source_ip)
    assert.equal("", ev.region)
    assert.equal("images", ev.record.s3.bucket.name)
    assert.equal(ev.record.eventTime, ev.Records[1].eventTime)
    assert.equal('[', json.encode(ev.Records):sub(1, 1))
    assert.equal(REF[2], ev:json())
    assert.equal(REF[2]:match('"Records":%[(.*)%]}$'), ev:record_json())
    assert.is_nil(ev.no_such_field)
  end)

  it("splits a Records-only body into events with envelopes of their own", function()
    local a, b = testing.event { key = "a.txt" }, testing.event { key = "b c.txt", bucket = "other" }
    local body = '{"Records":[' .. a:record_json() .. ", " .. b:record_json() .. "]}"
    local evs = testing.events_from_json(body)
    assert.equal(2, #evs)
    assert.equal(a:json(), evs[1]:json())
    assert.equal(b:json(), evs[2]:json())
    assert.equal("other/b c.txt", evs[2].Key)
    assert.has_error(function() testing.event_from_json('{"Records":[]}') end,
      'the body has no "Records" array with events: not an S3 event')
  end)

  it("escapes and unescapes keys as Go's url package", function()
    assert.equal("a%2Fb+c%C3%A9%2B~-_.", testing.query_escape("a/b cé+~-_."))
    assert.equal("a/b cé+", testing.query_unescape("a%2Fb+c%c3%a9%2B"))
    assert.is_nil(testing.query_unescape("50%"))
  end)
end)

describe("testing.load", function()
  local targets = {
    { name = "webhook:1", kind = "webhook", format = "", events = "", prefix = "", suffix = "" },
    "amqp:1", "kafka:1", "mqtt:1", "nats:1", "nsq:1", "file:1",
    { name = "elasticsearch:1", format = "namespace" },
    { name = "postgres:1" }, { name = "mysql:1" },
    { name = "redis:ns", format = "namespace" },
    { name = "redis:acc", format = "access" },
  }
  local ev = testing.event_from_json(REF[2])
  local rec = ev:record_json()

  it("renders the event itself in MinIO's shape for each target kind", function()
    local gw = testing.load(function(event, send)
      for _, t in ipairs(require "luagate.targets") do send(t.name, event) end
      send("webhook:1") -- nil payload: the event too
    end, { targets = targets })
    local sends = gw:feed(ev)
    assert.equal(#targets + 1, #sends)
    for _, k in ipairs { "webhook:1", "amqp:1", "kafka:1", "mqtt:1", "nats:1", "nsq:1", "file:1" } do
      assert.equal(REF[2], gw.sent[k][1].payload, k)
    end
    assert.equal(REF[2], gw.sent["webhook:1"][2].payload)
    assert.equal('{"Records":[' .. rec .. ']}\n', gw.sent["elasticsearch:1"][1].payload)
    for _, k in ipairs { "postgres:1", "mysql:1", "redis:ns" } do
      assert.equal('{"Records":[' .. rec .. "]}", gw.sent[k][1].payload, k)
    end
    assert.equal('[{"Event":[' .. rec .. '],"EventTime":"2026-11-21T08:00:04.412Z"}]', gw.sent["redis:acc"][1].payload)
  end)

  it("encodes tables with luagate.json (events inside as their envelope) and keeps strings", function()
    local gw = testing.load(function(event, send)
      send("webhook:1", { b = json.null, a = json.array {}, e = event })
      send("webhook:1", "as is\n", { key = "k/1", op = "delete" })
    end, { targets = targets })
    gw:feed(ev)
    assert.equal('{"a":[],"b":null,"e":' .. REF[2] .. "}", gw.sent["webhook:1"][1].payload)
    assert.equal("as is\n", gw.sent["webhook:1"][2].payload)
    assert.same({ key = "k/1", op = "delete" }, gw.sent["webhook:1"][2].opts)
    assert.equal('{"key":"k/1","op":"delete"}', gw.sent["webhook:1"][2].opts_json)
  end)

  it("derives key and op as the gateway does, opts override them", function()
    local gw = testing.load(function(event, send)
      send("redis:ns", event)
      send("redis:ns", event, { key = "k", op = "delete" })
    end, { targets = targets })
    local s = gw:feed(ev)
    assert.same({ "images/photos/2026/11/a b.jpg", "upsert" }, { s[1].key, s[1].op })
    assert.same({ "k", "delete" }, { s[2].key, s[2].op })
    s = gw:feed(testing.event { name = "s3:ObjectRemoved:Delete", key = "x" })
    assert.equal("delete", s[1].op)
    s = gw:feed(testing.event { name = "s3:ObjectRemoved:DeleteMarkerCreated", key = "x" })
    assert.equal("upsert", s[1].op)
  end)

  it("raises the gateway's errors, with the script's file and line", function()
    local file = script_file [[
return function(event, send)
  if event.bucket == "images" then send("webhook:nope", event) end
  if event.bucket == "logs" then send("webhook:1", 42) end
  if event.bucket == "media-eu" then send("webhook:1", "x", { op = "merge" }) end
  if event.bucket == "raw.data" then send("webhook:1", { f = print }) end
  if event.bucket == "backups" then send("webhook:1", "x", "y") end
  send("webhook:1", "fine")
end
]]
    local gw = testing.load(file, { targets = targets })
    local src = file:match("[^/]*$")
    local function err_of(bucket)
      local _, e = gw:try(testing.event { bucket = bucket, key = "k" })
      return (e:gsub("^.*/", ""))
    end
    assert.equal(src .. ":2: send: unknown target 'webhook:nope'", err_of("images"))
    assert.equal(src .. ":3: bad argument #2 to 'send' (payload must be the event, a string or a table)", err_of("logs"))
    assert.equal(src .. ':4: send: opts.op must be "upsert" or "delete", not "merge"', err_of("media-eu"))
    assert.equal(src .. ":5: send: payload: cannot encode a function as JSON", err_of("raw.data"))
    assert.equal(src .. ":6: bad argument #3 to 'send' (table expected, got string)", err_of("backups"))
    assert.same({}, gw.sent["webhook:1"]) -- a failed event sends nothing
    assert.equal(1, #gw:feed(testing.event { bucket = "other", key = "k" }))
    os.remove(file)
  end)

  it("refuses send(old_event) with an event kept from an earlier call, as the gateway does", function()
    local kept
    local gw = testing.load(function(event, send)
      if kept then send("webhook:1", kept) end
      kept = event
    end, { targets = targets })
    assert.equal(0, #gw:feed(testing.event { bucket = "a", key = "1" }))
    local _, err = gw:try(testing.event { bucket = "a", key = "2" })
    assert.matches("send: this event belongs to an earlier route() call", err, 1, true)
    assert.same({}, gw.sent["webhook:1"])
  end)

  it("stops a runaway script with the instruction budget", function()
    local gw = testing.load(function() while true do end end, { targets = targets, instructions = 100000 })
    assert.has_error(function() gw:feed(ev) end)
    local _, e = gw:try(ev)
    assert.truthy(e:find("script exceeded its budget of 100000 instructions for one event", 1, true))
  end)

  it("gives the built-in router the targets as luagate.targets (map form, kind from the name)", function()
    local gw = testing.load(nil, { targets = {
      ["webhook:jpg"] = { events = "put", suffix = ".jpg" },
      ["redis:all"] = { format = "access" },
      ["kafka:off"] = { enable = "off" },
    } })
    assert.is_nil(gw.sent["kafka:off"])
    assert.equal("redis", gw.targets["redis:all"].kind)
    gw:feed(SAMPLES[2])
    gw:feed(SAMPLES[15]) -- a delete: only redis takes it
    assert.equal(1, #gw.sent["webhook:jpg"])
    assert.equal(2, #gw.sent["redis:all"])
    assert.same({ "redis:all" }, testing.names(gw:feed(SAMPLES[3])))
    gw:reset()
    assert.same({}, gw.sent["redis:all"])
    assert.same({}, gw.sends)
  end)

  it("takes the targets from a luagate.conf.lua and reloads luagate.default each time", function()
    local conf = script_file [[
targets = { ["webhook:a"] = { endpoint = "http://127.0.0.1:1/", events = { "put", "delete" } } }
]]
    local gw = testing.load(nil, { config = conf })
    assert.equal("put,delete", gw.targets["webhook:a"].events)
    assert.equal(1, #gw:feed(SAMPLES[15]))
    local gw2 = testing.load(nil, { targets = { "webhook:b" } })
    assert.same({ "webhook:b" }, testing.names(gw2:feed(SAMPLES[15])))
    os.remove(conf)
  end)

  it("records luagate.log calls and runs the script without io", function()
    local file = script_file [[
local log = require "luagate.log"
return function(event, send)
  log.info("saw", event.key)
  assert(io == nil and dofile == nil and os.execute == nil, "sandbox")
end
]]
    local gw = testing.load(file, { targets = targets })
    gw:feed(ev)
    assert.equal("info", gw.logs[1].level)
    assert.truthy(gw.logs[1].message:find(":3: saw photos/2026/11/a b.jpg", 1, true))
    os.remove(file)
  end)
end)

-- The same script through the real gateway (`luagate check`) and through
-- testing.lua must queue the same bytes; needs LUAGATE_BIN (tests/run.sh sets it).
describe("testing.lua against the gateway", function()
  local bin = os.getenv("LUAGATE_BIN")
  local have = bin and io.open(bin, "r")
  if have then have:close() end
  local probe = [[
local FIELDS = { "name", "EventName", "bucket", "key", "Key", "time", "etag", "content_type", "version_id",
  "metadata", "principal", "source_ip", "region", "record", "Records", "nothing" }
return function(event, send)
  local f = {}
  for _, k in ipairs(FIELDS) do local v = event[k]; if v == nil then v = "<nil>" end; f[k] = v end
  f.json, f.record_json = event:json(), event:record_json()
  send("webhook:probe", f)
  send("webhook:probe", { ev = event, list = { event } }, { key = "k", op = "upsert" })
  send("file:out", event, { op = "delete" })
  send("file:out", "plain string")
  if event.name == "s3:ObjectRemoved:NoOP" then send("file:nope") end
end
]]
  local KEYED = { kafka = true }
  local OPPED = { redis = true, mysql = true, postgres = true, elasticsearch = true }
  local function run_both(script_text)
    local dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. dir)
    local script, conf = dir .. "/probe.lua", dir .. "/conf.lua"
    local f = assert(io.open(script, "w")); f:write(script_text); f:close()
    f = assert(io.open(conf, "w"))
    f:write('targets = { ["webhook:probe"] = { endpoint = "http://127.0.0.1:1/" }, ["file:out"] = { path = "'
      .. dir .. '/out" } }\n')
    f:close()
    local p = io.popen(("%s -c %s check %s %s 2>&1"):format(bin, conf, script, events_file))
    local theirs = {}
    for l in p:lines() do
      if l:match("^  %-> dead%-letter queue _script") then -- the line after a script error
      elseif l:match("^  %-> ") or l:match("^     ") then theirs[#theirs + 1] = l
      elseif l:match("^  script error: ") then theirs[#theirs + 1] = "  error " .. l:gsub("^  script error: .*/", "") end
    end
    p:close()
    local gw = testing.load(script, { config = conf })
    local mine = {}
    for _, line in ipairs(SAMPLES) do
      local sends, err = gw:try(line)
      if not sends then
        mine[#mine + 1] = "  error " .. err:gsub("^.*/", "")
      else
        for _, m in ipairs(sends) do
          -- check prints key and op only for the kinds that use them
          local kind = gw.targets[m.target].kind
          local key = (KEYED[kind] or OPPED[kind]) and (" key=" .. json.quote(m.key)) or ""
          local op = OPPED[kind] and (" op=" .. m.op) or ""
          mine[#mine + 1] = ("  -> %s%s%s%s"):format(m.target, key, op,
            m.opts_json and (" opts=" .. m.opts_json) or "")
          mine[#mine + 1] = "     " .. m.payload:gsub("\n$", "")
        end
      end
    end
    os.execute("rm -rf " .. dir)
    return mine, theirs
  end

  if not have then
    pending("set LUAGATE_BIN to a luagate binary to compare with the gateway")
    return
  end

  it("queues the same bytes, keys, ops, opts and errors for every sample", function()
    local mine, theirs = run_both(probe)
    assert.equal(#theirs, #mine)
    for i = 1, #mine do assert.equal(theirs[i], mine[i]) end
  end)

  it("gives event.size as the gateway does", function()
    local mine, theirs = run_both([[
return function(event, send) send("file:out", { size = event.size == nil and "nil" or event.size }) end
]])
    if theirs[2] == '     {"size":"nil"}' and mine[2] ~= theirs[2] then
      -- src/json.c cannot decode a bare number at the end of its input, so
      -- the gateway's event.size is always nil (reported with issue #6)
      pending("gateway bug: event.size is nil in luagate (json_decode_lua of a bare number)")
      return
    end
    assert.same(theirs, mine)
  end)
end)
