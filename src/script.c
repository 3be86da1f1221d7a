/* script.c -- the Lua router (see script.h). */
#include <lauxlib.h>
#include <lualib.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "driver.h"
#include "log.h"
#include "script.h"
#include "buckets.h"
#include "sendopts.h"

#include "queue_int.h" /* REC_MAX: a message the journal cannot hold is refused at send() */

#define EVENT_MT "luagate.event"

struct router {
    lua_State *L;                 /* first: tests/fuzz/fuzz_body.c relies on it */
    int route_ref, send_ref, event_mt_ref;
    int co_ref;                   /* the thread route() runs in, reused while it ends well */
    int ev_ref;                   /* registry slot that keeps the event alive until it is expired */
    lua_State *co;                /* the thread being resumed: the hook yields only that one */
    char *script;                 /* the file, or "luagate.default" */
    const struct route_target *t; /* not owned */
    size_t nt;
    struct router_limits lim;
    char *env_allow;              /* lim.env_allow, owned */
    size_t mem_used, mem_cap;
    int hit_cap;                  /* an allocation was refused: rebuild before the next event */
    unsigned long budget, used;
    int over;                     /* the budget ran out in this call */
    /* per call */
    struct event_batch *in;
    const struct event *ev;
    struct lua_event *cur;        /* the event userdata, expired after the call */
    struct route_out *out;
    size_t out_bytes;             /* what this event's messages hold outside the state */
};

/* The userdata behind an event: valid only while route() runs. */
struct lua_event {
    struct router *r;
    struct event_batch *in;
    const struct event *ev;
};

/* ---- limits ---------------------------------------------------------------- */

/* Every byte a script causes counts: the state's own allocations here,
 * and the messages it sent (out_bytes), which live outside the state
 * until their event is queued. */
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct router *r = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        r->mem_used -= old;
        return NULL;
    }
    if (nsize > old && r->mem_cap && r->mem_used + r->out_bytes + (nsize - old) > r->mem_cap) {
        r->hit_cap = 1;
        /* Lua collects the whole state before each retry: a script that
         * keeps failing allocations pays for those collections */
        r->used += r->mem_used / 64;
        return NULL; /* Lua raises "not enough memory" in the script */
    }
    void *p = realloc(ptr, nsize);
    if (p)
        r->mem_used = r->mem_used - old + nsize;
    return p;
}

void script_mem_refused(lua_State *L)
{
    void *ud;
    if (lua_getallocf(L, &ud) == capped_alloc)
        ((struct router *)ud)->hit_cap = 1;
}

size_t script_mem_room(lua_State *L)
{
    void *ud;
    if (lua_getallocf(L, &ud) != capped_alloc)
        return (size_t)-1 / 2;
    struct router *r = ud;
    if (!r->mem_cap)
        return (size_t)-1 / 2;
    size_t used = r->mem_used + r->out_bytes;
    return used < r->mem_cap ? r->mem_cap - used : 0;
}

static atomic_uint_fast64_t script_rebuilds;

uint64_t script_rebuild_count(void) { return atomic_load(&script_rebuilds); }

#define HOOK_EVERY 1000

/* Raise the budget's error; when the state reached its cap in this call,
 * the collections Lua ran there were charged to the budget, and memory is
 * the reason to give. */
static int budget_error(lua_State *L, struct router *r)
{
    if (r->hit_cap)
        return luaL_error(L, "not enough memory: the script kept allocating at its script_memory cap "
                             "(%I bytes) until its budget of %I instructions ran out",
                          (lua_Integer)r->mem_cap, (lua_Integer)r->budget);
    return luaL_error(L, "script exceeded its budget of %I instructions for one event", (lua_Integer)r->budget);
}

/* Over budget, the script must stop whatever it catches: the thread that
 * runs route() yields to the host, which abandons it (a yield goes through
 * every pcall, xpcall and handler).  Where no yield is possible (a script
 * coroutine, a function called from C: table.sort's comparator, a <close>
 * handler run by an error) the hook raises instead, and from then on
 * before every instruction of that thread, so an error a pcall caught is
 * raised again at the first instruction outside it. */
