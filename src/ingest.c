/* ingest.c -- the ingest path of the HTTP server: a POST.
 *
 * Check the Authorization header, parse the body into events, route each
 * through the Lua state, append every resulting message to its target's
 * queue, and answer 200 only once the group commit made those appends
 * durable (a pending entry per request, answered from the durable event).
 * The pending entry of a closed connection is orphaned (its c is NULL),
 * never freed with the connection. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "dlq.h"
#include "heartbeat.h"
#include "http_conn.h"
#include "ingest.h"
#include "latency.h"
#include "log.h"
#include "tap.h"
#include "quarantine.h"

static void observe(struct gateway *gw, uint64_t start_us)
{
    uint64_t us = clock_mono_us() - start_us;
    atomic_fetch_add(&gw->http.latency_us_sum, us);
    atomic_fetch_add(&gw->http.latency_count, 1);
    int b = latency_bucket(latency_bounds_ms, (double)us / 1000.0);
    if (b >= 0)
        atomic_fetch_add(&gw->http.latency_buckets[b], 1);
}

/* Constant-time comparison of the Authorization header. */
static int authorized(struct gateway *gw, struct conn *c)
{
    if (!gw->http.auth_header)
        return 1;
    const char *got = c->auth;
    const char *want = gw->http.auth_header;
    size_t gl = c->auth_seen ? c->auth_len : 0, wl = strlen(want);
    while (gl && gl <= AUTH_MAX && (got[gl - 1] == ' ' || got[gl - 1] == '\t'))
        gl--;
    unsigned char diff = (unsigned char)(gl != wl);
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned char)(want[i] ^ (i < gl && i < AUTH_MAX ? got[i] : 0));
    return c->auth_seen && !diff;
}

/* Write iov (one message) to the dead-letter queue of target in dir. */
static int dead_letter_iov(const char *dir, const char *target, const struct iovec *iov, int n,
                           const struct event *ev, const char *key, size_t key_len, const char *opts,
                           const char *why)
{
    struct buf payload = { 0 };
    for (int i = 0; i < n; i++)
        if (buf_put(&payload, iov[i].iov_base, iov[i].iov_len)) {
            buf_free(&payload);
            return -1;
        }
    struct msg m = { .payload = payload.p, .payload_len = payload.len, .event_name = ev->name,
                     .key = key, .key_len = key_len, .event_time = ev->time,
                     .opts = opts };
    char err[512];
    int rc = dlq_append(dir, target, &m, why, 1, err, sizeof err);
    if (rc)
        log_once(LOG_ERROR, "ingest", "%s", err);
    buf_free(&payload);
    return rc;
}

/* A script that failed on an event: keep the event in the "_script"
 * dead-letter queue, with the error, so nothing acknowledged is lost. */
static int dead_letter_event(struct gateway *gw, const struct event *ev, const char *why)
{
    struct iovec iov[4];
    int n = event_envelope(ev, iov);
    return dead_letter_iov(gw->cfg.queue_dir, "_script", iov, n, ev, ev->key, ev->key_len, NULL, why);
}

/* A message no queue record can hold would be refused with 503 on every
 * retry of MinIO's: it goes to its target's dead-letter queue at once. */
static int dead_letter_oversized(struct target *t, const struct routed *m, const struct qrec *r,
                                 const char *why)
{
    if (dead_letter_iov(t->dlq_dir, t->conf->name, r->payload, r->npayload, m->ev, r->key, r->key_len, r->opts,
                        why))
        return -1;
    atomic_fetch_add(&t->dead_lettered, 1);
    log_warn(t->conf->name, "message for %s moved to the dead-letter queue: %s",
             *r->key ? r->key : "(no key)", why);
    return 0;
}

/* An event the supervisor quarantined (it took a worker down): MinIO's
 * retry of it goes to the dead-letter queue once, without the script.
 * 1: handled, 0: route it, -1: the dead-letter queue is unwritable. */
