/* re.c -- luagate.re: regular expressions (PCRE2) for routing scripts (re.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <lauxlib.h>
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "re.h"

#define RE_MT "luagate.re"
#define HDR sizeof(max_align_t) /* each block keeps its size in front, for the Lua allocator */

struct re {
    pcre2_general_context *gctx;
    pcre2_code *code;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    lua_State *main; /* the state's main thread: its allocator, looked up at each call
                        (script.c moves a state to another router, with another ud) */
    uint32_t ncap;
};

/* PCRE2 allocates through the Lua state's allocator: under script_memory. */
static void *re_malloc(PCRE2_SIZE n, void *data)
{
    struct re *re = data;
    void *ud;
    lua_Alloc f = lua_getallocf(re->main, &ud);
    if (n > SIZE_MAX - HDR)
        return NULL;
    char *p = f(ud, NULL, 0, n + HDR);
    if (!p)
        return NULL;
    *(size_t *)p = n + HDR;
    return p + HDR;
}

static void re_free(void *ptr, void *data)
{
    struct re *re = data;
    if (!ptr)
        return;
    void *ud;
    lua_Alloc f = lua_getallocf(re->main, &ud);
    char *p = (char *)ptr - HDR;
    f(ud, p, *(size_t *)p, 0);
}

static int re_gc(lua_State *L)
{
    struct re *re = luaL_checkudata(L, 1, RE_MT);
    pcre2_match_data_free(re->md);
    pcre2_match_context_free(re->mctx);
    pcre2_code_free(re->code);
    pcre2_general_context_free(re->gctx);
    memset(re, 0, sizeof *re);
    return 0;
}

static uint32_t compile_flags(lua_State *L, const char *flags)
{
    uint32_t o = 0;
    for (const char *f = flags; *f; f++)
        switch (*f) {
        case 'i': o |= PCRE2_CASELESS; break;
        case 'm': o |= PCRE2_MULTILINE; break;
        case 's': o |= PCRE2_DOTALL; break;
        case 'x': o |= PCRE2_EXTENDED; break;
        case 'u': o |= PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF; break;
        default:
            luaL_error(L, "luagate.re: unknown flag '%c' (flags: i m s x u)", *f);
        }
    return o;
}

/* Raise the error of a failed pcre2_match (not "no match"). */
static int match_error(lua_State *L, int rc)
{
    if (rc == PCRE2_ERROR_MATCHLIMIT)
        return luaL_error(L, "luagate.re: match limit exceeded");
    if (rc == PCRE2_ERROR_DEPTHLIMIT)
        return luaL_error(L, "luagate.re: depth limit exceeded");
    if (rc == PCRE2_ERROR_HEAPLIMIT)
        return luaL_error(L, "luagate.re: heap limit exceeded");
    if (rc == PCRE2_ERROR_NOMEMORY)
        return luaL_error(L, "luagate.re: not enough memory (script_memory)");
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(rc, msg, sizeof msg);
    return luaL_error(L, "luagate.re: %s", (const char *)msg);
}

/*** @section luagate.re
 * `require "luagate.re"`: regular expressions (PCRE2, Perl syntax) for
 * routing scripts.  Lua's own patterns (string.find, string.match) can
 * backtrack for hours inside one C call, where the `script_instructions`
 * budget is never looked at: only the supervisor's `script_timeout` ends
 * such an event (killing the worker).  A match of luagate.re stops after
 * 1,000,000 backtracking steps, a nesting depth of 10,000 or 16 MiB of
 * backtracking memory and raises an error in the script ("luagate.re: match
 * limit exceeded"): the event goes to the dead-letter queue `_script` like
 * any script error, and the worker goes on.  Compiled patterns and the
 * memory of a match count against `script_memory`.  Compile at the top
 * level, once: `local dated = re.compile("^logs/(\\d{4})-(\\d\\d)/")`, then
 * `local y, m = dated:match(event.key)` in route().
 */

