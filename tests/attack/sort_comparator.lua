-- a comparator called from C (no yield possible there) that loops and catches
return function()
  local t = {}
  for i = 1, 100 do t[i] = i end
  while true do
    pcall(table.sort, t, function(a, b)
      while true do pcall(function() while true do end end) end
    end)
  end
end
