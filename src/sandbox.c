/* sandbox.c -- the libraries a routing script gets, and what is taken
 * out of them or bounded: no io, no process or file functions, require
 * only from the script's directory and luagate's lua/, os.getenv only for
 * the names in script_env, string.rep and coroutine.close bounded (see
 * script.h). */
#include <lauxlib.h>
#include <lualib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "json.h"
#include "log.h"
#include "re.h"
#include "script.h"

static char lua_dir[PATH_MAX];

/* Where lua/luagate/default.lua lives: $LUAGATE_LUA_DIR, or beside the
 * executable (./lua, ../../lua for build/<kind>/luagate), or installed:
 * PREFIX/share/lua/5.4 for PREFIX/bin/luagate (make install, the package),
 * /usr/share/luagate/lua (the container image). */
static const char *find_lua_dir(void)
{
    if (*lua_dir)
        return lua_dir;
    const char *env = getenv("LUAGATE_LUA_DIR");
    char exe[PATH_MAX], probe[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    const char *cands[] = { env, "lua", NULL, NULL, NULL, "/usr/share/luagate/lua" };
    char c2[PATH_MAX + 8], c3[PATH_MAX + 16], c4[PATH_MAX + 24];
    snprintf(c2, sizeof c2, "%s/lua", exe);
    snprintf(c3, sizeof c3, "%s/../../lua", exe);
    snprintf(c4, sizeof c4, "%s/../share/lua/5.4", exe);
    cands[2] = c2;
    cands[3] = c3;
    cands[4] = c4;
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        if (!cands[i])
            continue;
        snprintf(probe, sizeof probe, "%s/luagate/default.lua", cands[i]);
        if (!access(probe, R_OK) && realpath(cands[i], lua_dir))
            return lua_dir;
    }
    snprintf(lua_dir, sizeof lua_dir, "lua");
    return lua_dir;
}

static char log_source[128] = "script";

void script_set_source(const char *name)
{
    const char *base = strrchr(name, '/');
    snprintf(log_source, sizeof log_source, "script %s", base ? base + 1 : name);
}

static int l_log(lua_State *L, enum log_level lvl)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
        lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
        luaL_addvalue(&b);
    }
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, ' ');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    log_msg(lvl, log_source, "%s", lua_tostring(L, -1));
    return 0;
}

/*** @section luagate.log
 * The gateway's log from a script: one line per call, at the given level,
 * with the source `script NAME.lua` and the caller's `file:line:`, the
 * arguments converted by tostring and joined by spaces (control characters
 * escaped in the text log).  In luagate.testing the lines are recorded in
 * `gw.logs` instead.
 */

/*** @name luagate.log.debug(...)
 * Log at level debug.
 * @param ... any values
 */

/*** @name luagate.log.info(...)
 * Log at level info.
 * @param ... any values
 */

/*** @name luagate.log.warn(...)
 * Log at level warn.
 * @param ... any values
 */

/*** @name luagate.log.error(...)
 * Log at level error (the script goes on: raise with error() to fail the
 * event).
 * @param ... any values
 */
static int l_log_debug(lua_State *L) { return l_log(L, LOG_DEBUG); }
static int l_log_info(lua_State *L) { return l_log(L, LOG_INFO); }
static int l_log_warn(lua_State *L) { return l_log(L, LOG_WARN); }
static int l_log_error(lua_State *L) { return l_log(L, LOG_ERROR); }

int luaopen_luagate_log(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "debug", l_log_debug }, { "info", l_log_info }, { "warn", l_log_warn },
        { "error", l_log_error }, { NULL, NULL },
    };
    luaL_newlib(L, fns);
    return 1;
}

/* load() that refuses binary chunks: the original load is upvalue 1. */
static int l_load_text(lua_State *L)
{
    if (strcmp(luaL_optstring(L, 3, "t"), "t"))
        return luaL_error(L, "load: only text chunks are allowed");
    int n = lua_gettop(L) >= 4 ? 4 : 3; /* an explicit env, even nil, stays */
    lua_settop(L, n);
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* The script's own modules, by file, in the registry list that
 * router_files() reads: the script watch reloads when one changes. */
static void note_module_file(lua_State *L, const char *path)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, SCRIPT_MODULE_FILES) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, SCRIPT_MODULE_FILES);
    }
    lua_pushstring(L, path);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
}

/* Searcher for require: Lua files under the luagate directory and the
 * script's own directory only; no C modules, no package.path. */
static int l_searcher(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    char rel[256], path[PATH_MAX + 300];
    if (strlen(name) >= sizeof rel - 8 || strstr(name, ".."))
        return lua_pushfstring(L, "\n\tmodule name '%s' not allowed", name), 1;
    snprintf(rel, sizeof rel, "%s", name);
    for (char *p = rel; *p; p++)
        if (*p == '.')
            *p = '/';
    for (int i = 1; i <= 2; i++) {
        const char *dir = lua_tostring(L, lua_upvalueindex(i));
        if (!dir || !*dir)
            continue;
        snprintf(path, sizeof path, "%s/%s.lua", dir, rel);
        if (access(path, R_OK))
            continue;
        if (luaL_loadfilex(L, path, "t") != LUA_OK)
            return lua_error(L);
        if (i == 2)
            note_module_file(L, path);
        lua_pushstring(L, path);
        return 2;
    }
    return lua_pushfstring(L, "\n\tno file '%s.lua' in the luagate or script directory", rel), 1;
}

static void open_lib(lua_State *L, const char *name, lua_CFunction f)
{
    luaL_requiref(L, name, f, 1);
    lua_pop(L, 1);
}

static void preload(lua_State *L, const char *name, lua_CFunction f)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, f);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}


