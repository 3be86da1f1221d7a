-- busted specs for luagate.default (lua/luagate/default.lua): the router
-- used without a script, which must do what MinIO's notification subsystem
-- does (reference §2.3): every target whose rules match gets the event once.
local h = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/helpers.lua")

local PUT, POST, DEL, GET = "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectRemoved:Delete",
  "s3:ObjectAccessed:Get"

local saved_targets, saved_default

-- Load luagate.default against a fake luagate.targets: a list of
-- {name, kind, format, events, prefix, suffix}, also indexed by name.
local function load_router(targets)
  local list = {}
  for i, t in ipairs(targets) do
    local c = { name = t.name, kind = t.kind or t.name:match("^([^:]+)"), format = t.format,
      events = t.events, prefix = t.prefix, suffix = t.suffix }
    list[i] = c
    list[c.name] = c
  end
  package.loaded["luagate.targets"] = list
  package.loaded["luagate.default"] = nil
  return require "luagate.default"
end

local function load_error(targets)
  local ok, err = pcall(load_router, targets)
  assert.is_false(ok, "require 'luagate.default' accepted the targets")
  return tostring(err)
end

-- A send function that records its calls.
local function recorder()
  local calls = {}
  return calls, function(name, payload, opts)
    calls[#calls + 1] = { name = name, payload = payload, opts = opts }
  end
end

local function route_names(route, event)
  local calls, send = recorder()
  route(event, send)
  local out = {}
  for i, c in ipairs(calls) do out[i] = c.name end
  return out, calls
end

describe("luagate.default", function()
  before_each(function()
    saved_targets, saved_default = package.loaded["luagate.targets"], package.loaded["luagate.default"]
  end)
  after_each(function()
    package.loaded["luagate.targets"], package.loaded["luagate.default"] = saved_targets, saved_default
  end)

  it("returns a function(event, send)", function()
    assert.is_function(load_router({ { name = "webhook:1" } }))
  end)

  it("sends nothing when no target is configured", function()
    local route = load_router({})
    assert.same({}, (route_names(route, { name = PUT, key = "a.jpg" })))
  end)

  it("gives the event once to every target without rules, in the targets' order", function()
    local route = load_router({ { name = "webhook:z" }, { name = "amqp:a" }, { name = "kafka:m" } })
    local ev = { name = PUT, key = "photos/a.jpg" }
    local got, calls = route_names(route, ev)
    assert.same({ "webhook:z", "amqp:a", "kafka:m" }, got)
    for _, c in ipairs(calls) do assert.equal(ev, c.payload) end -- the event itself, not a copy
  end)

  it("gives nothing to a target whose events do not match", function()
    local route = load_router({ { name = "amqp:puts", events = "put" }, { name = "amqp:dels", events = "delete" },
      { name = "amqp:gets", events = { "s3:ObjectAccessed:Get" } } })
    assert.same({ "amqp:puts" }, (route_names(route, { name = PUT, key = "x" })))
    assert.same({ "amqp:dels" }, (route_names(route, { name = DEL, key = "x" })))
    assert.same({ "amqp:gets" }, (route_names(route, { name = GET, key = "x" })))
    assert.same({}, (route_names(route, { name = "s3:ObjectRestore:Completed", key = "x" })))
  end)

  it("applies events, prefix and suffix together", function()
    local route = load_router({
      { name = "kafka:jpg", events = "put", prefix = "photos/", suffix = ".jpg" },
      { name = "kafka:photos", prefix = "photos/" },
      { name = "kafka:jpgs", suffix = ".jpg" },
    })
    assert.same({ "kafka:jpg", "kafka:photos", "kafka:jpgs" },
      (route_names(route, { name = PUT, key = "photos/2026/11/a b.jpg" })))
    assert.same({ "kafka:photos", "kafka:jpgs" },
      (route_names(route, { name = DEL, key = "photos/2026/11/a b.jpg" })))
    assert.same({ "kafka:photos" }, (route_names(route, { name = POST, key = "photos/a.png" })))
    assert.same({ "kafka:jpgs" }, (route_names(route, { name = POST, key = "thumbs/photos/a.jpg" })))
    assert.same({}, (route_names(route, { name = PUT, key = "Photos/a.JPG" })))
  end)

  it("matches the unescaped object name, spaces and all", function()
    local route = load_router({ { name = "webhook:docs", prefix = "docs/report final", suffix = " (v2).pdf" } })
    assert.same({ "webhook:docs" }, (route_names(route, { name = PUT, key = "docs/report final (v2).pdf" })))
    assert.same({}, (route_names(route, { name = PUT, key = "docs%2Freport+final+%28v2%29.pdf" })))
  end)

  it("treats '?' and '*' in a target's prefix as wildcards, like MinIO", function()
    local route = load_router({ { name = "nats:y", prefix = "photos/20?6/" }, { name = "nats:any", prefix = "*/11/" } })
    assert.same({ "nats:y", "nats:any" }, (route_names(route, { name = PUT, key = "photos/2026/11/a b.jpg" })))
  end)

  it("accepts events as a comma-separated string with blanks", function()
    local route = load_router({ { name = "redis:1", events = " put , s3:ObjectRemoved:Delete " } })
    assert.same({ "redis:1" }, (route_names(route, { name = POST, key = "a" })))
    assert.same({ "redis:1" }, (route_names(route, { name = DEL, key = "a" })))
    assert.same({}, (route_names(route, { name = "s3:ObjectRemoved:DeleteMarkerCreated", key = "a" })))
  end)

  it("routes a bucket event (empty key) only to targets without a key filter", function()
    local route = load_router({ { name = "webhook:all" }, { name = "webhook:p", prefix = "p/" },
      { name = "webhook:b", events = "s3:BucketCreated:*" } })
    assert.same({ "webhook:all", "webhook:b" }, (route_names(route, { name = "s3:BucketCreated:*", key = "" })))
  end)

  it("gives each matching target the event once per call, however often it is called", function()
    local route = load_router({ { name = "a:1", events = { "put", "s3:ObjectCreated:Put" } }, { name = "b:1" } })
    local calls, send = recorder()
    route({ name = PUT, key = "k" }, send)
    route({ name = PUT, key = "k" }, send)
    assert.equal(4, #calls)
    assert.same({ "a:1", "b:1", "a:1", "b:1" }, { calls[1].name, calls[2].name, calls[3].name, calls[4].name })
  end)

  it("refuses an unknown event name at load, naming the target and the name", function()
    local err = load_error({ { name = "webhook:ok", events = "put" },
      { name = "webhook:bad", events = "put,s3:ObjectCreated:Upload" } })
    assert.truthy(err:find("webhook:bad", 1, true), err)
    assert.truthy(err:find("s3:ObjectCreated:Upload", 1, true), err)
    assert.falsy(err:find("webhook:ok", 1, true), err)
  end)

  it("refuses s3:* and s3:Scanner:* in a target's events", function()
    local err = load_error({ { name = "kafka:all", events = "s3:*" } })
    assert.truthy(err:find("kafka:all", 1, true), err)
    err = load_error({ { name = "kafka:scan", events = { "s3:Scanner:*" } } })
    assert.truthy(err:find("kafka:scan", 1, true), err)
  end)
end)

describe("luagate.default on the MinIO sample events", function()
  local samples = h.sample_events()
  local S, E = h.starts, h.ends
  local function created(n) return S(n, "s3:ObjectCreated:") end
  local function removed(n) return S(n, "s3:ObjectRemoved:") end
  -- each target with an independent statement of what it should get;
  -- none of these prefixes/suffixes overlap, so the glob is startswith/endswith
  local CONFIG = {
    { t = { name = "webhook:all" }, want = function() return true end },
    { t = { name = "amqp:jpg", events = "put", suffix = ".jpg" },
      want = function(n, k) return created(n) and E(k, ".jpg") end },
    { t = { name = "kafka:photos", events = { "s3:ObjectCreated:*", "s3:ObjectRemoved:*" }, prefix = "photos/" },
      want = function(n, k) return (created(n) or removed(n)) and S(k, "photos/") end },
    { t = { name = "nats:deletes", events = "s3:ObjectRemoved:Delete" },
      want = function(n) return n == "s3:ObjectRemoved:Delete" end },
    { t = { name = "redis:ilm", events = "ilm" },
      want = function(n) return S(n, "s3:ObjectRestore:") or S(n, "s3:ObjectTransition:") end },
    { t = { name = "mqtt:docs", prefix = "docs/", suffix = ".pdf" },
      want = function(_, k) return S(k, "docs/") and E(k, ".pdf") end },
    { t = { name = "elasticsearch:deep", events = "get, replica", prefix = "deep/" },
      want = function(n, k) return (S(n, "s3:ObjectAccessed:") or S(n, "s3:Replication:")) and S(k, "deep/") end },
    { t = { name = "postgres:put-only", events = "s3:ObjectCreated:Put", prefix = "emoji/" },
      want = function(n, k) return n == "s3:ObjectCreated:Put" and S(k, "emoji/") end },
  }
  local saved_t, saved_d

  before_each(function()
    saved_t, saved_d = package.loaded["luagate.targets"], package.loaded["luagate.default"]
  end)
  after_each(function()
    package.loaded["luagate.targets"], package.loaded["luagate.default"] = saved_t, saved_d
  end)

  it("reads the samples (EventName, Key minus the bucket)", function()
    assert.truthy(#samples >= 20, "only " .. #samples .. " sample events")
    assert.equal("s3:ObjectCreated:Put", samples[2].name)
    assert.equal("images", samples[2].bucket)
    assert.equal("photos/2026/11/a b.jpg", samples[2].key)
  end)

  it("routes sample 2 (Put images/photos/2026/11/a b.jpg) to the right targets", function()
    local targets = {}
    for i, c in ipairs(CONFIG) do targets[i] = c.t end
    local route = load_router(targets)
    assert.same({ "webhook:all", "amqp:jpg", "kafka:photos" }, (route_names(route, samples[2])))
  end)

  it("gives every sample event to exactly the targets whose rules match, in order", function()
    local targets = {}
    for i, c in ipairs(CONFIG) do targets[i] = c.t end
    local route = load_router(targets)
    local hits = {}
    for i, ev in ipairs(samples) do
      local want = {}
      for _, c in ipairs(CONFIG) do
        if c.want(ev.name, ev.key) then
          want[#want + 1] = c.t.name
          hits[c.t.name] = (hits[c.t.name] or 0) + 1
        end
      end
      local got = route_names(route, { name = ev.name, key = ev.key })
      assert.same(want, got, ("sample %d: %s %q"):format(i, ev.name, ev.key))
    end
    -- the data exercises every target, and every filter rejects something
    for _, c in ipairs(CONFIG) do
      local n = hits[c.t.name] or 0
      assert.truthy(n > 0, c.t.name .. " matched no sample")
      if c.t.name ~= "webhook:all" then assert.truthy(n < #samples, c.t.name .. " matched every sample") end
    end
  end)
end)

-- With bucket rules (the `buckets` key) the built-in router does what MinIO
-- does with bucket notification configurations: only where the event's
-- bucket's rules say, each target once; a target's own rules narrow it.
describe("luagate.default with bucket rules (through luagate.testing)", function()
  local testing = require "luagate.testing"
  local PUT_EV = { name = "s3:ObjectCreated:Put", bucket = "images", key = "photos/a b.jpg", size = 3 }
  local TARGETS = {
    ["webhook:slack"] = {}, ["redis:1"] = { format = "namespace" },
    ["kafka:jpg"] = { events = "put", suffix = ".jpg" },   -- own rules on top of the bucket's
    ["amqp:idle"] = {},                                     -- no bucket rule names it
  }
  local BUCKETS = {
    images = {
      { arn = "arn:minio:sqs::slack:webhook", events = { "put" }, prefix = "photos/" },
      { arn = "arn:minio:sqs::slack:webhook", events = { "s3:ObjectCreated:Put" }, suffix = ".jpg" },
      { arn = "redis:1", events = { "put", "delete" } },
      { arn = "kafka:jpg", events = { "put", "delete" } },
    },
    logs = { { arn = "redis:1", events = { "s3:ObjectRemoved:*" } } },
  }
  local function load() return testing.load(nil, { targets = TARGETS, buckets = BUCKETS }) end

  it("sends an event once to each target its bucket's rules select, in MinIO's shape", function()
    local gw = load()
    local sent = gw:feed(PUT_EV)
    assert.same({ "kafka:jpg", "redis:1", "webhook:slack" }, testing.names(sent))
    local ev = testing.event(PUT_EV)
    assert.equal(ev:json(), gw.sent["webhook:slack"][1].payload)
    assert.equal(0, #gw.sent["amqp:idle"])
  end)

  it("lets a target's own events/prefix/suffix narrow what the bucket rules send it", function()
    local gw = load()
    gw:feed { name = "s3:ObjectCreated:Put", bucket = "images", key = "photos/a.png" }
    gw:feed { name = "s3:ObjectRemoved:Delete", bucket = "images", key = "photos/a.jpg" }
    assert.equal(0, #gw.sent["kafka:jpg"]) -- .png is not its suffix, a delete is not its put
    assert.equal(2, #gw.sent["redis:1"])
  end)

  it("sends nothing for a bucket without rules, nor for a rule's unselected events", function()
    local gw = load()
    assert.same({}, gw:feed { name = "s3:ObjectCreated:Put", bucket = "backups", key = "photos/a.jpg" })
    assert.same({}, gw:feed { name = "s3:ObjectCreated:Put", bucket = "logs", key = "a.log" })
    assert.same({ "redis:1" }, testing.names(gw:feed { name = "s3:ObjectRemoved:Delete", bucket = "logs", key = "a.log" }))
    assert.same({}, gw:feed { name = "s3:ObjectAccessed:Get", bucket = "images", key = "photos/a.jpg" })
  end)

  it("keeps today's per-target rules when no bucket rules are configured", function()
    local gw = testing.load(nil, { targets = TARGETS })
    assert.same({ "amqp:idle", "kafka:jpg", "redis:1", "webhook:slack" },
      testing.names(gw:feed { name = "s3:ObjectCreated:Put", bucket = "backups", key = "x.jpg" }))
  end)

  it("with an empty buckets table, sends nothing at all (rules are configured, none match)", function()
    local gw = testing.load(nil, { targets = TARGETS, buckets = {} })
    assert.same({}, gw:feed(PUT_EV))
  end)

  it("gives a script MinIO's decision to start from", function()
    local gw = testing.load(function(event, send)
      local rules = require "luagate.rules"
      for _, d in ipairs(rules.decide(event)) do
        if d.target ~= "redis:1" then send(d.target, event, { key = "rule-" .. d.rule.index }) end
      end
    end, { targets = TARGETS, buckets = BUCKETS })
    local sent = gw:feed(PUT_EV)
    assert.same({ "kafka:jpg", "webhook:slack" }, testing.names(sent))
    assert.equal("rule-1", sent[2].opts.key)
  end)

  it("refuses bucket rules with an unknown event name, naming bucket and rule", function()
    local ok, err = pcall(testing.load, nil, { targets = TARGETS,
      buckets = { images = { { arn = "redis:1", events = { "s3:ObjectCreated:Putt" } } } } })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("bucket 'images' rule 1", 1, true), err)
  end)
end)
