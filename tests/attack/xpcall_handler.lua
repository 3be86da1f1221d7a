-- a message handler that loops, inside an xpcall loop
return function()
  while true do
    xpcall(function() while true do end end, function() while true do pcall(error, "x") end end)
  end
end
