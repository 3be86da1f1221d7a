/* lmodule.c -- luagate.so: the queue and every driver as Lua modules, for
 * plain `lua` and busted (package.cpath pointing at luagate.so):
 *
 *   local q = require("luagate.queue").open(dir, { limit = 1000 })
 *   q:push(s); local s = q:pop(); q:ack(); q:len()
 *   local t = require("luagate.webhook").new{ endpoint = "http://..." }
 *   local ok, err = t:send(payload, opts); t:health(); t:close()
 *
 * Misuse (bad keys, wrong types) raises; I/O failure returns nil, message. */
#include <curl/curl.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "json.h"
#include "queue.h"
#include "script.h"
#include "sendopts.h"
#include "targetconf.h"

#define QUEUE_MT "luagate.queue"
#define DRIVER_MT "luagate.driver"

/* ---- luagate.queue -------------------------------------------------------- */

struct lqueue {
    struct queue *q;
    struct qreader *r;
    struct msg head;   /* the last pop, until ack */
    int popped;
};

static struct lqueue *check_queue(lua_State *L)
{
    struct lqueue *lq = luaL_checkudata(L, 1, QUEUE_MT);
    if (!lq->q)
        luaL_error(L, "queue is closed");
    return lq;
}

/*** @section luagate.queue
 * The gateway's durable journal as a Lua module (from luagate.so, for plain
 * lua5.4 and busted; not in routing scripts): append, read, acknowledge, as
 * one reader.  A handle is closed by q:close(), by the garbage collector, or
 * at the end of a `local q <close>` scope.
 */

/*** @name luagate.queue.open(dir, opts)
 * Open (creating it) a queue directory, as one reader.
 * @param dir the directory
 * @param opts nil or {limit = most records kept unread (default 100000),
 * name = the reader's name (default "lua")}
 * @return a queue handle; or nil and a message when the directory cannot be
 * opened or locked (another process holds it)
 * @raise when limit is not a positive integer
 */
static int q_open(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    lua_Integer limit = 100000;
    const char *name = "lua";
    if (lua_istable(L, 2)) {
        if (lua_getfield(L, 2, "limit") != LUA_TNIL)
            limit = luaL_checkinteger(L, -1);
        if (lua_getfield(L, 2, "name") != LUA_TNIL)
            name = luaL_checkstring(L, -1);
        lua_pop(L, 2);
    }
    if (limit <= 0)
        return luaL_argerror(L, 2, "limit must be positive");
    struct lqueue *lq = lua_newuserdatauv(L, sizeof *lq, 0);
    memset(lq, 0, sizeof *lq);
    luaL_setmetatable(L, QUEUE_MT);
    char err[512];
    lq->q = queue_open(dir, err, sizeof err);
    if (!lq->q) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lq->r = queue_reader(lq->q, name, (uint64_t)limit);
    if (!lq->r || queue_start(lq->q)) {
        queue_close(lq->q);
        lq->q = NULL;
        lua_pushnil(L);
        lua_pushfstring(L, "cannot open the reader '%s' of %s", name, dir);
        return 2;
    }
    return 1;
}

/*** @name queue:push(s)
 * Append a record and make it durable (fdatasync) before returning.
 * @param s a string
 * @return true; or nil and a message (the queue is full, the disk refused)
 * @raise when s is not a string, or the queue is closed
 */
