/* script.c -- the Lua router (see script.h). */
#include <lauxlib.h>
#include <lualib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "driver.h"
#include "log.h"
#include "script.h"
#include "buckets.h"

#define EVENT_MT "luagate.event"

struct router {
    lua_State *L;                 /* first: tests/fuzz/fuzz_body.c relies on it */
    int route_ref, send_ref, traceback_ref, event_mt_ref;
    char *script;                 /* the file, or "luagate.default" */
    const struct route_target *t; /* not owned */
    size_t nt;
    size_t mem_used, mem_cap;
    unsigned long budget, used;
    /* per call */
    struct ingest *in;
    const struct event *ev;
    struct route_out *out;
    char *err;
    size_t errlen;
};

/* The userdata behind an event: valid only while route() runs. */
struct lua_event {
    struct router *r;
    struct ingest *in;
    const struct event *ev;
};

/* ---- limits ---------------------------------------------------------------- */

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct router *r = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        r->mem_used -= old;
        return NULL;
    }
    if (nsize > old && r->mem_cap && r->mem_used + (nsize - old) > r->mem_cap)
        return NULL; /* Lua raises "not enough memory" in the script */
    void *p = realloc(ptr, nsize);
    if (p)
        r->mem_used = r->mem_used - old + nsize;
    return p;
}

#define HOOK_EVERY 1000

static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct router *r;
    lua_getallocf(L, (void **)&r);
    r->used += HOOK_EVERY;
    if (r->budget && r->used > r->budget) {
        char msg[96];
        snprintf(msg, sizeof msg, "script exceeded its budget of %lu instructions for one event", r->budget);
        luaL_error(L, "%s", msg);
    }
}

/* ---- the sandbox ------------------------------------------------------------- */

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
    lua_pop(L, 1);
    preload(L, "luagate.json", luaopen_luagate_json);
    preload(L, "luagate.log", luaopen_luagate_log);
}

/* ---- shapes and messages ------------------------------------------------------- */

enum shape shape_for(const char *kind, const char *format)
{
    int access = format && !strcasecmp(format, "access");
    if (!strcmp(kind, "elasticsearch"))
        return SHAPE_RECORDS_NL;
    if (!strcmp(kind, "redis"))
        return access ? SHAPE_REDIS_ACCESS : SHAPE_RECORDS;
    if (!strcmp(kind, "mysql") || !strcmp(kind, "postgres") || !strcmp(kind, "postgresql"))
        return SHAPE_RECORDS;
    return SHAPE_ENVELOPE;
}

static void routed_free(struct routed *m)
{
    free(m->owned);
    free(m->opts);
    free(m->key);
}

void route_out_reset(struct route_out *o)
{
    for (size_t i = 0; i < o->n; i++)
        routed_free(&o->v[i]);
    o->n = 0;
}

void route_out_free(struct route_out *o)
{
    route_out_reset(o);
    free(o->v);
    o->v = NULL;
    o->cap = 0;
}

static void truncate_out(struct route_out *o, size_t n)
{
    while (o->n > n)
        routed_free(&o->v[--o->n]);
}

static struct routed *out_push(struct route_out *o)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        struct routed *v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return NULL;
        o->v = v;
        o->cap = cap;
    }
    struct routed *m = &o->v[o->n++];
    memset(m, 0, sizeof *m);
    return m;
}

static const char REC_PREFIX[] = "{\"Records\":[";
static const char REC_SUFFIX[] = "]}";
static const char REC_SUFFIX_NL[] = "]}\n";
static const char ACC_PREFIX[] = "[{\"Event\":[";

