/* re.h -- luagate.re: regular expressions (PCRE2) for routing scripts.
 *
 * Lua's own patterns backtrack without bound inside one C call, where no
 * instruction hook runs: only the supervisor's script_timeout ends them.
 * luagate.re matches under a match limit, a depth limit and a heap limit,
 * so that catastrophic backtracking raises an error in the script instead,
 * and its compiled patterns and match memory are allocated through the
 * Lua state's allocator: counted against script_memory. */
#ifndef LUAGATE_RE_H
#define LUAGATE_RE_H

#include <lua.h>

/* Bounds of one match: backtracking steps, nesting depth, KiB of heap. */
#define RE_MATCH_LIMIT 1000000u
#define RE_DEPTH_LIMIT 10000u
#define RE_HEAP_LIMIT_KIB 16384u

int luaopen_luagate_re(lua_State *L);

#endif
