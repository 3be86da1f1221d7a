-- busted specs for luagate.queue (src/lmodule.c over src/queue.c): the
-- durable per-target queue as scripts and tests see it.
--   local q = require("luagate.queue").open(dir, { limit = N, name = reader })
--   q:push(s)  q:pop()  q:ack()  q:len()  q:close()
local h = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/helpers.lua")
local Q = require "luagate.queue"

describe("luagate.queue", function()
  local dir, open_queues

  local function open(sub, opts)
    local q, err = Q.open(dir .. "/" .. (sub or "q"), opts)
    assert.is_not_nil(q, err)
    open_queues[#open_queues + 1] = q
    return q
  end

  before_each(function()
    dir = h.tmpdir()
    open_queues = {}
  end)

  after_each(function()
    for _, q in ipairs(open_queues) do pcall(q.close, q) end
    h.rmdir(dir)
  end)

  it("opens empty in a fresh directory", function()
    local q = open()
    assert.equal(0, q:len())
    assert.is_nil(q:pop())
  end)

  it("gives items back in push order, one ack at a time", function()
    local q = open()
    for _, s in ipairs { "first", "second", "third" } do assert.is_true(q:push(s)) end
    assert.equal(3, q:len())
    for _, s in ipairs { "first", "second", "third" } do
      assert.equal(s, q:pop())
      assert.is_true(q:ack())
    end
    assert.equal(0, q:len())
    assert.is_nil(q:pop())
  end)

  it("counts unacked items in len, popped or not", function()
    local q = open()
    q:push("a")
    q:push("b")
    assert.equal(2, q:len())
    q:pop()
    assert.equal(2, q:len())
    q:ack()
    assert.equal(1, q:len())
  end)

  it("returns the same item again when pop is not followed by ack", function()
    local q = open()
    q:push("a")
    q:push("b")
    assert.equal("a", q:pop())
    assert.equal("a", q:pop())
    q:ack()
    assert.equal("b", q:pop())
  end)

  it("keeps payloads byte for byte (NUL bytes, 1 MiB)", function()
    local q = open()
    local big = string.rep("0123456789abcdef", 65536)
    q:push("x\0y")
    q:push(big)
    q:push("")
    assert.equal("x\0y", q:pop()); q:ack()
    assert.equal(big, q:pop()); q:ack()
    assert.equal("", q:pop()); q:ack()
    assert.is_nil(q:pop())
  end)

  it("keeps unacked items across close and reopen, and forgets acked ones", function()
    local q = open()
    for i = 1, 5 do q:push("m" .. i) end
    assert.equal("m1", q:pop()); q:ack()
    assert.equal("m2", q:pop()); q:ack()
    assert.equal("m3", q:pop()) -- popped, not acked
    q:close()

    local q2 = open()
    assert.equal(3, q2:len())
    for i = 3, 5 do
      assert.equal("m" .. i, q2:pop())
      q2:ack()
    end
    assert.is_nil(q2:pop())
    q2:close()

    local q3 = open()
    assert.equal(0, q3:len())
    assert.is_nil(q3:pop())
  end)

  it("appends after the old items once reopened", function()
    local q = open()
    q:push("old")
    q:close()
    q = open()
    q:push("new")
    assert.equal("old", q:pop()); q:ack()
    assert.equal("new", q:pop()); q:ack()
  end)

  it("refuses a push over the limit with nil and a message naming the limit", function()
    local q = open("q", { limit = 3 })
    for i = 1, 3 do assert.is_true(q:push("m" .. i)) end
    local ok, err = q:push("m4")
    assert.is_nil(ok)
    assert.is_string(err)
    assert.truthy(err:find("limit", 1, true), err)
    assert.truthy(err:find("3", 1, true), err)
    assert.equal(3, q:len())
    -- the refused item was not stored
    for i = 1, 3 do assert.equal("m" .. i, q:pop()); q:ack() end
    assert.is_nil(q:pop())
  end)

  it("takes new items again once acks make room", function()
    local q = open("q", { limit = 2 })
    q:push("a")
    q:push("b")
    assert.is_nil((q:push("c")))
    q:pop(); q:ack()
    assert.is_true(q:push("c"))
    assert.equal("b", q:pop()); q:ack()
    assert.equal("c", q:pop()); q:ack()
  end)

  it("raises on ack without a pop", function()
    local q = open()
    q:push("a")
    assert.has_error(function() q:ack() end)
    q:pop()
    q:ack()
    -- a second ack for the same pop is an ack without a pop too
    assert.has_error(function() q:ack() end)
    assert.equal(0, q:len())
  end)

  it("raises on ack after a pop that found nothing", function()
    local q = open()
    assert.is_nil(q:pop())
    assert.has_error(function() q:ack() end)
  end)

  it("raises on use after close, and close twice is harmless", function()
    local q = open()
    q:close()
    q:close()
    assert.has_error(function() q:push("a") end)
    assert.has_error(function() q:len() end)
    assert.has_error(function() q:pop() end)
  end)

  it("closes a to-be-closed variable at scope end, so the directory can be reopened", function()
    do
      local q <close> = assert(Q.open(dir .. "/tbc"))
      q:push("kept")
    end
    local q = open("tbc")
    assert.equal("kept", q:pop())
  end)

  it("refuses a directory already open by another queue", function()
    open()
    local q2, err = Q.open(dir .. "/q")
    assert.is_nil(q2)
    assert.is_string(err)
  end)

  it("returns nil, message for a directory it cannot create", function()
    local q, err = Q.open("/proc/luagate-no-such-dir/q")
    assert.is_nil(q)
    assert.is_string(err)
    assert.truthy(#err > 0)
  end)

  it("raises for a limit that is not positive", function()
    assert.has_error(function() Q.open(dir .. "/z", { limit = 0 }) end)
    assert.has_error(function() Q.open(dir .. "/z", { limit = -1 }) end)
  end)

  it("keeps 500 items in order", function()
    local q = open()
    for i = 1, 500 do q:push("item " .. i) end
    assert.equal(500, q:len())
    for i = 1, 500 do
      assert.equal("item " .. i, q:pop())
      q:ack()
    end
    assert.equal(0, q:len())
  end)
end)
