/* fuzz_body.c -- libFuzzer target for the ingest path: an HTTP request body
 * into events (src/event.c over src/json.c), each event's envelope and
 * field lookups, URL unescaping, and the router (src/script.c) with its
 * Lua event object, shaping and JSON encoding.
 *
 *   bash tests/fuzz/run.sh 60            (builds into build/fuzz/, runs all)
 *   build/fuzz/fuzz_body -max_len=1048576 build/fuzz/corpus/body
 *
 * The input is the body, as the HTTP server hands it over (not
 * NUL-terminated: a malloc'd copy of exactly size bytes, so ASan sees any
 * read past the end).  Two routers are built once per process: the default
 * MinIO router (lua/luagate/default.lua) over a webhook, a redis (access
 * format) and an elasticsearch target, and a small script that touches
 * every field of the event object and sends tables, strings and the event.
 *
 * Invariants checked (a violation traps, so libFuzzer keeps the input):
 *  - an event's record lies inside the body; its key starts with its bucket;
 *  - every payload the router frames (envelope, Records, Redis access,
 *    json.encode of a table) is one valid JSON value by json_tokenize;
 *  - event_query_unescape never grows its input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lua.h>
#include "event.h"
#include "json.h"
#include "script.h"

#define CHECK(c)                                                                      \
    do {                                                                              \
        if (!(c)) {                                                                   \
            fprintf(stderr, "fuzz_body: invariant failed at line %d: %s\n", __LINE__, \
                    #c);                                                              \
            __builtin_trap();                                                         \
        }                                                                             \
    } while (0)

static struct route_target targets[] = {
    { "webhook:1", "webhook", "", "put,delete", "", "", SHAPE_ENVELOPE },
    { "redis:acc", "redis", "access", "s3:ObjectCreated:*,s3:ObjectAccessed:*", "", "", SHAPE_REDIS_ACCESS },
    { "elasticsearch:es", "elasticsearch", "namespace", "", "images/", ".jpg", SHAPE_RECORDS_NL },
};
#define NTARGETS (sizeof targets / sizeof targets[0])

/* Reads every field, method and cached value of the event object, then
 * sends the event itself, a table of everything (JSON-encoded by the host),
 * a string, and opts with key/op/headers. */
static const char ALL_FIELDS_SCRIPT[] =
    "local json = require 'luagate.json'\n"
    "local fields = { 'name', 'EventName', 'Key', 'bucket', 'key', 'time', 'size', 'etag',\n"
    "  'content_type', 'version_id', 'metadata', 'principal', 'source_ip', 'region',\n"
    "  'record', 'Records', 'no_such_field' }\n"
    "return function(event, send)\n"
    "  local t = {}\n"
    "  for _, k in ipairs(fields) do t[k] = event[k]; t[k] = event[k] end\n"
    "  local doc, rec = event:json(), event:record_json()\n"
    "  local ok, dec = pcall(json.decode, rec)\n"
    "  t.decoded = ok and dec or nil\n"
    "  t.label = tostring(event)\n"
    "  send('webhook:1', event)\n"
    "  send('redis:acc', nil)\n"
    "  send('elasticsearch:es', event, { op = (#rec % 2 == 0) and 'delete' or 'upsert' })\n"
    "  send('webhook:1', t, { key = event.key, headers = { ['x-event'] = event.name } })\n"
    "  send('elasticsearch:es', doc, { key = event.Key })\n"
    "  send('redis:acc', json.encode(event.Records))\n"
    "end\n";

static struct router *default_router, *fields_router;
static struct event_batch in;
static struct route_out out;
static jsmntok_t *vtoks;
static size_t vcap;
static struct buf joined, unesc;

static char script_path[256];

/* The Lua state of a router, for a full GC after every input: garbage the
 * routers leave (event userdata, caches) would otherwise be freed during
 * later inputs, so most inputs would show more mallocs than frees and make
 * libFuzzer run a full LeakSanitizer scan after each (two thirds of the
 * time).  struct router is private to src/script.c; its first member is the
 * lua_State, which LLVMFuzzerInitialize checks through the allocator's
 * userdata (the router itself) before relying on it. */
static lua_State *router_state(struct router *r)
{
    return *(lua_State **)r;
}

static void check_router_state(struct router *r)
{
    void *ud = NULL;
    if (!lua_getallocf(router_state(r), &ud) || ud != r) {
        fprintf(stderr, "fuzz_body: struct router no longer starts with its lua_State: "
                        "update router_state()\n");
        exit(1);
    }
}

