-- fails for one bucket, with a line number
return function(event, send)
  if event.bucket == "logs" then error("no logs here") end
  send("webhook:all", { key = event.key, size = event.size })
end
