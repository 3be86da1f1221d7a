-- Catastrophic backtracking on a key the client chose: ^(a+)+$ against
-- forty a's and a '!' takes 2^40 steps.  With Lua's own pattern
-- (string.find(s, ("a*"):rep(25) .. "b")) it spins inside one C call where
-- no instruction hook runs, and only the supervisor's script_timeout ends it
-- by killing the worker (tests/integration/test_supervisor.sh, poison-spin).
-- luagate.re stops at its match limit, within milliseconds, and raises
-- "luagate.re: match limit exceeded": the event is dead-lettered, the worker
-- goes on.
local re = require "luagate.re"
local evil = re.compile("^(a+)+$")
return function(event)
  return evil:match(("a"):rep(40) .. "!" .. event.key)
end
