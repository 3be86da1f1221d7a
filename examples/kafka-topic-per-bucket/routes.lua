-- One Kafka topic per bucket, so each team subscribes to its own bucket and
-- retention/ACLs are set per topic.  The message key is bucket/object: Kafka
-- keeps one object's events in order on one partition.
return function(event, send)
  send("kafka:s3", event, { topic = "s3." .. event.bucket, key = event.Key })
end
