-- busted specs for luagate.rules (lua/luagate/rules.lua): MinIO's event
-- names, mc shorthands, prefix/suffix patterns and wildcard.MatchSimple.
-- Reference: MinIO's pkg/event (rules, name groups) and pkg/wildcard, as README "Rules of the built-in router" describes them.
local h = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/helpers.lua")
local rules = require "luagate.rules"

-- The reference's tables, written out here independently of rules.lua.
local GROUPS = {
  ["s3:ObjectAccessed:*"] = { "s3:ObjectAccessed:Get", "s3:ObjectAccessed:Head",
    "s3:ObjectAccessed:GetRetention", "s3:ObjectAccessed:GetLegalHold", "s3:ObjectAccessed:Attributes" },
  ["s3:ObjectCreated:*"] = { "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectCreated:PutRetention",
    "s3:ObjectCreated:PutLegalHold", "s3:ObjectCreated:PutTagging", "s3:ObjectCreated:DeleteTagging" },
  ["s3:ObjectRemoved:*"] = { "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRemoved:NoOP", "s3:ObjectRemoved:DeleteAllVersions" },
  ["s3:Replication:*"] = { "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationCompletedReplication", "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold" },
  ["s3:ObjectRestore:*"] = { "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed" },
  ["s3:ObjectTransition:*"] = { "s3:ObjectTransition:Failed", "s3:ObjectTransition:Complete" },
}
local UNGROUPED = { "s3:Scanner:ManyVersions", "s3:Scanner:LargeVersions", "s3:Scanner:BigPrefix",
  "s3:LifecycleDelMarkerExpiration:Delete", "s3:BucketCreated:*", "s3:BucketRemoved:*" }

