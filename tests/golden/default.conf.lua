-- luagate check golden test: the built-in router with MinIO's rules
targets = {
  ["webhook:all"] = { endpoint = "http://127.0.0.1:9/hook" },
  ["redis:idx"] = { address = "127.0.0.1:9", key = "idx", format = "access", events = "put", suffix = ".jpg" },
  ["elasticsearch:docs"] = { url = "http://127.0.0.1:9", index = "docs", prefix = "docs/" },
}
