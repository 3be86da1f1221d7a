-- luagate.rules: MinIO's bucket-notification rules, for the default router
-- and for scripts that want the same semantics (reference §2.1-§2.4).
local M = {}

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

--- The set of exact event names a list selects; nil means every event.
-- events: a comma separated string or a list of names, wildcards, shorthands.
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
function M.pattern(prefix, suffix)
  prefix, suffix = prefix or "", suffix or ""
  if prefix ~= "" and prefix:sub(-1) ~= "*" then prefix = prefix .. "*" end
  if suffix ~= "" and suffix:sub(1, 1) ~= "*" then suffix = "*" .. suffix end
  local p = prefix .. suffix
  if p == "" then return "*" end
  while p:find("**", 1, true) do p = p:gsub("%*%*", "*") end
  return p
end

-- Length of the UTF-8 character starting at byte i of s.
local function charlen(s, i)
  local c = s:byte(i)
  if not c or c < 0xC0 then return 1 elseif c < 0xE0 then return 2 elseif c < 0xF0 then return 3 end
  return 4
end

local function deep(str, si, pat, pi)
  local slen, plen = #str, #pat
  while pi <= plen do
    local pc = pat:sub(pi, pi)
    if pc == "*" then
      if pi == plen then return true end
      while true do
        if deep(str, si, pat, pi + 1) then return true end
        if si > slen then return false end
        si = si + charlen(str, si)
      end
    elseif pc == "?" then
      if si > slen then return true end -- MinIO's simple mode: '?' past the end matches
      si = si + charlen(str, si)
    else
      if si > slen or str:byte(si) ~= pat:byte(pi) then return false end
      si = si + 1
    end
    pi = pi + 1
  end
  return si > slen
end

--- wildcard.MatchSimple: '*' any run (including '/'), '?' one character.
function M.match(pattern, name)
  if pattern == "*" then return true end
  if pattern == "" then return name == "" end
  return deep(name, 1, pattern, 1)
end

--- A function(event_name, object_key) -> bool for one target's rules.
function M.matcher(events, prefix, suffix)
  local set = M.expand(events)
  local pat = M.pattern(prefix, suffix)
  if pat == "*" then
    if not set then return function() return true end end
    return function(name) return set[name] == true end
  end
  return function(name, key)
    return (not set or set[name] == true) and M.match(pat, key)
  end
end

return M
