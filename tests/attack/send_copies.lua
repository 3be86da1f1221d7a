-- payload copies made by send() live outside the state: 4 MiB x 1000
return function(event, send)
  local s = ("x"):rep(4 << 20)
  for _ = 1, 1000 do send("file:out", s) end
end
