-- find out whether files outside the script's directory exist
return function(event, send)
  local function err(name)
    local ok, e = pcall(require, name)
    return tostring(ok) .. ":" .. tostring(e):gsub("'[^']*'", "'X'")
  end
  send("file:out", "searchpath=" .. tostring(package.searchpath) ..
    " same=" .. tostring(err("/etc/passwd") == err("nonexistent.zzz") and err("etc.passwd") == err("nonexistent.zzz")))
end
