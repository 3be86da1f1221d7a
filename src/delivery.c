/* delivery.c -- one thread per target drains its queue through its driver.
 *
 * The loop peeks a batch, sends it, and acknowledges the longest prefix
 * that is settled: delivered, or dead-lettered.  Two kinds of failure are
 * told apart, because only one of them says anything about the message:
 *  - the target is unavailable (5xx, 408, 429, timeouts, refused or lost
 *    connections: MSG_RETRY): the target is offline with the reason, the
 *    batch is sent again after a backoff, forever; an outage delays its
 *    queue but never drains it into the dead-letter queue;
 *  - the target answered and condemned that one message (a 4xx other than
 *    408/429, a value the column rejects: MSG_REJECT): that counts one
 *    attempt, and at max_attempts the message goes to the dead-letter
 *    queue with the target's answer, so a poison message delays its queue
 *    for at most max_attempts tries (MinIO wedges there: minio#9115).
 * A target is online again only after it confirmed a delivery. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "delivery.h"
#include "dlq.h"
#include "latency.h"
#include "log.h"
#include "targetconf.h"

#define IDLE_HEALTH_MS 10000

/* Sleep up to ms, waking early when the gateway stops. */
static void nap(struct target *t, long long ms)
{
    while (ms > 0 && !atomic_load(&t->stop)) {
        long long step = ms > 100 ? 100 : ms;
        usleep((useconds_t)step * 1000);
        ms -= step;
    }
}

/* Exponential backoff with full jitter between half and all of the step. */
static long long backoff_ms(struct target *t, unsigned failures)
{
    long long d = t->retry_min_ms > 0 ? t->retry_min_ms : 100;
    for (unsigned i = 1; i < failures && d < t->retry_max_ms; i++)
        d *= 2;
    if (d > t->retry_max_ms)
        d = t->retry_max_ms;
    return d / 2 + (long long)(rand() % (int)(d / 2 + 1));
}

static void set_state(struct target *t, int online, const char *why)
{
    int old = atomic_exchange(&t->state, online ? TARGET_ONLINE : TARGET_OFFLINE);
    if (online) {
        target_set_error(t, "");
        if (old == TARGET_OFFLINE)
            log_info(t->conf->name, "online again");
    } else {
        target_set_error(t, why);
        log_once(LOG_WARN, t->conf->name, "offline: %s", why);
    }
}

/* What one batch delivered, added to the target's shared counters once per
 * batch rather than with five atomic operations per message. */
struct batch_tally {
    uint64_t now_ms, delivered, latency_ms_sum, buckets[LATENCY_BUCKETS];
};

static void tally_delivered(struct batch_tally *b, uint64_t enq_ms)
{
    uint64_t ms = b->now_ms > enq_ms ? b->now_ms - enq_ms : 0;
    b->delivered++;
    b->latency_ms_sum += ms;
    int i = latency_bucket(latency_bounds_ms, (double)ms);
    if (i >= 0)
        b->buckets[i]++;
}

static void tally_publish(struct target *t, const struct batch_tally *b)
{
    if (!b->delivered)
        return;
    atomic_fetch_add(&t->delivered, b->delivered);
    atomic_fetch_add(&t->latency_ms_sum, b->latency_ms_sum);
    atomic_fetch_add(&t->latency_count, b->delivered);
    for (int i = 0; i < LATENCY_BUCKETS; i++)
        if (b->buckets[i])
            atomic_fetch_add(&t->latency_buckets[i], b->buckets[i]);
}

/* What one batch settled and, if it stopped early, why. */
struct outcome {
    size_t settled;       /* messages acknowledged: delivered or dead-lettered */
    int delivered;        /* at least one confirmed by the target */
    int unavailable;      /* stopped at a MSG_RETRY: the target is down */
    const char *why;      /* why it stopped at a failure; NULL if it did not */
};

/* Move one message to the dead-letter queue; 0 on success. */
static int dead_letter(struct target *t, const struct msg *m, const char *why, unsigned attempts)
{
    char err[512];
    if (dlq_append(t->dlq_dir, t->conf->name, m, why, attempts, err, sizeof err)) {
        log_once(LOG_ERROR, t->conf->name, "%s", err);
        return -1;
    }
    atomic_fetch_add(&t->dead_lettered, 1);
    log_warn(t->conf->name, "message for %s moved to the dead-letter queue after %u attempt%s: %s",
             m->key && *m->key ? m->key : "(no key)", attempts, attempts == 1 ? "" : "s", why);
    return 0;
}

/* Walk a sent batch in order: tally deliveries, dead-letter condemned
 * messages at max_attempts, stop at the first message to send again.
 * *head_attempts carries the condemnations of the queue's head message
 * from one batch to the next. */
