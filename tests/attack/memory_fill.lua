-- fill the state up to script_memory and keep it in a global
return function()
  hoard = hoard or {}
  local i = #hoard
  while true do i = i + 1; hoard[i] = ("x"):rep(1000) .. i end
end