/* Frame the event's original bytes in the target's MinIO shape. */
static int shape_event(struct routed *m, const struct event *ev, enum shape shape)
{
    switch (shape) {
    case SHAPE_ENVELOPE:
        m->niov = event_envelope(ev, m->iov);
        return 0;
    case SHAPE_RECORDS:
    case SHAPE_RECORDS_NL:
        m->iov[0] = (struct iovec){ (void *)REC_PREFIX, sizeof REC_PREFIX - 1 };
        m->iov[1] = (struct iovec){ (void *)ev->record, ev->record_len };
        m->iov[2] = shape == SHAPE_RECORDS ? (struct iovec){ (void *)REC_SUFFIX, 2 }
                                           : (struct iovec){ (void *)REC_SUFFIX_NL, 3 };
        m->niov = 3;
        return 0;
    case SHAPE_REDIS_ACCESS: {
        struct buf b = { 0 };
        if (buf_puts(&b, "],\"EventTime\":") || json_quote(&b, ev->time, strlen(ev->time)) ||
            buf_puts(&b, "}]")) {
            buf_free(&b);
            return -1;
        }
        m->owned = b.p;
        m->iov[0] = (struct iovec){ (void *)ACC_PREFIX, sizeof ACC_PREFIX - 1 };
        m->iov[1] = (struct iovec){ (void *)ev->record, ev->record_len };
        m->iov[2] = (struct iovec){ b.p, b.len };
        m->niov = 3;
        return 0;
    }
    }
    return -1;
}

/* The event metatable is registered by name, under r->event_mt_ref, and
 * its address is in the state's extra space (copied to every coroutine),
 * so telling an event from other userdata is a pointer compare. */
static struct lua_event *to_event(lua_State *L, int idx)
{
    struct lua_event *e = lua_touserdata(L, idx);
    if (!e || !lua_getmetatable(L, idx))
        return NULL;
    int same = lua_topointer(L, -1) == *(const void **)lua_getextraspace(L);
    lua_pop(L, 1);
    return same ? e : NULL;
}

static struct lua_event *check_event(lua_State *L, int idx)
{
    struct lua_event *e = to_event(L, idx);
    if (!e)
        luaL_typeerror(L, idx, EVENT_MT);
    if (!e->ev)
        luaL_error(L, "event used after route() returned");
    return e;
}

/* send(target, payload, opts) */
static int l_send(lua_State *L)
{
    struct router *r = lua_touserdata(L, lua_upvalueindex(1));
    if (!r->ev)
        return luaL_error(L, "send() called outside route()");
    const char *name = luaL_checkstring(L, 1);
    /* upvalue 2 maps each target name to its index */
    lua_pushvalue(L, 1);
    int ti = lua_rawget(L, lua_upvalueindex(2)) == LUA_TNUMBER ? (int)lua_tointeger(L, -1) : -1;
    lua_pop(L, 1);
    if (ti < 0)
        return luaL_error(L, "send: unknown target '%s'", name);
    if (!lua_isnoneornil(L, 3))
        luaL_checktype(L, 3, LUA_TTABLE);
    struct routed *m = out_push(r->out);
    if (!m)
        return luaL_error(L, "out of memory");
    m->target = ti;
    m->ev = r->ev;
    m->op = r->ev->name_len == 23 && !memcmp(r->ev->name, "s3:ObjectRemoved:Delete", 23) ? OP_DELETE
                                                                                       : OP_UPSERT;
    struct buf b = { 0 };
    char err[200];
    int pt = lua_type(L, 2);
    if (pt == LUA_TNONE || pt == LUA_TNIL || (pt == LUA_TUSERDATA && to_event(L, 2))) {
        if (shape_event(m, r->ev, r->t[ti].shape))
            return luaL_error(L, "out of memory");
    } else if (pt == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, 2, &n);
        if (buf_put(&b, s, n))
            return luaL_error(L, "out of memory");
        m->owned = b.p;
        m->iov[0] = (struct iovec){ b.p, b.len };
        m->niov = 1;
    } else if (pt == LUA_TTABLE) {
        if (json_encode_lua(L, 2, &b, err, sizeof err)) {
            buf_free(&b);
            return luaL_error(L, "send: payload: %s", err);
        }
        m->owned = b.p;
        m->iov[0] = (struct iovec){ b.p, b.len };
        m->niov = 1;
    } else {
        return luaL_argerror(L, 2, "payload must be the event, a string or a table");
    }
    if (lua_istable(L, 3)) {
        if (lua_getfield(L, 3, "key") == LUA_TSTRING && !(m->key = strdup(lua_tostring(L, -1))))
            return luaL_error(L, "out of memory");
        lua_pop(L, 1);
        if (lua_getfield(L, 3, "op") == LUA_TSTRING) {
            const char *op = lua_tostring(L, -1);
            if (!strcmp(op, "delete"))
                m->op = OP_DELETE;
            else if (!strcmp(op, "upsert"))
                m->op = OP_UPSERT;
            else
                return luaL_error(L, "send: opts.op must be \"upsert\" or \"delete\", not \"%s\"", op);
        }
        lua_pop(L, 1);
        struct buf ob = { 0 };
        if (json_encode_lua(L, 3, &ob, err, sizeof err)) {
            buf_free(&ob);
            return luaL_error(L, "send: opts: %s", err);
        }
        m->opts = ob.p;
    }
    return 0;
}