static int quarantined(struct gateway *gw, const struct event *ev, uint64_t id)
{
    int done = 0;
    const char *why = quarantine_reason(id, &done);
    if (!why)
        return 0;
    if (done)
        return 1;
    log_warn("script", "event %s %s was quarantined (%s): moved to the dead-letter queue _script "
             "without running the script", ev->name, ev->key, why);
    if (dead_letter_event(gw, ev, why))
        return -1;
    quarantine_dead_lettered(id);
    return 1;
}

static int grow_recs(struct qrec **recs, size_t *recs_cap, size_t n)
{
    if (n <= *recs_cap)
        return 0;
    size_t cap = *recs_cap ? *recs_cap : 64;
    while (cap < n)
        cap *= 2;
    struct qrec *r = realloc(*recs, cap * sizeof *r);
    if (!r)
        return -1;
    *recs = r;
    *recs_cap = cap;
    return 0;
}

/* The records of what was routed in *recs, grouped by journal in a[]
 * (in the order of gw->queues, the order every append locks them in);
 * a message too large for a record goes to its dead-letter queue here. */
static int collect_routed(struct gateway *gw, struct qrec **recs, size_t *recs_cap, struct route_out *o,
                          struct qappend *a, size_t *na, char *err, size_t errlen)
{
    size_t n = 0;
    *na = 0;
    if (grow_recs(recs, recs_cap, o->n))
        return snprintf(err, errlen, "out of memory"), -1;
    for (size_t qi = 0; qi < gw->nq; qi++) {
        struct queue *q = gw->queues[qi];
        size_t first = n;
        for (size_t i = 0; i < o->n; i++) {
            struct routed *m = &o->v[i];
            struct target *t = &gw->targets[m->target];
            if (t->q != q)
                continue;
            struct qrec *r = &(*recs)[n++];
            r->to = t->reader;
            memcpy(r->payload, m->iov, sizeof r->payload);
            r->npayload = m->niov;
            r->event_name = m->ev->name;
            r->key = m->key ? m->key : m->ev->key;
            /* the key whole: "b/a%00x" and "b/a%00y", or opts.key "a\0x" and "a\0y", are two rows */
            r->key_len = m->key ? m->key_len : m->ev->key_len;
            r->event_time = m->ev->time;
            r->opts = m->opts;
            r->op = (enum msg_op)m->op;
            char why[256];
            if (!queue_rec_fits(r, why, sizeof why)) {
                n--;
                if (dead_letter_oversized(t, m, r, why))
                    return snprintf(err, errlen, "%s: %s, and its dead-letter queue is not "
                                    "writable", t->conf->name, why), -1;
            }
        }
        if (n == first)
            continue;
        if (*na == MAX_QUEUES_PER_REQ) /* config_load refuses more directories */
            return snprintf(err, errlen, "too many queue directories"), -1;
        a[(*na)++] = (struct qappend){ .q = q, .recs = &(*recs)[first], .n = n - first };
    }
    return 0;
}

/* Append the collected records, all journals in one queue_append_all, so
 * that a request refused by one journal (full, disk error) leaves nothing
 * in the others for MinIO's retry to duplicate. */
static int append_collected(struct gateway *gw, struct route_out *o, struct qappend *a, size_t na,
                            struct pending *p, char *err, size_t errlen)
{
    for (size_t i = 0; i < na; i++)
        a[i].defer_kick = 1; /* the batch's end or ingest_replay wakes the committer */
    int rc = na ? queue_append_all(a, na, err, errlen) : 0;
    if (rc)
        return rc;
    for (size_t i = 0; i < na; i++) {
        p->q[p->nq] = a[i].q;
        p->ticket[p->nq++] = a[i].ticket;
    }
    for (size_t i = 0; i < o->n; i++)
        atomic_fetch_add(&gw->targets[o->v[i].target].routed, 1);
    return 0;
}

static struct pending *pending_new(struct worker *w)
{
    struct pending *p = w->free_pending;
    if (p)
        w->free_pending = p->next;
    else if (!(p = malloc(sizeof *p)))
        return NULL;
    p->next = NULL;
    p->c = NULL;
    p->nq = 0;
    p->events = 0;
    return p;
}

