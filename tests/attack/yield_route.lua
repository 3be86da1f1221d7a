-- route() yields to whoever resumes it
return function() coroutine.yield() end
