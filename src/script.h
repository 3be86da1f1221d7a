/* script.h -- the router: one sandboxed Lua 5.4 state running the
 * operator's script (or lua/luagate/default.lua) for every event.
 *
 * The script returns a function route(event, send).  `send(target,
 * payload, opts)` records a message; nothing touches the network or the
 * disk while the script runs.  payload is the event itself (or nil) for
 * MinIO's shape for that target's kind, a string sent as is, or a table
 * encoded to JSON. */
#ifndef LUAGATE_SCRIPT_H
#define LUAGATE_SCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "driver.h" /* enum shape */
#include "event.h"

/* What the router knows of a configured target. */
struct route_target {
    const char *name;   /* "webhook:1" */
    const char *kind;   /* "webhook" */
    const char *format; /* "namespace", "access" or "" */
    const char *events; /* rules for the default router, comma separated */
    const char *prefix, *suffix;
    enum shape shape;
};

/* One message the script sent. */
struct routed {
    int target;               /* index into the router's targets */
    const struct event *ev;
    struct iovec iov[4];
    int niov;
    char *owned;              /* bytes owned by this message (freed with it) */
    char *opts;               /* JSON text of opts, or NULL */
    char *key;                /* key override, or NULL for the event's */
    size_t key_len;           /* bytes of key: a key set by a script may hold NULs */
    int op;                   /* enum msg_op */
};

struct route_out {
    struct routed *v;
    size_t n, cap;
};
void route_out_reset(struct route_out *o);
void route_out_free(struct route_out *o);

struct bucket_set;

/* What a router is built with besides its script and targets. */
struct router_limits {
    size_t mem_bytes;         /* allocator cap of the state, and of what send() holds */
    unsigned long instructions; /* per route() call, and for the top level */
    const struct bucket_set *buckets; /* bucket rules, as luagate.buckets; NULL: none */
    const char *env_allow;    /* script_env: names os.getenv may read, comma separated */
};

/* A state with script loaded (NULL: the default router).  NULL + err with
 * the file and line on a compile or load error. */
struct router *router_new(const char *script, const struct route_target *t, size_t nt,
                          const struct router_limits *lim, char *err, size_t errlen);
void router_free(struct router *r);
const char *router_script(const struct router *r);

/* Run the script for one event, appending what it sent to out.  -1 with
 * the script's error (file:line: message) in err: out is then rolled back
 * to where it was, so a failed event sends nothing.  route() runs in a
 * coroutine: past the instruction budget it is abandoned, whatever it
 * catches; a state that reached its memory cap is rebuilt from the script
 * before the next event. */
int router_route(struct router *r, struct event_batch *in, const struct event *ev,
                 struct route_out *out, char *err, size_t errlen);

/* The Lua sandbox (sandbox.c), shared with `luagate check` and the tests. */
void script_open_libs(lua_State *L, const char *script_dir);
/* os.getenv that reads only the names in allow (comma separated), never
 * one script_env_secret() names. */
void script_sandbox_env(lua_State *L, const char *allow);
int script_env_secret(const char *name);
/* Bytes the state of L may still allocate (its cap less what it and its
 * messages hold); a large number for a state without a cap. */
size_t script_mem_room(lua_State *L);
void script_mem_refused(lua_State *L); /* it was too small: rebuild the state after this event */
/* States rebuilt because they reached script_memory. */
uint64_t script_rebuild_count(void);
/* Count units instructions of C work done for the script of L; raises
 * once past its budget. */
void script_charge(lua_State *L, size_t units);
/* Registry key of the list of files the script's require loaded from its
 * directory (sandbox.c fills it). */
#define SCRIPT_MODULE_FILES "luagate.module_files"
/* Call fn for the script's file and each module file it required so far.
 * Only on the thread that owns r (before it is handed to a worker). */
void router_files(const struct router *r, void (*fn)(void *arg, const char *path), void *arg);
void script_set_source(const char *name); /* the log source of luagate.log */
int luaopen_luagate_log(lua_State *L);

#endif