static int q_push(lua_State *L)
{
    struct lqueue *lq = check_queue(L);
    size_t n;
    const char *s = luaL_checklstring(L, 2, &n);
    struct qrec rec = { .to = lq->r, .npayload = 1, .event_name = "", .key = "", .event_time = "" };
    rec.payload[0] = (struct iovec){ (void *)s, n };
    char err[512];
    uint64_t ticket;
    int rc = queue_append(lq->q, &rec, 1, &ticket, err, sizeof err);
    if (rc == 0 && queue_sync(lq->q))
        rc = -1, snprintf(err, sizeof err, "cannot sync the queue");
    if (rc) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/*** @name queue:pop()
 * The oldest record not acknowledged; the same one again until q:ack().
 * @return a string, or nil when there is none
 * @raise when the queue is closed
 */
static int q_pop(lua_State *L)
{
    struct lqueue *lq = check_queue(L);
    int n = queue_peek(lq->r, &lq->head, 1, 0);
    lq->popped = n > 0;
    if (n <= 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, lq->head.payload, lq->head.payload_len);
    return 1;
}

/*** @name queue:ack()
 * Acknowledge the record the last q:pop() returned (its cursor is saved).
 * @return true; or nil and a message when the cursor cannot be saved
 * @raise "ack without a pop"; when the queue is closed
 */
static int q_ack(lua_State *L)
{
    struct lqueue *lq = check_queue(L);
    if (!lq->popped)
        return luaL_error(L, "ack without a pop");
    lq->popped = 0;
    if (queue_ack(lq->r, 1)) {
        lua_pushnil(L);
        lua_pushliteral(L, "cannot save the queue cursor");
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/*** @name queue:len()
 * Records appended and not yet acknowledged.
 * @return an integer
 * @raise when the queue is closed
 */
static int q_len(lua_State *L)
{
    struct lqueue *lq = check_queue(L);
    lua_pushinteger(L, (lua_Integer)queue_len(lq->r));
    return 1;
}

/*** @name queue:close()
 * Close the queue (idempotent); any other method then raises "queue is closed".
 */
static int q_close(lua_State *L)
{
    struct lqueue *lq = luaL_checkudata(L, 1, QUEUE_MT);
    if (lq->q)
        queue_close(lq->q);
    lq->q = NULL;
    return 0;
}

int luaopen_luagate_queue(lua_State *L);
int luaopen_luagate_queue(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "push", q_push }, { "pop", q_pop }, { "ack", q_ack }, { "len", q_len },
        { "close", q_close }, { NULL, NULL },
    };
    if (luaL_newmetatable(L, QUEUE_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, q_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, q_close);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, q_open);
    lua_setfield(L, -2, "open");
    return 1;
}

/* ---- drivers ------------------------------------------------------------------ */

struct ldriver {
    const struct driver *drv;
    struct target_conf *conf;
    void *ctx;
};

static struct ldriver *check_driver(lua_State *L)
{
    struct ldriver *d = luaL_checkudata(L, 1, DRIVER_MT);
    if (!d->ctx)
        luaL_error(L, "target is closed");
    return d;
}

/*** @section drivers: luagate.KIND
 * Every target kind as a Lua module, `require "luagate.KIND"` for KIND in
 * webhook, amqp, kafka, mqtt, nats, nsq, mysql, postgres, redis,
 * elasticsearch, file (from luagate.so, for plain lua5.4 and busted; not in
 * routing scripts).  Each has `new` and `available` (true when the kind is
 * built in).  A handle is closed by t:close(), by the garbage collector, or at
 * the end of a `local t <close>` scope.  Secrets never appear in messages.
 */

/*** @name luagate.KIND.new(keys)
 * Open a target of this kind, as the gateway would with the same keys.
 * @param keys a table of the kind's configuration keys (as in
 * docs/configuration.md: `{ address = "127.0.0.1:6379", key = "events" }`;
 * booleans and lists as in the configuration), and `id` (default "lua")
 * @return a target handle
 * @raise a key the kind does not have, a missing required key or a bad value
 * (the message the configuration gives); a connection that cannot be made
 * (message redacted); "target kind KIND is not available yet"
 */
static int d_new(lua_State *L)
{
    const struct kind_info *k = lua_touserdata(L, lua_upvalueindex(1));
    luaL_checktype(L, 1, LUA_TTABLE);
    if (!k->drv)
        return luaL_error(L, "target kind %s is not available yet", k->kind);
    lua_getfield(L, 1, "id");
    const char *id = luaL_optstring(L, -1, "lua");
    struct ldriver *d = lua_newuserdatauv(L, sizeof *d, 0);
    memset(d, 0, sizeof *d);
    luaL_setmetatable(L, DRIVER_MT);
    d->drv = k->drv;
    d->conf = tconf_new(k, id);
    if (!d->conf)
        return luaL_error(L, "out of memory");
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        const char *key = luaL_checkstring(L, -2);
        if (strcmp(key, "id")) {
            char val[4096];
            if (lua_isboolean(L, -1))
                snprintf(val, sizeof val, "%s", lua_toboolean(L, -1) ? "on" : "off");
            else if (lua_istable(L, -1)) {
                luaL_Buffer b;
                luaL_buffinit(L, &b);
                for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -2); i++) {
                    lua_rawgeti(L, -2, i);
                    if (i > 1)
                        luaL_addchar(&b, ',');
                    luaL_addvalue(&b);
                }
                luaL_pushresult(&b);
                snprintf(val, sizeof val, "%s", lua_tostring(L, -1));
                lua_pop(L, 1);
            } else
                snprintf(val, sizeof val, "%s", luaL_checkstring(L, -1));
            if (tconf_set(d->conf, key, val))
                return luaL_error(L, "out of memory");
        }
        lua_pop(L, 1);
    }
    char err[1024];
    if (tconf_validate(d->conf, err, sizeof err))
        return luaL_error(L, "%s", err);
    d->ctx = d->drv->open(d->conf, err, sizeof err);
    if (!d->ctx) {
        tconf_redact(d->conf, err, sizeof err);
        return luaL_error(L, "%s", err);
    }
    return 1;
}

