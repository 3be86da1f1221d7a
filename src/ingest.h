/* ingest.h -- a POST of events: authorized, parsed and routed in slices of
 * the worker's loop, queued in every journal at once, and answered once
 * durable (the queue committer's callback wakes the worker). */
#ifndef LUAGATE_INGEST_H
#define LUAGATE_INGEST_H

#include <stddef.h>
#include <event2/util.h>

struct conn;
struct gateway;
struct worker;

/* The request on c is complete: handle it.  -1 if c was closed. */
int ingest_handle(struct gateway *gw, struct conn *c);
int ingest_authorized(struct gateway *gw, struct conn *c);
/* The queue committer's callback (any thread): wake the workers. */
void ingest_on_durable(void *arg);
/* A worker's durable_ev: answer what is durable now. */
void ingest_on_durable_event(evutil_socket_t fd, short what, void *arg);
void ingest_on_batch_end(evutil_socket_t fd, short what, void *arg);
/* luagate dlq requeue of _script: one envelope through the script again. */
int ingest_replay(struct worker *w, const char *body, size_t len, char *err, size_t errlen);
void ingest_scratch_free(struct worker *w); /* http_free: the worker's scratch */

#endif