static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct router *r;
    lua_getallocf(L, (void **)&r);
    int every = lua_gethookcount(L);
    r->used += (unsigned long)every;
    if (!r->budget || r->used <= r->budget) {
        if (every != HOOK_EVERY) /* a thread left at 1 by an earlier event */
            lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
        return;
    }
    r->over = 1;
    if (every != 1)
        lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    if (L == r->co && lua_isyieldable(L)) {
        lua_yield(L, 0);
        return;
    }
    budget_error(L, r);
}

void script_charge(lua_State *L, size_t units)
{
    void *ud;
    if (lua_getallocf(L, &ud) != capped_alloc)
        return;
    struct router *r = ud;
    r->used += units;
    if (r->budget && r->used > r->budget) {
        r->over = 1; /* the hook stops the thread at its next instruction, caught or not */
        lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
        budget_error(L, r);
    }
}

static int on_panic(lua_State *L)
{
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "not a string";
    log_error("script", "unprotected error in the Lua state, aborting: %s", msg);
    return 0; /* Lua aborts */
}

/* Run the function below nargs arguments on top of L in a thread of its
 * own under the budget, and leave nres results on L.  Called only under
 * lua_pcall (L's allocations may raise); raises the script's error, or the
 * budget's.  The thread is kept for the next call (*ref) only if the call
 * ended well: one that yielded or failed may hold anything. */
static void resume_guarded(lua_State *L, struct router *r, int *ref, int nargs, int nres)
{
    lua_State *co;
    if (*ref == LUA_NOREF || lua_rawgeti(L, LUA_REGISTRYINDEX, *ref) != LUA_TTHREAD) {
        if (*ref == LUA_NOREF)
            lua_pushnil(L);
        lua_pop(L, 1);
        co = lua_newthread(L);
        lua_pushvalue(L, -1);
        *ref = luaL_ref(L, LUA_REGISTRYINDEX);
    } else {
        co = lua_tothread(L, -1);
    }
    lua_pop(L, 1); /* the registry keeps it */
    if (!lua_checkstack(co, nargs + 1))
        luaL_error(L, "not enough memory");
    lua_xmove(L, co, nargs + 1);
    r->co = co;
    r->used = 0;
    r->over = 0;
    int got, st = lua_resume(co, L, nargs, &got);
    r->co = NULL;
    if (st == LUA_OK) {
        if (got > nres)
            lua_pop(co, got - nres);
        for (; got < nres; got++)
            lua_pushnil(co);
        if (!lua_checkstack(L, nres))
            luaL_error(L, "not enough memory");
        lua_xmove(co, L, nres);
        lua_settop(co, 0);
        return;
    }
    luaL_unref(L, LUA_REGISTRYINDEX, *ref);
    *ref = LUA_NOREF;
    if (st == LUA_YIELD && r->over)
        budget_error(L, r);
    if (st == LUA_YIELD)
        luaL_error(L, "route() yielded outside a coroutine");
    /* no metamethod of the error object runs: that would be script code
     * outside the guard */
    lua_xmove(co, L, 1);
    int t = lua_type(L, -1);
    if (t != LUA_TSTRING && t != LUA_TNUMBER)
        luaL_error(L, "script error (the error object is a %s value)", lua_typename(L, t));
    lua_tostring(L, -1);
    lua_error(L);
}

/* ---- shapes and messages ------------------------------------------------------- */

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

struct enc_job {
    struct buf *out;
    char *err;
    size_t errlen;
    int rc;
};

static int encode_call(lua_State *L)
{
    struct enc_job *j = lua_touserdata(L, 1);
    j->rc = json_encode_lua(L, 2, j->out, j->err, j->errlen);
    return 0;
}

/* json_encode_lua under lua_pcall: encoding may raise (a memory error),
 * and the buffers it grew outside the state must be freed then too. */
static int encode_safe(lua_State *L, int idx, struct buf *out, char *err, size_t errlen)
{
    struct enc_job j = { out, err, errlen, -1 };
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, encode_call);
    lua_pushlightuserdata(L, &j);
    lua_pushvalue(L, idx);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        snprintf(err, errlen, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error");
        lua_pop(L, 1);
        return -1;
    }
    return j.rc;
}

/* "send: what: " before the encoder's message */
static void send_error(char *err, size_t errlen, const char *what)
{
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", err);
    snprintf(err, errlen, "send: %s: %.200s", what, tmp);
}

