-- luagate.testing: test routing scripts with plain busted, no gateway running.
--
--   local testing = require "luagate.testing"
--   local gw = testing.load("routes.lua", { targets = { "webhook:1", ["redis:idx"] = {format = "access"} } })
--   gw:feed(testing.event{ name = "s3:ObjectCreated:Put", bucket = "images", key = "a b.jpg", size = 26 })
--   assert.equal(1, #gw.sent["webhook:1"])
--   print(gw.sent["webhook:1"][1].payload)          -- the bytes the gateway would queue
--
-- Everything here mirrors src/script.c: the event object has the same fields,
-- send() renders payloads into the same bytes (MinIO's shape per target kind
-- for the event itself, luagate.json for tables, strings as they are) and
-- raises the same errors, so a spec that passes here says what the gateway
-- will queue.  What is NOT reproduced: the memory cap of a Lua state, and the
-- sandbox is only approximated (see sandbox_env).
local M = {}

--- Test routing scripts with plain busted, no gateway and no server running.
-- `testing.load` runs a script with recording targets; `gw:feed` routes one
-- event and returns what the gateway would queue, byte for byte (MinIO's shape
-- for the event itself, luagate.json for tables, strings as they are) and
-- raises the gateway's errors.  Not reproduced: the memory cap of a Lua state;
-- the sandbox is approximated (no io, os without process and file functions).
-- Needs luagate.so (for luagate.json) on package.cpath, or a build in the
-- source tree beside it.
--
-- A recording gateway `gw` (from `testing.load`) has the fields `gw.sent`
-- (target name -> list of sends since `gw:reset()`), `gw.sends` (every send
-- since `gw:reset()`, in order), `gw.logs` (`{level=, message=}` of every
-- luagate.log call) and `gw.targets` (as `testing.targets` gives them).  A send
-- is a table `{target=, payload=, opts=, opts_json=, key=, op=, event=}`:
-- `payload` the bytes queued, `opts` the table given and `opts_json` its
-- encoding, `key` opts.key or the event's `bucket/object`, `op` "upsert" or
-- "delete" (opts.op, else "delete" for s3:ObjectRemoved:Delete), `event`
-- true when the event itself was sent.
-- @section luagate.testing

-- luagate.json is the gateway's own encoder (luagate.so); find it through
-- package.cpath, else beside this file in a source tree (build/release).
local here = (debug.getinfo(1, "S").source:match("^@(.*)/luagate/[^/]*$")) or "."
local function load_json()
  local ok, mod = pcall(require, "luagate.json")
  if ok then return mod end
  package.cpath = package.cpath .. ";" .. here .. "/../build/release/?.so"
  ok, mod = pcall(require, "luagate.json")
  if ok then return mod end
  error("luagate.testing needs luagate.so for luagate.json: set LUA_CPATH=\"$PWD/build/release/?.so;;\" ("
    .. tostring(mod) .. ")", 0)
end
local json = load_json()
-- the gateway's own parse of a body (event.c), for its refusals and their words
local ingest = require "luagate.ingest"
--- luagate.json, the gateway's own encoder, as this module loaded it.
M.json = json
-- send()'s option tables are the gateway's own (luagate.so, src/sendopts.c)
local check_send_opts = require("luagate").check_send_opts
if not check_send_opts then
  error("luagate.testing: the luagate.so found is older than this luagate.testing (no check_send_opts): "
    .. "install both from one build", 0)
end

-- ---- small helpers ---------------------------------------------------------

--- Go's url.QueryEscape, as MinIO escapes object keys in its records: all
-- but A-Z a-z 0-9 - _ . ~ as %XX (upper-case hex), space as '+'.
-- @param s the string
-- @return the escaped string
-- @raise when s is not a string
function M.query_escape(s)
  return (s:gsub("[^%w%-_%.~ ]", function(c) return ("%%%02X"):format(c:byte()) end):gsub(" ", "+"))
end

--- url.QueryUnescape, as the gateway unescapes `s3.object.key` (src/event.c).
-- @param s an escaped string
-- @return the unescaped string, or nil on a bad escape (`%` not followed by two hex digits)
function M.query_unescape(s)
  local out, i, n = {}, 1, #s
  while i <= n do
    local c = s:sub(i, i)
    if c == "+" then
      out[#out + 1] = " "
    elseif c == "%" then
      local h = s:sub(i + 1, i + 2)
      if not h:match("^%x%x$") then return nil end
      out[#out + 1] = string.char(tonumber(h, 16))
      i = i + 2
    else
      out[#out + 1] = c
    end
    i = i + 1
  end
  return table.concat(out)
end

-- Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

--- MinIO's sequencer for an event time: %X of the Unix time in nanoseconds.
-- @param time an RFC 3339 UTC time, `2006-01-02T15:04:05.000Z` (fraction optional)
-- @return the sequencer, upper-case hex
-- @raise when time has another form
function M.sequencer(time)
  local y, mo, d, h, mi, s, frac = time:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)%.?(%d*)Z$")
  if not y then error(("testing: time '%s' is not 2006-01-02T15:04:05.000Z"):format(time), 0) end
  local secs = days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400
    + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
  local ns = tonumber(((frac or "") .. "000000000"):sub(1, 9))
  return ("%X"):format(secs * 1000000000 + ns)
end

-- Byte spans of JSON text, so that record_json() is the original bytes (the
-- gateway forwards those, it never re-encodes an event).  The text is valid
-- JSON by the time these run (json.decode checked it).
local function skip_ws(s, i) return s:find("[^ \t\r\n]", i) or #s + 1 end
local function skip_string(s, i)
  local j = i + 1
  while true do
    local k = s:find('["\\]', j)
    if not k then error("unterminated JSON string", 0) end
    if s:byte(k) == 34 then return k + 1 end
    j = k + 2
  end
end
local function skip_value(s, i)
  i = skip_ws(s, i)
  local c = s:sub(i, i)
  if c == '"' then return skip_string(s, i) end
  if c == "{" or c == "[" then
    local depth = 0
    while true do
      local k = s:find('[%[%]{}"]', i)
      if not k then error("unterminated JSON value", 0) end
      local ch = s:sub(k, k)
      if ch == '"' then
        i = skip_string(s, k)
      else
        depth = depth + ((ch == "{" or ch == "[") and 1 or -1)
        i = k + 1
        if depth == 0 then return i end
      end
    end
  end
  return s:find("[,%]} \t\r\n]", i) or #s + 1
end
-- The members of the object at i: {name = {start, stop}} (stop exclusive).
local function members(s, i)
  local out = {}
  i = skip_ws(s, i) + 1
  while true do
    i = skip_ws(s, i)
    if s:sub(i, i) == "}" then return out end
    if s:sub(i, i) == "," then i = skip_ws(s, i + 1) end
    local kend = skip_string(s, i)
    local name = json.decode(s:sub(i, kend - 1))
    i = skip_ws(s, kend) + 1 -- the ':'
    local vs = skip_ws(s, i)
    local ve = skip_value(s, vs)
    out[name] = { vs, ve }
    i = ve
  end
end
-- The elements of the array at i: list of {start, stop}.
local function elements(s, i)
  local out = {}
  i = skip_ws(s, i) + 1
  while true do
    i = skip_ws(s, i)
    local c = s:sub(i, i)
    if c == "]" then return out end
    if c == "," then i = skip_ws(s, i + 1) end
    local ve = skip_value(s, i)
    out[#out + 1] = { i, ve }
    i = ve
  end
end

-- ---- the event object --------------------------------------------------------

local EVENT = {}          -- metatable of every event
local inner = setmetatable({}, { __mode = "k" }) -- event -> its texts

local function is_event(v) return type(v) == "table" and getmetatable(v) == EVENT end
--- Is v an event of this module (from testing.event or events_from_json)?
-- @name luagate.testing.is_event(v)
-- @param v any value
-- @return true or false
M.is_event = is_event

-- rec.a.b.c without failing on a null or a missing level (event.c json_path).
local function path(t, ...)
  for i = 1, select("#", ...) do
    if type(t) ~= "table" then return nil end
    t = t[(select(i, ...))]
  end
  return t
end

-- name -> function(event, data) computing the field, as l_event_index does
local FIELDS = {
  size = function(d) return path(json.decode(d.record_json), "s3", "object", "size") end,
  etag = function(d) return path(json.decode(d.record_json), "s3", "object", "eTag") end,
  content_type = function(d) return path(json.decode(d.record_json), "s3", "object", "contentType") end,
  version_id = function(d) return path(json.decode(d.record_json), "s3", "object", "versionId") end,
  metadata = function(d) return path(json.decode(d.record_json), "s3", "object", "userMetadata") end,
  principal = function(d) return path(json.decode(d.record_json), "userIdentity", "principalId") end,
  source_ip = function(d) return path(json.decode(d.record_json), "requestParameters", "sourceIPAddress") end,
  region = function(d) return path(json.decode(d.record_json), "awsRegion") end,
  record = function(d) return (json.decode(d.record_json)) end,
  Records = function(d) return json.array { (json.decode(d.record_json)) } end,
}

local METHODS = {
  json = function(ev) return inner[ev].envelope end,
  record_json = function(ev) return inner[ev].record_json end,
}

EVENT.__index = function(ev, k)
  local m = METHODS[k]
  if m then return m end
  local f = FIELDS[k]
  if not f then return nil end
  local v = f(inner[ev])
  rawset(ev, k, v) -- decoded once, like the gateway's cache
  return v
end
EVENT.__tostring = function(ev) return ("event %s %s"):format(ev.name, ev.Key) end
EVENT.__name = "luagate.event"

-- An event from one record's bytes and, when it came in MinIO's envelope, the
-- envelope's bytes (forwarded as they are, as the gateway does).
local function new_event(record_json, envelope, idx)
  idx = idx or 0
  local rec, err = json.decode(record_json)
  if rec == nil then error("testing: " .. tostring(err), 0) end
  local name = path(rec, "eventName")
  if type(name) ~= "string" or name == "" then
    error(("Records[%d]: no eventName: not an S3 event record"):format(idx), 0)
  end
  local bucket = path(rec, "s3", "bucket", "name")
  if type(bucket) ~= "string" then
    error(("Records[%d]: no s3.bucket.name: not an S3 event record"):format(idx), 0)
  end
  local okey = path(rec, "s3", "object", "key")
  local key = ""
  if type(okey) == "string" then
    key = M.query_unescape(okey)
    if not key then error(("Records[%d]: s3.object.key is not URL-escaped properly"):format(idx), 0) end
  end
  local time = path(rec, "eventTime")
  local ev = { name = name, EventName = name, bucket = bucket, key = key, Key = bucket .. "/" .. key,
               time = type(time) == "string" and time or "" }
  inner[ev] = {
    record_json = record_json,
    envelope = envelope or ('{"EventName":' .. json.quote(name) .. ',"Key":' .. json.quote(ev.Key)
      .. ',"Records":[' .. record_json .. "]}"),
  }
  return setmetatable(ev, EVENT)
end

--- Every event of a request body, as the gateway splits it: one MinIO
-- envelope (`{"EventName","Key","Records":[r]}`, its bytes kept as they are)
-- or an S3-style `{"Records":[...]}` with any number of records (one event
-- each, in a new envelope).  The events have the fields of the gateway's
-- (`name`, `bucket`, `key`, `size`, ... `record`, `Records`, `:json()`,
-- `:record_json()`).
-- @param text the body
-- @return a list of events
-- @raise whenever the gateway answers the body 400, with its message (its own
-- parser, through luagate.so: not JSON, not UTF-8, a field MinIO writes with
-- another JSON type, no non-empty "Records" array, a record lacking eventName
-- or s3.bucket.name)
function M.events_from_json(text)
  local valid, why = ingest.check(text)
  if not valid then error(why, 0) end
  local doc, err = json.decode(text)
  if doc == nil then error("testing: not JSON: " .. tostring(err), 0) end
  if type(doc) ~= "table" or getmetatable(doc) == json.array_mt then
    error('the body is not a JSON object with "Records": not an S3 event', 0)
  end
  local recs = doc.Records
  if type(recs) ~= "table" or getmetatable(recs) ~= json.array_mt or #recs == 0 then
    error('the body has no "Records" array with events: not an S3 event', 0)
  end
  local start = skip_ws(text, 1)
  local m = members(text, start)
  local spans = elements(text, m.Records[1])
  local envelope
  if #spans == 1 and doc.EventName ~= nil and doc.Key ~= nil then
    envelope = text:sub(start, skip_value(text, start) - 1) -- MinIO's own bytes
  end
  local out = {}
  for i, sp in ipairs(spans) do
    if type(recs[i]) ~= "table" or getmetatable(recs[i]) == json.array_mt then
      error(("Records[%d] is not an object"):format(i - 1), 0)
    end
    out[i] = new_event(text:sub(sp[1], sp[2] - 1), envelope, i - 1)
  end
  return out
end

--- The event of one line of MinIO webhook output (its first record).
-- @param line one request body
-- @return an event
-- @raise as events_from_json
function M.event_from_json(line) return M.events_from_json(line)[1] end

--- Every event of a JSON-lines file such as examples/events/minio-webhook.jsonl,
-- one request body per line (blank lines skipped), in order: the list to
-- index in specs (`samples[2]`) or to feed whole.
-- @param file the file's path
-- @return a list of events (a line with several records gives several)
-- @raise when the file cannot be opened, or a line as events_from_json
function M.events_from_file(file)
  local f = assert(io.open(file, "r"))
  local out = {}
  for line in f:lines() do
    if line:find("%S") then
      for _, ev in ipairs(M.events_from_json(line)) do out[#out + 1] = ev end
    end
  end
  f:close()
  return out
end

-- MinIO does not copy etag/size/contentType/userMetadata into these (reference §1.1).
local REMOVAL = { ["s3:ObjectRemoved:Delete"] = true, ["s3:ObjectRemoved:DeleteMarkerCreated"] = true,
                  ["s3:ObjectRemoved:NoOP"] = true }

--- The values testing.event uses for the fields not given (name
-- s3:ObjectCreated:Put, bucket "bucket", a fixed time, principal, source_ip,
-- user agents, host and deployment ids, endpoint); a spec may change them.
M.defaults = {
  name = "s3:ObjectCreated:Put",
  bucket = "bucket",
  time = "2026-11-21T08:00:00.000Z",
  principal = "minioadmin",
  source_ip = "127.0.0.1",
  region = "",
  user_agent = "MinIO (linux; amd64) minio-go/v7.0.70 mc/RELEASE.2025-08-13T08-35-41Z",
  internal_user_agent = "Internal: [Replication]",
  host_id = "dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8",
  deployment_id = "751a8ba6-acb2-42f6-a297-4cdf1cf1fa4f",
  endpoint = "http://10.0.3.1:9000",
}

local q = function(s) return json.quote(tostring(s)) end

--- A MinIO-exact event (reference §1.1): the record written byte for byte as
-- MinIO's json.Marshal does, in its envelope.  Fields (all optional except key
-- for object events): name, bucket, key (the object name, unescaped), size,
-- etag, content_type, metadata (default {["content-type"] = content_type}),
-- version_id, time, sequencer (default: from time), principal, source_ip,
-- region, range, request_id (default: sequencer), host_id, deployment_id,
-- endpoint, content_length, user_agent, source_host (default: source_ip),
-- internal = true (ILM/replication/scanner: requestParameters null, principal
-- and host "").
-- @param f the fields (a table; nil: every default, which needs no key only for s3:Bucket* names)
-- @return an event, as testing.events_from_json gives it
-- @raise when key is missing for an object event, or size is not an integer
function M.event(f)
  f = f or {}
  local D = M.defaults
  local name = f.name or D.name
  local bucket = f.bucket or D.bucket
  local key = f.key
  if key == nil then
    if not name:match("^s3:Bucket") then error("testing.event: key (the object name) is required", 2) end
    key = ""
  end
  local time = f.time or D.time
  local seq = f.sequencer or M.sequencer(time)
  local principal = f.principal or (f.internal and "" or D.principal)
  local rp = "null"
  if not f.internal then
    rp = json.encode { principalId = principal, region = f.region or D.region,
                       sourceIPAddress = f.source_ip or D.source_ip, range = f.range }
  end
  local re = json.encode {
    ["content-length"] = f.content_length and tostring(f.content_length) or nil,
    ["x-amz-id-2"] = f.host_id or D.host_id,
    ["x-amz-request-id"] = f.request_id or seq,
    ["x-minio-deployment-id"] = f.deployment_id or D.deployment_id,
    ["x-minio-origin-endpoint"] = f.endpoint or D.endpoint,
  }
  local obj = { '"key":', q(M.query_escape(key)) }
  local function add(k, v) obj[#obj + 1] = ',"' .. k .. '":' .. v end
  if not REMOVAL[name] then
    local size = f.size and math.tointeger(f.size)
    if f.size and not size then error("testing.event: size must be an integer", 2) end
    if size and size ~= 0 then add("size", ("%d"):format(size)) end
    if f.etag and f.etag ~= "" then add("eTag", q(f.etag)) end
    if f.content_type and f.content_type ~= "" then add("contentType", q(f.content_type)) end
    local md = f.metadata
    if md == nil and f.content_type and f.content_type ~= "" then md = { ["content-type"] = f.content_type } end
    if md and next(md) ~= nil then add("userMetadata", json.encode(md)) end
  end
  if f.version_id and f.version_id ~= "" then add("versionId", q(f.version_id)) end
  add("sequencer", q(seq))
  local host = f.source_host or (f.internal and "" or (f.source_ip or D.source_ip))
  local ua = f.user_agent or (f.internal and D.internal_user_agent or D.user_agent)
  local record = table.concat {
    '{"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":', q(f.region or D.region),
    ',"eventTime":', q(time), ',"eventName":', q(name),
    ',"userIdentity":{"principalId":', q(principal), '},"requestParameters":', rp,
    ',"responseElements":', re,
    ',"s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":', q(bucket),
    ',"ownerIdentity":{"principalId":', q(principal), '},"arn":', q("arn:aws:s3:::" .. bucket),
    '},"object":{', table.concat(obj), '}},"source":{"host":', q(host), ',"port":"","userAgent":', q(ua), "}}",
  }
  local envelope = '{"EventName":' .. q(name) .. ',"Key":' .. q(bucket .. "/" .. key)
    .. ',"Records":[' .. record .. "]}"
  return new_event(record, envelope)
end

-- ---- shapes: what send(target, event) queues (script.c shape_event) -----------

--- The shape of what the gateway queues for the event itself on a target.
-- @param kind a target kind ("webhook", "redis", ...)
-- @param format the target's format key ("namespace" or "access"), or nil
-- @return "envelope" (webhook, amqp, kafka, mqtt, nats, nsq, file), "records"
-- (mysql, postgres, redis namespace), "records_nl" (elasticsearch) or
-- "redis_access"
function M.shape(kind, format)
  local access = type(format) == "string" and format:lower() == "access"
  if kind == "elasticsearch" then return "records_nl" end
  if kind == "redis" then return access and "redis_access" or "records" end
  if kind == "mysql" or kind == "postgres" or kind == "postgresql" then return "records" end
  return "envelope"
end

--- The bytes the gateway queues for an event on a target of this shape.
-- @param ev an event of this module
-- @param shape as testing.shape returns it
-- @return the payload string
-- @raise on an unknown shape
function M.render(ev, shape)
  local d = inner[ev]
  if shape == "envelope" then return d.envelope end
  if shape == "records" then return '{"Records":[' .. d.record_json .. "]}" end
  if shape == "records_nl" then return '{"Records":[' .. d.record_json .. "]}\n" end
  if shape == "redis_access" then
    return '[{"Event":[' .. d.record_json .. '],"EventTime":' .. json.quote(ev.time) .. "}]"
  end
  error("testing: unknown shape " .. tostring(shape), 2)
end

-- ---- targets and configurations ---------------------------------------------

local HAS_FORMAT = { elasticsearch = true, mysql = true, postgres = true, redis = true }

local function text(v)
  if type(v) == "table" then
    local parts = {}
    for i = 1, #v do parts[i] = tostring(v[i]) end
    return table.concat(parts, ",")
  end
  if type(v) == "boolean" then return v and "on" or "off" end
  return v ~= nil and tostring(v) or ""
end

local function disabled(v)
  if v == nil then return false end
  if v == false then return true end
  local s = tostring(v):lower()
  return s == "0" or s == "f" or s == "false" or s == "off" or s == "disabled"
end

-- luagate.targets as router_new builds it: a list sorted by name, each entry
-- also reachable by its name.
local function normalize_targets(spec)
  local list = {}
  local function add(name, t)
    t = t or {}
    name = t.name or name
    if type(name) ~= "string" or not name:find(":", 1, true) then
      error(("testing: target name '%s' is not <kind>:<id>"):format(tostring(name)), 3)
    end
    if disabled(t.enable) then return end
    local kind = t.kind or name:match("^([^:]+):")
    local format = t.format ~= nil and text(t.format) or (HAS_FORMAT[kind] and "namespace" or "")
    list[#list + 1] = { name = name, kind = kind, format = format, events = text(t.events),
                        prefix = text(t.prefix), suffix = text(t.suffix) }
  end
  for k, v in pairs(spec or {}) do
    if math.type(k) == "integer" then
      if type(v) == "string" then add(v, nil) else add(nil, v) end
    else
      add(k, v)
    end
  end
  table.sort(list, function(a, b) return a.name < b.name end)
  for _, t in ipairs(list) do list[t.name] = t end
  return list
end
--- Targets as the gateway gives them to scripts in luagate.targets: a list
-- sorted by name of `{name=, kind=, format=, events=, prefix=, suffix=}`,
-- each also reachable by its name; disabled ones (enable = false/off) left out.
-- @param spec a list of names ("webhook:1") or descriptions ({name=, kind=,
-- format=, ...}), or a map name -> keys as in the configuration's targets
-- @return the target list
-- @name luagate.testing.targets(spec)
-- @raise when a name is not `<kind>:<id>`
M.targets = normalize_targets

--- A luagate.conf.lua evaluated as the gateway does (its own environment over
-- the globals); no validation: `luagate check -c` does that.
-- @param file the configuration file's path
-- @return the settings table (targets = {...}, buckets = {...}, script = ...)
-- @raise when the file cannot be read or its Lua fails
function M.config(file)
  local env = setmetatable({}, { __index = _G })
  local chunk = assert(loadfile(file, "t", env))
  local ret = chunk()
  return type(ret) == "table" and ret or env
end

-- ---- the recording gateway ----------------------------------------------------

local current -- the gateway whose script is loading or routing (for luagate.log)

-- luagate.log that records into gw.logs (and prints nothing).
local log = {}
for _, level in ipairs { "debug", "info", "warn", "error" } do
  log[level] = function(...)
    local parts, n = {}, select("#", ...)
    for i = 1, n do parts[i] = tostring((select(i, ...))) end
    local msg = table.concat(parts, " ")
    local info = debug.getinfo(2, "Sl")
    if info and info.currentline and info.currentline > 0 then
      msg = ("%s:%d: %s"):format(info.short_src, info.currentline, msg)
    end
    if current then current.logs[#current.logs + 1] = { level = level, message = msg } end
  end
end

-- A searcher for modules beside the script (the gateway's require looks there).
local script_dirs, from_dirs = {}, {}
local function dir_searcher(name)
  local rel = name:gsub("%.", "/")
  local tried = {}
  for _, dir in ipairs(script_dirs) do
    local file = dir .. "/" .. rel .. ".lua"
    local f = io.open(file, "r")
    if f then
      f:close()
      from_dirs[name] = true
      return assert(loadfile(file, "t")), file
    end
    tried[#tried + 1] = "\n\tno file '" .. file .. "'"
  end
  return table.concat(tried)
end
-- busted restores package.loaded between spec files, so this module may load
-- more than once: keep one searcher, the newest.
do
  local reg = debug.getregistry()
  local old, placed = reg["luagate.testing.searcher"], false
  for i, f in ipairs(package.searchers) do
    if f == old then package.searchers[i] = dir_searcher; placed = true end
  end
  if not placed then table.insert(package.searchers, 2, dir_searcher) end
  reg["luagate.testing.searcher"] = dir_searcher
end

-- The globals a script sees: what script_open_libs leaves (no io, no debug,
-- no dofile/loadfile, os without process and file functions, text-only load).
local function sandbox_env()
  local env = {}
  for _, k in ipairs { "assert", "collectgarbage", "error", "getmetatable", "ipairs", "next", "pairs",
                       "pcall", "print", "rawequal", "rawget", "rawlen", "rawset", "require", "select",
                       "setmetatable", "tonumber", "tostring", "type", "xpcall", "_VERSION",
                       "coroutine", "math", "string", "table", "utf8", "package" } do
    env[k] = _G[k]
  end
  env.os = { clock = os.clock, date = os.date, difftime = os.difftime, getenv = os.getenv, time = os.time }
  env.load = function(chunk, name, mode, ...)
    if (mode or "t") ~= "t" then error("load: only text chunks are allowed", 2) end
    if select("#", ...) > 0 then return load(chunk, name, "t", ...) end -- an explicit env, even nil
    return load(chunk, name, "t", env)
  end
  env._G = env
  return env
end

local GW = {}
GW.__index = GW

local function shallow(list) local c = {} for i, v in ipairs(list) do c[i] = v end return c end

-- Does v hold an event anywhere (events encode as their envelope)?
local function holds_event(v, depth)
  if is_event(v) then return true end
  if type(v) ~= "table" or depth > 70 then return false end
  for k, x in pairs(v) do
    if holds_event(x, depth + 1) or holds_event(k, depth + 1) then return true end
  end
  return false
end

-- json.encode, with events inside the table written as their envelope text,
-- as the gateway's encoder does through the event's __tojson.
local function encode(v)
  if not holds_event(v, 0) then return json.encode(v) end
  local subs = {}
  local function copy(x, depth)
    if is_event(x) then
      subs[#subs + 1] = x:json()
      return "\1luagate.testing.event#" .. #subs .. "\1"
    end
    if type(x) ~= "table" or depth > 70 then return x end
    local c = {}
    for k, val in pairs(x) do c[copy(k, depth + 1)] = copy(val, depth + 1) end
    return setmetatable(c, getmetatable(x))
  end
  local s = json.encode(copy(v, 0))
  return (s:gsub('"\\u0001luagate%.testing%.event#(%d+)\\u0001"', function(n) return subs[tonumber(n)] end))
end

-- json.encode's message without its "file:line: json.encode: " lead
local function bare(err) return (tostring(err):gsub("^.-json%.encode: ", "")) end

local function make_send(gw)
  return function(target, payload, opts)
    local ev, out = gw.current, gw.out
    if not ev then error("send() called outside route()", 2) end
    if type(target) ~= "string" and type(target) ~= "number" then
      error(("bad argument #1 to 'send' (string expected, got %s)"):format(type(target)), 2)
    end
    target = tostring(target)
    local t = gw.targets[target]
    if not t then error(("send: unknown target '%s'"):format(target), 2) end
    if opts ~= nil and type(opts) ~= "table" then
      error(("bad argument #3 to 'send' (table expected, got %s)"):format(type(opts)), 2)
    end
    local why = opts and check_send_opts(t.kind, opts)
    if why then error(("send: %s: %s"):format(target, why), 2) end
    local msg = { target = target, opts = opts, key = ev.Key,
                  op = ev.name == "s3:ObjectRemoved:Delete" and "delete" or "upsert" }
    if is_event(payload) and payload ~= ev then
      error("send: this event belongs to an earlier route() call; an event is valid only during its own "
        .. "call (send the current event, or a table copied from it)", 2)
    end
    if payload == nil or is_event(payload) then
      msg.payload = M.render(ev, M.shape(t.kind, t.format)) -- the event being routed, as script.c does
      msg.event = true
    elseif type(payload) == "string" then
      msg.payload = payload
    elseif type(payload) == "table" then
      local ok, s = pcall(encode, payload)
      if not ok then error("send: payload: " .. bare(s), 2) end
      msg.payload = s
    else
      error("bad argument #2 to 'send' (payload must be the event, a string or a table)", 2)
    end
    if opts then
      if type(opts.key) == "string" then msg.key = opts.key end
      if type(opts.op) == "string" then
        if opts.op ~= "upsert" and opts.op ~= "delete" then
          error(('send: opts.op must be "upsert" or "delete", not "%s"'):format(opts.op), 2)
        end
        msg.op = opts.op
      end
      local ok, s = pcall(encode, opts)
      if not ok then error("send: opts: " .. bare(s), 2) end
      msg.opts_json = s
    end
    out[#out + 1] = msg
  end
end

--- Load a routing script (a file; nil: the built-in MinIO router; or a
-- route function) with recording
-- targets.  opts.targets: a list of target descriptions ({name=, kind=,
-- format=, events=, prefix=, suffix=} or just names) or a map name -> keys as
-- in the configuration; opts.config: a luagate.conf.lua to take them from;
-- opts.instructions: the per-event budget (default 1000000, as the gateway);
-- opts.buckets: bucket rules as in the configuration's `buckets` key (taken
-- from opts.config too), for luagate.rules and the built-in router.
-- A script's `require` finds modules beside it, as in the gateway; each
-- load gets a fresh luagate.default and luagate.rules seeing these targets.
-- @param script a file name, nil (luagate.default), or a function route(event, send)
-- @param opts nil or {targets=, config=, buckets=, instructions=}: targets and
-- buckets win over those of config
-- @return a recording gateway `gw` (see the section's text for its fields)
-- @raise the script's load or top-level error (`file:line: message`), or
-- "the script must return a function route(event, send)"
function M.load(script, opts)
  opts = opts or {}
  local spec, buckets = opts.targets, opts.buckets
  if opts.config and (spec == nil or buckets == nil) then
    local conf = M.config(opts.config)
    if spec == nil then spec = conf.targets end
    if buckets == nil then buckets = conf.buckets end
  end
  local gw = setmetatable({ script = script, targets = normalize_targets(spec), logs = {},
                            instructions = opts.instructions or 1000000 }, GW)
  gw:reset()
  -- a fresh luagate.default (and script modules) that see these targets
  package.loaded["luagate.targets"] = gw.targets
  package.loaded["luagate.buckets"] = buckets
  package.loaded["luagate.rules"] = nil
  package.loaded["luagate.default"] = nil
  package.loaded["luagate.log"] = log
  for name in pairs(from_dirs) do package.loaded[name] = nil end
  from_dirs = {}
  script_dirs = {}
  if type(script) == "string" then script_dirs[1] = script:match("^(.*)/[^/]*$") or "." end
  local prev = current
  current = gw
  local ok, route = pcall(function()
    if type(script) == "function" then return script end -- a route function, for quick specs
    if not script then return require "luagate.default" end
    local chunk, err = loadfile(script, "t", sandbox_env())
    if not chunk then error(err, 0) end
    return chunk()
  end)
  current = prev
  if not ok then error(route, 0) end
  if type(route) ~= "function" then
    error(("%s: the script must return a function route(event, send), not a %s")
      :format(type(script) == "string" and script or "luagate.default", type(route)), 0)
  end
  gw.route = route
  gw.send = make_send(gw)
  return gw
end

--- Forget what was sent and logged: gw.sent, gw.sends and gw.logs are
-- emptied (globals the script keeps are not reset: load again for that).
function GW:reset()
  self.sends = {}
  self.sent = {}
  self.logs = {}
  for _, t in ipairs(self.targets) do self.sent[t.name] = {} end
end

--- Route one event: an event object, a testing.event field table, or a JSON
-- line (every record of it).  Returns the list of sends ({target, payload,
-- opts, opts_json, key, op}); raises the script's error as the gateway would
-- log it (its sends are then dropped, as the gateway drops them).
-- Runs under the instruction budget of testing.load's opts.instructions.
-- @param ev an event, a table of testing.event fields, or a JSON request body
-- @return the list of this event's sends (for a body, of all its events), also
-- appended to gw.sent and gw.sends
-- @raise the script's error as the gateway would log it (`file:line: message`,
-- "send: unknown target '...'", "send: this event belongs to an earlier route()
-- call ...", "script exceeded its budget of N instructions for one event")
function GW:feed(ev)
  if type(ev) == "string" then
    local all = {}
    for _, e in ipairs(M.events_from_json(ev)) do
      for _, m in ipairs(self:feed(e)) do all[#all + 1] = m end
    end
    return all
  end
  if not is_event(ev) then ev = M.event(ev) end
  self.current, self.out = ev, {}
  local prev = current
  current = self
  local budget, used = self.instructions, 0
  local oh, om, oc = debug.gethook()
  if budget and budget > 0 then
    debug.sethook(function()
      used = used + 1000
      if used > budget then
        error(("script exceeded its budget of %d instructions for one event"):format(budget), 2)
      end
    end, "", 1000)
  end
  local ok, err = pcall(self.route, ev, self.send)
  debug.sethook(oh, om, oc)
  current = prev
  local out = self.out
  self.current, self.out = nil, nil
  if not ok then
    error(type(err) == "string" and err or type(err) == "number" and tostring(err)
      or "(error object is not a string)", 0)
  end
  for _, m in ipairs(out) do
    self.sends[#self.sends + 1] = m
    local list = self.sent[m.target]
    list[#list + 1] = m
  end
  return shallow(out)
end

--- gw:feed without raising.
-- @param ev as gw:feed
-- @return the list of sends, or nil and the script's error message
function GW:try(ev)
  local ok, res = pcall(self.feed, self, ev)
  if ok then return res end
  return nil, res
end

--- Payload strings sent to one target since gw:reset(), in order.
-- @param target a target name
-- @return a list of strings (empty for a target nothing was sent to)
function GW:payloads(target)
  local out = {}
  for i, m in ipairs(self.sent[target] or {}) do out[i] = m.payload end
  return out
end

--- Names of the targets one feed() sent to, in send order.
-- @param sends a list of sends, as gw:feed returns it
-- @return a list of target names
function M.names(sends)
  local out = {}
  for i, m in ipairs(sends) do out[i] = m.target end
  return out
end

return M