static void pending_put(struct worker *w, struct pending *p)
{
    p->next = w->free_pending;
    w->free_pending = p;
}

/* npending: written here only, read by the main thread for its log lines */
static void npending_add(struct worker *w, long d)
{
    size_t n = atomic_load_explicit(&w->npending, memory_order_relaxed);
    atomic_store_explicit(&w->npending, n + (size_t)d, memory_order_relaxed);
}

static int pending_done(struct pending *p, int *failed)
{
    *failed = 0; /* the durable end first: a failed commit moves it too, after its failure */
    for (int i = 0; i < p->nq; i++)
        if (queue_durable(p->q[i]) < p->ticket[i])
            return 0;
    for (int i = 0; i < p->nq; i++)
        if (queue_failed(p->q[i], p->ticket[i]))
            *failed = 1;
    return 1;
}

/* pending_done against durable positions read once per flush (a flush
 * looks at every waiting request).  A
 * ticket above the durable position cannot be failed either: a failed
 * commit moves both. */
#define SNAP_MAX 16
static int pending_done_snap(struct gateway *gw, const uint64_t *dur, struct pending *p, int *failed)
{
    *failed = 0;
    for (int i = 0; i < p->nq; i++) {
        size_t k = 0;
        while (k < gw->nq && gw->queues[k] != p->q[i])
            k++;
        uint64_t d = k < SNAP_MAX ? dur[k] : queue_durable(p->q[i]);
        if (d < p->ticket[i])
            return 0;
    }
    for (int i = 0; i < p->nq; i++)
        if (queue_failed(p->q[i], p->ticket[i]))
            *failed = 1;
    return 1;
}

/* Answer a request (its connection may be gone).  -1 if c was closed. */
static int complete(struct gateway *gw, struct pending *p, int failed)
{
    struct conn *c = p->c;
    int rc = 0;
    if (c)
        c->pend = NULL;
    if (failed) {
        if (c)
            rc = http_reply_error(c, 500, "the queue could not be made durable (disk error): retry");
        else
            count_code(gw, 500);
    } else if (c) {
        char body[64], *d = body;
        d = PUTS(d, "{\"status\":\"ok\",\"events\":");
        d = put_u64(d, p->events);
        d = PUTS(d, "}\n");
        rc = http_reply(c, 200, "application/json", body, (size_t)(d - body));
    } else {
        count_code(gw, 200); /* durable, but nobody left to tell */
    }
    observe(gw, p->start_us);
    return rc;
}

/* Answer every request whose appends are durable now.  The done ones are
 * taken off the list first: answering one may run the next pipelined
 * request of its connection, which adds to the list. */
static void flush_pending(struct gateway *gw, struct worker *w)
{
    struct pending *done = NULL, **dt = &done;
    struct pending **pp = &w->pending_head, *last = NULL;
    uint64_t dur[SNAP_MAX];
    for (size_t k = 0; k < gw->nq && k < SNAP_MAX; k++)
        dur[k] = queue_durable(gw->queues[k]);
    while (*pp) {
        struct pending *p = *pp;
        int failed;
        if (!pending_done_snap(gw, dur, p, &failed)) {
            last = p;
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        npending_add(w, -1);
        p->next = NULL;
        p->failed = failed;
        *dt = p;
        dt = &p->next;
    }
    w->pending_tail = last;
    while (done) {
        struct pending *p = done;
        done = p->next;
        struct conn *c = p->c;
        if (complete(gw, p, p->failed) == 0 && c)
            conn_drive(c);
        pending_put(w, p);
    }
}

/* p's journals are to be committed at the end of this loop batch.  The
 * kick event goes behind every socket the loop found ready with this one
 * (libevent runs its active events in order, the new ones last), so the
 * whole batch's appends form one group. */
static void kick_at_batch_end(struct gateway *gw, struct worker *w, const struct pending *p)
{
    for (int i = 0; i < p->nq; i++)
        for (size_t qi = 0; qi < gw->nq; qi++)
            if (gw->queues[qi] == p->q[i])
                w->kick_mask |= 1u << qi;
    event_active(w->kick_ev, EV_READ, 0);
}

/* Wake the committer for what the batch appended; or commit here when
 * the batch left one request waiting in this worker and nothing being
 * routed in slices: its client waits for that answer, and the loop has
 * nothing to do meanwhile but hand the commit over and wait to be woken.
 * With more waiting, the committer syncs while the loop reads the next
 * requests (they form the next group). */
void ingest_on_batch_end(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    struct gateway *gw = w->gw;
    unsigned mask = w->kick_mask;
    int lead = atomic_load_explicit(&w->npending, memory_order_relaxed) == 1 && !w->jobs;
    w->kick_mask = 0;
    for (size_t qi = 0; qi < gw->nq; qi++)
        if (mask & 1u << qi)
            queue_kick(gw->queues[qi], lead);
}

/* Draining (SIGTERM): the loop ends once no request waits, whether for
 * its commit or still being routed in slices. */
static void drain_check(struct worker *w)
{
    if (w->draining && !w->pending_head && !w->jobs)
        event_base_loopexit(w->base, NULL);
}

void ingest_on_durable_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    flush_pending(w->gw, w);
    drain_check(w);
}

