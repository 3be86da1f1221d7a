-- string.rep of an empty string 2^62 times: one C call of 2^62 steps
return function(event, send)
  local s = string.rep("", 1 << 62)
  local t = ("x"):rep(1 << 40)
end