static const char *opt_string(lua_State *L, int idx, const char *field, const char *def)
{
    const char *v = def;
    if (lua_istable(L, idx) && lua_getfield(L, idx, field) != LUA_TNIL) {
        v = lua_tostring(L, -1);
        lua_pop(L, 1);
    } else if (lua_istable(L, idx)) {
        lua_pop(L, 1);
    }
    return v ? v : def;
}

/*** @name target:send(payload, opts)
 * Deliver one message and wait for the target's confirmation.
 * @param payload a string (sent as is) or a table (luagate.json)
 * @param opts nil or a table: what send() in a script takes for this kind,
 * and `event_name`, `event_time`
 * @return true once the target confirmed; or nil, a message, and "retry"
 * (the target is unavailable) or "reject" (it refused this message)
 * @raise when payload or opts cannot be encoded, or the target is closed
 */
static int d_send(lua_State *L)
{
    struct ldriver *d = check_driver(L);
    struct buf body = { 0 }, opts = { 0 };
    char err[256];
    if (lua_type(L, 2) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, 2, &n);
        buf_put(&body, s, n);
    } else if (json_encode_lua(L, 2, &body, err, sizeof err)) {
        buf_free(&body);
        return luaL_argerror(L, 2, err);
    }
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        if (json_encode_lua(L, 3, &opts, err, sizeof err)) {
            buf_free(&body);
            buf_free(&opts);
            return luaL_argerror(L, 3, err);
        }
    }
    struct msg m = { 0 };
    m.payload = body.p ? body.p : "";
    m.payload_len = body.len;
    m.key = opt_string(L, 3, "key", "");
    m.event_name = opt_string(L, 3, "event_name", "");
    m.event_time = opt_string(L, 3, "event_time", "");
    m.op = !strcmp(opt_string(L, 3, "op", "upsert"), "delete") ? OP_DELETE : OP_UPSERT;
    m.opts = opts.p;
    int rc = d->drv->send(d->ctx, &m, 1);
    tconf_redact(d->conf, m.error, sizeof m.error);
    buf_free(&body);
    buf_free(&opts);
    if (rc == 0 && m.status == MSG_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, m.error[0] ? m.error : "not delivered");
    lua_pushstring(L, m.status == MSG_REJECT ? "reject" : "retry");
    return 3;
}