/*** @name luagate.re.compile(pattern, flags)
 * Compile a pattern once (at the script's top level, not per event).
 * @param pattern a PCRE2 pattern (Perl syntax; no Lua % escapes)
 * @param flags nil or a string of: `i` caseless, `m` multiline (^ $ at
 * newlines), `s` dot matches newline, `x` extended (blanks and # comments
 * ignored), `u` UTF-8 and Unicode properties (invalid UTF-8 in a subject
 * never matches, rather than raising)
 * @return a compiled pattern, with the methods below
 * @raise "luagate.re: REASON at offset N of the pattern" for a bad
 * pattern, "luagate.re: unknown flag ..." for a bad flag
 */
static int re_compile(lua_State *L)
{
    size_t plen;
    const char *pat = luaL_checklstring(L, 1, &plen);
    uint32_t opts = compile_flags(L, luaL_optstring(L, 2, ""));
    struct re *re = lua_newuserdatauv(L, sizeof *re, 0);
    memset(re, 0, sizeof *re);
    luaL_setmetatable(L, RE_MT); /* from here __gc frees what is built */
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    re->main = lua_tothread(L, -1);
    lua_pop(L, 1);
    pcre2_compile_context *cctx = NULL;
    if (!(re->gctx = pcre2_general_context_create(re_malloc, re_free, re)) ||
        !(cctx = pcre2_compile_context_create(re->gctx)))
        return luaL_error(L, "luagate.re: not enough memory (script_memory)");
    int ec;
    PCRE2_SIZE eo;
    re->code = pcre2_compile((PCRE2_SPTR)pat, plen, opts, &ec, &eo, cctx);
    pcre2_compile_context_free(cctx);
    if (!re->code && ec == PCRE2_ERROR_HEAP_FAILED)
        return luaL_error(L, "luagate.re: not enough memory (script_memory)");
    if (!re->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return luaL_error(L, "luagate.re: %s at offset %d of the pattern", (const char *)msg, (int)eo);
    }
    if (!(re->md = pcre2_match_data_create_from_pattern(re->code, re->gctx)) ||
        !(re->mctx = pcre2_match_context_create(re->gctx)))
        return luaL_error(L, "luagate.re: not enough memory (script_memory)");
    pcre2_set_match_limit(re->mctx, RE_MATCH_LIMIT);
    pcre2_set_depth_limit(re->mctx, RE_DEPTH_LIMIT);
    pcre2_set_heap_limit(re->mctx, RE_HEAP_LIMIT_KIB);
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &re->ncap);
    return 1;
}

/* Match at byte offset start with options o: 1 matched, 0 not; raises on errors. */
static int run(lua_State *L, struct re *re, const char *s, size_t len, size_t start, uint32_t o)
{
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, start, o, re->md, re->mctx);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0)
        return match_error(L, rc);
    return 1;
}

/* Push the captures of the last match (the whole match when the pattern
 * has none and whole is set); an unset group is false. */
static int push_captures(lua_State *L, struct re *re, const char *s, int whole)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->md);
    if (re->ncap == 0 && whole) {
        lua_pushlstring(L, s + ov[0], ov[1] > ov[0] ? ov[1] - ov[0] : 0);
        return 1;
    }
    luaL_checkstack(L, (int)re->ncap, "luagate.re: too many captures");
    for (uint32_t i = 1; i <= re->ncap; i++) {
        if (ov[2 * i] == PCRE2_UNSET)
            lua_pushboolean(L, 0);
        else
            lua_pushlstring(L, s + ov[2 * i], ov[2 * i + 1] > ov[2 * i] ? ov[2 * i + 1] - ov[2 * i] : 0);
    }
    return (int)re->ncap;
}

/* Lua's init: 1-based, negative from the end; -1 when past the end + 1. */
static long long start_of(lua_State *L, int arg, size_t len)
{
    lua_Integer init = luaL_optinteger(L, arg, 1);
    if (init < 0)
        init = (lua_Integer)len + init + 1;
    if (init < 1)
        init = 1;
    return init > (lua_Integer)len + 1 ? -1 : (long long)init - 1;
}

