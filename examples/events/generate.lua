-- examples/events/generate.lua -- writes the project's sample MinIO webhook
-- events (minio-webhook.jsonl beside this file) with luagate.testing.event,
-- which builds MinIO's envelope byte for byte.  Deterministic: the same
-- output every run, so `make events` and a diff say whether it changed.
--
--   lua5.4 examples/events/generate.lua > examples/events/minio-webhook.jsonl
--
-- The first 24 are chosen by hand (every event-name group, keys with spaces,
-- &<>"'?=#%+, non-ASCII and emoji, deletes, metadata, internal events with
-- requestParameters null); the other 36 are drawn from a seeded generator and
-- add the extremes (empty objects, > 5 GiB multipart uploads).
local testing = require "luagate.testing"

local state = 20261121
local function rand(n) -- 1..n, a 31-bit LCG: enough to vary samples, portable
  state = (state * 1103515245 + 12345) % 2147483648
  return (state >> 16) % n + 1 -- the high bits: an LCG's low bits repeat quickly
end
local function pick(list) return list[rand(#list)] end
local function hex(n)
  local out = {}
  for i = 1, n do out[i] = ("%x"):format(rand(16) - 1) end
  return table.concat(out)
end
local function uuid()
  return ("%s-%s-4%s-%s%s-%s"):format(hex(8), hex(4), hex(3), pick { "8", "9", "a", "b" }, hex(3), hex(12))
end

local OCT, AKIA = "application/octet-stream", "AKIAIOSFODNN7EXAMPLE"
local function c(name) return "s3:ObjectCreated:" .. name end
local function r(name) return "s3:ObjectRemoved:" .. name end
local function a(name) return "s3:ObjectAccessed:" .. name end

-- name, bucket, key, size, content type, owner metadata, principal, versioned, internal
local curated = {
  { c "Put", "logs", "photo.jpg", 200436, "image/jpeg", "team-a", AKIA },
  { c "Put", "images", "photos/2026/11/a b.jpg", 26, "image/jpeg", "team-b", "minioadmin", true },
  { c "Put", "images", "docs/report final (v2).pdf", 26, "application/pdf", "team-a", "svc-ingest", true },
  { c "Put", "images", "thumbs/é-ü-中文.png", 200436, "image/png", nil, "svc-ingest" },
  { c "Put", "media-eu", "deep/nested/path/to/object.tar.gz", 200436, OCT, nil, "svc-ingest", true },
  { c "Put", "raw.data", "weird/&<>\"'?=#%+.txt", 56060, OCT, "team-a", AKIA, true },
  { c "Put", "media-eu", "logs/app.log", 6474, OCT, nil, "minioadmin" },
  { c "Put", "images", "video.mp4", 6474, "video/mp4", "team-b", "minioadmin" },
  { c "Post", "backups", "a", 56060, OCT, nil, "svc-ingest" },
  { c "Copy", "images", "dir/", 26, OCT, nil, "minioadmin" },
  { c "CompleteMultipartUpload", "images", "emoji/🚀.gif", 2586, "image/gif", nil, "minioadmin", false, false, 3 },
  { c "PutTagging", "backups", "csv/data-2026-11-21.csv", 56060, "text/csv", nil, "svc-ingest", true },
  { c "PutRetention", "raw.data", "photo.jpg", 26, "image/jpeg", nil, "minioadmin", true },
  { c "PutLegalHold", "raw.data", "photos/2026/11/a b.jpg", 10485760, "image/jpeg", nil, "svc-ingest" },
  { r "Delete", "media-eu", "docs/report final (v2).pdf", nil, nil, nil, AKIA },
  { r "Delete", "images", "thumbs/é-ü-中文.png", nil, nil, nil, "minioadmin", true },
  { r "Delete", "raw.data", "deep/nested/path/to/object.tar.gz", nil, nil, nil, "minioadmin" },
  { r "DeleteMarkerCreated", "logs", "weird/&<>\"'?=#%+.txt", nil, nil, nil, "svc-ingest", true },
  { r "NoOP", "media-eu", "logs/app.log", nil, nil, nil, AKIA, true },
  { a "Get", "raw.data", "video.mp4", 6474, "video/mp4", nil, "minioadmin", true },
  { a "Head", "raw.data", "a", 26, OCT, nil, AKIA },
  { "s3:Replication:OperationCompletedReplication", "logs", "dir/", 56060, OCT, nil, "", true, true },
  { "s3:ObjectRestore:Completed", "backups", "emoji/🚀.gif", 200436, "image/gif", nil, "", false, true },
  { "s3:ObjectTransition:Complete", "backups", "csv/data-2026-11-21.csv", 56060, "text/csv", "team-a", "", false, true },
}

local NAMES = { c "Put", c "Put", c "Put", c "Put", c "Post", c "PutRetention", c "PutLegalHold", c "PutTagging",
  r "Delete", r "Delete", r "DeleteMarkerCreated", r "DeleteAllVersions", a "Get", a "Head",
  "s3:Replication:OperationCompletedReplication", "s3:ObjectRestore:Completed", "s3:ObjectTransition:Complete" }
local BUCKETS = { "images", "logs", "backups", "media-eu", "raw.data" }
local KEYS = { "photo.jpg", "photos/2026/11/a b.jpg", "docs/report final (v2).pdf", "thumbs/é-ü-中文.png",
  "deep/nested/path/to/object.tar.gz", "logs/app.log", "video.mp4", "a", "dir/", "emoji/🚀.gif",
  "csv/data-2026-11-21.csv", "100%+sure=yes&x<y>.bin" }
local SIZES = { 26, 2586, 6474, 56060, 200436, 10485760 }
local PRINCIPALS = { "minioadmin", "svc-ingest", AKIA }
local INTERNAL = { ["s3:Replication:OperationCompletedReplication"] = true, ["s3:ObjectRestore:Completed"] = true,
  ["s3:ObjectTransition:Complete"] = true }

local function drawn(i)
  local name = pick(NAMES)
  local size = pick(SIZES)
  if i == 1 then name, size = c "Put", 0 end                          -- an empty object
  if i == 2 then name, size = c "CompleteMultipartUpload", 5368709121 end -- just past 5 GiB
  if i == 3 then name, size = c "Copy", 6597069766656 end               -- 6 TiB
  return { name, pick(BUCKETS), pick(KEYS) .. (i > 3 and tostring(rand(999)) or ""), size, OCT,
    rand(2) == 1 and pick { "team-a", "team-b" } or nil, INTERNAL[name] and "" or pick(PRINCIPALS),
    rand(2) == 1, INTERNAL[name] or false, i == 2 and 1025 or nil }
end

local function ip() return ("10.%d.%d.%d"):format(rand(256) - 1, rand(256) - 1, rand(254)) end

local millis = 0
local function time_of(ms)
  local s = ms // 1000
  return ("2026-11-21T%02d:%02d:%02d.%03dZ"):format(8 + s // 3600, s // 60 % 60, s % 60, ms % 1000)
end

local function render(spec)
  local name, bucket, key, size, ctype, owner, principal, versioned, internal, parts = table.unpack(spec)
  millis = millis + 200 + rand(4500)
  local metadata = ctype and { ["content-type"] = ctype } or nil
  if metadata and owner then metadata["X-Amz-Meta-Owner"] = owner end
  local etag = hex(32) .. (parts and ("-" .. parts) or "")
  local source = ip()
  local ev = testing.event {
    name = name, bucket = bucket, key = key, size = size, content_type = ctype, metadata = metadata,
    etag = ctype and etag or nil, version_id = versioned and uuid() or nil, time = time_of(millis),
    principal = principal, internal = internal or nil, source_ip = source, host_id = hex(64),
  }
  return ev:json()
end

for _, spec in ipairs(curated) do print(render(spec)) end
for i = 1, 36 do print(render(drawn(i))) end
