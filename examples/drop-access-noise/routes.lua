-- GET/HEAD notifications outnumber writes by orders of magnitude on a busy
-- bucket and nobody downstream acts on them, yet `mc event add` subscribes
-- to them by default (put,delete,get).  Drop them here, once, and let the
-- built-in router apply every target's own events/prefix/suffix to the rest.
local default = require "luagate.default"

return function(event, send)
  if event.name:find("^s3:ObjectAccessed:") then return end
  default(event, send)
end
