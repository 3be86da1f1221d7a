-- The same events feed two stores: Elasticsearch for search over object
-- metadata, Redis for a live "what exists now" index an API reads.  MinIO
-- deletes an entry only on s3:ObjectRemoved:Delete; a delete marker or a
-- delete of all versions also hides the object from listings, so the live
-- index drops those too.  Reads would only rewrite the same documents.
local GONE = {
  ["s3:ObjectRemoved:Delete"] = true, ["s3:ObjectRemoved:DeleteMarkerCreated"] = true,
  ["s3:ObjectRemoved:DeleteAllVersions"] = true, ["s3:LifecycleDelMarkerExpiration:Delete"] = true,
}

return function(event, send)
  if event.name:find("^s3:ObjectAccessed:") then return end
  send("elasticsearch:search", event)
  send("redis:live", event, { op = GONE[event.name] and "delete" or "upsert" })
end