/* A group commit happened: any worker may have requests it made durable. */
void ingest_on_durable(void *arg)
{
    struct gateway *gw = arg;
    for (size_t i = 0; i < gw->http.nworkers; i++)
        event_active(gw->http.workers[i].durable_ev, EV_READ, 0);
}

/* Route events *i.. of in into out until the slice's end (at least one
 * event); a failed event goes to _script's dead-letter queue.  -1 if that
 * queue cannot be written (err says so). */
static int route_some(struct gateway *gw, struct worker *w, struct event_batch *in, struct route_out *out,
                      size_t *i, uint64_t until_us, uint64_t *script_us, char *err, size_t errlen)
{
    struct router *router = gw->routers[w->id]; /* swapped by a reload only between slices */
    uint64_t t0 = clock_mono_us(), t1 = t0;
    while (*i < in->nev && (t1 == t0 || t1 < until_us)) {
        const struct event *ev = &in->ev[(*i)++];
        struct heartbeat_shared *hb = heartbeat_shm; /* the supervisor's watch: see supervisor.c */
        if (hb) {
            uint64_t id = heartbeat_event_id(ev->record, ev->record_len);
            int q = quarantined(gw, ev, id);
            if (q < 0) {
                snprintf(err, errlen, "a quarantined event could not be dead-lettered");
                return -1;
            }
            if (q)
                continue;
            heartbeat_routing(hb, w->id, id, t1);
        }
        atomic_fetch_add(&gw->script_runs, 1);
        size_t before = out->n;
        int rc = router_route(router, in, ev, out, err, errlen);
        if (hb)
            heartbeat_idle(hb, w->id);
        uint64_t t2 = clock_mono_us();
        if (tap_active()) /* one relaxed load when nobody taps */
            tap_event(gw, w->id, ev, out->v + before, rc ? 0 : out->n - before, (t2 - t1) * 1000, rc ? err : NULL);
        atomic_fetch_add(&gw->script_ns, (t2 - t1) * 1000);
        t1 = t2;
        if (rc) {
            atomic_fetch_add(&gw->script_errors, 1);
            log_once(LOG_ERROR, "script", "%s (event %s %s moved to the dead-letter queue _script)", err,
                     ev->name, ev->key);
            if (dead_letter_event(gw, ev, err)) {
                snprintf(err, errlen, "script failed and the dead-letter queue is unwritable");
                return -1;
            }
        }
    }
    *script_us += t1 - t0;
    return 0;
}

static void observe_script(struct gateway *gw, uint64_t us)
{
    atomic_fetch_add(&gw->script_req_ns, us * 1000);
    atomic_fetch_add(&gw->script_reqs, 1);
    int b = latency_bucket(latency_script_bounds_ms, (double)us / 1000.0);
    if (b >= 0)
        atomic_fetch_add(&gw->script_req_buckets[b], 1);
}

/* Every event of the request is routed: queue what it sent (pre: its
 * records collected and encoded already) and answer once durable.  -1 if
 * c was closed. */