static void remove_script(void)
{
    if (*script_path)
        unlink(script_path);
}

static struct router *make_router(const char *script)
{
    struct router_limits lim = { .mem_bytes = 64u << 20, .instructions = 1000000 };
    char err[1024];
    struct router *r = router_new(script, targets, NTARGETS, &lim, err, sizeof err);
    if (!r) {
        fprintf(stderr, "fuzz_body: router_new(%s): %s\n", script ? script : "default", err);
        exit(1);
    }
    return r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(script_path, sizeof script_path, "%s/luagate-fuzz-body-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(script_path);
    if (fd < 0 || write(fd, ALL_FIELDS_SCRIPT, sizeof ALL_FIELDS_SCRIPT - 1) !=
                      (ssize_t)(sizeof ALL_FIELDS_SCRIPT - 1)) {
        perror("fuzz_body: the routing script");
        exit(1);
    }
    close(fd);
    atexit(remove_script);
    for (size_t i = 0; i < NTARGETS; i++)
        CHECK(shape_for(targets[i].kind, targets[i].format) == targets[i].shape);
    default_router = make_router(NULL);
    fields_router = make_router(script_path);
    check_router_state(default_router);
    check_router_state(fields_router);
    return 0;
}

/* The message's bytes joined; it must be one valid JSON value. */
static void check_json(const struct iovec *iov, int n)
{
    joined.len = 0;
    for (int i = 0; i < n; i++) {
        CHECK(iov[i].iov_base || !iov[i].iov_len);
        CHECK(!buf_put(&joined, iov[i].iov_base, iov[i].iov_len));
    }
    char err[256];
    int nt = json_tokenize(joined.p, joined.len, &vtoks, &vcap, err, sizeof err);
    if (nt < 0)
        fprintf(stderr, "fuzz_body: framed payload is not JSON (%s): %.*s\n", err,
                (int)(joined.len > 300 ? 300 : joined.len), joined.p);
    CHECK(nt > 0);
}

static void route_with(struct router *r, const struct event *ev)
{
    char err[1024];
    route_out_reset(&out);
    if (router_route(r, &in, ev, &out, err, sizeof err))
        return; /* a script error is an answer, not a crash */
    for (size_t i = 0; i < out.n; i++) {
        const struct routed *m = &out.v[i];
        CHECK(m->target >= 0 && (size_t)m->target < NTARGETS);
        CHECK(m->ev == ev);
        CHECK(m->niov >= 1 && m->niov <= 4);
        /* the host's framings and encodings, and the strings the script
         * sends (event:json(), json.encode), are all JSON */
        check_json(m->iov, m->niov);
        if (m->opts) {
            struct iovec o = { m->opts, strlen(m->opts) };
            check_json(&o, 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    if (size)
        memcpy(body, data, size);

    /* Go's url.QueryUnescape on the raw bytes */
    if (event_query_unescape(body, size, &unesc) == 0)
        CHECK(unesc.len <= size);

    char err[512];
    if (event_parse(&in, body, size, err, sizeof err) == 0) {
        CHECK(in.nev >= 1);
        for (size_t i = 0; i < in.nev; i++) {
            const struct event *ev = &in.ev[i];
            CHECK(ev->record >= body && ev->record + ev->record_len <= body + size);
            CHECK(ev->name && ev->key && ev->time);
            CHECK(strlen(ev->key) > ev->bucket_len && ev->key[ev->bucket_len] == '/');
            struct iovec iov[3];
            int n = event_envelope(ev, iov);
            CHECK(n == 1 || n == 3);
            check_json(iov, n);
            static const char *const paths[] = {
                "eventName", "eventTime", "s3.bucket.name", "s3.object.key", "s3.object.size",
                "s3.object.userMetadata.content-type", "userIdentity.principalId",
                "requestParameters.sourceIPAddress", "s3", "s3.", ".s3", "s3..bucket", "",
                "a.b.c.d.e.f.g.h",
            };
            for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
                const char *s = event_string(&in, ev, paths[p]);
                int t = event_token(&in, ev, paths[p]);
                CHECK(t >= -1 && t < in.ntoks);
                if (s)
                    CHECK(t >= 0);
            }
            route_with(default_router, ev);
            route_with(fields_router, ev);
        }
    }
    route_out_reset(&out);
    event_batch_reset(&in);
    lua_gc(router_state(default_router), LUA_GCCOLLECT);
    lua_gc(router_state(fields_router), LUA_GCCOLLECT);
    free(body);
    return 0;
}
