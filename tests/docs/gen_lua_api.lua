-- tests/docs/gen_lua_api.lua -- docs/lua-api.md from the doc comments of
-- the Lua API's sources (`make docs`; tests/docs/test_lua_api.sh fails when
-- the committed file differs, or when a function the modules export at run
-- time has no entry).  Run from the checkout: lua5.4 tests/docs/gen_lua_api.lua
--
-- Doc comments:
--   Lua:  a run of lines, the first starting with "---", the rest with "--".
--   C:    a block comment opened by "/***", its lines' leading " * " dropped.
-- The first lines are the text (a blank line starts a new paragraph), then
-- tags, each running until the next tag:
--   @section NAME   starts a section (a module); the text introduces it.
--   @name NAME(ARGS)  the entry's heading; in Lua it defaults to the function
--                   defined on the next line (`function M.f(a)` in section S
--                   is S.f(a), `function GW:f(a)` is gw:f(a)).
--   @param NAME TEXT, @return TEXT, @raise TEXT  (any number of each).
-- Sections come out in the order of FILES, entries in source order.

local FILES = {
  "src/script.c", "src/json.c", "src/sandbox.c", "lua/luagate/rules.lua", "lua/luagate/default.lua",
  "lua/luagate/testing.lua", "src/lmodule.c", "src/re.c",
}

local function read(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("a")
  f:close()
  return s
end

-- The comment blocks of one file: { lines = {...}, next = the line after }.
local function lua_blocks(text)
  local lines, out = {}, {}
  for l in (text .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
  local i = 1
  while i <= #lines do
    if lines[i]:match("^%s*%-%-%-") and not lines[i]:match("^%s*%-%-%-%-") then
      local b = { lines = { (lines[i]:gsub("^%s*%-%-%-%s?", "")) } }
      i = i + 1
      while i <= #lines and lines[i]:match("^%s*%-%-") and not lines[i]:match("^%s*%-%-%-") do
        b.lines[#b.lines + 1] = (lines[i]:gsub("^%s*%-%-%s?", ""))
        i = i + 1
      end
      b.next = lines[i] or ""
      out[#out + 1] = b
    else
      i = i + 1
    end
  end
  return out
end

local function c_blocks(text)
  local out = {}
  for body in text:gmatch("/%*%*%*(.-)%*/") do
    local b = { lines = {}, next = "" }
    for l in (body .. "\n"):gmatch("(.-)\n") do
      b.lines[#b.lines + 1] = (l:gsub("^%s*%*%s?", ""):gsub("^%s", "", 1))
    end
    if b.lines[1] == "" then table.remove(b.lines, 1) end
    out[#out + 1] = b
  end
  return out
end

-- One block's text and tags.
local function parse(b)
  local e = { text = {}, params = {}, returns = {}, raises = {} }
  local last
  for _, l in ipairs(b.lines) do
    local tag, rest = l:match("^@(%w+)%s*(.*)$")
    if tag == "param" then
      local name, t = rest:match("^(%S+)%s*(.*)$")
      last = { name = name, text = t }
      e.params[#e.params + 1] = last
    elseif tag == "return" or tag == "raise" then
      last = { text = rest }
      local list = tag == "return" and e.returns or e.raises
      list[#list + 1] = last
    elseif tag == "name" or tag == "section" then
      e[tag] = rest
      last = nil
    elseif tag then
      error(("unknown tag @%s in: %s"):format(tag, b.lines[1]))
    elseif last then
      last.text = last.text .. (l == "" and "" or " " .. l)
    else
      e.text[#e.text + 1] = l
    end
  end
  return e
end

-- The heading a Lua function line gives, in section sec.
local function derive(line, sec)
  local obj, meth, args = line:match("^%s*function%s+([%w_]+):([%w_]+)%s*(%b())")
  if obj then return obj:lower() .. ":" .. meth .. args end
  local m, f
  m, f, args = line:match("^%s*function%s+([%w_]+)%.([%w_]+)%s*(%b())")
  if m then return sec .. "." .. f .. args end
  f = line:match("^%s*M%.([%w_]+)%s*=")
  if f then return sec .. "." .. f end
  return nil
end

local function paragraphs(lines)
  local out, cur = {}, {}
  for _, l in ipairs(lines) do
    if l == "" then
      if #cur > 0 then out[#out + 1] = table.concat(cur, " ") end
      cur = {}
    else
      cur[#cur + 1] = l
    end
  end
  if #cur > 0 then out[#out + 1] = table.concat(cur, " ") end
  return out
end

local sections, order = {}, {}
for _, path in ipairs(FILES) do
  local text = read(path)
  local sec = path:match("^lua/(.*)%.lua$")
  sec = sec and sec:gsub("/", ".")
  for _, b in ipairs(path:match("%.c$") and c_blocks(text) or lua_blocks(text)) do
    local e = parse(b)
    if e.section then
      sec = e.section
      if not sections[sec] then
        sections[sec] = { intro = e.text, entries = {}, file = path }
        order[#order + 1] = sec
      end
    else
      e.name = e.name or derive(b.next, sec)
      if not e.name then error(path .. ": a doc comment without @name over: " .. b.next) end
      if not sec then error(path .. ": " .. e.name .. " is in no @section") end
      if not sections[sec] then -- a Lua module's own section, without an introduction
        sections[sec] = { intro = {}, entries = {}, file = path }
        order[#order + 1] = sec
      end
      table.insert(sections[sec].entries, e)
    end
  end
end

local out = {}
local function w(s) out[#out + 1] = s end
w("# Lua API reference")
w("")
w("Generated by `make docs` (`tests/docs/gen_lua_api.lua`) from the doc comments in " ..
  "`lua/luagate/*.lua` and `src/*.c`; do not edit it by hand: the suite fails when this file and " ..
  "the sources disagree, and when a function a module exports has no entry here. " ..
  "\"Raises\" is an error thrown (misuse); I/O failures are returned as `nil, message`.")
w("")
for _, sec in ipairs(order) do
  w(("- [%s](#%s)"):format(sec, sec:lower():gsub("[^%w%- ]", ""):gsub(" ", "-")))
end
for _, sec in ipairs(order) do
  local s = sections[sec]
  w("")
  w("## " .. sec)
  for _, p in ipairs(paragraphs(s.intro)) do
    w("")
    w(p)
  end
  w("")
  w(("Source: `%s`."):format(s.file))
  for _, e in ipairs(s.entries) do
    w("")
    w(("### `%s`"):format(e.name))
    for _, p in ipairs(paragraphs(e.text)) do
      w("")
      w(p)
    end
    if #e.params + #e.returns + #e.raises > 0 then w("") end
    for _, p in ipairs(e.params) do w(("- `%s`: %s"):format(p.name, p.text)) end
    for _, r in ipairs(e.returns) do w("- Returns " .. r.text) end
    for _, r in ipairs(e.raises) do w("- Raises " .. r.text) end
  end
end
io.write(table.concat(out, "\n"), "\n")