static int ingest_finish(struct gateway *gw, struct worker *w, struct conn *c, size_t nev,
                         struct route_out *out, struct qappend *pre, size_t npre, uint64_t start)
{
    char err[1024];
    atomic_fetch_add(&gw->events_received, nev);
    struct pending *p = pending_new(w);
    if (!p) {
        route_out_reset(out);
        return http_reply_error(c, 500, "out of memory");
    }
    p->events = nev;
    p->start_us = start;
    struct qappend a[MAX_QUEUES_PER_REQ];
    size_t na = npre;
    int rc = pre ? 0 : collect_routed(gw, &w->recs, &w->recs_cap, out, a, &na, err, sizeof err);
    if (rc == 0)
        rc = append_collected(gw, out, pre ? pre : a, na, p, err, sizeof err);
    route_out_reset(out);
    if (rc) {
        /* nothing of it was appended anywhere: MinIO's retry is no duplicate */
        pending_put(w, p);
        if (rc != QUEUE_FULL)
            log_once(LOG_ERROR, "queue", "%s", err);
        return http_reply_error(c, 503, err);
    }
    p->c = c;
    if (!p->nq) { /* nothing to make durable */
        rc = complete(gw, p, 0);
        pending_put(w, p);
        return rc;
    }
    c->pend = p;
    if (w->pending_tail)
        w->pending_tail->next = p;
    else
        w->pending_head = p;
    w->pending_tail = p;
    npending_add(w, 1);
    kick_at_batch_end(gw, w, p);
    /* The commit may already have happened (queue_sync elsewhere); the
     * durable event answers it then, never this call (no re-entry). */
    int failed;
    if (pending_done(p, &failed))
        event_active(w->durable_ev, EV_READ, 0);
    return 0;
}

/* ---- requests routed in slices ------------------------------------------------ */

/* A request whose routing outlasts one slice takes the body, the parsed
 * events and the messages so far from the connection and the worker, and
 * goes on from a zero timer: the loop polls every socket between two
 * slices, so /health and other requests are answered meanwhile.  The
 * pending entry only tells whether the client is still there. */
#define SLICE_US 10000
/* Bytes of body parsed between two looks at the clock (~1 ms) */
#define PARSE_STEP_BYTES (256 << 10)

struct slice_job {
    struct slice_job *next;
    struct worker *w;
    struct pending *p;      /* p->c: the connection, NULL once it closed */
    struct event_batch in;
    char *body;
    struct route_out out;
    size_t done;            /* events routed */
    uint64_t start, script_us;
    struct event *timer;
    /* once routed: the records collected, then encoded a few at a time */
    int collected;
    struct qrec *recs;
    size_t recs_cap;
    struct qappend a[MAX_QUEUES_PER_REQ];
    size_t na, enc_q, enc_i; /* encoded: a[0..enc_q), and enc_i records of a[enc_q] */
    struct {
        char *p;
        size_t len, cap;
    } enc[MAX_QUEUES_PER_REQ];
};

static void job_free(struct slice_job *j)
{
    struct slice_job **pp = &j->w->jobs;
    while (*pp && *pp != j)
        pp = &(*pp)->next;
    if (*pp)
        *pp = j->next;
    if (j->p) {
        if (j->p->c)
            j->p->c->pend = NULL;
        pending_put(j->w, j->p);
    }
    if (j->timer)
        event_free(j->timer);
    route_out_free(&j->out);
    event_batch_free(&j->in);
    free(j->body);
    free(j->recs);
    for (size_t i = 0; i < MAX_QUEUES_PER_REQ; i++)
        free(j->enc[i].p);
    free(j);
}

static void job_next(struct slice_job *j)
{
    static const struct timeval zero = { 0, 0 };
    evtimer_add(j->timer, &zero);
}

/* Parse in until the slice's end: 1 if there is more, 0 when parsed, -1
 * if the body was refused (err says why). */
static int parse_some(struct event_batch *in, uint64_t until_us, char *err, size_t errlen)
{
    int rc;
    do
        rc = event_parse_step(in, PARSE_STEP_BYTES, err, errlen);
    while (rc > 0 && clock_mono_us() < until_us);
    return rc;
}

