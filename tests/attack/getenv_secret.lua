-- read the gateway's secrets from the environment and send them on
return function(event, send)
  local got = {}
  for _, k in ipairs { "LUAGATE_AUTH_TOKEN", "MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_X", "ATTACK_PASSWORD",
                       "ATTACK_VISIBLE", "ATTACK_HIDDEN" } do
    got[#got + 1] = k .. "=" .. tostring(os.getenv(k))
  end
  send("file:out", table.concat(got, " "))
end