local ALL = {}
for _, members in pairs(GROUPS) do for _, n in ipairs(members) do ALL[#ALL + 1] = n end end
for _, n in ipairs(UNGROUPED) do ALL[#ALL + 1] = n end
table.sort(ALL)

local function concat(...)
  local out = {}
  for _, l in ipairs { ... } do for _, v in ipairs(l) do out[#out + 1] = v end end
  table.sort(out)
  return out
end

local function sorted(l)
  local c = { table.unpack(l) }
  table.sort(c)
  return c
end

-- expand() as a sorted list of names (nil stays nil)
local function names(events)
  local set = rules.expand(events)
  if set == nil then return nil end
  for k, v in pairs(set) do assert.is_true(v, "expand() set value for " .. tostring(k)) end
  return h.keys(set)
end

local function expand_error(events)
  local ok, err = pcall(rules.expand, events)
  assert.is_false(ok, "expand() accepted " .. tostring(events))
  return tostring(err)
end

describe("rules.pattern (§2.3)", function()
  it("prefix 'photos/' + suffix '.jpg' gives 'photos/*.jpg'", function()
    assert.equal("photos/*.jpg", rules.pattern("photos/", ".jpg"))
  end)

  it("prefix only gives 'photos/*'", function()
    assert.equal("photos/*", rules.pattern("photos/", nil))
    assert.equal("photos/*", rules.pattern("photos/", ""))
  end)

  it("suffix only gives '*.jpg'", function()
    assert.equal("*.jpg", rules.pattern(nil, ".jpg"))
    assert.equal("*.jpg", rules.pattern("", ".jpg"))
  end)

  it("no filter gives '*'", function()
    assert.equal("*", rules.pattern(nil, nil))
    assert.equal("*", rules.pattern("", ""))
  end)

  it("does not add a second '*' to a prefix ending or a suffix starting with one", function()
    assert.equal("photos/*", rules.pattern("photos/*", nil))
    assert.equal("*.jpg", rules.pattern(nil, "*.jpg"))
    assert.equal("photos/*.jpg", rules.pattern("photos/*", "*.jpg"))
  end)

  it("replaces '**' by '*' in one pass, as Go's strings.ReplaceAll does", function()
    assert.equal("a**b", rules.pattern("a**", "**b")) -- "a****b": two pairs, each one '*'
    assert.equal("a**", rules.pattern("a***", nil))    -- "a***": the pair, then the odd '*'
    assert.equal("**", rules.pattern("**", "**"))
    assert.equal("x*y*z", rules.pattern("x**y*", "z"))
    assert.is_true(rules.match(rules.pattern("a**", "**b"), "a/x/b")) -- '**' matches as '*'
  end)

  it("keeps '*' and '?' inside the user's values verbatim", function()
    assert.equal("photos/*/raw/*.jpg", rules.pattern("photos/*/raw/", ".jpg"))
    assert.equal("img-2?/*", rules.pattern("img-2?/", nil))
  end)
end)

describe("rules.match (wildcard.MatchSimple)", function()
  it("'*' matches everything, including '/' and the empty name", function()
    assert.is_true(rules.match("*", ""))
    assert.is_true(rules.match("*", "a/b/c.jpg"))
    assert.is_true(rules.match("photos/*", "photos/2026/11/a b.jpg"))
    assert.is_true(rules.match("*.jpg", "deep/nested/x.jpg"))
    assert.is_true(rules.match("a*z", "a/b/c/z"))
  end)

  it("'*' also matches an empty run", function()
    assert.is_true(rules.match("photos/*", "photos/"))
    assert.is_true(rules.match("photos/*.jpg", "photos/.jpg"))
  end)

  it("literal parts must match exactly, at both ends", function()
    assert.is_true(rules.match("abc", "abc"))
    assert.is_false(rules.match("abc", "abcd"))
    assert.is_false(rules.match("abc", "ab"))
    assert.is_false(rules.match("*.jpg", "a.jpg.bak"))
    assert.is_false(rules.match("photos/*", "thumbs/photos/a"))
    assert.is_false(rules.match("photos/*.jpg", "photos/a.jpeg"))
  end)

  it("is case-sensitive", function()
    assert.is_false(rules.match("photos/*", "Photos/a.jpg"))
    assert.is_false(rules.match("*.jpg", "a.JPG"))
    assert.is_true(rules.match("*.JPG", "a.JPG"))
  end)

  it("'?' matches exactly one character", function()
    assert.is_true(rules.match("a?c", "abc"))
    assert.is_true(rules.match("a?c", "a/c"))
    assert.is_false(rules.match("a?c", "abbc"))
    assert.is_false(rules.match("a?c", "ac"))
    assert.is_false(rules.match("?", "ab"))
  end)

  it("'?' matches one byte, not one UTF-8 character (minio/pkg v3.1.3 indexes the string)", function()
    -- deepMatchRune(str, pattern string) compares str[0] with pattern[0], bytes
    assert.is_false(rules.match("a?c", "aéc"))   -- é is 2 bytes: '?' takes C3, 'c' meets A9
    assert.is_true(rules.match("a??c", "aéc"))
    assert.is_true(rules.match("a???c", "a中c")) -- 3 bytes
    assert.is_false(rules.match("a?c", "a中c"))
    assert.is_true(rules.match("emoji/????.gif", "emoji/🚀.gif"))
    -- a '?' that the name runs out under matches whatever follows it: "a?c"
    -- against "a" stops at the '?' with the name used up
    assert.is_true(rules.match("a?c", "a"))
    assert.is_true(rules.match("é?", "é"))
  end)

  it("'?' after the end of the name still matches (MinIO's quirk: 'a?' matches 'a')", function()
    assert.is_true(rules.match("a?", "a"))
    assert.is_true(rules.match("a?", "ab"))
    assert.is_false(rules.match("a?", "abc"))
  end)

  it("the empty pattern matches only the empty name", function()
    assert.is_true(rules.match("", ""))
    assert.is_false(rules.match("", "a"))
  end)

  it("backtracks over several stars", function()
    assert.is_true(rules.match("*a*b*c", "xxaxxbxxbxxc"))
    assert.is_false(rules.match("*a*b*c", "xxaxxcxxb"))
    assert.is_true(rules.match("photos/*/raw/*.jpg", "photos/2026/11/raw/x/y.jpg"))
  end)
end)

describe("rules.expand (§2.1, §2.4)", function()
  it("knows exactly MinIO's 32 single names, each selecting only itself", function()
    assert.equal(32, #ALL)
    for _, n in ipairs(ALL) do
      assert.same({ n }, names({ n }))
      assert.same({ n }, names(n))
    end
  end)

  it("accepts the bucket event names literally, with their ':*'", function()
    assert.same({ "s3:BucketCreated:*" }, names("s3:BucketCreated:*"))
    assert.same({ "s3:BucketRemoved:*" }, names({ "s3:BucketRemoved:*" }))
  end)

  it("expands each group wildcard to exactly its members", function()
    for g, members in pairs(GROUPS) do
      assert.same(sorted(members), names({ g }))
    end
  end)

  it("expands s3:ObjectCreated:* to its 8 members", function()
    local got = names("s3:ObjectCreated:*")
    assert.equal(8, #got)
    assert.same(sorted(GROUPS["s3:ObjectCreated:*"]), got)
  end)

  it("maps the mc shorthands put/delete/get/replica", function()
    assert.same(sorted(GROUPS["s3:ObjectCreated:*"]), names("put"))
    assert.same(sorted(GROUPS["s3:ObjectRemoved:*"]), names("delete"))
    assert.same(sorted(GROUPS["s3:ObjectAccessed:*"]), names("get"))
    assert.same(sorted(GROUPS["s3:Replication:*"]), names("replica"))
  end)

  it("maps ilm to ObjectRestore:* and ObjectTransition:*", function()
    assert.same(concat(GROUPS["s3:ObjectRestore:*"], GROUPS["s3:ObjectTransition:*"]), names("ilm"))
  end)

  it("maps scanner to ManyVersions and BigPrefix only (not LargeVersions)", function()
    assert.same({ "s3:Scanner:BigPrefix", "s3:Scanner:ManyVersions" }, names("scanner"))
  end)

  it("reads mc's default 'put,delete,get' as a comma-separated string", function()
    assert.same(concat(GROUPS["s3:ObjectCreated:*"], GROUPS["s3:ObjectRemoved:*"],
      GROUPS["s3:ObjectAccessed:*"]), names("put,delete,get"))
  end)

  it("trims blanks around the items of a comma-separated string", function()
    assert.same(concat(GROUPS["s3:ObjectCreated:*"], { "s3:ObjectRemoved:Delete" }),
      names("  put ,  s3:ObjectRemoved:Delete  "))
    assert.same(sorted(GROUPS["s3:ObjectRestore:*"]), names(" s3:ObjectRestore:* "))
  end)

  it("unions a list mixing full names, wildcards and shorthands", function()
    assert.same(concat(GROUPS["s3:ObjectAccessed:*"], { "s3:ObjectRemoved:Delete", "s3:Scanner:LargeVersions" }),
      names({ "get", "s3:ObjectRemoved:Delete", "s3:Scanner:LargeVersions" }))
    -- overlapping entries do not duplicate anything
    assert.same(sorted(GROUPS["s3:ObjectCreated:*"]), names({ "put", "s3:ObjectCreated:Put", "s3:ObjectCreated:*" }))
  end)

  it("nil, an empty string and an empty list mean every event (nil)", function()
    assert.is_nil(rules.expand(nil))
    assert.is_nil(rules.expand(""))
    assert.is_nil(rules.expand({}))
  end)

  it("refuses an unknown name with an error naming it", function()
    local err = expand_error("s3:ObjectCreated:Bogus")
    assert.truthy(err:find("s3:ObjectCreated:Bogus", 1, true), err)
    err = expand_error({ "put", "upload" })
    assert.truthy(err:find("upload", 1, true), err)
    err = expand_error("put, frobnicate ,get")
    assert.truthy(err:find("frobnicate", 1, true), err)
  end)

  it("is case-sensitive", function()
    local err = expand_error("s3:objectcreated:put")
    assert.truthy(err:find("s3:objectcreated:put", 1, true), err)
    expand_error("S3:ObjectCreated:*")
  end)

  it("refuses s3:* and s3:Scanner:* like MinIO does", function()
    assert.truthy(expand_error("s3:*"):find("s3:*", 1, true))
    assert.truthy(expand_error({ "s3:Scanner:*" }):find("s3:Scanner:*", 1, true))
  end)
end)

describe("rules.matcher", function()
  local PUT, POST, DEL, GET = "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectRemoved:Delete",
    "s3:ObjectAccessed:Get"

  it("with no rules matches every event and key, also a bucket event's empty key", function()
    local m = rules.matcher(nil, nil, nil)
    assert.truthy(m(PUT, "a/b.jpg"))
    assert.truthy(m(DEL, ""))
    assert.truthy(m("s3:BucketCreated:*", ""))
  end)

  it("with events only filters on the name, whatever the key", function()
    local m = rules.matcher("put")
    assert.truthy(m(PUT, "x"))
    assert.truthy(m(POST, "deep/nested/y.tar.gz"))
    assert.falsy(m(DEL, "x"))
    assert.falsy(m(GET, "x"))
  end)

  it("with one full name matches only that name", function()
    local m = rules.matcher({ PUT })
    assert.truthy(m(PUT, "k"))
    assert.falsy(m(POST, "k"))
  end)

  it("with prefix only filters on the key, whatever the event", function()
    local m = rules.matcher(nil, "photos/")
    assert.truthy(m(PUT, "photos/2026/11/a b.jpg"))
    assert.truthy(m(DEL, "photos/x"))
    assert.falsy(m(PUT, "thumbs/photos/x"))
    assert.falsy(m(PUT, ""))
  end)

  it("with suffix only filters on the key's end", function()
    local m = rules.matcher(nil, nil, ".jpg")
    assert.truthy(m(PUT, "photo.jpg"))
    assert.truthy(m(GET, "a/b/c.jpg"))
    assert.falsy(m(PUT, "photo.jpg.bak"))
    assert.falsy(m(PUT, "photo.JPG"))
  end)

  it("needs events, prefix and suffix all to match", function()
    local m = rules.matcher("put", "photos/", ".jpg")
    assert.truthy(m(PUT, "photos/2026/11/a b.jpg"))
    assert.falsy(m(DEL, "photos/2026/11/a b.jpg"))  -- wrong event
    assert.falsy(m(PUT, "thumbs/a.jpg"))            -- wrong prefix
    assert.falsy(m(PUT, "photos/a.png"))            -- wrong suffix
  end)

  it("follows the glob when prefix and suffix overlap ('a/' + '/b' needs 'a/…/b')", function()
    local m = rules.matcher(nil, "a/", "/b")
    assert.falsy(m(PUT, "a/b"))
    assert.truthy(m(PUT, "a//b"))
    assert.truthy(m(PUT, "a/x/b"))
  end)

  it("treats '*' and '?' in the user's prefix and suffix as wildcards", function()
    local m = rules.matcher(nil, "photos/20?6/")
    assert.truthy(m(PUT, "photos/2026/11/a b.jpg"))
    assert.truthy(m(PUT, "photos/2016/x"))
    assert.falsy(m(PUT, "photos/2027/x"))
    m = rules.matcher(nil, "*/logs/", "*.log")
    assert.truthy(m(PUT, "media-eu/logs/app.log"))
    assert.falsy(m(PUT, "logs/app.log"))
  end)

  it("accepts the comma-separated string form", function()
    local m = rules.matcher(" delete , get ", nil, ".pdf")
    assert.truthy(m(DEL, "docs/report final (v2).pdf"))
    assert.truthy(m(GET, "r.pdf"))
    assert.falsy(m(PUT, "r.pdf"))
  end)

  it("raises for unknown event names, naming them", function()
    local ok, err = pcall(rules.matcher, "put,uplaod", "photos/")
    assert.is_false(ok)
    assert.truthy(tostring(err):find("uplaod", 1, true), err)
  end)
end)

-- Bucket rules: the configuration's `buckets` key, matched as MinIO's
-- RulesMap does (rulesmap.go: union over the bucket's rules, each target
-- once).  Every expectation below is worked out by hand from MinIO's code.
describe("bucket rules (rules.compile, rules.test, rules.decide)", function()
  local testing = require "luagate.testing"
  local TARGETS = { "webhook:1", "webhook:2", "redis:1", "postgres:pg" }

  -- MinIO's decision for one event under these rules: target names, sorted
  local function decide(buckets, ev)
    testing.load(function() end, { targets = TARGETS, buckets = buckets })
    local r = require "luagate.rules"
    local out = {}
    for i, d in ipairs(r.decide(testing.event(ev))) do out[i] = d.target end
    return out
  end

  it("reads ARNs (postgresql is the postgres kind) and kind:id names alike", function()
    local b = rules.compile { images = {
      { arn = "arn:minio:sqs::1:webhook", events = { "put" } },
      { arn = "arn:minio:sqs:us-east-1:pg:postgresql", events = { "put" } },
      { arn = "redis:1", events = "s3:ObjectRemoved:*" } } }
    assert.equal("webhook:1", b.images[1].target)
    assert.equal("postgres:pg", b.images[2].target)
    assert.equal("redis:1", b.images[3].target)
  end)

  it("reads rule keys case-insensitively (AWS writes Prefix, mc prefix) and refuses two prefixes", function()
    local b = rules.compile { images = { { ARN = "webhook:1", Events = { "put" }, Prefix = "p/", SUFFIX = ".jpg" } } }
    assert.equal("p/*.jpg", b.images[1].pattern)
    local ok, err = pcall(rules.compile, { images = { { arn = "webhook:1", events = { "put" }, prefix = "a", Prefix = "b" } } })
    assert.is_false(ok)
    assert.truthy(err:find("bucket 'images' rule 1: more than one prefix", 1, true), err)
  end)

  it("names the bucket and the rule when an event name is unknown or missing", function()
    local ok, err = pcall(rules.compile, { logs = { { arn = "redis:1", events = { "put" } },
      { id = "x", arn = "redis:1", events = { "s3:ObjectCreated:Puts" } } } })
    assert.is_false(ok)
    assert.truthy(err:find("bucket 'logs' rule 2 (id 'x')", 1, true), err)
    assert.truthy(err:find("s3:ObjectCreated:Puts", 1, true), err)
    ok, err = pcall(rules.compile, { logs = { { arn = "redis:1" } } })
    assert.truthy(err:find("missing event name", 1, true), err)
  end)

  it("group wildcards select their members only", function()
    local b = { images = { { arn = "webhook:1", events = { "s3:ObjectCreated:*" } } } }
    assert.same({ "webhook:1" }, decide(b, { name = "s3:ObjectCreated:Put", bucket = "images", key = "a" }))
    assert.same({ "webhook:1" }, decide(b, { name = "s3:ObjectCreated:PutTagging", bucket = "images", key = "a" }))
    assert.same({}, decide(b, { name = "s3:ObjectRemoved:Delete", bucket = "images", key = "a" }))
    assert.same({}, decide(b, { name = "s3:ObjectAccessed:Get", bucket = "images", key = "a" }))
  end)

  it("matches the unescaped key: 'a b' matches a key MinIO escaped to a+b, 'a+b' does not", function()
    local b = { images = { { arn = "webhook:1", events = { "put" }, prefix = "photos/a b" },
                           { arn = "webhook:2", events = { "put" }, prefix = "photos%2Fa+b" } } }
    assert.same({ "webhook:1" }, decide(b, { name = "s3:ObjectCreated:Put", bucket = "images", key = "photos/a b.jpg" }))
  end)

  it("treats '*' and '?' inside prefix and suffix as wildcards", function()
    -- prefix "2026-??/" + suffix ".jpg" gives "2026-??/*.jpg"
    local b = { images = { { arn = "webhook:1", events = { "put" }, prefix = "2026-??/", suffix = ".jpg" } } }
    assert.same({ "webhook:1" }, decide(b, { name = "s3:ObjectCreated:Put", bucket = "images", key = "2026-11/x.jpg" }))
    assert.same({}, decide(b, { name = "s3:ObjectCreated:Put", bucket = "images", key = "2026-1/x.jpg" }))
    -- prefix "a*b" gives "a*b*": the '*' crosses '/'
    b = { images = { { arn = "webhook:1", events = { "put" }, prefix = "a*b" } } }
    assert.same({ "webhook:1" }, decide(b, { name = "s3:ObjectCreated:Put", bucket = "images", key = "a/x/y/b" }))
  end)

  it("a '?' the key runs out under matches: prefix 'logs?' selects the key 'logs'", function()
    -- pattern "logs?*": at '?' the name is used up, MatchSimple returns true
    local b = { images = { { arn = "webhook:1", events = { "put" }, prefix = "logs?" } } }
    assert.same({ "webhook:1" }, decide(b, { name = "s3:ObjectCreated:Put", bucket = "images", key = "logs" }))
    assert.same({}, decide(b, { name = "s3:ObjectCreated:Put", bucket = "images", key = "log" }))
  end)

  it("is case-sensitive in values", function()
    local b = { images = { { arn = "webhook:1", events = { "put" }, prefix = "Photos/" } } }
    assert.same({}, decide(b, { name = "s3:ObjectCreated:Put", bucket = "images", key = "photos/a" }))
  end)

  it("sends once to a target that overlapping rules select, and unions over the rules", function()
    local b = { images = {
      { arn = "webhook:1", events = { "put" }, prefix = "photos/" },
      { arn = "webhook:1", events = { "put" }, prefix = "photos/2026/" },
      { arn = "webhook:1", events = { "s3:ObjectCreated:Put" }, suffix = ".jpg" },
      { arn = "redis:1", events = { "put", "delete" } },
      { arn = "webhook:2", events = { "delete" }, prefix = "photos/" } } }
    assert.same({ "redis:1", "webhook:1" },
      decide(b, { name = "s3:ObjectCreated:Put", bucket = "images", key = "photos/2026/a.jpg" }))
    assert.same({ "redis:1", "webhook:2" },
      decide(b, { name = "s3:ObjectRemoved:Delete", bucket = "images", key = "photos/2026/a.jpg" }))
    testing.load(function() end, { targets = TARGETS, buckets = b })
    local d = require("luagate.rules").decide(testing.event { name = "s3:ObjectCreated:Put", bucket = "images",
                                                             key = "photos/2026/a.jpg" })
    assert.equal(3, #d[2].rules)
    assert.equal(1, d[2].rule.index)
  end)

  it("sends nothing for a bucket without rules, and only for the event's own bucket", function()
    local b = { images = { { arn = "webhook:1", events = { "put" } } } }
    assert.same({}, decide(b, { name = "s3:ObjectCreated:Put", bucket = "logs", key = "a" }))
    assert.same({}, decide(b, { name = "s3:ObjectCreated:Put", bucket = "images2", key = "a" }))
  end)

  it("skips a rule whose target is not enabled, as MinIO skips a missing target", function()
    local b = { images = { { arn = "webhook:9", events = { "put" } }, { arn = "webhook:1", events = { "put" } } } }
    assert.same({ "webhook:1" }, decide(b, { name = "s3:ObjectCreated:Put", bucket = "images", key = "a" }))
  end)

  it("rules.test applies one rule, configured or ad hoc", function()
    local ev = testing.event { name = "s3:ObjectCreated:Copy", bucket = "b", key = "x/y.png" }
    assert.is_true(rules.test({ events = { "put" }, prefix = "x/" }, ev))
    assert.is_false(rules.test({ events = { "put" }, suffix = ".jpg" }, ev))
    assert.is_false(rules.test({ events = { "get" } }, ev))
  end)

  it("stays linear on a hostile pattern (MinIO's recursion would not end)", function()
    local pat = ("*a"):rep(20) .. "*b"
    assert.is_false(rules.match(pat, ("a"):rep(300)))
    assert.is_true(rules.match(pat, ("a"):rep(300) .. "b"))
  end)

  it("is nil when the configuration has no bucket rules", function()
    testing.load(function() end, { targets = TARGETS })
    assert.is_nil(require("luagate.rules").buckets)
    assert.is_nil(require("luagate.rules").decide(testing.event { name = "s3:ObjectCreated:Put", bucket = "b", key = "k" }))
  end)
end)

describe("rules.compile, the configuration's other forms", function()
  it("reads the filter list form and refuses names other than prefix/suffix", function()
    local b = rules.compile { b = { { arn = "webhook:1", events = "put",
      filter = { { name = "Prefix", value = "a/" }, { name = "suffix", value = ".x" } } } } }
    assert.equal("a/*.x", b.b[1].pattern)
    local ok, err = pcall(rules.compile, { b = { { arn = "webhook:1", events = "put", filter = { { name = "regex", value = "x" } } } } })
    assert.is_false(ok)
    assert.truthy(err:find("bucket 'b' rule 1: invalid filter name 'regex'", 1, true), err)
  end)
end)

-- minio/pkg v3.1.3 wildcard.deepMatchRune, transcribed line by line (bytes).
local function minio_deep(s, p)
  while #p > 0 do
    local c = p:sub(1, 1)
    if c == "?" then
      if #s == 0 then return true end
    elseif c == "*" then
      return #p == 1 or minio_deep(s, p:sub(2)) or (#s > 0 and minio_deep(s:sub(2), p))
    elseif #s == 0 or s:sub(1, 1) ~= c then
      return false
    end
    s, p = s:sub(2), p:sub(2)
  end
  return #s == 0 and #p == 0
end
local function minio_match_simple(p, s)
  if p == "" then return s == "" end
  if p == "*" then return true end
  return minio_deep(s, p)
end

describe("rules against MinIO's own recursion, on random cases", function()
  local A = { "a", "b", "/", "*", "?", "\xc3", "\xa9" }
  local function word(max, alphabet)
    local t = {}
    for i = 1, math.random(0, max) do t[i] = A[math.random(alphabet)] end
    return table.concat(t)
  end

  it("rules.match agrees with wildcard.MatchSimple on 20000 pattern/name pairs", function()
    math.randomseed(17)
    for _ = 1, 20000 do
      local p, s = word(7, #A), word(8, 3)
      assert(rules.match(p, s) == minio_match_simple(p, s), ("pattern %q name %q"):format(p, s))
    end
  end)

  it("rules.test agrees with NewPattern + MatchSimple on 20000 prefix/suffix/key triples", function()
    math.randomseed(23)
    for _ = 1, 20000 do
      local pre, suf, key = word(4, #A), word(4, #A), word(8, 3)
      local want = minio_match_simple(rules.pattern(pre, suf), key)
      local got = rules.test({ events = { "put" }, prefix = pre, suffix = suf }, { name = "s3:ObjectCreated:Put", key = key })
      assert(got == want, ("prefix %q suffix %q key %q"):format(pre, suf, key))
    end
  end)
end)
