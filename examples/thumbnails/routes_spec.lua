local testing = require "luagate.testing"
local json = require "luagate.json"
local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local samples = testing.events_from_file(os.getenv("LUAGATE_EVENTS") or dir .. "/../events/minio-webhook.jsonl")

describe("thumbnails", function()
  local gw = testing.load(dir .. "/routes.lua", { config = dir .. "/luagate.conf.lua" })
  before_each(function() gw:reset() end)

  it("sends a small JSON body for a new image", function()
    local s = gw:feed(samples[2]) -- PUT images/photos/2026/11/a b.jpg
    assert.equal(1, #s)
    assert.equal('{"bucket":"images","content_type":"image/jpeg","key":"photos/2026/11/a b.jpg","size":26}',
      s[1].payload)
  end)

  it("matches the extension case-insensitively", function()
    for _, key in ipairs { "A.JPG", "b.Jpeg", "c.png", "d.gif", "e.WEBP", "dir.png/f.webp" } do
      assert.equal(1, #gw:feed(testing.event { key = key, size = 1, content_type = "image/x" }), key)
    end
    for _, key in ipairs { "a.jpg.txt", "png", "photo.jpg/", "a.tiff", "jpg/readme" } do
      assert.equal(0, #gw:feed(testing.event { key = key, size = 1 }), key)
    end
  end)

  it("ignores metadata-only and removal events on images", function()
    assert.same({}, gw:feed(samples[13])) -- PutRetention raw.data/photo.jpg
    assert.same({}, gw:feed(samples[14])) -- PutLegalHold of a .jpg
    assert.same({}, gw:feed(samples[16])) -- Delete of a .png
    assert.same({}, gw:feed(testing.event { name = "s3:ObjectAccessed:Get", key = "a.jpg", size = 3 }))
  end)

  it("takes copies, multipart uploads and POST uploads", function()
    assert.equal(1, #gw:feed(samples[11])) -- CompleteMultipartUpload images/emoji/🚀.gif
    assert.equal(1, #gw:feed(testing.event { name = "s3:ObjectCreated:Copy", key = "x.webp", size = 9 }))
    local s = gw:feed(testing.event { name = "s3:ObjectCreated:Post", bucket = "up", key = "p.png",
                                      size = 512, content_type = "image/png" })
    assert.same({ bucket = "up", key = "p.png", size = 512, content_type = "image/png" }, json.decode(s[1].payload))
  end)

  it("picks exactly the new images among the hand-picked samples (lines 1-24)", function()
    for i = 1, 24 do gw:feed(samples[i]) end
    local keys = {}
    for _, m in ipairs(gw.sent["webhook:thumbs"]) do keys[#keys + 1] = json.decode(m.payload).key end
    assert.same({ "photo.jpg", "photos/2026/11/a b.jpg", "thumbs/é-ü-中文.png", "emoji/🚀.gif" }, keys)
  end)
end)