static struct outcome settle(struct target *t, struct msg *batch, size_t n, unsigned *head_attempts,
                             struct batch_tally *tally)
{
    struct outcome o = { 0 };
    for (size_t i = 0; i < n; i++) {
        struct msg *m = &batch[i];
        if (m->status == MSG_OK) {
            tally_delivered(tally, queue_peek_time(t->reader, i));
            *head_attempts = 0;
            o.settled++;
            o.delivered = 1;
            continue;
        }
        if (m->status == MSG_PENDING && i > 0) /* not sent: the driver stopped before it */
            return o;
        atomic_fetch_add(&t->failed, 1);
        if (m->status != MSG_REJECT) { /* unavailable: says nothing about the message */
            o.unavailable = 1;
            o.why = m->error[0] ? m->error : "not confirmed by the target";
            if (i > 0)
                *head_attempts = 0; /* the head is a new message now */
            return o;
        }
        unsigned attempts = (i == 0 ? *head_attempts : 0) + 1;
        const char *reason = m->error[0] ? m->error : "refused by the target";
        if (t->max_attempts && attempts >= t->max_attempts) {
            if (dead_letter(t, m, reason, attempts)) {
                o.why = "the dead-letter queue is not writable";
                *head_attempts = attempts; /* keep it queued */
                return o;
            }
            *head_attempts = 0;
            o.settled++;
            continue;
        }
        *head_attempts = attempts;
        o.why = reason;
        return o;
    }
    return o;
}

static void *delivery_main(void *arg)
{
    struct target *t = arg;
    char name[16];
    snprintf(name, sizeof name, "to:%s", t->conf->name);
    pthread_setname_np(pthread_self(), name); /* for top -H and /proc: best effort */
    size_t max = t->drv->max_batch ? t->drv->max_batch : 1;
    struct msg *batch = calloc(max, sizeof *batch);
    unsigned head_attempts = 0, failures = 0;
    uint64_t last_activity = clock_mono_ms();
    char err[512];
    if (!batch) {
        log_error(t->conf->name, "out of memory: delivery stopped");
        return NULL;
    }
    while (!atomic_load(&t->stop)) {
        int n = queue_peek(t->reader, batch, max, 500);
        /* the head of the queue is the oldest event still waiting (metrics) */
        atomic_store(&t->oldest_enq_ms, n > 0 ? queue_peek_time(t->reader, 0) : 0);
        if (n <= 0) {
            /* idle: keep /health honest about a target that went away */
            if (clock_mono_ms() - last_activity > IDLE_HEALTH_MS) {
                last_activity = clock_mono_ms();
                if (t->drv->health(t->ctx, err, sizeof err)) {
                    tconf_redact(t->conf, err, sizeof err);
                    set_state(t, 0, err);
                }
                else
                    set_state(t, 1, NULL);
            }
            continue;
        }
        last_activity = clock_mono_ms();
        for (int i = 0; i < n; i++)
            batch[i].status = MSG_PENDING, batch[i].error[0] = 0;
        int rc = t->drv->send(t->ctx, batch, (size_t)n);
        atomic_fetch_add(&t->batches, 1);
        for (int i = 0; i < n; i++) /* servers echo credentials in their errors */
            if (batch[i].status != MSG_OK && batch[i].error[0])
                tconf_redact(t->conf, batch[i].error, sizeof batch[i].error);
        struct batch_tally tally = { .now_ms = clock_wall_ms() };
        struct outcome o = settle(t, batch, (size_t)n, &head_attempts, &tally);
        tally_publish(t, &tally);
        if (o.settled && queue_ack(t->reader, o.settled))
            log_once(LOG_ERROR, t->conf->name, "cannot save the queue cursor (events may be sent again)");
        if (o.delivered && atomic_load(&t->state) != TARGET_ONLINE)
            set_state(t, 1, NULL);
        if (o.settled == (size_t)n || !o.why) { /* all settled, or the rest not sent yet */
            failures = 0;
            continue;
        }
        /* everything from the first unsettled message on is sent again later */
        atomic_fetch_add(&t->retried, (uint64_t)n - o.settled);
        failures++;
        if (o.unavailable || rc < 0)
            set_state(t, 0, o.why ? o.why : "delivery failed");
        else
            log_once(LOG_WARN, t->conf->name, "message refused (attempt %u of %u), will retry: %s",
                     head_attempts, t->max_attempts, o.why ? o.why : "");
        nap(t, backoff_ms(t, failures));
    }
    free(batch);
    return NULL;
}

int delivery_start(struct target *t)
{
    char err[512];
    t->ctx = t->drv->open(t->conf, err, sizeof err);
    if (!t->ctx) {
        tconf_redact(t->conf, err, sizeof err);
        log_error(t->conf->name, "cannot start: %s", err);
        return -1;
    }
    atomic_store(&t->state, TARGET_UNKNOWN);
    if (pthread_create(&t->thread, NULL, delivery_main, t)) {
        t->drv->close(t->ctx);
        t->ctx = NULL;
        return -1;
    }
    t->running = 1;
    return 0;
}

void delivery_stop(struct target *t)
{
    atomic_store(&t->stop, 1);
}

void delivery_join(struct target *t)
{
    if (t->running) {
        pthread_join(t->thread, NULL);
        t->running = 0;
    }
    if (t->ctx) {
        t->drv->close(t->ctx);
        t->ctx = NULL;
    }
}
