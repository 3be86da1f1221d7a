-- <close> handlers that loop and catch, on the way out of the budget error
return function()
  local function guard()
    return setmetatable({}, { __close = function()
      while true do pcall(function() while true do end end) end
    end })
  end
  local a <close> = guard()
  local b <close> = guard()
  while true do end
end