/* Encode the collected records until the slice's end, 64 at a time:
 * 1 if there is more, 0 when done, -1 out of memory. */
static int encode_some(struct slice_job *j, uint64_t until_us)
{
    while (j->enc_q < j->na) {
        struct qappend *a = &j->a[j->enc_q];
        size_t n = a->n - j->enc_i < 64 ? a->n - j->enc_i : 64;
        if (queue_encode(&j->enc[j->enc_q].p, &j->enc[j->enc_q].len, &j->enc[j->enc_q].cap,
                         a->recs + j->enc_i, n))
            return -1;
        j->enc_i += n;
        if (j->enc_i == a->n) {
            a->bytes = j->enc[j->enc_q].p;
            a->len = j->enc[j->enc_q].len;
            j->enc_q++;
            j->enc_i = 0;
        }
        if (j->enc_q < j->na && clock_mono_us() >= until_us)
            return 1;
    }
    return 0;
}

/* One slice of a job: parse, route, collect the records, encode them.
 * 1 if there is more to do, 0 when the records are ready to append, or
 * minus the HTTP status to answer with (err says why). */
static int job_step(struct slice_job *j, char *err, size_t errlen)
{
    struct gateway *gw = j->w->gw;
    uint64_t until = clock_mono_us() + SLICE_US;
    if (j->in.phase != EVENT_PARSE_DONE) /* routing starts in a slice of its own */
        return parse_some(&j->in, until, err, errlen) < 0 ? -400 : 1;
    if (j->done < j->in.nev) {
        if (route_some(gw, j->w, &j->in, &j->out, &j->done, until, &j->script_us, err, errlen))
            return -500;
        if (j->done < j->in.nev)
            return 1;
        observe_script(gw, j->script_us);
    }
    if (!j->collected) {
        if (collect_routed(gw, &j->recs, &j->recs_cap, &j->out, j->a, &j->na, err, errlen))
            return -503;
        j->collected = 1;
    }
    int rc = encode_some(j, until);
    if (rc < 0)
        return snprintf(err, errlen, "out of memory: retry"), -503;
    return rc;
}

/* The job's records are encoded: append them and answer once durable. */
static void job_finish(struct slice_job *j, struct conn *c)
{
    struct worker *w = j->w;
    struct route_out out = j->out;
    memset(&j->out, 0, sizeof j->out);
    c->pend = NULL;
    pending_put(w, j->p);
    j->p = NULL;
    int rc = ingest_finish(w->gw, w, c, j->in.nev, &out, j->a, j->na, j->start); /* copies what it queues */
    route_out_free(&out);
    job_free(j);
    if (rc == 0 && !c->pend)
        conn_drive(c);
}

static void on_slice(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct slice_job *j = arg;
    struct worker *w = j->w;
    struct conn *c = j->p->c;
    char err[1024];
    int rc = c ? job_step(j, err, sizeof err) : 0;
    if (!c) { /* the client left: nothing was acknowledged, it will retry */
        job_free(j);
    } else if (rc > 0) {
        job_next(j);
    } else if (rc < 0) {
        job_free(j);
        if (http_reply_error(c, -rc, err) == 0)
            conn_drive(c);
    } else {
        job_finish(j, c);
    }
    drain_check(w);
}

/* -1 if c was closed (never here: the request goes on later). */
static int slice_start(struct gateway *gw, struct worker *w, struct conn *c, size_t done, uint64_t start,
                       uint64_t script_us)
{
    struct slice_job *j = calloc(1, sizeof *j);
    struct pending *p = pending_new(w);
    if (!j || !p || !(j->timer = evtimer_new(w->base, on_slice, j))) {
        free(j);
        if (p)
            pending_put(w, p);
        route_out_reset(&w->out);
        return http_reply_error(c, 503, "out of memory: retry");
    }
    (void)gw;
    j->w = w;
    j->p = p;
    p->c = c;
    c->pend = p;
    j->in = w->in;
    memset(&w->in, 0, sizeof w->in);
    j->out = w->out;
    memset(&w->out, 0, sizeof w->out);
    j->body = c->body; /* the events point into it */
    c->body = NULL;
    c->body_cap = c->body_len = 0;
    j->done = done;
    j->start = start;
    j->script_us = script_us;
    j->next = w->jobs;
    w->jobs = j;
    job_next(j);
    return 0;
}

