/* gateway.h -- the running gateway: configuration, queues, targets,
 * router and the ingest server, shared by main, http and metrics. */
#ifndef LUAGATE_GATEWAY_H
#define LUAGATE_GATEWAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include "config.h"
#include "queue.h"
#include "script.h"
#include "target.h"

struct worker; /* an ingest worker (http_conn.h) */
struct evbuffer;
struct event_base;
struct event;

#define HTTP_CODES 9 /* 200 400 401 404 405 413 431 500 503 */

struct gateway {
    struct gw_config cfg;
    struct queue **queues;    /* one per distinct queue directory */
    size_t nq;
    struct target *targets;   /* in cfg.targets order */
    size_t nt;
    struct route_target *rt;  /* what the router sees */
    struct router **routers;  /* one Lua state per ingest worker, used by that worker only */
    char *auth_header;        /* expected Authorization, or NULL */
    /* ingest */
    struct event_base *base;  /* the main loop: signals, and ingest worker 0 */
    struct worker *workers;   /* cfg.ingest_workers of them */
    size_t nworkers;
    atomic_int nconns;        /* open ingest connections, all workers */
    atomic_int ready, stopping;
    int *listen_fds;          /* bound by the supervisor, one per ingest worker; NULL: bind here */
    pthread_t reload_thread;  /* SIGHUP compiles the new script there (gateway.c) */
    int reload_joinable;
    atomic_int reloading, reload_again;
    /* counters */
    atomic_uint_fast64_t http_codes[HTTP_CODES];  /* ingest: everything but the two below */
    atomic_uint_fast64_t monitor_codes[2][HTTP_CODES]; /* GET/HEAD /health, /metrics */
    atomic_uint_fast64_t events_received, script_runs, script_errors, script_ns;
    atomic_uint_fast64_t script_req_buckets[12], script_req_ns, script_reqs; /* route() time per request */
    atomic_uint_fast64_t reloads_ok, reloads_failed;
    atomic_uint_fast64_t ingest_latency_buckets[12], ingest_latency_us_sum, ingest_latency_count;
};

extern const int http_code_list[HTTP_CODES];

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

/* http.c */
/* Bind n listening sockets on listen_addr (SO_REUSEPORT when n > 1) into fds. */
int http_bind(const char *listen_addr, size_t n, int *fds, char *err, size_t errlen);
/* Create the ingest workers and bind their listeners (no threads yet). */
int http_start(struct gateway *gw, char *err, size_t errlen);
/* Run workers 1..N-1 on threads of their own (worker 0 runs in gw->base). */
int http_spawn(struct gateway *gw, char *err, size_t errlen);
/* SIGTERM: every worker stops accepting, answers its requests once they
 * are durable (at most shutdown_timeout), then leaves its loop. */
void http_drain(struct gateway *gw);
void http_stop_now(struct gateway *gw); /* a second signal: leave every loop */
void http_join(struct gateway *gw);     /* wait for the worker threads */
void http_free(struct gateway *gw);
void ingest_on_durable(void *arg); /* the queue committer's callback */
/* Hand worker i a fresh Lua state to swap in between two of its events. */
void http_give_router(struct gateway *gw, size_t i, struct router *r);
size_t http_npending(struct gateway *gw);  /* requests waiting, all workers */
uint64_t http_worker_requests(struct gateway *gw, size_t i);
int http_port(struct gateway *gw);       /* the port bound (listen may say 0) */

/* metrics.c */
void metrics_render(struct gateway *gw, struct evbuffer *out);
extern const double script_bounds_ms[12]; /* luagate_script_seconds buckets */
void health_render(struct gateway *gw, struct evbuffer *out, int *status);

#endif
