-- CloudEvents 1.0, structured mode: Knative/Argo/Dapr consumers accept it
-- without a MinIO-specific adapter.  id must be unique per source: the
-- sequencer (ModTime in ns) is, per object version; the request id is the
-- fallback for records without one.  source names the bucket so consumers can
-- filter on it without opening data.
-- The webhook target posts Content-Type: application/json and takes no
-- per-message headers (`luagate --help-target webhook`): a receiver must
-- accept structured CloudEvents under that type.
return function(event, send)
  local r = event.record
  local seq = r.s3.object.sequencer
  local id = (type(seq) == "string" and seq ~= "") and seq or r.responseElements["x-amz-request-id"]
  send("webhook:knative", {
    specversion = "1.0",
    id = id,
    source = "minio:s3:" .. event.bucket,
    type = event.name,
    time = event.time,
    subject = event.key,
    datacontenttype = "application/json",
    data = r,
  })
end
