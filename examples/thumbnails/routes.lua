-- Ask the thumbnailer only about new image content.  Tagging, retention and
-- legal-hold changes are ObjectCreated events too but change no pixels, so
-- they would only make the service redo work.  MinIO's suffix filter is
-- case-sensitive and takes one suffix, hence the lower-cased lookup here.
local IMAGE = { jpg = true, jpeg = true, png = true, gif = true, webp = true }
local NEW_CONTENT = {
  ["s3:ObjectCreated:Put"] = true, ["s3:ObjectCreated:Post"] = true,
  ["s3:ObjectCreated:Copy"] = true, ["s3:ObjectCreated:CompleteMultipartUpload"] = true,
}

return function(event, send)
  if not NEW_CONTENT[event.name] then return end
  local ext = event.key:match("%.([^./]+)$")
  if not ext or not IMAGE[ext:lower()] then return end
  -- a small body: the thumbnailer fetches the object itself
  send("webhook:thumbs", {
    bucket = event.bucket, key = event.key, size = event.size, content_type = event.content_type,
  })
end