/* -1 if c was closed. */
int ingest_handle(struct gateway *gw, struct conn *c)
{
    struct worker *w = c->w;
    struct event_batch *in = &w->in;
    struct route_out *out = &w->out;
    char err[1024];
    uint64_t start = clock_mono_us();
    if (!authorized(gw, c))
        return http_reply_error(c, 401, "missing or wrong Authorization header");
    const char *body = c->body_len ? c->body : "";
    event_parse_begin(in, body, c->body_len);
    route_out_reset(out);
    size_t done = 0;
    uint64_t script_us = 0;
    int parsing = parse_some(in, start + SLICE_US, err, sizeof err);
    if (parsing < 0)
        return http_reply_error(c, 400, err);
    if (parsing)
        return slice_start(gw, w, c, done, start, script_us);
    if (route_some(gw, w, in, out, &done, start + SLICE_US, &script_us, err, sizeof err)) {
        route_out_reset(out);
        return http_reply_error(c, 500, err);
    }
    if (done < in->nev && c->body_len)
        return slice_start(gw, w, c, done, start, script_us);
    observe_script(gw, script_us);
    return ingest_finish(gw, w, c, in->nev, out, NULL, 0, start);
}


/* The admin API's check of the token: the same as ingest's. */
int ingest_authorized(struct gateway *gw, struct conn *c)
{
    return authorized(gw, c);
}

/* The admin API (admin_dlq.c): run one dead-lettered event envelope
 * through the current script again, as if MinIO had posted it, and wait
 * until what it routed is durable.  An event the script fails on again
 * goes back to _script's dead-letter queue, as at ingest.  -1 with err
 * when it could not be queued (full, disk error). */
int ingest_replay(struct worker *w, const char *body, size_t len, char *err, size_t errlen)
{
    struct gateway *gw = w->gw;
    struct event_batch in = { 0 };
    struct route_out out = { 0 };
    struct pending p = { 0 };
    size_t done = 0;
    uint64_t script_us = 0;
    struct qappend a[MAX_QUEUES_PER_REQ];
    size_t na = 0;
    int rc = event_parse(&in, body, len, err, errlen);
    while (!rc && done < in.nev)
        rc = route_some(gw, w, &in, &out, &done, UINT64_MAX, &script_us, err, errlen);
    if (!rc)
        rc = collect_routed(gw, &w->recs, &w->recs_cap, &out, a, &na, err, errlen);
    if (!rc && (rc = append_collected(gw, &out, a, na, &p, err, errlen)) == QUEUE_FULL)
        snprintf(err, errlen, "a target's queue is full (queue_limit)");
    for (int i = 0; !rc && i < p.nq; i++)
        queue_kick(p.q[i], 1);
    for (int i = 0; !rc && i < p.nq; i++) {
        int ms = 0; /* led above, or the committer makes it durable within a window */
        while (queue_durable(p.q[i]) < p.ticket[i] && !queue_failed(p.q[i], p.ticket[i]) && ms++ < 60000)
            usleep(1000);
        if (queue_durable(p.q[i]) < p.ticket[i] || queue_failed(p.q[i], p.ticket[i]))
            rc = (snprintf(err, errlen, "the queue could not be made durable (disk error)"), -1);
    }
    route_out_free(&out);
    event_batch_free(&in);
    return rc ? -1 : 0;
}

/* http_free: the scratch of a worker. */
void ingest_scratch_free(struct worker *w)
{
    while (w->jobs) { /* the worker's pending list is gone already */
        free(w->jobs->p);
        w->jobs->p = NULL;
        job_free(w->jobs);
    }
    event_batch_free(&w->in);
    route_out_free(&w->out);
    free(w->recs);
    w->recs = NULL;
    w->recs_cap = 0;
}
