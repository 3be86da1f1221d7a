-- Shared helpers for the busted specs in tests/spec/.  Not a spec itself
-- (busted only picks up *_spec.lua); load it from a spec with
--   local h = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/helpers.lua")
-- Nothing here hard-codes a build path: child processes get the
-- package.path / package.cpath of the running busted.
local H = {}

H.here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
H.root = H.here .. "/../.."

--- Quote s for /bin/sh.
function H.shq(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- A fresh empty directory under the system temp dir (os.tmpname based).
function H.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir -p " .. H.shq(p)), "cannot create " .. p)
  return p
end

--- Remove a directory made by tmpdir (refuses anything outside /tmp).
function H.rmdir(p)
  if p and p:match("^/tmp/") and not p:find("%.%.") then os.execute("rm -rf " .. H.shq(p)) end
end

--- The MinIO webhook sample events (examples/events/minio-webhook.jsonl
-- or $LUAGATE_EVENTS), decoded with luagate.json.  Each item:
-- { name = EventName, key = object name (Key minus "bucket/"), bucket, Key, line }.
function H.events_file()
  return os.getenv("LUAGATE_EVENTS") or (H.root .. "/examples/events/minio-webhook.jsonl")
end

function H.sample_events()
  local json = require "luagate.json"
  local file = H.events_file()
  local f = io.open(file, "r")
  assert(f, "sample events not found: " .. file .. " (set LUAGATE_EVENTS)")
  local out = {}
  for line in f:lines() do
    if line:find("%S") then
      local env = assert(json.decode(line))
      local bucket = env.Records[1].s3.bucket.name
      local prefix = bucket .. "/"
      assert(env.Key:sub(1, #prefix) == prefix, "Key does not start with the bucket: " .. env.Key)
      out[#out + 1] = { name = env.EventName, key = env.Key:sub(#prefix + 1), bucket = bucket,
        Key = env.Key, line = line }
    end
  end
  f:close()
  return out
end

local interp
local function interpreter()
  if interp then return interp end
  for _, cand in ipairs { "lua5.4", "lua" } do
    local p = io.popen("command -v " .. cand .. " 2>/dev/null")
    local path = p:read("l")
    p:close()
    if path and path ~= "" then interp = path; return path end
  end
  error("no lua interpreter found for a child process")
end

--- Run Lua code in a child interpreter with this process's package paths,
-- so a crash (segfault, hang, abort) in a C module fails one test instead
-- of taking the whole busted run down.  Returns output (stdout+stderr),
-- exit code (0 = clean exit, 124 = timeout, >128 = killed by a signal).
function H.run_lua(code, timeout)
  local file = os.tmpname()
  local f = assert(io.open(file, "w"))
  f:write(code)
  f:close()
  local cmd = ("LUA_PATH=%s LUA_CPATH=%s timeout %d %s %s 2>&1"):format(H.shq(package.path),
    H.shq(package.cpath), timeout or 20, interpreter(), H.shq(file))
  local p = io.popen(cmd)
  local out = p:read("a")
  local _, how, code_ = p:close()
  os.remove(file)
  if how == "signal" then code_ = 128 + code_ end
  return out, code_
end

--- Set of the keys of a table, as a sorted list (for readable diffs).
function H.keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out)
  return out
end

--- A list as a set.
function H.set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

function H.starts(s, p) return s:sub(1, #p) == p end
function H.ends(s, x) return x == "" or s:sub(-#x) == x end

return H
