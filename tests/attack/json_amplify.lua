-- one 1 MiB string referenced 4096 times: 4 GiB of JSON from 1 MiB of Lua
return function(event, send)
  local s = ("x"):rep(1 << 20)
  local t = {}
  for i = 1, 4096 do t[i] = s end
  send("file:out", t)
end