/* ---- the event object --------------------------------------------------------- */

static void push_tok(lua_State *L, struct lua_event *e, int tok)
{
    if (tok < 0) {
        lua_pushnil(L);
        return;
    }
    const jsmntok_t *t = &e->in->toks[tok];
    if (json_decode_lua(L, e->in->body + t->start - (t->type == JSMN_STRING),
                        (size_t)(t->end - t->start) + (t->type == JSMN_STRING) * 2) != 1) {
        lua_pop(L, 2);
        lua_pushnil(L);
    }
}

static int push_path(lua_State *L, struct lua_event *e, const char *path)
{
    push_tok(L, e, event_token(e->in, e->ev, path));
    return 1;
}

/* What a key of the event is: the methods are functions in the same
 * table (upvalue 1 of __index), the fields small integers. */
enum field {
    F_NAME = 1, F_KEY_FULL, F_BUCKET, F_KEY, F_TIME,
    F_CACHED, /* the fields below are decoded from the record and cached */
    F_SIZE = F_CACHED, F_ETAG, F_CONTENT_TYPE, F_VERSION_ID, F_METADATA, F_PRINCIPAL,
    F_SOURCE_IP, F_REGION, F_RECORD, F_RECORDS,
};

static const struct {
    const char *key;
    enum field f;
} event_fields[] = {
    { "name", F_NAME }, { "EventName", F_NAME }, { "Key", F_KEY_FULL }, { "bucket", F_BUCKET },
    { "key", F_KEY }, { "time", F_TIME }, { "size", F_SIZE }, { "etag", F_ETAG },
    { "content_type", F_CONTENT_TYPE }, { "version_id", F_VERSION_ID }, { "metadata", F_METADATA },
    { "principal", F_PRINCIPAL }, { "source_ip", F_SOURCE_IP }, { "region", F_REGION },
    { "record", F_RECORD }, { "Records", F_RECORDS },
};

/* __index(event, k): methods and plain strings straight away; decoded
 * values are cached in the user value, a table made on the first one, so
 * that event.metadata is the same table every time. */
