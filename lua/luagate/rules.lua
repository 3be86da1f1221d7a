-- luagate.rules: MinIO's bucket-notification rules, for the default router
-- and for scripts that want the same semantics (reference §2.1-§2.4): event
-- names and groups, mc's shorthands, prefix*suffix patterns matched as
-- wildcard.MatchSimple, and the configured bucket rules (`buckets` key) with
-- MinIO's decision for an event (rules.decide) and one rule's test (rules.test).
local M = {}

--- MinIO's bucket-notification rules, for scripts that want MinIO's
-- semantics (the built-in router uses them too): event names and groups,
-- mc's shorthands, `prefix*suffix` patterns matched as MinIO's
-- wildcard.MatchSimple, and the configured bucket rules (the `buckets` key)
-- with MinIO's decision for an event.  Tables: `rules.groups` (each wildcard
-- `s3:ObjectCreated:*` ... and the names it stands for), `rules.shorthands`
-- (mc's put, delete, get, replica, ilm, scanner), `rules.names` (every exact
-- event name MinIO emits -> true).
-- @section luagate.rules

-- Every single event name MinIO emits, by group (internal/event/name.go).
M.groups = {
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
local singles = { "s3:Scanner:ManyVersions", "s3:Scanner:LargeVersions", "s3:Scanner:BigPrefix",
  "s3:LifecycleDelMarkerExpiration:Delete", "s3:BucketCreated:*", "s3:BucketRemoved:*" }

-- mc's shorthands (mc event add --event put,delete,get ...).
M.shorthands = {
  put = { "s3:ObjectCreated:*" }, delete = { "s3:ObjectRemoved:*" }, get = { "s3:ObjectAccessed:*" },
  replica = { "s3:Replication:*" }, ilm = { "s3:ObjectRestore:*", "s3:ObjectTransition:*" },
  scanner = { "s3:Scanner:ManyVersions", "s3:Scanner:BigPrefix" },
}

M.names = {}
for _, members in pairs(M.groups) do for _, n in ipairs(members) do M.names[n] = true end end
for _, n in ipairs(singles) do M.names[n] = true end

local function add(set, name)
  local members = M.groups[name]
  if members then
    for _, n in ipairs(members) do set[n] = true end
  elseif M.names[name] then
    set[name] = true
  else
    error(("unknown event name '%s' (not a MinIO event, wildcard or put/delete/get/replica/ilm/scanner)")
      :format(name), 0)
  end
end

--- The set of exact event names a list selects.
-- @param events a comma separated string or a list of names, wildcards
-- (`s3:ObjectRemoved:*`) and shorthands (`put`); nil or empty: every event
-- @return a set (name -> true), or nil for every event
-- @raise on a name that is not a MinIO event, wildcard or shorthand
function M.expand(events)
  if type(events) == "string" then
    local list = {}
    for item in events:gmatch("[^,]+") do list[#list + 1] = item:match("^%s*(.-)%s*$") end
    events = list
  end
  if events == nil or #events == 0 then return nil end
  local set = {}
  for _, e in ipairs(events) do
    local short = M.shorthands[e]
    if short then for _, n in ipairs(short) do add(set, n) end else add(set, e) end
  end
  return set
end

--- MinIO's filter pattern for a prefix and a suffix (rules.go NewPattern).
-- @param prefix the prefix, or nil
-- @param suffix the suffix, or nil
-- @return the pattern, `prefix*suffix` (`*` when both are empty)
function M.pattern(prefix, suffix)
  prefix, suffix = prefix or "", suffix or ""
  if prefix ~= "" and prefix:sub(-1) ~= "*" then prefix = prefix .. "*" end
  if suffix ~= "" and suffix:sub(1, 1) ~= "*" then suffix = "*" .. suffix end
  local p = prefix .. suffix
  if p == "" then return "*" end
  -- strings.ReplaceAll: one left-to-right pass, so "****" becomes "**" (the
  -- match is the same either way; the pattern MinIO stores is this one)
  return (p:gsub("%*%*", "*"))
end

local STAR, QM = 42, 63 -- '*', '?'

-- wildcard.MatchSimple of minio/pkg v3.1.3 (the version MinIO builds with)
-- recurses byte by byte: '*' any run of bytes, '?' one byte, and a '?'
-- reached once the name is used up matches whatever follows it.  Its
-- recursion is exponential in the number of '*'; this computes the same
-- answer as the set of pattern positions reachable after each byte (kept
-- as a list, so a plain "prefix*suffix" walks one or two of them), so a
-- hostile prefix such as "*a*a*a*a*a*a*b" costs at most #name * #pattern.
-- Scratch space of deep(): a Lua state runs one match at a time, so two
-- reused position lists and a generation-stamped "seen" set cost nothing per call.
local seen, gen, list_a, list_b = {}, 0, {}, {}

-- Add position j to list (k entries so far) and, past every '*' at it, the
-- positions after it (a '*' may match nothing); returns the new count.
local function add(list, k, j, pat, m)
  while seen[j] ~= gen do
    seen[j] = gen
    k = k + 1
    list[k] = j
    if j >= m or pat:byte(j + 1) ~= STAR then return k end
    j = j + 1
  end
  return k
end

local function deep(name, pat)
  local m = #pat
  gen = gen + 1
  local cur, nxt = list_a, list_b
  local n = add(cur, 0, 0, pat, m)
  for i = 1, #name do
    local c, k = name:byte(i), 0
    gen = gen + 1
    for a = 1, n do
      local j = cur[a]
      if j < m then
        local pc = pat:byte(j + 1)
        if pc == STAR then k = add(nxt, k, j, pat, m)
        elseif pc == QM or pc == c then k = add(nxt, k, j + 1, pat, m) end
      end
    end
    if k == 0 then return false end
    cur, nxt, n = nxt, cur, k
  end
  for a = 1, n do
    local j = cur[a]
    if j == m or pat:byte(j + 1) == QM then return true end
  end
  return false
end

--- MinIO's wildcard.MatchSimple: `*` any run of bytes (including `/`), `?`
-- one byte, and a `?` past the end of the name matches; case-sensitive,
-- byte-wise.
-- @param pattern the pattern
-- @param name the unescaped object name
-- @return true or false
function M.match(pattern, name)
  if pattern == "" then return name == "" end
  if pattern == "*" then return true end
  return deep(name, pattern)
end

-- A function(key) for one pattern: the common "prefix*suffix" with no other
-- wildcard is two comparisons, anything else goes through M.match.
local function key_matcher(pat)
  if pat == "*" then return function() return true end end
  local star = pat:find("*", 1, true)
  if pat:find("?", 1, true) or (star and pat:find("*", star + 1, true)) then
    return function(key) return M.match(pat, key) end
  end
  if not star then return function(key) return key == pat end end
  local pre, suf = pat:sub(1, star - 1), pat:sub(star + 1)
  local np, ns = #pre, #suf
  return function(key)
    return #key >= np + ns and key:sub(1, np) == pre and (ns == 0 or key:sub(-ns) == suf)
  end
end

--- A compiled test for one target's own rules (its `events`, `prefix`,
-- `suffix` keys), as the built-in router applies them.
-- @param events as rules.expand takes them
-- @param prefix the prefix, or nil
-- @param suffix the suffix, or nil
-- @return a function(event_name, object_key) returning true or false
-- @raise as rules.expand
function M.matcher(events, prefix, suffix)
  local set = M.expand(events)
  local pat = M.pattern(prefix, suffix)
  if pat == "*" then
    if not set then return function() return true end end
    return function(name) return set[name] == true end
  end
  local keyok = key_matcher(pat)
  return function(name, key)
    return (not set or set[name] == true) and keyok(key)
  end
end

-- ---- bucket rules (the `buckets` key, MinIO's NotificationConfiguration) -------

local KIND_OF_ARN = { postgresql = "postgres" } -- ARNs carry MinIO's type names

--- The target name a rule's arn names.
-- @param arn an ARN `arn:minio:sqs:REGION:ID:TYPE` (`postgresql` is the
-- postgres kind) or a target name `kind:id`
-- @return the target name `kind:id`
-- @raise when arn is not a string, a malformed ARN, or neither form
function M.target_of(arn)
  if type(arn) ~= "string" then error("a rule needs an arn (\"arn:minio:sqs::<ID>:<kind>\" or \"<kind>:<ID>\")", 0) end
  if arn:sub(1, 4) == "arn:" then
    local region, id, kind = arn:match("^arn:minio:sqs:([^:]*):([^:]+):([^:]+)$")
    if not id then error(("invalid ARN '%s'"):format(arn), 0) end
    return (KIND_OF_ARN[kind] or kind) .. ":" .. id
  end
  if not arn:match("^[^:]+:[^:]+$") then error(("'%s' is neither an ARN nor a <kind>:<id> name"):format(arn), 0) end
  return arn
end

-- One rule of the config's shape ({arn, events, prefix, suffix, id}, keys read
-- case-insensitively) or of luagate.buckets', with its matcher compiled.
local function compile(bucket, index, spec, adhoc)
  local r = { bucket = bucket, index = index, id = "", events = {} }
  for k, v in pairs(spec) do
    local lk = type(k) == "string" and k:lower() or k
    if lk == "arn" or lk == "target" or lk == "queue" then r.arn = r.arn or v
    elseif lk == "id" then r.id = v
    elseif lk == "events" or lk == "event" then r.events = v
    elseif lk == "prefix" or lk == "suffix" then
      if r[lk] ~= nil then error(("more than one %s in filter rule"):format(lk), 0) end
      r[lk] = v
    elseif lk == "filter" then -- the XML's FilterRule list: { { name =, value = }, ... }
      for _, f in ipairs(v) do
        local n = type(f.name) == "string" and f.name:lower()
        if n ~= "prefix" and n ~= "suffix" then
          error(("invalid filter name '%s': a filter rule name must be either prefix or suffix"):format(tostring(f.name)), 0)
        end
        if r[n] ~= nil then error(("more than one %s in filter rule"):format(n), 0) end
        r[n] = f.value
      end
    elseif lk ~= "bucket" and lk ~= "index" then
      error(("unknown key '%s' (a rule has arn, events, prefix, suffix, id)"):format(tostring(k)), 0)
    end
  end
  if not adhoc or r.arn then r.target = spec.target or M.target_of(r.arn) end
  if type(r.events) == "string" then r.events = { r.events } end
  if #r.events == 0 then error("missing event name(s)", 0) end
  r.set = M.expand(r.events)
  r.pattern = M.pattern(r.prefix, r.suffix)
  r.key_match = key_matcher(r.pattern)
  return r
end

--- Bucket rules, normalized and compiled.
-- @param buckets as the configuration's `buckets` key: bucket -> list of
-- rules {arn=, events=, prefix=, suffix=, id=, filter=}, keys read
-- case-insensitively
-- @return `{ [bucket] = { rule, ... } }`, each rule with bucket, index, id,
-- arn, target, events, prefix, suffix, set, pattern
-- @raise on a bad rule, naming it: `bucket 'images' rule 2 (id 'x'): ...`
function M.compile(buckets)
  local out = {}
  for bucket, list in pairs(buckets or {}) do
    out[bucket] = {}
    for i, spec in ipairs(list) do
      local ok, r = pcall(compile, bucket, i, spec)
      if not ok then
        error(("bucket '%s' rule %d%s: %s"):format(bucket, i,
          type(spec) == "table" and spec.id and spec.id ~= "" and (" (id '%s')"):format(spec.id) or "", r), 0)
      end
      out[bucket][i] = r
    end
  end
  return out
end

-- The gateway (and luagate.testing) put the configured rules in
-- package.loaded; nothing is searched for on disk.
local function configured()
  local b = package.loaded["luagate.buckets"]
  if type(b) ~= "table" then return nil end
  return M.compile(b)
end

--- The configured bucket rules (the `buckets` key), compiled as
-- rules.compile returns them; nil when the configuration has none, so a
-- script knows MinIO's per-bucket routing is off.
M.buckets = configured()

--- Does rule (a configured one, or {events=, prefix=, suffix=}) select
-- event ({name=, key=} or the event being routed)?  MinIO's test: the
-- event's name is one the rule's events select, and its unescaped object
-- key matches the prefix*suffix pattern.
-- @param rule a rule of rules.buckets, or a table {events=, prefix=, suffix=}
-- @param event the event being routed, or a table {name=, key=}
-- @return true or false
-- @raise as rules.expand, for a rule given as a table
function M.test(rule, event)
  if not rule.set then rule = compile(rule.bucket or "", rule.index or 0, rule, true) end
  return rule.set[event.name] == true and rule.key_match(event.key)
end

local function enabled_targets()
  local ok, t = pcall(require, "luagate.targets")
  if not ok or type(t) ~= "table" then return nil end
  return t
end

--- MinIO's decision for an event: the list of { target = name, rule = the
-- first rule that selected it, rules = every rule that did }, one entry
-- per target, sorted by target name.  The union over the event's bucket's
-- rules; targets that are not enabled are left out, as MinIO skips a
-- missing target.
-- @param event the event being routed, or a table {name=, bucket=, key=}
-- @param buckets compiled rules (default: rules.buckets)
-- @return the list of decisions ({} for a bucket without rules), or nil when
-- no bucket rules are configured
function M.decide(event, buckets)
  buckets = buckets or M.buckets
  if not buckets then return nil end
  local list = buckets[event.bucket]
  local out = {}
  if not list then return out end
  local on, by = enabled_targets(), {}
  local name, key = event.name, event.key
  for _, r in ipairs(list) do
    if r.set[name] and (not on or on[r.target]) and r.key_match(key) then
      local d = by[r.target]
      if d then d.rules[#d.rules + 1] = r
      else
        d = { target = r.target, rule = r, rules = { r } }
        by[r.target] = d
        out[#out + 1] = d
      end
    end
  end
  table.sort(out, function(a, b) return a.target < b.target end)
  return out
end

local function rule_name(r)
  return ("bucket '%s' rule %d%s"):format(r.bucket, r.index, r.id ~= "" and (" (id '%s')"):format(r.id) or "")
end
--- A rule's name as messages give it.
-- @name luagate.rules.rule_name(rule)
-- @param rule a compiled rule
-- @return `bucket 'images' rule 2 (id 'x')` (without the id part when it has none)
M.rule_name = rule_name

--- MinIO's decision for an event in words, one line per target (which rule
-- sent it there), or why nothing was sent; {} when no bucket rules are
-- configured.  For `luagate check`.
-- @param event as rules.decide
-- @param buckets compiled rules (default: rules.buckets)
-- @return a list of strings
function M.explain(event, buckets)
  buckets = buckets or M.buckets
  if not buckets then return {} end
  local list = buckets[event.bucket]
  if not list or #list == 0 then
    return { ("bucket '%s' has no rules: MinIO sends its events nowhere"):format(event.bucket) }
  end
  local out, on = {}, enabled_targets()
  for _, d in ipairs(M.decide(event, buckets)) do
    local also = {}
    for i = 2, #d.rules do also[#also + 1] = tostring(d.rules[i].index) end
    local t = on and on[d.target]
    local own = type(t) == "table" and M.matcher(t.events, t.prefix, t.suffix)
    out[#out + 1] = ("%s -> %s%s%s"):format(rule_name(d.rule), d.target,
      #also > 0 and (" (also rule %s; sent once)"):format(table.concat(also, ", ")) or "",
      own and not own(event.name, event.key) and ", but the target's own events/prefix/suffix leave it out" or "")
  end
  for _, r in ipairs(list) do
    if on and not on[r.target] and r.set[event.name] and r.key_match(event.key) then
      out[#out + 1] = ("%s -> %s: target not enabled, skipped"):format(rule_name(r), r.target)
    end
  end
  if #out == 0 then out[1] = ("no rule of bucket '%s' matched"):format(event.bucket) end
  return out
end

return M