/*** @name target:health()
 * Is the target reachable (a cheap probe: connect, ping)?
 * @return true; or nil and a message
 * @raise when the target is closed
 */
static int d_health(lua_State *L)
{
    struct ldriver *d = check_driver(L);
    char err[512];
    if (d->drv->health(d->ctx, err, sizeof err)) {
        tconf_redact(d->conf, err, sizeof err);
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/*** @name target:close()
 * Close the target (idempotent); any other method then raises "target is
 * closed".
 */
static int d_close(lua_State *L)
{
    struct ldriver *d = luaL_checkudata(L, 1, DRIVER_MT);
    if (d->ctx)
        d->drv->close(d->ctx);
    d->ctx = NULL;
    tconf_free(d->conf);
    d->conf = NULL;
    return 0;
}

static int driver_module(lua_State *L, const char *kind)
{
    static int curl_ready;
    if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
        curl_ready = 1;
    static const luaL_Reg methods[] = {
        { "send", d_send }, { "health", d_health }, { "close", d_close }, { NULL, NULL },
    };
    if (luaL_newmetatable(L, DRIVER_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, d_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, d_close);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
    const struct kind_info *k = driver_kind(kind);
    lua_newtable(L);
    lua_pushlightuserdata(L, (void *)k);
    lua_pushcclosure(L, d_new, 1);
    lua_setfield(L, -2, "new");
    lua_pushboolean(L, k->drv != NULL);
    lua_setfield(L, -2, "available");
    return 1;
}

#define DRIVER_MODULE(kind)                                                                  \
    int luaopen_luagate_##kind(lua_State *L);                                                \
    int luaopen_luagate_##kind(lua_State *L) { return driver_module(L, #kind); }
#define KIND(name, arn_kind, env_kind) DRIVER_MODULE(name)
#include "kinds.h"
#undef KIND

/*** @section luagate
 * `require "luagate"` (luagate.so).
 */

/*** @name luagate.check_send_opts(kind, opts)
 * Whether the gateway's send() takes opts for a target of kind (what
 * luagate.testing checks each send with, raising at the script's line as
 * the gateway does).
 * @param kind a target kind, "mqtt"
 * @param opts the options table of a send
 * @return nil when they are taken, else the reason (a string)
 */
static int l_check_send_opts(lua_State *L)
{
    const char *kind = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    char why[384];
    if (sendopts_check(L, 2, kind, why, sizeof why))
        lua_pushstring(L, why);
    else
        lua_pushnil(L);
    return 1;
}

/*** @name luagate.version
 * The version of luagate.so, `0.1.0`.
 * @return a string
 */
int luaopen_luagate(lua_State *L);
int luaopen_luagate(lua_State *L)
{
    lua_newtable(L);
    lua_pushliteral(L, LUAGATE_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushcfunction(L, l_check_send_opts);
    lua_setfield(L, -2, "check_send_opts");
    return 1;
}

/*** @name luagate.ingest.check(body)
 * `require "luagate.ingest"` (luagate.so): the gateway's own parse of a
 * request body, as its ingest listener does it, so that luagate.testing
 * refuses what the gateway answers 400, with the same message (rather than
 * a Lua copy of the rules drifting from them).
 * @param body a request body (bytes)
 * @return true; or nil and the message the gateway's 400 answer carries
 * ("Records[0].s3.object.size: a string where MinIO writes an integer", ...)
 */
static int ingest_check(lua_State *L)
{
    size_t len;
    const char *body = luaL_checklstring(L, 1, &len);
    struct event_batch in = { 0 };
    char err[1024];
    int rc = event_parse(&in, body, len, err, sizeof err);
    event_batch_free(&in);
    if (!rc) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
}

int luaopen_luagate_ingest(lua_State *L);
int luaopen_luagate_ingest(lua_State *L)
{
    static const luaL_Reg fns[] = { { "check", ingest_check }, { NULL, NULL } };
    luaL_newlib(L, fns);
    return 1;
}