static int send_op(lua_State *L, const struct event *ev)
{
    int op = ev->name_len == 23 && !memcmp(ev->name, "s3:ObjectRemoved:Delete", 23) ? OP_DELETE : OP_UPSERT;
    if (lua_istable(L, 3) && lua_getfield(L, 3, "op") == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        if (!strcmp(s, "delete"))
            op = OP_DELETE;
        else if (!strcmp(s, "upsert"))
            op = OP_UPSERT;
        else
            luaL_error(L, "send: opts.op must be \"upsert\" or \"delete\", not \"%s\"", s);
    }
    if (lua_istable(L, 3))
        lua_pop(L, 1);
    return op;
}

/* The message's bytes outside the state: payload, opts, key.  Made after
 * every Lua call that may run the script (opts.__index may even send), so
 * nothing here can be invalidated or leaked by one; -1 with err. */
static int send_build(lua_State *L, struct router *r, struct routed *m, const char *key, size_t keylen,
                      char *err, size_t errlen)
{
    int pt = lua_type(L, 2);
    struct buf b = { 0 }, ob = { 0 };
    size_t room = script_mem_room(L);
    if (pt == LUA_TNONE || pt == LUA_TNIL || pt == LUA_TUSERDATA) {
        if (shape_event(m, r->ev, r->t[m->target].shape))
            return snprintf(err, errlen, "out of memory"), -1;
    } else if (pt == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, 2, &n);
        if (n + 1 > room)
            return script_mem_refused(L), snprintf(err, errlen, "send: a payload of %zu bytes is more than script_memory has room for", n), -1;
        if (buf_put(&b, s, n))
            return snprintf(err, errlen, "out of memory"), -1;
    } else if (encode_safe(L, 2, &b, err, errlen)) {
        buf_free(&b);
        return send_error(err, errlen, "payload"), -1;
    }
    if (b.p) {
        m->owned = b.p;
        m->iov[0] = (struct iovec){ b.p, b.len };
        m->niov = 1;
    }
    if (!lua_isnil(L, 3) && encode_safe(L, 3, &ob, err, errlen)) {
        buf_free(&ob);
        return send_error(err, errlen, "opts"), -1;
    }
    m->opts = ob.p;
    if (key) { /* whole, NULs and all (strndup would stop at the first) */
        if (!(m->key = malloc(keylen + 1)))
            return snprintf(err, errlen, "out of memory"), -1;
        memcpy(m->key, key, keylen);
        m->key[keylen] = 0;
        m->key_len = keylen;
    }
    size_t len = ob.len + keylen + r->ev->name_len + r->ev->key_len + r->ev->time_len + 512;
    for (int i = 0; i < m->niov; i++)
        len += m->iov[i].iov_len;
    if (len > REC_MAX)
        return snprintf(err, errlen, "send: the message is %zu bytes, more than the journal's record limit "
                        "of %u bytes", len, (unsigned)REC_MAX), -1;
    size_t held = b.cap + ob.cap + (key ? keylen + 1 : 0);
    if (held > script_mem_room(L))
        return script_mem_refused(L), snprintf(err, errlen, "send: the messages of this event hold more than script_memory "
                        "(%zu bytes)", r->mem_cap), -1;
    r->out_bytes += held;
    return 0;
}

/*** @section route(event, send)
 * A routing script (the `script` setting) returns a function route(event,
 * send); the gateway calls it once per event, in a coroutine, under the
 * `script_instructions` budget and the `script_memory` cap.  What it sends is
 * queued only when route() returns: if it raises an error (or runs past a
 * limit), the sends it made before are dropped, the event goes whole to the
 * dead-letter queue `_script` with the error, and the request is still
 * acknowledged (`luagate check` shows this as `script error:` followed by
 * `-> dead-letter queue _script`).
 */

/*** @name luagate.targets
 * `require "luagate.targets"`: the enabled targets, as a list sorted by name
 * of `{name=, kind=, format=, events=, prefix=, suffix=}` (strings; "" for a
 * key not set), each also reachable by its name (`targets["webhook:1"]`).
 * @return a table
 */

