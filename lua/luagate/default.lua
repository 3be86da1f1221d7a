-- luagate.default: the router used when no script is configured.  It does
-- what MinIO's notification subsystem does: every target whose rules
-- (events, prefix, suffix) match gets the event once, in MinIO's shape for
-- its kind.  With bucket rules configured (the `buckets` key), an event goes
-- only to the targets its bucket's rules select (none for a bucket without
-- rules), and a target's own events/prefix/suffix, if any, narrow further
-- what it gets.  A script can reuse it:
--   local default = require "luagate.default"
--   return function(event, send) default(event, send); ... end
local rules = require "luagate.rules"
local targets = require "luagate.targets"

--- The built-in router (what runs when no `script` is set), as a route
-- function a script can call first: `local default = require
-- "luagate.default"` then `default(event, send)` inside route().  It sends
-- the event itself to every enabled target whose own events/prefix/suffix
-- match, once each; with bucket rules configured, only to the targets the
-- event's bucket's rules select (none for a bucket without rules), narrowed
-- by their own rules.  Built once per state from luagate.targets and
-- luagate.rules.buckets.
-- @name luagate.default(event, send)
-- @param event the event being routed
-- @param send route()'s send
-- @return nothing
-- @raise at require, when a target's `events` key names an unknown event:
-- `NAME: key 'events': unknown event name ...`

local routes, names, all = {}, {}, true
for _, t in ipairs(targets) do
  local ok, match = pcall(rules.matcher, t.events, t.prefix, t.suffix)
  if not ok then error(("%s: key 'events': %s"):format(t.name, match), 0) end
  local every = rules.expand(t.events) == nil and rules.pattern(t.prefix, t.suffix) == "*"
  all = all and every
  routes[#routes + 1] = { name = t.name, match = match }
  names[#names + 1] = t.name
end

if rules.buckets then
  -- per bucket, the enabled targets its rules name (sorted, as decide()
  -- lists them) each with those rules: an event walks its bucket's plan
  -- and allocates nothing
  local own = {}
  for _, r in ipairs(routes) do own[r.name] = r.match end
  local plan = {}
  for bucket, list in pairs(rules.buckets) do
    local by, order = {}, {}
    for _, r in ipairs(list) do
      if own[r.target] then -- a disabled target's rules are skipped, as MinIO skips a missing one
        local e = by[r.target]
        if not e then
          e = { target = r.target, own = own[r.target] }
          by[r.target] = e
          order[#order + 1] = e
        end
        e[#e + 1] = r
      end
    end
    table.sort(order, function(a, b) return a.target < b.target end)
    plan[bucket] = order
  end
  return function(event, send)
    local order = plan[event.bucket]
    if not order then return end
    local name, key = event.name, nil
    for i = 1, #order do
      local e = order[i]
      for j = 1, #e do
        local r = e[j]
        if r.set[name] then
          key = key or event.key
          if r.key_match(key) then
            if e.own(name, key) then send(e.target, event) end
            break
          end
        end
      end
    end
  end
end

if all then
  -- no target has rules: every event goes everywhere, and neither its name
  -- nor its key needs to be looked at
  local n = #names
  if n == 1 then
    local only = names[1]
    return function(event, send) send(only, event) end
  end
  return function(event, send)
    for i = 1, n do send(names[i], event) end
  end
end

return function(event, send)
  local name, key = event.name, event.key
  for i = 1, #routes do
    local r = routes[i]
    if r.match(name, key) then send(r.name, event) end
  end
end
