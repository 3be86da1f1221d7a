-- json.decode raising half way (memory), caught, a thousand times
local json = require "luagate.json"
return function()
  local doc = "[" .. ("[1,2,3,4,5,6,7,8,9,10],"):rep(20000) .. "1]"
  local keep = {}
  for i = 1, 1000 do
    local ok, v = pcall(json.decode, doc)
    if ok then keep[#keep + 1] = v end
  end
end
