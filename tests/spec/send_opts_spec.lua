-- busted specs: send() options checked against the target kind's table
-- (src/sendopts.c through luagate.so), so a script's misspelt, mistyped or
-- out-of-range option fails in a test with its file and line, as it fails
-- in the gateway and in `luagate check`.
local testing = require "luagate.testing"

local TARGETS = {
  ["mqtt:m"] = {}, ["kafka:k"] = {}, ["amqp:a"] = {}, ["nats:n"] = {},
  ["elasticsearch:e"] = {}, ["webhook:w"] = {}, ["redis:r"] = {},
}

local function script_file(text)
  local name = os.tmpname() .. ".lua"
  local f = assert(io.open(name, "w"))
  f:write(text)
  f:close()
  return name
end

-- The error one send(target, event, opts) raises at line 2 of a script file
-- (nil when it is taken), and the file's name.
local function send_error(target, opts_lua)
  local file = script_file(("return function(event, send)\n  send(%q, event, %s)\nend\n"):format(target, opts_lua))
  local gw = testing.load(file, { targets = TARGETS })
  local ok, err = pcall(gw.feed, gw, testing.event { name = "s3:ObjectCreated:Put", bucket = "b", key = "k" })
  os.remove(file)
  return not ok and tostring(err) or nil, file
end

describe("send() options", function()
  it("takes every option of the kind's table with a right value", function()
    assert.is_nil(send_error("mqtt:m", '{ topic = "a/b", qos = 2, retain = true, key = "k", op = "delete" }'))
    assert.is_nil(send_error("kafka:k", '{ topic = "t", key = "x", headers = { ["content-type"] = "a/b" } }'))
    assert.is_nil(send_error("amqp:a", '{ exchange = "", routing_key = "r", headers = { h = "v" } }'))
    assert.is_nil(send_error("nats:n", '{ subject = "s.b", headers = { h = "v" } }'))
    assert.is_nil(send_error("elasticsearch:e", '{ index = "i", key = "x" }'))
    assert.is_nil(send_error("webhook:w", '{ key = "x" }'))
    assert.is_nil(send_error("webhook:w", "{}"))
  end)

  it("refuses an unknown option, naming it, the kind and what the kind takes, at the script's line", function()
    local err, file = send_error("mqtt:m", '{ topc = "a" }')
    assert.truthy(err)
    assert.equal(file .. ":2: send: mqtt:m: unknown option 'topc' for a mqtt target (it takes key, op, topic, qos, retain)", err)
  end)

  it("refuses an option another kind takes (headers on a webhook)", function()
    local err = send_error("webhook:w", '{ headers = { a = "b" } }')
    assert.truthy(err:find("unknown option 'headers' for a webhook target (it takes key, op)", 1, true), err)
  end)

  it("refuses a value of the wrong type", function()
    local err = send_error("mqtt:m", '{ qos = "1" }')
    assert.truthy(err:find(":2: send: mqtt:m: option 'qos' must be an integer in 0..2, not a string", 1, true), err)
    err = send_error("mqtt:m", "{ retain = 1 }")
    assert.truthy(err:find("option 'retain' must be a boolean, not a number", 1, true), err)
    err = send_error("kafka:k", "{ topic = 7 }")
    assert.truthy(err:find("option 'topic' must be a string of 1 to 249 bytes, not a number", 1, true), err)
    err = send_error("redis:r", "{ key = true }")
    assert.truthy(err:find("option 'key' must be a string, not a boolean", 1, true), err)
    err = send_error("amqp:a", '{ headers = { a = 1 } }')
    assert.truthy(err:find("option 'headers' must be a table of string values by names of 1 to 255 bytes: "
      .. "its key 'a' (1 bytes) holds a number", 1, true), err)
    err = send_error("kafka:k", '{ headers = { "v" } }')
    assert.truthy(err:find("option 'headers' must be a table of string values by names of 1 to 255 bytes: "
      .. "its key of type number holds a string", 1, true), err)
  end)

  it("refuses a value out of range", function()
    local err = send_error("mqtt:m", "{ qos = 3 }")
    assert.truthy(err:find("option 'qos' must be an integer in 0..2, not 3", 1, true), err)
    err = send_error("mqtt:m", "{ qos = 1.5 }")
    assert.truthy(err:find("option 'qos' must be an integer in 0..2, not 1.5", 1, true), err)
    err = send_error("nats:n", '{ subject = "" }')
    assert.truthy(err:find("option 'subject' must be a string of 1 to 1024 bytes, not 0 bytes", 1, true), err)
    err = send_error("amqp:a", ('{ routing_key = %q }'):format(("r"):rep(256)))
    assert.truthy(err:find("option 'routing_key' must be a string of 0 to 255 bytes, not 256 bytes", 1, true), err)
  end)

  it("refuses positional options", function()
    local err = send_error("kafka:k", '{ "t" }')
    assert.truthy(err:find("options are named: a number key is no option of a kafka target", 1, true), err)
  end)

  it("records nothing of an event whose send() was refused", function()
    local gw = testing.load(function(event, send)
      send("webhook:w", event)
      send("mqtt:m", event, { qos = 9 })
    end, { targets = TARGETS })
    local ok = pcall(gw.feed, gw, testing.event { name = "s3:ObjectCreated:Put", bucket = "b", key = "k" })
    assert.is_false(ok)
  end)
end)