static int l_event_index(lua_State *L)
{
    struct lua_event *e = check_event(L, 1);
    const struct event *ev = e->ev;
    lua_settop(L, 2);
    lua_pushvalue(L, 2);
    int t = lua_rawget(L, lua_upvalueindex(1));
    if (t == LUA_TFUNCTION)
        return 1;
    if (t != LUA_TNUMBER) {
        luaL_checkstring(L, 2); /* the same error as ever for odd keys */
        lua_pushnil(L);
        return 1;
    }
    enum field f = (enum field)lua_tointeger(L, 3);
    switch (f) {
    case F_NAME:
        lua_pushlstring(L, ev->name, ev->name_len);
        return 1;
    case F_KEY_FULL:
        lua_pushlstring(L, ev->key, ev->key_len);
        return 1;
    case F_BUCKET:
        lua_pushlstring(L, ev->key, ev->bucket_len);
        return 1;
    case F_KEY:
        lua_pushlstring(L, ev->key + ev->bucket_len + 1, ev->key_len - ev->bucket_len - 1);
        return 1;
    case F_TIME:
        lua_pushlstring(L, ev->time, ev->time_len);
        return 1;
    default:
        break;
    }
    /* slot 4: the cache, if there is one yet */
    if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {
        lua_pushvalue(L, 2);
        if (lua_rawget(L, 4) != LUA_TNIL)
            return 1;
        lua_pop(L, 1);
    } else {
        lua_pop(L, 1);
        lua_createtable(L, 0, 4);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, 1, 1);
    }
    switch (f) {
    case F_SIZE: push_path(L, e, "s3.object.size"); break;
    case F_ETAG: push_path(L, e, "s3.object.eTag"); break;
    case F_CONTENT_TYPE: push_path(L, e, "s3.object.contentType"); break;
    case F_VERSION_ID: push_path(L, e, "s3.object.versionId"); break;
    case F_METADATA: push_path(L, e, "s3.object.userMetadata"); break;
    case F_PRINCIPAL: push_path(L, e, "userIdentity.principalId"); break;
    case F_SOURCE_IP: push_path(L, e, "requestParameters.sourceIPAddress"); break;
    case F_REGION: push_path(L, e, "awsRegion"); break;
    case F_RECORD: push_tok(L, e, ev->tok); break;
    case F_RECORDS:
        lua_createtable(L, 1, 0);
        push_tok(L, e, ev->tok);
        lua_rawseti(L, -2, 1);
        json_push_array_mt(L);
        lua_setmetatable(L, -2);
        break;
    default:
        lua_pushnil(L);
        return 1;
    }
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 4);
    return 1;
}

static int l_event_tojson(lua_State *L)
{
    struct lua_event *e = check_event(L, 1);
    struct iovec iov[4];
    int n = event_envelope(e->ev, iov);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < n; i++)
        luaL_addlstring(&b, iov[i].iov_base, iov[i].iov_len);
    luaL_pushresult(&b);
    return 1;
}

static int l_event_record_json(lua_State *L)
{
    struct lua_event *e = check_event(L, 1);
    lua_pushlstring(L, e->ev->record, e->ev->record_len);
    return 1;
}

static int l_event_tostring(lua_State *L)
{
    struct lua_event *e = to_event(L, 1);
    if (!e)
        luaL_typeerror(L, 1, EVENT_MT);
    if (!e->ev)
        lua_pushliteral(L, "event (expired)");
    else
        lua_pushfstring(L, "event %s %s", e->ev->name, e->ev->key);
    return 1;
}

static int event_metatable(lua_State *L)
{
    luaL_newmetatable(L, EVENT_MT);
    /* __index: upvalue 1 maps the methods to functions, the fields to numbers */
    lua_createtable(L, 0, (int)(sizeof event_fields / sizeof event_fields[0]) + 2);
    lua_pushcfunction(L, l_event_tojson);
    lua_setfield(L, -2, "json");
    lua_pushcfunction(L, l_event_record_json);
    lua_setfield(L, -2, "record_json");
    for (size_t i = 0; i < sizeof event_fields / sizeof event_fields[0]; i++) {
        lua_pushinteger(L, event_fields[i].f);
        lua_setfield(L, -2, event_fields[i].key);
    }
    lua_pushcclosure(L, l_event_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_event_tojson);
    lua_setfield(L, -2, "__tojson");
    lua_pushcfunction(L, l_event_tostring);
    lua_setfield(L, -2, "__tostring");
    *(const void **)lua_getextraspace(L) = lua_topointer(L, -1);
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* The event userdata; its user value (the cache) is made when needed. */
static void push_event(lua_State *L, struct router *r)
{
    struct lua_event *e = lua_newuserdatauv(L, sizeof *e, 1);
    e->r = r;
    e->in = r->in;
    e->ev = r->ev;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->event_mt_ref);
    lua_setmetatable(L, -2);
}

/* ---- the router ------------------------------------------------------------------- */

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    lua_pushstring(L, msg ? msg : "(error object is not a string)");
    return 1;
}

