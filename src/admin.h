/* admin.h -- the admin listener (admin_listen): /live, /ready, /health,
 * /metrics, /tap and whatever an operator's tool needs, on a thread and
 * event loop of its own so that a busy ingest loop never delays a probe.
 * Its socket is bound by the supervisor and survives worker restarts, as
 * the ingest sockets do.  Without admin_listen the probes are answered on
 * the ingest listener (http.c) with the same rules (admin_probe_*). */
#ifndef LUAGATE_ADMIN_H
#define LUAGATE_ADMIN_H

#include <stddef.h>

struct gateway;
struct evhttp_request;

/* A handler of the dispatch table: answer req (now or later, as /tap). */
typedef void (*admin_handler)(struct gateway *gw, struct evhttp_request *req);

/* Serve the listening socket fd (bound by the supervisor; -1: no admin
 * listener, nothing to do) on a thread of its own.  -1 with err. */
int admin_start(struct gateway *gw, int fd, char *err, size_t errlen);
/* Stop the thread, close every admin connection (taps end). */
void admin_stop(struct gateway *gw);

/* The probes, for either listener: the status code (200 or 503) and a
 * one-line JSON body saying why in out. */
int admin_probe_live(struct gateway *gw, char *out, size_t len);
int admin_probe_ready(struct gateway *gw, char *out, size_t len);

/* Answer req with a JSON error body {"error": msg}. */
void admin_reply_error(struct evhttp_request *req, int code, const char *msg);

#endif
