-- routes.lua -- the sidecar example's routing: objects created and removed
-- go to RabbitMQ, with a routing key "<event>.<bucket>" for topic-exchange
-- consumers and MinIO's minio-bucket / minio-event headers.  Everything
-- else (reads, ILM, replication) is dropped here, not at the consumers.
-- The target is MINIO_NOTIFY_AMQP_*_EVENTS: ids are case-sensitive, as in MinIO.
return function(event, send)
  local kind = event.name:match("^s3:(Object%a+):")
  if kind ~= "ObjectCreated" and kind ~= "ObjectRemoved" then
    return
  end
  send("amqp:EVENTS", event, {
    -- "ObjectCreated.Put.<bucket>": bind "ObjectCreated.#", "#.photos", ...
    routing_key = event.name:sub(4):gsub(":", ".") .. "." .. event.bucket,
    headers = { ["minio-bucket"] = event.bucket, ["minio-event"] = event.name },
  })
end
