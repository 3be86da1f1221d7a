/* sendopts.c -- the options of send(), checked against the kind's table. */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include "sendopts.h"

const struct send_opt sendopts_common[] = {
    { "key", SOPT_STRING, 0, 0, "the event's key for namespace formats and message keys (default bucket/object)" },
    { "op", SOPT_STRING, 0, 0, "\"upsert\" or \"delete\": what a namespace format does (default from the event name)" },
    { 0 },
};

void sendopts_describe(const struct send_opt *o, char *out, size_t len)
{
    switch (o->type) {
    case SOPT_STRING:
        if (o->max)
            snprintf(out, len, "a string of %lld to %lld bytes", o->min, o->max);
        else
            snprintf(out, len, "a string");
        return;
    case SOPT_INTEGER:
        snprintf(out, len, "an integer in %lld..%lld", o->min, o->max);
        return;
    case SOPT_BOOLEAN:
        snprintf(out, len, "a boolean");
        return;
    case SOPT_HEADERS:
        snprintf(out, len, "a table of string values by names of %lld to %lld bytes", o->min, o->max);
        return;
    }
    snprintf(out, len, "?");
}

static const struct send_opt *find(const struct send_opt *t, const char *name)
{
    for (; t && t->name; t++)
        if (!strcmp(t->name, name))
            return t;
    return NULL;
}

/* "key, op, topic, qos" */
static void names_of(const struct send_opt *own, char *out, size_t len)
{
    size_t n = 0;
    out[0] = 0;
    const struct send_opt *tabs[2] = { sendopts_common, own };
    for (int i = 0; i < 2; i++)
        for (const struct send_opt *o = tabs[i]; o && o->name && n < len; o++)
            n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", o->name);
}

static int len_ok(const struct send_opt *o, size_t n)
{
    return (long long)n >= o->min && (!o->max || (long long)n <= o->max);
}

/* The headers table: string names of the allowed lengths to strings. */
static int check_headers(lua_State *L, int idx, const struct send_opt *o, char *err, size_t errlen)
{
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        size_t n = 0;
        int named = lua_type(L, -2) == LUA_TSTRING;
        if (named)
            lua_tolstring(L, -2, &n);
        if (!named || !len_ok(o, n) || lua_type(L, -1) != LUA_TSTRING) {
            char want[96], key[96];
            sendopts_describe(o, want, sizeof want);
            if (named)
                snprintf(key, sizeof key, "'%.60s' (%zu bytes)", lua_tostring(L, -2), n);
            else
                snprintf(key, sizeof key, "of type %s", luaL_typename(L, -2));
            snprintf(err, errlen, "option '%s' must be %s: its key %s holds a %s", o->name, want, key,
                     luaL_typename(L, -1));
            lua_pop(L, 2);
            return -1;
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* The value on top of the stack against o; -1 with err. */
static int check_value(lua_State *L, const struct send_opt *o, char *err, size_t errlen)
{
    char want[96];
    sendopts_describe(o, want, sizeof want);
    int t = lua_type(L, -1);
    int isnum = 0;
    lua_Integer v = 0;
    size_t n = 0;
    switch (o->type) {
    case SOPT_STRING:
        if (t == LUA_TSTRING && (lua_tolstring(L, -1, &n), len_ok(o, n)))
            return 0;
        if (t == LUA_TSTRING)
            return snprintf(err, errlen, "option '%s' must be %s, not %zu bytes", o->name, want, n), -1;
        break;
    case SOPT_INTEGER:
        v = lua_tointegerx(L, -1, &isnum);
        if (t == LUA_TNUMBER && isnum && v >= o->min && v <= o->max)
            return 0;
        if (t == LUA_TNUMBER)
            return snprintf(err, errlen, "option '%s' must be %s, not %s", o->name, want,
                            lua_tostring(L, -1)), -1;
        break;
    case SOPT_BOOLEAN:
        if (t == LUA_TBOOLEAN)
            return 0;
        break;
    case SOPT_HEADERS:
        if (t == LUA_TTABLE)
            return check_headers(L, lua_gettop(L), o, err, errlen);
        break;
    }
    snprintf(err, errlen, "option '%s' must be %s, not a %s", o->name, want, luaL_typename(L, -1));
    return -1;
}

int sendopts_check(lua_State *L, int idx, const char *kind, char *err, size_t errlen)
{
    const struct kind_info *k = driver_kind(kind);
    if (!k || !k->drv)
        return 0;
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 6, "send options");
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const struct send_opt *o = NULL;
        if (lua_type(L, -2) == LUA_TSTRING) {
            const char *name = lua_tostring(L, -2);
            if (!(o = find(sendopts_common, name)))
                o = find(k->drv->send_opts, name);
        }
        if (!o) {
            char names[256];
            names_of(k->drv->send_opts, names, sizeof names);
            if (lua_type(L, -2) == LUA_TSTRING)
                snprintf(err, errlen, "unknown option '%.60s' for a %s target (it takes %s)",
                         lua_tostring(L, -2), kind, names);
            else
                snprintf(err, errlen, "options are named: a %s key is no option of a %s target (it takes %s)",
                         luaL_typename(L, -2), kind, names);
            lua_pop(L, 2);
            return -1;
        }
        if (check_value(L, o, err, errlen)) {
            lua_pop(L, 2);
            return -1;
        }
        lua_pop(L, 1);
    }
    return 0;
}
