/* tap.h -- `luagate tap`: a live NDJSON stream of what the router decided,
 * one line per event, served on the admin listener (GET /tap).
 *
 * The ingest workers publish; each tapper has a bounded buffer the admin
 * thread moves to its connection.  Nobody tapping costs one relaxed atomic
 * load per event; a reader too slow for the stream loses lines, counted,
 * and never holds ingest back. */
#ifndef LUAGATE_TAP_H
#define LUAGATE_TAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct gateway;
struct event;
struct routed;
struct evhttp_request;

extern atomic_int tap_clients; /* tappers connected, all gateways of the process */

static inline int tap_active(void)
{
    return atomic_load_explicit(&tap_clients, memory_order_relaxed) != 0;
}

/* An event was routed by ingest worker `worker` in script_ns: it sent the
 * n messages m (error: the script's error, the event went to _script's
 * dead letters).  Call only when tap_active(). */
void tap_event(struct gateway *gw, unsigned worker, const struct event *ev, const struct routed *m, size_t n,
               uint64_t script_ns, const char *error);

/* GET /tap?target=&bucket=&prefix=&event=&payloads=1 (admin.c's table). */
void tap_serve(struct gateway *gw, struct evhttp_request *req);
/* The admin listener stops: forget every tapper (their connections are
 * closed by the listener). */
void tap_close_all(struct gateway *gw);
uint64_t tap_dropped_total(void); /* lines lost to slow readers, all tappers */

#endif
