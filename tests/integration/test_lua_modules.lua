-- The drivers as Lua modules, against the real servers of the suite:
-- what a script or a busted spec gets from require "luagate.<kind>".
local function ok(cond, name, extra)
  print((cond and "ok - " or "not ok - ") .. name .. (cond and "" or (" # " .. tostring(extra))))
end
local env = os.getenv
local events = assert(io.open(env("LUAGATE_EVENTS"))):read("a")
local line = events:match("[^\n]+")

-- redis: the same keys as the configuration
local redis = require "luagate.redis"
local r = redis.new{ address = "127.0.0.1:" .. env("REDIS_PORT"), key = "lua-modules-test", format = "access" }
local h, herr = r:health()
ok(h == true, "luagate.redis: health() against redis-server", herr)
local sent, err = r:send('[{"Event":[],"EventTime":"t"}]')
ok(sent == true, "luagate.redis: send() confirmed by the server", err)
r:close()
ok(not pcall(r.send, r, "x"), "luagate.redis: a closed target raises")
ok(not pcall(redis.new, { address = "127.0.0.1:1" }), "luagate.redis: a missing required key raises (misuse)")
local down = redis.new{ address = "127.0.0.1:1", key = "k" }
local s2, e2, st = down:send("{}")
ok(s2 == nil and type(e2) == "string" and st == "retry", "luagate.redis: an unreachable server returns nil, message, \"retry\"", e2)
down:close()

-- file: payload tables are JSON
local file = require "luagate.file"
local path = os.tmpname()
do
  local f <close> = file.new{ path = path }
  ok(f:send({ b = 1, a = { } }) == true, "luagate.file: send() of a table")
  ok(f:send(line) == true, "luagate.file: send() of a string")
end
local got = assert(io.open(path)):read("a")
ok(got == '{"a":{},"b":1}\n' .. line .. "\n", "luagate.file: tables JSON-encoded (sorted keys), strings as they are", got)
os.remove(path)

-- webhook: an unreachable endpoint
local webhook = require "luagate.webhook"
local w = webhook.new{ endpoint = "http://127.0.0.1:1/" }
local ws, werr = w:send(line)
ok(ws == nil and werr:match("not connected"), "luagate.webhook: connection refused is an I/O error, not a raise", werr)
w:close()

-- queue
local queue = require "luagate.queue"
local dir = os.tmpname(); os.remove(dir)
local q = assert(queue.open(dir, { limit = 2 }))
q:push("a"); q:push("b")
local full, ferr = q:push("c")
ok(full == nil and ferr:match("full"), "luagate.queue: the limit is an error value", ferr)
ok(q:pop() == "a" and q:ack() and q:pop() == "b", "luagate.queue: FIFO with pop/ack")
q:close()
os.execute("rm -rf " .. dir)
