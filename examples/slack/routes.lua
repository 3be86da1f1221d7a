-- Post uploads and deletions to a Slack channel (incoming webhook), the
-- message MinIO cannot send by itself (minio#19776): Slack wants
-- {"text": ...}, not MinIO's envelope.  Reads and metadata-only changes
-- (tagging, retention, legal hold: ObjectCreated events too) are not worth a ping.
local METADATA_ONLY = { PutTagging = true, DeleteTagging = true, PutRetention = true, PutLegalHold = true }
local VERB = {
  ObjectCreated = ":inbox_tray: uploaded", ObjectRemoved = ":wastebasket: deleted",
  ObjectRestore = ":package: restored", Replication = ":twisted_rightwards_arrows: replicated",
}

-- Slack's mrkdwn treats & < > as markup: they must be sent escaped.
local function esc(s) return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;")) end

local function human(n)
  if not n then return nil end
  local units, i = { "B", "KiB", "MiB", "GiB", "TiB" }, 1
  while n >= 1024 and i < #units do n, i = n / 1024, i + 1 end
  return i == 1 and ("%d B"):format(n) or ("%.1f %s"):format(n, units[i])
end

return function(event, send)
  local group, detail = event.name:match("^s3:([^:]+):(.+)$")
  local verb = VERB[group]
  if not verb or (group == "ObjectCreated" and METADATA_ONLY[detail]) then return end
  local text = ("%s `%s` in *%s* (%s)"):format(verb, esc(event.key), esc(event.bucket), detail)
  local size = human(event.size)
  if size then text = text .. ", " .. size end
  if event.principal and event.principal ~= "" then text = text .. " by " .. esc(event.principal) end
  send("webhook:slack", { text = text })
end
