-- tests/docs/api_names.lua -- the name of every function the Lua modules
-- export, read from the module tables at run time, one per line,
-- as docs/lua-api.md heads them.  tests/docs/test_lua_api.sh checks that
-- each has its entry.  Needs LUA_PATH (lua/) and LUA_CPATH (luagate.so).
local names = {}
local function add(prefix, t, sep)
  for k in pairs(t) do
    if type(k) == "string" and not k:match("^__") and type(t[k]) == "function" then
      names[#names + 1] = prefix .. (sep or ".") .. k
    end
  end
end

local testing = require "luagate.testing"
add("luagate.testing", testing)
local gw = testing.load(function() end, { targets = { "webhook:1" } })
add("gw", getmetatable(gw).__index, ":")
add("luagate.log", package.loaded["luagate.log"])
add("luagate.rules", (require "luagate.rules"))
names[#names + 1] = "luagate.default"
add("luagate.json", (require "luagate.json"))
add("luagate.queue", (require "luagate.queue"))
add("queue", debug.getregistry()["luagate.queue"].__index, ":")
for _, kind in ipairs { "webhook", "amqp", "kafka", "mqtt", "nats", "nsq", "mysql", "postgres", "redis",
                        "elasticsearch", "file" } do
  for k, v in pairs(require("luagate." .. kind)) do
    if type(v) == "function" then names[#names + 1] = "luagate.KIND." .. k end
  end
end
add("target", debug.getregistry()["luagate.driver"].__index, ":")
add("luagate.re", (require "luagate.re"))
add("luagate.ingest", (require "luagate.ingest"))
add("re", debug.getregistry()["luagate.re"].__index, ":")
table.sort(names)
local seen = {}
for _, n in ipairs(names) do
  if not seen[n] then print(n) end
  seen[n] = true
end
