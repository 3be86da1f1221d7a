/* http.h -- the ingest HTTP server: its workers (each a loop, a listening
 * socket and a Lua state), what it counts, and its life cycle.  The
 * gateway embeds it; it knows the gateway only by name. */
#ifndef LUAGATE_HTTP_H
#define LUAGATE_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "latency.h"

struct gateway;
struct router;
struct worker; /* an ingest worker (http_conn.h) */

#define HTTP_CODES 9 /* 200 400 401 404 405 413 431 500 503 */
extern const int http_code_list[HTTP_CODES];

/* The monitoring paths of the ingest listener, counted apart from ingest
 * (conn.monitor is 1 + the index); /live and /ready only without admin_listen. */
#define HTTP_MONITOR_PATHS 4
extern const char *const http_monitor_paths[HTTP_MONITOR_PATHS];

struct http_server {
    struct worker *workers;   /* cfg.ingest_workers of them */
    size_t nworkers;
    atomic_int nconns;        /* open ingest connections, all workers */
    atomic_int ready, stopping;
    int *listen_fds;          /* bound by the supervisor, one per ingest worker; NULL: bind here */
    char *auth_header;        /* expected Authorization, or NULL */
    atomic_uint_fast64_t codes[HTTP_CODES];            /* ingest: everything but the two below */
    atomic_uint_fast64_t monitor_codes[HTTP_MONITOR_PATHS][HTTP_CODES]; /* GET/HEAD of http_monitor_paths */
    atomic_uint_fast64_t latency_buckets[LATENCY_BUCKETS], latency_us_sum, latency_count;
};

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
/* Hand worker i a fresh Lua state to swap in between two of its events. */
void http_give_router(struct gateway *gw, size_t i, struct router *r);
size_t http_npending(struct gateway *gw);  /* requests waiting, all workers */
uint64_t http_worker_requests(struct gateway *gw, size_t i);
/* When worker i's loop last turned (clock_mono_us), 0: not started. */
uint64_t http_worker_alive_us(struct gateway *gw, size_t i);
int http_port(struct gateway *gw);       /* the port bound (listen may say 0) */

#endif
