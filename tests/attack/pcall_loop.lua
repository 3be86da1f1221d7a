-- catch the budget error with pcall and loop again
return function()
  while true do pcall(function() while true do end end) end
end
