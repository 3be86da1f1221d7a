-- Every event keeps the objects table current (namespace: one row per
-- object), and every deletion is also appended to an audit table (access
-- format: one row per event, never updated), so "who deleted what, when"
-- survives the row it removed.  Lifecycle expiry counts: it removes data too.
local DELETION = {
  ["s3:ObjectRemoved:Delete"] = true, ["s3:ObjectRemoved:DeleteMarkerCreated"] = true,
  ["s3:ObjectRemoved:DeleteAllVersions"] = true, ["s3:LifecycleDelMarkerExpiration:Delete"] = true,
}

return function(event, send)
  send("postgres:objects", event)
  if DELETION[event.name] then send("postgres:audit", event) end
end
