/* target.h -- one configured target at run time: its driver, its queue
 * reader, its delivery thread and its counters.  Made and torn down by
 * target.c, run by delivery.c. */
#ifndef LUAGATE_TARGET_H
#define LUAGATE_TARGET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "driver.h"
#include "latency.h"
#include "queue.h"
#include "targetconf.h"

enum target_state { TARGET_UNKNOWN = -1, TARGET_OFFLINE = 0, TARGET_ONLINE = 1 };

struct target {
    struct target_conf *conf;  /* not owned */
    const struct driver *drv;
    void *ctx;
    struct queue *q;           /* the journal it reads, shared */
    struct qreader *reader;
    char dlq_dir[4096];
    unsigned max_attempts;
    long long retry_min_ms, retry_max_ms;
    /* delivery thread */
    pthread_t thread;
    int running;
    atomic_int stop;
    atomic_int state;          /* enum target_state */
    pthread_mutex_t lock;      /* last_error */
    char last_error[640];
    /* counters, read by /metrics */
    atomic_uint_fast64_t routed, delivered, failed, retried, dead_lettered, batches;
    atomic_uint_fast64_t latency_ms_sum, latency_count;
    atomic_uint_fast64_t oldest_enq_ms; /* enqueue time of the queue's head, 0: empty */
    atomic_uint_fast64_t latency_buckets[LATENCY_BUCKETS];
};

/* From its settings (max_attempts, retry_*), dead letters in queue_dir. */
void target_init(struct target *t, struct target_conf *tc, const char *queue_dir);
/* Its reader of q, the journal of queue_dir.  -1 with err on failure. */
int target_attach(struct target *t, struct queue *q, char *err, size_t errlen);
/* After delivery_join (and target_init in any case). */
void target_destroy(struct target *t);

void target_set_error(struct target *t, const char *msg);
void target_error(struct target *t, char *out, size_t len);

#endif
