-- Filters MinIO's rules cannot express: a rule has one prefix and one
-- suffix (mc#2346), and no character classes (minio#2871).  Here one target
-- takes several suffixes, case-insensitively, and another a date-partitioned
-- layout matched with a Lua pattern.
local DOCS = { ".pdf", ".docx", ".xlsx", ".pptx", ".odt" }

local function has_suffix(key, list)
  key = key:lower()
  for _, s in ipairs(list) do
    if key:sub(-#s) == s then return true end
  end
  return false
end

return function(event, send)
  if not event.name:find("^s3:ObjectCreated:") then return end
  if has_suffix(event.key, DOCS) then send("webhook:docs", event) end
  -- <anything>/data-YYYY-MM-DD.csv: one subject per day for the loader
  local day = event.key:match("data%-(%d%d%d%d%-%d%d%-%d%d)%.csv$")
  if day then send("nats:datasets", event, { subject = "datasets." .. event.bucket .. "." .. day }) end
end
