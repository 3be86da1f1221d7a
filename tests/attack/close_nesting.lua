-- coroutine.close nested inside <close> handlers, 10,000 deep: a C-stack
-- overflow (SIGSEGV) in the Lua 5.4.4 Debian ships
return function()
  local function suspended(inner)
    local co = coroutine.create(function()
      local x <close> = setmetatable({}, { __close = function()
        if inner then coroutine.close(inner) end
      end })
      coroutine.yield()
    end)
    coroutine.resume(co)
    return co
  end
  local c
  for _ = 1, 10000 do c = suspended(c) end
  coroutine.close(c)
end
