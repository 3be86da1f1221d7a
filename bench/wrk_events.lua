-- bench/wrk_events.lua -- wrk script: POST the lines of a JSONL file in turn.
--
--   wrk -t2 -c64 -d5s --latency -s bench/wrk_events.lua http://127.0.0.1:PORT/ -- EVENTS.jsonl
--
-- Every line is one MinIO webhook envelope, sent as one POST with
-- Content-Type application/json over wrk's keep-alive connections; each
-- thread cycles through the file from its own starting line.  The requests
-- are formatted once in init(), so wrk spends no Lua time building them.
-- done() prints one line of key=value pairs for bench/run.sh:
--   wrk requests=N duration_s=S rps=R non2xx=N errors=N p50_us=.. p90_us=.. p99_us=.. max_us=..

local requests, n, i = {}, 0, 0

function init(args)
  local path = args[1] or error("usage: wrk ... -s wrk_events.lua URL -- EVENTS.jsonl")
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    line = line:gsub("\r$", "")
    if #line > 0 then
      n = n + 1
      requests[n] = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, line)
    end
  end
  f:close()
  if n == 0 then error(path .. ": no events") end
  -- spread the threads over the file so they do not post the same line at once
  i = (start_line or 0) % n
end

local threads = 0
function setup(thread) -- runs in wrk's main Lua state before each thread's init()
  thread:set("start_line", threads * 7)
  threads = threads + 1
end

function request()
  i = i % n + 1
  return requests[i]
end

function done(summary, latency, _)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "wrk requests=%d duration_s=%.3f rps=%.0f non2xx=%d errors=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, secs, summary.requests / secs, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
