/* gateway.h -- the running gateway: configuration, queues, targets, the
 * routers and what they count; it embeds the ingest server (http.h). */
#ifndef LUAGATE_GATEWAY_H
#define LUAGATE_GATEWAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include "config.h"
#include "http.h"
#include "latency.h"
#include "queue.h"
#include "script.h"
#include "target.h"

struct event_base;

struct gateway {
    struct gw_config cfg;
    struct queue **queues;    /* one per distinct queue directory */
    size_t nq;
    struct target *targets;   /* in cfg.targets order */
    size_t nt;
    struct route_target *rt;  /* what the router sees */
    struct router **routers;  /* one Lua state per ingest worker, used by that worker only */
    struct event_base *base;  /* the main loop: signals, and ingest worker 0 */
    struct http_server http;  /* the ingest listener and its workers */
    struct admin *admin;      /* the admin listener (admin.h), NULL: none */
    pthread_t reload_thread;  /* SIGHUP compiles the new script there (gateway.c) */
    int reload_joinable;
    atomic_int reloading, reload_again;
    /* counters */
    atomic_uint_fast64_t events_received, script_runs, script_errors, script_ns;
    atomic_uint_fast64_t script_req_buckets[LATENCY_BUCKETS], script_req_ns, script_reqs; /* route() time per request */
    atomic_uint_fast64_t reloads_ok, reloads_failed;
    atomic_int_fast64_t script_loaded_ms; /* wall clock when the running script was compiled */
    atomic_int script_reload_failed;      /* the last reload failed (the old script runs) */
    struct script_watch *watch;           /* reload on change (script_watch.c), or NULL */
};

/* gateway.c */
/* Open the queues, targets' readers and the router (no threads yet). */
int gateway_open(struct gateway *gw, char *err, size_t errlen);
/* Start the group committers and the delivery threads. */
int gateway_start(struct gateway *gw, char *err, size_t errlen);
/* Stop delivery, close drivers and queues, free everything. */
void gateway_close(struct gateway *gw);
/* Recompile the script into a fresh state per ingest worker and hand
 * them over; all or none: a broken script keeps the old one everywhere. */
int gateway_reload(struct gateway *gw);
void gateway_print_arns(struct gateway *gw, FILE *f);
/* The route targets of a configuration (for check and the router). */
struct route_target *gateway_route_targets(struct gw_config *cfg);

#endif
