-- AMQP headers routing: consumers bind a headers exchange on minio-bucket /
-- minio-event instead of parsing every body to find out whether it is theirs;
-- the per-bucket routing key serves topic-exchange consumers on the same feed.
return function(event, send)
  send("amqp:s3", event, {
    routing_key = "s3." .. event.bucket,
    headers = { ["minio-bucket"] = event.bucket, ["minio-event"] = event.name },
  })
end
