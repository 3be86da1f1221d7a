-- busted spec for luagate.re (src/re.c): PCRE2 for routing scripts, with a
-- match limit that ends catastrophic backtracking with an error, and
-- compiled patterns counted against script_memory.
local re = require "luagate.re"
local h = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/helpers.lua")

describe("luagate.re", function()
  local dated = re.compile([[^logs/(\d{4})-(\d\d)-(\d\d)/]])

  it("matches with captures like string.match", function()
    assert.same({ "2026", "11", "21" }, { dated:match("logs/2026-11-21/a.txt") })
    assert.is_nil(dated:match("logs/26-11-21/a.txt"))
    assert.equal("bbb", re.compile("b+"):match("aabbbcc"))
    assert.same({ false, "b" }, { re.compile("(a)|(b)"):match("b") })
  end)

  it("finds like string.find, init as Lua's", function()
    assert.same({ 1, 16, "2026", "11", "21" }, { dated:find("logs/2026-11-21/a.txt") })
    assert.same({ 3, 5 }, { re.compile("b+"):find("aabbbcc") })
    assert.same({ 2, 2 }, { re.compile("b+"):find("bbaaabb", 2) })
    assert.same({ 6, 7 }, { re.compile("b+"):find("bbaaabb", 3) })
    assert.same({ 6, 7 }, { re.compile("b+"):find("bbaaabb", -2) })
    assert.is_nil(re.compile("b"):find("abc", 10))
  end)

  it("iterates like string.gmatch, empty matches included", function()
    local words = {}
    for w in re.compile([[\w+]]):gmatch("hello big world") do words[#words + 1] = w end
    assert.same({ "hello", "big", "world" }, words)
    local mine, lua = {}, {}
    for w in re.compile("x*"):gmatch("abc") do mine[#mine + 1] = w end
    for w in ("abc"):gmatch("x*") do lua[#lua + 1] = w end
    assert.same(lua, mine)
    local pairs_ = {}
    for k, v in re.compile("(\\w+)=(\\w+)"):gmatch("a=1, b=2") do pairs_[k] = v end
    assert.same({ a = "1", b = "2" }, pairs_)
  end)

  it("takes flags i, m, s, x, u and refuses others", function()
    assert.equal("ABC", re.compile("abc", "i"):match("xABC"))
    assert.equal("b", re.compile("^b$", "m"):match("a\nb\nc"))
    assert.equal("a\nb", re.compile("a.b", "s"):match("a\nb"))
    assert.equal("ab", re.compile("a b # comment", "x"):match("ab"))
    assert.equal("é", re.compile("É", "iu"):match("xé"))
    assert.is_nil(re.compile("a", "u"):match("\255\255"))
    assert.has_error(function() re.compile("a", "q") end, "luagate.re: unknown flag 'q' (flags: i m s x u)")
  end)

  it("refuses a bad pattern, naming where", function()
    assert.has_error(function() re.compile("(") end,
      "luagate.re: missing closing parenthesis at offset 1 of the pattern")
  end)

  it("ends catastrophic backtracking with an error instead of hanging", function()
    local evil = re.compile("^(a+)+$")
    assert.has_error(function() evil:match(("a"):rep(40) .. "!") end, "luagate.re: match limit exceeded")
    assert.has_error(function() evil:find(("a"):rep(40) .. "!") end, "luagate.re: match limit exceeded")
    assert.equal(("a"):rep(40), evil:match(("a"):rep(40))) -- the pattern still works
  end)

  it("hides its metatable", function()
    assert.equal("luagate.re", getmetatable(dated))
  end)
end)

describe("luagate.re in the gateway", function()
  local bin = os.getenv("LUAGATE_BIN") or (h.root .. "/build/release/luagate")
  local function check(script, memory)
    local dir = h.tmpdir()
    local f = assert(io.open(dir .. "/r.lua", "w")); f:write(script); f:close()
    f = assert(io.open(dir .. "/c.lua", "w"))
    f:write('targets = { ["file:out"] = { path = "' .. dir .. '/out" } }\n',
      memory and ("script_memory = " .. memory .. "\n") or "")
    f:close()
    local p = assert(io.popen(("%s -c %s check %s %s 2>&1"):format(h.shq(bin), h.shq(dir .. "/c.lua"),
      h.shq(dir .. "/r.lua"), h.shq(h.events_file()))))
    local out = p:read("a")
    p:close()
    h.rmdir(dir)
    return out
  end

  it("is given to routing scripts, and a runaway match is a script error", function()
    local out = check([[
local re = require "luagate.re"
local evil = re.compile("^(a+)+$")
return function(event, send)
  if evil:match(("a"):rep(40) .. "!") then send("file:out", event) end
end
]])
    assert.matches("script error: .*luagate.re: match limit exceeded", out)
  end)

  it("counts compiled patterns against script_memory", function()
    local out = check([[
local re = require "luagate.re"
local kept = {}
for i = 1, 100000 do kept[i] = re.compile(("x"):rep(1000) .. i) end
return function(event, send) send("file:out", event) end
]], 4 * 1024 * 1024)
    assert.matches("luagate.re: not enough memory %(script_memory%)", out)
  end)
end)
