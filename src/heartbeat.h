/* heartbeat.h -- what the worker tells the supervisor, through memory the
 * supervisor maps (MAP_SHARED) before it forks: that its event loop turns,
 * that it is ready, and for each ingest worker thread which event it is
 * routing (a hash of the record's bytes) and since when.  The supervisor
 * writes back the counters /health and /metrics show.
 *
 * Without a supervisor (unit tests, subcommands) nothing is mapped and
 * every call here is a no-op. */
#ifndef LUAGATE_HEARTBEAT_H
#define LUAGATE_HEARTBEAT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"

struct heartbeat_slot {
    _Atomic uint64_t since_us; /* CLOCK_MONOTONIC µs routing began; 0: not routing */
    _Atomic uint64_t event;    /* heartbeat_event_id of the record being routed */
};

struct heartbeat_shared {
    _Atomic uint64_t beat_us;  /* the worker's main loop last turned */
    atomic_int ready;          /* the worker serves requests */
    _Atomic uint64_t restarts, quarantined; /* written by the supervisor */
    atomic_int stopping;       /* the supervisor was told to stop: /ready says so at once (admin.c) */
    /* which thread took a fatal signal (heartbeat_crashed): written by the
     * worker's handler just before it dies; 0: unknown (never written, or
     * the signal came from kill(2), or the kernel killed without a handler) */
    atomic_uint crashed;
    struct heartbeat_slot slot[INGEST_WORKERS_MAX];
};

/* The supervisor: map the block (before the first fork).  NULL on failure. */
struct heartbeat_shared *heartbeat_map(void);
/* The worker: the block its supervisor mapped, for the calls below. */
void heartbeat_attach(struct heartbeat_shared *hb);
int heartbeat_supervised(void);

/* The identity of an event: a keyed hash of its record's bytes, the same for
 * MinIO's retry of it (it sends the same bytes) and never 0. */
uint64_t heartbeat_event_id(const char *record, size_t len);

/* heartbeat_shared.crashed: slot + 1 of the ingest worker thread that
 * crashed while routing, or this for a thread that was not routing. */
#define HEARTBEAT_CRASHED_ELSEWHERE (INGEST_WORKERS_MAX + 1u)
/* slot + 1 while this thread routes an event, else 0: what the fatal-signal
 * handler reports (heartbeat_on_fatal_signals). */
extern _Thread_local unsigned heartbeat_self;

/* Around one route() call of ingest worker thread `slot`. */
static inline void heartbeat_routing(struct heartbeat_shared *hb, unsigned slot, uint64_t event,
                                     uint64_t now_us)
{
    heartbeat_self = slot + 1;
    atomic_store_explicit(&hb->slot[slot].event, event, memory_order_relaxed);
    atomic_store_explicit(&hb->slot[slot].since_us, now_us ? now_us : 1, memory_order_release);
}
static inline void heartbeat_idle(struct heartbeat_shared *hb, unsigned slot)
{
    atomic_store_explicit(&hb->slot[slot].since_us, 0, memory_order_release);
    heartbeat_self = 0;
}
/* The mapped block, or NULL when not supervised (callers test it once). */
extern struct heartbeat_shared *heartbeat_shm;

/* The worker: a fatal signal (SIGSEGV, SIGABRT...) raised by one of its
 * threads first names that thread in the shared block, so the supervisor
 * quarantines only the event that thread was routing.  0 or -1 (errno). */
int heartbeat_on_fatal_signals(void);

void heartbeat_beat(void);       /* from a timer of the main loop */
void heartbeat_ready(int ready);
uint64_t heartbeat_restarts(void);
uint64_t heartbeat_quarantined(void);

#endif