/*** @name re:match(s, init)
 * Search s like string.match.
 * @param s the subject
 * @param init nil or where to start (1-based; negative from the end)
 * @return the captures (an unset group is false), or the whole match when
 * the pattern has no groups; nil when it does not match
 * @raise "luagate.re: match limit exceeded" (or depth, heap limit) when
 * the match backtracks too much
 */
static int re_match(lua_State *L)
{
    struct re *re = luaL_checkudata(L, 1, RE_MT);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    long long start = start_of(L, 3, len);
    if (start < 0 || !run(L, re, s, len, (size_t)start, 0))
        return lua_pushnil(L), 1;
    return push_captures(L, re, s, 1);
}

/*** @name re:find(s, init)
 * Search s like string.find.
 * @param s the subject
 * @param init nil or where to start (1-based; negative from the end)
 * @return the start and end of the match (1-based, inclusive) and the
 * captures; nil when it does not match
 * @raise as re:match
 */
static int re_find(lua_State *L)
{
    struct re *re = luaL_checkudata(L, 1, RE_MT);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    long long start = start_of(L, 3, len);
    if (start < 0 || !run(L, re, s, len, (size_t)start, 0))
        return lua_pushnil(L), 1;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->md);
    lua_pushinteger(L, (lua_Integer)ov[0] + 1);
    lua_pushinteger(L, (lua_Integer)ov[1]);
    return 2 + push_captures(L, re, s, 0);
}

/* The iterator of gmatch: upvalues pattern, subject, next offset, and
 * whether the last match was empty (then the next may not be empty there). */
static int gmatch_next(lua_State *L)
{
    struct re *re = luaL_checkudata(L, lua_upvalueindex(1), RE_MT);
    size_t len;
    const char *s = lua_tolstring(L, lua_upvalueindex(2), &len);
    size_t pos = (size_t)lua_tointeger(L, lua_upvalueindex(3));
    int empty = lua_toboolean(L, lua_upvalueindex(4));
    while (pos <= len) {
        if (run(L, re, s, len, pos, empty ? PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED : 0)) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->md);
            lua_pushinteger(L, (lua_Integer)ov[1]);
            lua_replace(L, lua_upvalueindex(3));
            lua_pushboolean(L, ov[0] == ov[1]);
            lua_replace(L, lua_upvalueindex(4));
            return push_captures(L, re, s, 1);
        }
        if (!empty)
            break;
        empty = 0;
        pos++; /* past the empty match: one byte, or one UTF-8 character */
        while (pos < len && ((unsigned char)s[pos] & 0xC0) == 0x80)
            pos++;
    }
    lua_pushinteger(L, (lua_Integer)len + 1);
    lua_replace(L, lua_upvalueindex(3));
    return 0;
}

/*** @name re:gmatch(s)
 * Iterate over the matches in s like string.gmatch:
 * `for y, m in dated:gmatch(text) do ... end`.
 * @param s the subject
 * @return an iterator giving each match's captures (or the whole match)
 * @raise as re:match, from the iterator
 */
static int re_gmatch(lua_State *L)
{
    luaL_checkudata(L, 1, RE_MT);
    luaL_checkstring(L, 2);
    lua_settop(L, 2);
    lua_pushinteger(L, 0);
    lua_pushboolean(L, 0);
    lua_pushcclosure(L, gmatch_next, 4);
    return 1;
}

static int re_tostring(lua_State *L)
{
    luaL_checkudata(L, 1, RE_MT);
    lua_pushliteral(L, "luagate.re pattern");
    return 1;
}

int luaopen_luagate_re(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "match", re_match }, { "find", re_find }, { "gmatch", re_gmatch }, { NULL, NULL },
    };
    static const luaL_Reg meta[] = { { "__gc", re_gc }, { "__tostring", re_tostring }, { NULL, NULL } };
    if (luaL_newmetatable(L, RE_MT)) {
        luaL_setfuncs(L, meta, 0);
        lua_pushliteral(L, RE_MT); /* getmetatable() gives this, never the __gc */
        lua_setfield(L, -2, "__metatable");
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, re_compile);
    lua_setfield(L, -2, "compile");
    return 1;
}