/*** @name send(target, payload, opts)
 * Queue one message for a target; the second argument of route().
 * @param target a configured target's name, `kind:id`
 * @param payload nil or the event itself (MinIO's shape for the target's
 * kind, the original bytes), a string (sent as is) or a table (encoded by
 * luagate.json; an event inside it is written as its envelope)
 * @param opts nil or a table: `key` and `op` ("upsert" or "delete") for
 * redis, mysql, postgres and elasticsearch (default: the event's
 * `bucket/object`, and delete for s3:ObjectRemoved:Delete), `topic`, `key`,
 * `headers` for kafka, `exchange`, `routing_key`, `headers` for amqp,
 * `topic`, `qos`, `retain` for mqtt, `subject`, `headers` for nats, `topic`
 * for nsq, `path`, `headers` for webhooks
 * @return nothing
 * @raise "send: unknown target 'NAME'"; "payload must be the event, a string
 * or a table"; `send: opts.op must be "upsert" or "delete"`; "send: payload:
 * ..." / "send: opts: ..." when luagate.json cannot encode them; "send: this
 * event belongs to an earlier route() call ..." for an event kept from an
 * earlier call; a message above the journal's 64 MiB record limit or above
 * what `script_memory` has room for; "send() called outside route()"
 */
static int l_send(lua_State *L)
{
    struct router *r;
    lua_getallocf(L, (void **)&r);
    if (!r->ev)
        return luaL_error(L, "send() called outside route()");
    const char *name = luaL_checkstring(L, 1);
    /* upvalue 1 maps each target name to its index */
    lua_pushvalue(L, 1);
    int ti = lua_rawget(L, lua_upvalueindex(1)) == LUA_TNUMBER ? (int)lua_tointeger(L, -1) : -1;
    lua_pop(L, 1);
    if (ti < 0)
        return luaL_error(L, "send: unknown target '%s'", name);
    int pt = lua_type(L, 2);
    struct lua_event *pe = pt == LUA_TUSERDATA ? to_event(L, 2) : NULL;
    if (!(pt == LUA_TNONE || pt == LUA_TNIL || pt == LUA_TSTRING || pt == LUA_TTABLE || pe))
        return luaL_argerror(L, 2, "payload must be the event, a string or a table");
    /* an event kept from an earlier call would otherwise send the current one */
    if (pe && pe->ev != r->ev)
        return luaL_error(L, "send: this event belongs to an earlier route() call; an event is valid "
                          "only during its own call (send the current event, or a table copied from it)");
    lua_settop(L, 3);
    const char *key = NULL;
    size_t keylen = 0;
    if (!lua_isnil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        char why[384];
        if (sendopts_check(L, 3, r->t[ti].kind, why, sizeof why))
            return luaL_error(L, "send: %s: %s", name, why);
        if (lua_getfield(L, 3, "key") == LUA_TSTRING) /* slot 4 keeps it */
            key = lua_tolstring(L, -1, &keylen);
    }
    int op = send_op(L, r->ev);
    struct routed m = { .target = ti, .ev = r->ev, .op = op };
    char err[256] = "out of memory";
    if (send_build(L, r, &m, key, keylen, err, sizeof err)) {
        routed_free(&m);
        return luaL_error(L, "%s", err);
    }
    struct routed *slot = out_push(r->out);
    if (!slot) {
        routed_free(&m);
        return luaL_error(L, "out of memory");
    }
    *slot = m;
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

/*** @section event
 * The first argument of route(): one S3 event record, read from the request
 * body on first use (nothing is decoded up front; decoded values are cached,
 * so `event.metadata` is the same table every time).  Valid only during its
 * own route() call: afterwards any use raises "event used after route()
 * returned", and send() refuses it.  `tostring(event)` gives
 * `event NAME BUCKET/OBJECT`; getmetatable(event) gives the string
 * "luagate.event".  Any other key gives nil.
 */

/*** @name event.name
 * The event name, `s3:ObjectCreated:Put` (also `event.EventName`).
 * @return a string
 */

/*** @name event.bucket
 * The bucket name.
 * @return a string
 */

/*** @name event.key
 * The object name, URL-unescaped (`photos/a b.jpg`).
 * @return a string (it may hold any byte MinIO allows)
 */

/*** @name event.Key
 * The envelope's Key, `bucket/object` (unescaped).
 * @return a string
 */

/*** @name event.time
 * The record's eventTime, as MinIO wrote it.
 * @return a string
 */

/*** @name event.size
 * The object size (s3.object.size); a json.number for a size no Lua integer
 * holds.
 * @return an integer, or nil when the record has none (removal events)
 */

/*** @name event.etag
 * s3.object.eTag.
 * @return a string, or nil
 */

/*** @name event.content_type
 * s3.object.contentType.
 * @return a string, or nil
 */

/*** @name event.version_id
 * s3.object.versionId.
 * @return a string, or nil
 */

/*** @name event.metadata
 * s3.object.userMetadata.
 * @return a table, or nil
 */

/*** @name event.principal
 * userIdentity.principalId.
 * @return a string, or nil
 */

/*** @name event.source_ip
 * requestParameters.sourceIPAddress.
 * @return a string, or nil (internal events have null requestParameters)
 */

/*** @name event.region
 * awsRegion.
 * @return a string, or nil
 */

/*** @name event.record
 * The whole record, decoded by luagate.json.
 * @return a table
 */

/*** @name event.Records
 * The envelope's Records: a JSON array (json.array_mt) of the one record.
 * @return a table
 */

/*** @name event:json()
 * The envelope's text, `{"EventName","Key","Records":[r]}`, byte for byte as
 * MinIO posted it (what send(target, event) queues for a webhook).  Also the
 * event's `__tojson`, so an event inside a table sent is written as this.
 * @return a string
 * @raise when the event's route() call has returned
 */
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

/*** @name event:record_json()
 * The record's bytes, cut from the request body, never re-encoded.
 * @return a string
 * @raise when the event's route() call has returned
 */
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
    lua_pushliteral(L, EVENT_MT); /* getmetatable(event) gives this, not the table */
    lua_setfield(L, -2, "__metatable");
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

static void push_send(lua_State *L, struct router *r)
{
    lua_createtable(L, 0, (int)r->nt); /* target name -> index, for send() */
    for (size_t i = 0; i < r->nt; i++) {
        lua_pushinteger(L, (lua_Integer)i);
        lua_setfield(L, -2, r->t[i].name);
    }
    lua_pushcclosure(L, l_send, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "luagate.send");
    r->send_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Everything a new state needs, the script's top level last: under
 * lua_pcall (upvalue-free: the router and the script's directory are the
 * arguments), so a state too small for the libraries fails cleanly, and
 * the top level runs under the same budget as route(). */
static int setup_call(lua_State *L)
{
    struct router *r = lua_touserdata(L, 1);
    const char *dir = lua_touserdata(L, 2);
    script_open_libs(L, dir);
    script_sandbox_env(L, r->env_allow);
    r->event_mt_ref = event_metatable(L);
    /* luagate.targets: what is configured, for the default router */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    push_targets(L, r->t, r->nt);
    lua_setfield(L, -2, "luagate.targets");
    /* luagate.buckets: the bucket rules, for luagate.rules (nil: none) */
    buckets_push(L, r->lim.buckets);
    lua_setfield(L, -2, "luagate.buckets");
    lua_pop(L, 1);
    push_send(L, r);
    lua_pushboolean(L, 0);
    r->ev_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* made now: filling it later allocates nothing */
    int nargs = 0;
    if (strcmp(r->script, "luagate.default")) {
        if (luaL_loadfilex(L, r->script, "t") != LUA_OK)
            return lua_error(L);
    } else {
        lua_getglobal(L, "require");
        lua_pushliteral(L, "luagate.default");
        nargs = 1;
    }
    resume_guarded(L, r, &r->co_ref, nargs, 1);
    if (!lua_isfunction(L, -1))
        return luaL_error(L, "%s: the script must return a function route(event, send), not a %s",
                          r->script, luaL_typename(L, -1));
    r->route_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static int router_fail(struct router *r, char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    router_free(r);
    return -1;
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
    r->co_ref = LUA_NOREF;
    if (lim)
        r->lim = *lim;
    r->mem_cap = r->lim.mem_bytes;
    r->budget = r->lim.instructions;
    r->env_allow = strdup(r->lim.env_allow ? r->lim.env_allow : "");
    r->lim.env_allow = r->env_allow;
    r->script = strdup(script ? script : "luagate.default");
    json_set_room(script_mem_room, script_charge);
    r->L = r->script && r->env_allow ? lua_newstate(capped_alloc, r) : NULL;
    if (!r->L) {
        router_fail(r, err, errlen, "cannot create a Lua state: out of memory");
        return NULL;
    }
    lua_State *L = r->L;
    lua_atpanic(L, on_panic);
    lua_gc(L, LUA_GCGEN, 0, 0);
    lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY); /* every thread inherits it */
    char dir[PATH_MAX] = "";
    if (script) {
        snprintf(dir, sizeof dir, "%s", script);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(dir, sizeof dir, ".");
    }
    lua_pushcfunction(L, setup_call);
    lua_pushlightuserdata(L, r);
    lua_pushlightuserdata(L, script ? dir : NULL);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "cannot load the script";
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", msg);
        router_fail(r, err, errlen, copy);
        return NULL;
    }
    r->hit_cap = 0; /* the top level's own garbage is no reason to rebuild */
    return r;
}

void router_free(struct router *r)
{
    if (!r)
        return;
    if (r->L)
        lua_close(r->L);
    free(r->script);
    free(r->env_allow);
    free(r);
}

const char *router_script(const struct router *r) { return r->script; }

void router_files(const struct router *r, void (*fn)(void *arg, const char *path), void *arg)
{
    if (!strcmp(r->script, "luagate.default"))
        return; /* the built-in router: nothing of the operator's to watch */
    fn(arg, r->script);
    if (lua_getfield(r->L, LUA_REGISTRYINDEX, SCRIPT_MODULE_FILES) == LUA_TTABLE)
        for (lua_Integer i = 1; lua_rawgeti(r->L, -1, i) == LUA_TSTRING; i++) {
            fn(arg, lua_tostring(r->L, -1));
            lua_pop(r->L, 1);
        }
    else
        lua_pushnil(r->L); /* the loop's last push, popped below with the table */
    lua_pop(r->L, 2);
}

/* A state that reached script_memory may be left in any shape by the
 * script that filled it: start the next event from a fresh one.  If the
 * script cannot be loaded again the old state stays (it still works:
 * Lua's memory errors leave it consistent). */
static void router_rebuild(struct router *r)
{
    char err[1024];
    const char *script = strcmp(r->script, "luagate.default") ? r->script : NULL;
    struct router *n = router_new(script, r->t, r->nt, &r->lim, err, sizeof err);
    r->hit_cap = 0;
    if (!n) {
        log_error("script", "cannot rebuild the Lua state that reached script_memory, keeping it: %s", err);
        return;
    }
    lua_State *old = r->L;
    size_t old_used = r->mem_used;
    r->L = n->L;
    r->route_ref = n->route_ref;
    r->send_ref = n->send_ref;
    r->event_mt_ref = n->event_mt_ref;
    r->co_ref = n->co_ref;
    r->ev_ref = n->ev_ref;
    r->mem_used = n->mem_used;
    lua_setallocf(r->L, capped_alloc, r);
    n->L = old;
    n->mem_used = old_used;
    lua_setallocf(old, capped_alloc, n);
    router_free(n);
    atomic_fetch_add(&script_rebuilds, 1);
}

static int route_call(lua_State *L)
{
    struct router *r = lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->route_ref);
    push_event(L, r);
    r->cur = lua_touserdata(L, -1);
    /* the thread holding it may be collected before router_route expires it */
    lua_pushvalue(L, -1);
    lua_rawseti(L, LUA_REGISTRYINDEX, r->ev_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->send_ref);
    resume_guarded(L, r, &r->co_ref, 2, 0);
    return 0;
}

int router_route(struct router *r, struct event_batch *in, const struct event *ev,
                 struct route_out *out, char *err, size_t errlen)
{
    lua_State *L = r->L;
    size_t mark = out->n;
    r->in = in;
    r->ev = ev;
    r->out = out;
    r->cur = NULL;
    r->out_bytes = 0;
    lua_pushcfunction(L, route_call);
    lua_pushlightuserdata(L, r);
    int status = lua_pcall(L, 1, 0, 0);
    if (r->cur)
        r->cur->ev = NULL; /* a script that kept the event gets an error, not a crash */
    lua_pushboolean(L, 0);
    lua_rawseti(L, LUA_REGISTRYINDEX, r->ev_ref);
    if (status != LUA_OK) {
        snprintf(err, errlen, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "script error");
        lua_pop(L, 1);
        truncate_out(out, mark);
    }
    r->ev = NULL;
    r->in = NULL;
    r->cur = NULL;
    r->out_bytes = 0;
    if (r->hit_cap)
        router_rebuild(r);
    return status == LUA_OK ? 0 : -1;
}