/* string.rep bounded: an empty string repeated 2^62 times is a loop of
 * 2^62 steps in one C call (no instruction hook sees it), and a result
 * larger than the state may still allocate is refused before the work. */
static int l_rep(lua_State *L)
{
    size_t l, lsep;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || l + lsep == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    size_t room = script_mem_room(L);
    if (l + lsep < l || (lua_Unsigned)n > room / (l + lsep))
        return script_mem_refused(L), luaL_error(L, "not enough memory: string.rep of %I copies of %d bytes is more "
                             "than script_memory has room for", n, (int)(l + lsep > INT_MAX ? INT_MAX : l + lsep));
    script_charge(L, (size_t)n * (l + lsep) / 1024); /* lightly: only reps of many MiB need stopping */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* coroutine.close nested inside <close> handlers recurses in C without
 * Lua 5.4.4 counting it (a bug fixed in 5.4.5: lua_closethread), and
 * overflows the C stack: count the nesting here. */
#define CLOSE_DEPTH_MAX 32
static _Thread_local int close_depth;

static int l_co_close(lua_State *L)
{
    if (close_depth >= CLOSE_DEPTH_MAX)
        return luaL_error(L, "coroutine.close: nested deeper than %d (inside <close> handlers)",
                          CLOSE_DEPTH_MAX);
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    close_depth++;
    int st = lua_pcall(L, n, LUA_MULTRET, 0);
    close_depth--;
    return st == LUA_OK ? lua_gettop(L) : lua_error(L);
}

static void wrap_field(lua_State *L, const char *lib, const char *name, lua_CFunction f)
{
    lua_getglobal(L, lib);
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

/* Names whose value is a secret of the configuration (or could be):
 * never readable by a script, whatever script_env says. */
int script_env_secret(const char *name)
{
    static const char *const prefixes[] = { "MINIO_NOTIFY_", "LUAGATE_NOTIFY_", "LUAGATE_AUTH", NULL };
    static const char *const words[] = { "TOKEN", "PASSWORD", "PASSWD", "SECRET", "KEY", "DSN",
                                         "CREDENTIAL", "AUTH", NULL };
    for (int i = 0; prefixes[i]; i++)
        if (!strncasecmp(name, prefixes[i], strlen(prefixes[i])))
            return 1;
    for (int i = 0; words[i]; i++)
        if (strcasestr(name, words[i]))
            return 1;
    return 0;
}

/* os.getenv(name): the value only for a name of the allow-list (upvalue
 * 1, name -> true), nil for every other, as for an unset variable. */
static int l_getenv(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    lua_settop(L, 1);
    const char *v = NULL;
    if (lua_rawget(L, lua_upvalueindex(1)) == LUA_TBOOLEAN && !script_env_secret(name))
        v = getenv(name);
    if (v)
        lua_pushstring(L, v);
    else
        lua_pushnil(L);
    return 1;
}

void script_sandbox_env(lua_State *L, const char *allow)
{
    lua_getglobal(L, "os");
    lua_newtable(L);
    for (const char *p = allow ? allow : ""; *p;) {
        size_t n = strcspn(p, ", \t");
        if (n) {
            lua_pushlstring(L, p, n);
            lua_pushboolean(L, 1);
            lua_rawset(L, -3);
        }
        p += n + (p[n] != 0);
    }
    lua_pushcclosure(L, l_getenv, 1);
    lua_setfield(L, -2, "getenv");
    lua_pop(L, 1);
}

void script_open_libs(lua_State *L, const char *script_dir)
{
    open_lib(L, LUA_GNAME, luaopen_base);
    open_lib(L, LUA_LOADLIBNAME, luaopen_package);
    open_lib(L, LUA_COLIBNAME, luaopen_coroutine);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    open_lib(L, LUA_UTF8LIBNAME, luaopen_utf8);
    open_lib(L, LUA_OSLIBNAME, luaopen_os);
    /* os: keep the clock and the environment, drop what touches processes/files */
    lua_getglobal(L, "os");
    static const char *os_drop[] = { "execute", "exit", "remove", "rename", "tmpname",
                                     "setlocale", NULL };
    for (int i = 0; os_drop[i]; i++) {
        lua_pushnil(L);
        lua_setfield(L, -2, os_drop[i]);
    }
    lua_pop(L, 1);
    static const char *g_drop[] = { "dofile", "loadfile", NULL };
    for (int i = 0; g_drop[i]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, g_drop[i]);
    }
    lua_getglobal(L, "load");
    lua_pushcclosure(L, l_load_text, 1);
    lua_setglobal(L, "load");
    /* require: our searcher only */
    lua_getglobal(L, "package");
    lua_createtable(L, 2, 0);
    lua_getfield(L, -2, "searchers");
    lua_rawgeti(L, -1, 1); /* the preload searcher */
    lua_rawseti(L, -3, 1);
    lua_pop(L, 1);
    lua_pushstring(L, find_lua_dir());
    lua_pushstring(L, script_dir ? script_dir : "");
    lua_pushcclosure(L, l_searcher, 2);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, "searchers");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "path");
    lua_pushnil(L);
    lua_setfield(L, -2, "loadlib");
    lua_pushnil(L); /* it would tell whether any file exists */
    lua_setfield(L, -2, "searchpath");
    lua_pop(L, 1);
    wrap_field(L, LUA_STRLIBNAME, "rep", l_rep);
    wrap_field(L, LUA_COLIBNAME, "close", l_co_close);
    preload(L, "luagate.json", luaopen_luagate_json);
    preload(L, "luagate.log", luaopen_luagate_log);
    preload(L, "luagate.re", luaopen_luagate_re);
}
