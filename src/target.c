/* target.c -- one configured target outside its delivery loop: made from
 * its settings, attached to the journal it reads, its last error, and torn
 * down.  delivery.c runs it; metrics.c reads its counters. */
#include <stdio.h>
#include <string.h>
#include "target.h"

void target_init(struct target *t, struct target_conf *tc, const char *queue_dir)
{
    pthread_mutex_init(&t->lock, NULL);
    t->conf = tc;
    t->drv = tc->kind->drv;
    t->max_attempts = (unsigned)tconf_int(tc, "max_attempts");
    t->retry_min_ms = tconf_ms(tc, "retry_min");
    t->retry_max_ms = tconf_ms(tc, "retry_max");
    if (t->retry_max_ms < t->retry_min_ms)
        t->retry_max_ms = t->retry_min_ms;
    snprintf(t->dlq_dir, sizeof t->dlq_dir, "%s", queue_dir);
    atomic_store(&t->state, TARGET_UNKNOWN);
}

int target_attach(struct target *t, struct queue *q, char *err, size_t errlen)
{
    long long limit = tconf_int(t->conf, "queue_limit");
    t->q = q;
    t->reader = queue_reader(q, t->conf->name, limit > 0 ? (uint64_t)limit : 100000);
    if (!t->reader)
        return snprintf(err, errlen, "%s: cannot open its queue cursor in %s", t->conf->name, t->dlq_dir), -1;
    return 0;
}

void target_destroy(struct target *t)
{
    pthread_mutex_destroy(&t->lock);
}

void target_set_error(struct target *t, const char *msg)
{
    pthread_mutex_lock(&t->lock);
    snprintf(t->last_error, sizeof t->last_error, "%s", msg);
    pthread_mutex_unlock(&t->lock);
}

void target_error(struct target *t, char *out, size_t len)
{
    pthread_mutex_lock(&t->lock);
    snprintf(out, len, "%s", t->last_error);
    pthread_mutex_unlock(&t->lock);
}
