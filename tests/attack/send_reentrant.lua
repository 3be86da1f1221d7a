-- an opts table whose __index calls send() again (the message array moves
-- under the outer send: a heap use-after-free before), then a normal send
return function(event, send)
  local n = 0
  local opts = setmetatable({}, { __index = function()
    for _ = 1, 64 do n = n + 1; send("file:out", "inner " .. n) end
  end })
  send("file:out", "outer", opts)
  send("file:out", event)
end
