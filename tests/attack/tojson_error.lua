-- replace the event's __tojson with one that fails (the event metatable
-- is protected), then send the event inside a table
return function(event, send)
  local mt = getmetatable(event)
  if type(mt) == "table" then mt.__tojson = function() error("boom") end end
  send("file:out", { wrapped = event, mt = tostring(mt) })
end
