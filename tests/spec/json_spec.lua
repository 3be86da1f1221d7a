-- busted specs for luagate.json (src/json.c, built into luagate.so):
-- decode/encode, the null and empty-array round trips, Go-compatible output.
local h = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/helpers.lua")
local json = require "luagate.json"

local function encode_error(v)
  local ok, err = pcall(json.encode, v)
  assert.is_false(ok, "json.encode accepted the value and gave " .. tostring(err))
  return tostring(err)
end

local function decode_fails(text)
  local v, err = json.decode(text)
  assert.is_nil(v, ("json.decode(%q) gave a value"):format(text))
  assert.is_string(err, ("json.decode(%q) gave no message"):format(text))
  assert.truthy(#err > 0)
  return err
end

describe("luagate.json", function()
  describe("round trips", function()
    it("decode then encode gives back canonical text (sorted keys, no blanks)", function()
      for _, text in ipairs {
        [[{"a":1,"b":[1,2,3],"c":{"d":"e"},"f":true,"g":false}]],
        [=[[1,"two",false,null,{},[],[[]]]]=],
        [[{"Records":[{"s3":{"bucket":{"name":"images"},"object":{"key":"a+b.jpg","size":26}}}]}]],
        [[{"x":-5,"y":1.5,"z":"\u003c\u0026\u003e"}]],
      } do
        assert.equal(text, json.encode(assert(json.decode(text))))
      end
    end)

    it("encode then decode gives back an equal table", function()
      local t = { name = "s3:ObjectCreated:Put", n = 42, list = { "a", "b" }, nested = { ok = true, f = 0.5 } }
      assert.same(t, json.decode(json.encode(t)))
    end)

    it("decodes and re-encodes every MinIO sample line to an equal value", function()
      local f = assert(io.open(h.events_file()))
      local n = 0
      for line in f:lines() do
        if line:find("%S") then
          n = n + 1
          local v = assert(json.decode(line))
          local sorted_keys = json.encode(v)
          -- sorted keys differ from MinIO's field order, so compare re-decoded
          assert.same(v, json.decode(sorted_keys))
        end
      end
      f:close()
      assert.truthy(n > 0)
    end)

    it("reads a sample envelope's fields", function()
      local f = assert(io.open(h.events_file()))
      local line = f:read("l")
      f:close()
      local env = assert(json.decode(line))
      assert.equal("s3:ObjectCreated:Put", env.EventName)
      assert.equal("logs/photo.jpg", env.Key)
      assert.equal(1, #env.Records)
      assert.equal("photo.jpg", env.Records[1].s3.object.key)
      assert.equal(200436, env.Records[1].s3.object.size)
      assert.equal("integer", math.type(env.Records[1].s3.object.size))
      assert.equal("", env.Records[1].source.port)
    end)
  end)

  describe("null", function()
    it("decodes JSON null to the json.null sentinel, in objects and arrays", function()
      local v = assert(json.decode([[{"a":null,"b":[null,1]}]]))
      assert.equal(json.null, v.a)
      assert.equal(json.null, v.b[1])
      assert.equal(1, v.b[2])
      assert.equal(2, #v.b)
    end)

    it("json.null is not nil and not false, so the key stays present", function()
      local v = assert(json.decode([[{"a":null}]]))
      assert.is_not_nil(v.a)
      assert.truthy(v.a)
    end)

    it("encodes json.null back to null", function()
      assert.equal("null", json.encode(json.null))
      assert.equal([[{"a":null}]], json.encode({ a = json.null }))
      assert.equal("[null,null]", json.encode(assert(json.decode("[null,null]"))))
      assert.equal([[{"a":null,"b":[]}]], json.encode(assert(json.decode([[{"a":null,"b":[]}]]))))
    end)
  end)

  describe("arrays and objects", function()
    it("decodes [] to an empty table carrying json.array_mt", function()
      local v = assert(json.decode("[]"))
      assert.is_table(v)
      assert.equal(0, #v)
      assert.equal(json.array_mt, getmetatable(v))
      assert.equal(json.array_mt, getmetatable(assert(json.decode("[1]"))))
    end)

    it("round-trips an empty array as []", function()
      assert.equal("[]", json.encode(assert(json.decode("[]"))))
      assert.equal([[{"a":[],"b":{}}]], json.encode(assert(json.decode([[{"a":[],"b":{}}]]))))
    end)

    it("json.array{} and json.array() encode as []", function()
      assert.equal("[]", json.encode(json.array {}))
      assert.equal("[]", json.encode(json.array()))
      assert.equal("[1,2]", json.encode(json.array { 1, 2 }))
      local t = {}
      assert.equal(t, json.array(t)) -- marks the table itself
      assert.equal(json.array_mt, getmetatable(t))
    end)

    it("encodes an empty plain table as {}", function()
      assert.equal("{}", json.encode({}))
      assert.equal([[{"a":{}}]], json.encode({ a = {} }))
    end)

    it("encodes a sequence as an array and anything else as an object", function()
      assert.equal("[1,2,3]", json.encode({ 1, 2, 3 }))
      assert.equal([=[["a",["b"]]]=], json.encode({ "a", { "b" } }))
      assert.equal([[{"1":1,"3":3}]], json.encode({ [1] = 1, [3] = 3 }))
      assert.equal([[{"1":1,"x":2}]], json.encode({ 1, x = 2 }))
    end)

    it("writes object keys sorted bytewise, like Go's maps", function()
      assert.equal([[{"10":6,"9":7,"B":3,"_":5,"a":2,"aa":4,"b":1}]],
        json.encode({ b = 1, a = 2, B = 3, aa = 4, _ = 5, ["10"] = 6, ["9"] = 7 }))
      assert.equal([[{"a":{"x":1,"y":2},"z":0}]], json.encode({ z = 0, a = { y = 2, x = 1 } }))
    end)

    it("keeps keys holding NUL bytes whole, sorted bytewise", function()
      assert.equal([[{"a":3,"a\u0000a":2,"a\u0000b":1}]], json.encode({ ["a\0b"] = 1, ["a\0a"] = 2, a = 3 }))
      local v = assert(json.decode([[{"k\u0000x":1,"k\u0000y":2}]]))
      assert.equal(1, v["k\0x"])
      assert.equal([[{"k\u0000x":1,"k\u0000y":2}]], json.encode(v))
    end)

    it("keeps the value of a non-integer number key", function()
      -- a float key must either be written with its value or be refused, never become null
      local ok, s = pcall(json.encode, { [1.5] = 1 })
      if ok then assert.equal([[{"1.5":1}]], s) end
    end)

    it("refuses keys JSON cannot hold and values like functions", function()
      assert.truthy(encode_error({ [true] = 1 }):find("key", 1, true))
      assert.truthy(encode_error(print):find("function", 1, true))
      encode_error({ a = { f = function() end } })
      encode_error(coroutine.create(print))
    end)
  end)

  describe("numbers", function()
    it("writes integers without a fraction", function()
      assert.equal("1", json.encode(1))
      assert.equal("-3", json.encode(-3))
      assert.equal("0", json.encode(0))
      assert.equal("9223372036854775807", json.encode(math.maxinteger))
    end)

    it("writes floats with a fraction as such and whole floats as integers", function()
      assert.equal("1.5", json.encode(1.5))
      assert.equal("-0.25", json.encode(-0.25))
      assert.equal("1", json.encode(1.0))
      assert.equal("9007199254740992", json.encode(2 ^ 53))
      assert.equal("[1,1.5,9007199254740992]", json.encode({ 1, 1.5, 2 ^ 53 }))
    end)

    it("writes the shortest text that reads back the same float (like Go: 0.1, not 0.10000000000000001)", function()
      assert.equal("0.1", json.encode(0.1))
      assert.equal("3.14", json.encode(3.14))
      assert.equal([[{"ratio":0.1}]], json.encode(assert(json.decode([[{"ratio":0.1}]]))))
    end)

    it("decodes integers as Lua integers and the rest as floats", function()
      local v = assert(json.decode("[1,1.5,-7,1e2,9007199254740993]"))
      assert.equal("integer", math.type(v[1]))
      assert.equal("float", math.type(v[2]))
      assert.equal(-7, v[3])
      assert.equal("integer", math.type(v[3]))
      assert.equal(100.0, v[4])
      assert.equal(9007199254740993, v[5]) -- beyond 2^53: exact, not rounded through a double
      assert.equal("integer", math.type(v[5]))
    end)

    it("writes floats as Go's encoding/json does: plain digits from 1e-6 up to 1e21, e-notation outside", function()
      local cases = {
        { 1e20, "100000000000000000000" }, { 1e21, "1e+21" }, { -1e21, "-1e+21" },
        { 123456789012345678e3, "123456789012345680000" }, { 1.5e300, "1.5e+300" },
        { 1e-6, "0.000001" }, { 1.234e-6, "0.000001234" }, { 1e-7, "1e-7" }, { 1.5e-10, "1.5e-10" },
        { 5e-324, "5e-324" }, { 1.7976931348623157e308, "1.7976931348623157e+308" },
        { 1 / 3, "0.3333333333333333" }, { 123456789.125, "123456789.125" }, { -0.0, "-0" },
      }
      for _, c in ipairs(cases) do assert.equal(c[2], json.encode(c[1])) end
    end)

    it("keeps numbers a double cannot hold as their text, whatever their length", function()
      local big = ("1234567890"):rep(7) -- a 70-digit size
      local text = '{"huge":1e400,"int64max1":9223372036854775808,"size":' .. big .. "}"
      local v = assert(json.decode(text))
      assert.equal(text, json.encode(v))
      assert.equal(big, tostring(v.size))
      assert.equal("x" .. big, "x" .. v.size)
      assert.equal('{"Records":[{"s3":{"object":{"size":' .. big .. "}}}]}",
        json.encode(assert(json.decode('{"Records":[{"s3":{"object":{"size":' .. big .. "}}}]}"))))
    end)

    it("turns such a number into a float only when a script does arithmetic or compares", function()
      local v = assert(json.decode("[123456789012345678901234567890,-0]"))
      assert.equal(1.2345678901234568e29, v[1] + 0)
      assert.equal(2.4691357802469136e29, v[1] * 2)
      assert.is_true(v[1] > 1e29)
      assert.is_true(v[1] < 1e30)
      assert.equal("-0", json.encode(v[2]))
      assert.equal("12345678901234567890123", json.encode(json.number("12345678901234567890123")))
      assert.has_error(function() json.number("12a") end)
      assert.has_error(function() json.number("[1]") end)
    end)

    it("refuses NaN and infinities with an error", function()
      assert.truthy(encode_error(0 / 0):find("JSON", 1, true))
      encode_error(math.huge)
      encode_error(-math.huge)
      encode_error({ x = { 1, math.huge } })
    end)
  end)

  describe("strings", function()
    it("escapes like Go's encoding/json: <, >, & as \\u escapes", function()
      assert.equal([["\u003c\u003e\u0026"]], json.encode("<>&"))
      assert.equal([["a\u003cb"]], json.quote("a<b"))
      assert.equal([[{"k":"\u0026\u003c\u003e\"'?=#%+.txt"}]], json.encode({ k = [[&<>"'?=#%+.txt]] }))
    end)

    it("escapes quotes, backslashes and control characters, but not '/'", function()
      assert.equal([["\"\\/"]], json.encode([["\/]]))
      assert.equal([["\n\r\t\u0001\u001f\u0000"]], json.encode("\n\r\t\1\31\0"))
    end)

    it("escapes U+2028 and U+2029 and passes other UTF-8 through", function()
      assert.equal([["\u2028\u2029"]], json.encode("\u{2028}\u{2029}"))
      assert.equal([["é-ü-中文 🚀"]], json.encode("é-ü-中文 🚀"))
    end)

    it("replaces invalid UTF-8 by \\ufffd", function()
      assert.equal([["a\ufffdb"]], json.encode("a\xffb"))
    end)

    it("decodes \\u escapes and surrogate pairs to UTF-8", function()
      assert.equal("é", json.decode([["\u00e9"]]))
      assert.equal("中", json.decode([["\u4e2d"]]))
      assert.equal("🚀", json.decode([["\ud83d\ude80"]]))
      assert.equal("<&>", json.decode([["\u003c\u0026\u003e"]]))
      assert.equal("a\0b", json.decode([["a\u0000b"]]))
      assert.equal("\"\\/\b\f\n\r\tA", json.decode([["\"\\\/\b\f\n\r\t\u0041"]]))
    end)

    it("round-trips raw UTF-8 and escapes", function()
      local s = "é-ü-中文/🚀 <a&b> \u{2028}"
      assert.equal(s, json.decode(json.encode(s)))
      assert.equal(s, json.decode(json.encode({ s })) [1])
    end)
  end)

  describe("malformed input", function()
    it("returns nil and a message, never raises", function()
      for _, text in ipairs { "", "{", "{bad", "[1,]", "[1 2]", [[{"a" 1}]], [[{"a":1,}]], "[tru]", "[01]",
        "[NaN]", "[1]x", "[\"a\nb\"]", [=[["\x"]]=], [=[["\u00"]]=], "}", "[\"unterminated]" } do
        decode_fails(text)
      end
    end)

    it("refuses strings and keys that are not UTF-8, naming the byte", function()
      for _, text in ipairs { '"\xff"', '["ok","a\xfe"]', '{"k\xc0\xaf":1}', '"\xed\xa0\x80"', '"\xe4\xb8"',
        '"\xf4\x90\x80\x80"' } do
        local v, err = json.decode(text)
        assert.is_nil(v)
        assert.truthy(err:find("invalid UTF-8", 1, true), err)
      end
      local _, err = json.decode('{"a":"ok","b":"x\xff"}')
      assert.equal("malformed JSON near byte 16: invalid UTF-8", err)
    end)

    it("allows blanks around the document", function()
      assert.same({ 1 }, json.decode(" \n[1]\t "))
    end)

    it("raises for a non-string argument (misuse)", function()
      assert.is_false((pcall(json.decode, nil)))
      assert.is_false((pcall(json.decode, {})))
    end)

    it("decodes a scalar at the top level (RFC 8259)", function()
      assert.equal(json.null, json.decode("null"))
      assert.equal(1, json.decode("1"))
      assert.equal(-5, json.decode("-5"))
      assert.equal(1.5, json.decode("1.5"))
      assert.equal(true, json.decode("true"))
      assert.equal(false, json.decode("false"))
      assert.equal("x", json.decode([["x"]]))
    end)
  end)

  -- Deep nesting runs in a child interpreter: a crash there (stack overflow,
  -- memory corruption) fails these tests instead of killing busted.
  describe("deep nesting", function()
    local function child(code)
      local out, status = h.run_lua('local json = require "luagate.json"\n' .. code, 10)
      return out, status
    end

    it("encoding 100 nested tables is an error, not a crash", function()
      local out, status = child [[
        local t = {} local c = t
        for i = 1, 100 do c[1] = {} c = c[1] end
        local ok, err = pcall(json.encode, t)
        collectgarbage() collectgarbage()
        io.write(tostring(ok), "|", tostring(err), "\n")
      ]]
      assert.equal(0, status, "child exited " .. tostring(status) .. ": " .. out)
      assert.matches("^false|", out)
    end)

    it("encoding a table that contains itself is an error, not a crash", function()
      local out, status = child [[
        local t = {} t.self = t
        local ok, err = pcall(json.encode, t)
        collectgarbage() collectgarbage()
        io.write(tostring(ok), "|", tostring(err), "\n")
      ]]
      assert.equal(0, status, "child exited " .. tostring(status) .. ": " .. out)
      assert.matches("^false|", out)
    end)

    it("encodes 40 nested tables and stays healthy", function()
      local out, status = child [[
        local t = {} local c = t
        for i = 1, 40 do c.a = {} c = c.a end
        local s = json.encode(t)
        collectgarbage() collectgarbage()
        io.write(s, "\n")
      ]]
      assert.equal(0, status, "child exited " .. tostring(status) .. ": " .. out)
      assert.equal(string.rep([[{"a":]], 40) .. "{}" .. string.rep("}", 40) .. "\n", out)
    end)

    it("decoding 100 nested arrays or objects gives nil, message", function()
      local out, status = child [[
        local a, ea = json.decode(string.rep("[", 100) .. string.rep("]", 100))
        local o, eo = json.decode(string.rep('{"a":', 100) .. "1" .. string.rep("}", 100))
        collectgarbage()
        io.write(tostring(a), "|", tostring(type(ea)), "|", tostring(o), "|", tostring(type(eo)), "\n")
      ]]
      assert.equal(0, status, "child exited " .. tostring(status) .. ": " .. out)
      assert.equal("nil|string|nil|string\n", out)
    end)

    it("decodes 40 nested arrays", function()
      local v = assert(json.decode(string.rep("[", 40) .. string.rep("]", 40)))
      local depth = 0
      while type(v) == "table" do depth = depth + 1; v = v[1] end
      assert.equal(40, depth)
    end)
  end)
end)
