-- the loop inside coroutines made by the script, nested, each catching
return function()
  local function deep(n)
    if n == 0 then while true do pcall(function() while true do end end) end end
    local co = coroutine.wrap(function() while true do pcall(deep, n - 1) end end)
    while true do pcall(co) end
  end
  deep(5)
end