static void push_targets(lua_State *L, const struct route_target *t, size_t nt)
{
    lua_createtable(L, (int)nt, 0);
    for (size_t i = 0; i < nt; i++) {
        lua_createtable(L, 0, 6);
        lua_pushstring(L, t[i].name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, t[i].kind);
        lua_setfield(L, -2, "kind");
        lua_pushstring(L, t[i].format ? t[i].format : "");
        lua_setfield(L, -2, "format");
        lua_pushstring(L, t[i].events ? t[i].events : "");
        lua_setfield(L, -2, "events");
        lua_pushstring(L, t[i].prefix ? t[i].prefix : "");
        lua_setfield(L, -2, "prefix");
        lua_pushstring(L, t[i].suffix ? t[i].suffix : "");
        lua_setfield(L, -2, "suffix");
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, t[i].name);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

struct router *router_new(const char *script, const struct route_target *t, size_t nt,
                          const struct router_limits *lim, char *err, size_t errlen)
{
    struct router *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->t = t;
    r->nt = nt;
    r->mem_cap = lim ? lim->mem_bytes : 0;
    r->budget = lim ? lim->instructions : 0;
    r->script = strdup(script ? script : "luagate.default");
    r->L = lua_newstate(capped_alloc, r);
    if (!r->L || !r->script) {
        snprintf(err, errlen, "cannot create a Lua state: out of memory");
        router_free(r);
        return NULL;
    }
    lua_State *L = r->L;
    lua_gc(L, LUA_GCGEN, 0, 0);
    char dir[PATH_MAX] = "";
    if (script) {
        snprintf(dir, sizeof dir, "%s", script);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(dir, sizeof dir, ".");
    }
    script_open_libs(L, script ? dir : NULL);
    r->event_mt_ref = event_metatable(L);
    /* luagate.targets: what is configured, for the default router */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    push_targets(L, t, nt);
    lua_setfield(L, -2, "luagate.targets");
    /* luagate.buckets: the bucket rules, for luagate.rules (nil: none) */
    buckets_push(L, lim ? lim->buckets : NULL);
    lua_setfield(L, -2, "luagate.buckets");
    lua_pop(L, 1);
    lua_pushcfunction(L, traceback);
    int base = lua_gettop(L), status = LUA_OK, nargs = 0;
    if (script) {
        status = luaL_loadfilex(L, script, "t");
    } else {
        lua_getglobal(L, "require");
        lua_pushliteral(L, "luagate.default");
        nargs = 1;
    }
    lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
    if (status == LUA_OK)
        status = lua_pcall(L, nargs, 1, base);
    if (status != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        router_free(r);
        return NULL;
    }
    if (!lua_isfunction(L, -1)) {
        snprintf(err, errlen, "%s: the script must return a function route(event, send), not a %s",
                 r->script, luaL_typename(L, -1));
        router_free(r);
        return NULL;
    }
    r->route_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    r->traceback_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushlightuserdata(L, r);
    lua_createtable(L, 0, (int)nt); /* target name -> index, for send() */
    for (size_t i = 0; i < nt; i++) {
        lua_pushinteger(L, (lua_Integer)i);
        lua_setfield(L, -2, t[i].name);
    }
    lua_pushcclosure(L, l_send, 2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "luagate.send");
    r->send_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return r;
}

void router_free(struct router *r)
{
    if (!r)
        return;
    if (r->L)
        lua_close(r->L);
    free(r->script);
    free(r);
}

const char *router_script(const struct router *r) { return r->script; }

int router_route(struct router *r, struct ingest *in, const struct event *ev,
                 struct route_out *out, char *err, size_t errlen)
{
    lua_State *L = r->L;
    size_t mark = out->n;
    r->in = in;
    r->ev = ev;
    r->out = out;
    r->used = 0;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->traceback_ref);
    push_event(L, r); /* this slot keeps it alive until it is expired below */
    struct lua_event *e = lua_touserdata(L, -1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->route_ref);
    lua_pushvalue(L, -2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->send_ref);
    int status = lua_pcall(L, 2, 0, top + 1);
    e->ev = NULL; /* a script that kept the event gets an error, not a crash */
    if (status != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "script error");
        truncate_out(out, mark);
    }
    lua_settop(L, top);
    r->ev = NULL;
    r->in = NULL;
    return status == LUA_OK ? 0 : -1;
}
