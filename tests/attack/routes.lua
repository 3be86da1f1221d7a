-- tests/attack/routes.lua: the routing script of tests/integration/test_attack.sh.
-- An event whose object is attack/NAME runs the attack in NAME.lua (beside
-- this file); every other event goes to file:out as MinIO's envelope, those
-- under slow/ after ~100,000 instructions of work (about a millisecond).
return function(event, send)
  local name = event.key:match("^attack/([%w_]+)$")
  if name then return require(name)(event, send) end
  if event.key:match("^slow/") then
    local s = 0
    for i = 1, 25000 do s = s + i % 7 end
  end
  send("file:out", event)
end
