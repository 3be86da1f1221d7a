/* http.c -- the ingest server (libevent evhttp).
 *
 * POST any path: parse the body into events, route each through the Lua
 * state, append every resulting message to its target's queue, and answer
 * 200 only once the group commit made those appends durable.  GET /health
 * and GET /metrics.  Errors are one-line JSON bodies naming the problem. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dlq.h"
#include "gateway.h"
#include "log.h"

const int http_code_list[HTTP_CODES] = { 200, 400, 401, 404, 405, 413, 500, 503 };

#define MAX_QUEUES_PER_REQ 8

struct pending {
    struct pending *next;
    struct evhttp_request *req;
    struct queue *q[MAX_QUEUES_PER_REQ];
    uint64_t ticket[MAX_QUEUES_PER_REQ];
    int nq;
    size_t events;
    uint64_t start_us;
};

/* Scratch reused by every request of the (single) ingest thread. */
static struct ingest scratch_in;
static struct route_out scratch_out;
static struct qrec *scratch_recs;
static size_t scratch_cap;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void count_code(struct gateway *gw, int code)
{
    for (int i = 0; i < HTTP_CODES; i++)
        if (http_code_list[i] == code) {
            atomic_fetch_add(&gw->http_codes[i], 1);
            return;
        }
}

static void observe(struct gateway *gw, uint64_t start_us)
{
    uint64_t us = now_us() - start_us;
    static const double bounds_ms[12] = { 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 30000 };
    atomic_fetch_add(&gw->ingest_latency_us_sum, us);
    atomic_fetch_add(&gw->ingest_latency_count, 1);
    for (int b = 0; b < 12; b++)
        if ((double)us / 1000.0 <= bounds_ms[b]) {
            atomic_fetch_add(&gw->ingest_latency_buckets[b], 1);
            break;
        }
}

static void reply(struct gateway *gw, struct evhttp_request *req, int code, const char *reason,
                  const char *json_body)
{
    struct evbuffer *out = evbuffer_new();
    if (out && json_body)
        evbuffer_add_printf(out, "%s\n", json_body);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    if (code == 503)
        evhttp_add_header(h, "Retry-After", "1");
    count_code(gw, code);
    evhttp_send_reply(req, code, reason, out);
    if (out)
        evbuffer_free(out);
}

static void reply_error(struct gateway *gw, struct evhttp_request *req, int code, const char *reason,
                        const char *msg)
{
    struct buf b = { 0 };
    if (buf_puts(&b, "{\"error\":") || json_quote(&b, msg, strlen(msg)) || buf_puts(&b, "}")) {
        buf_free(&b);
        reply(gw, req, code, reason, "{\"error\":\"out of memory\"}");
        return;
    }
    reply(gw, req, code, reason, b.p);
    buf_free(&b);
}

/* Constant-time comparison of the Authorization header. */
static int authorized(struct gateway *gw, struct evhttp_request *req)
{
    if (!gw->auth_header)
        return 1;
    const char *got = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    const char *want = gw->auth_header;
    size_t gl = got ? strlen(got) : 0, wl = strlen(want);
    unsigned char diff = (unsigned char)(gl != wl);
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned char)(want[i] ^ (i < gl ? got[i] : 0));
    return got && !diff;
}

/* A script that failed on an event: keep the event in the "_script"
 * dead-letter queue, with the error, so nothing acknowledged is lost. */
static int dead_letter_event(struct gateway *gw, const struct event *ev, const char *why)
{
    struct iovec iov[4];
    int n = event_envelope(ev, iov);
    struct buf payload = { 0 };
    for (int i = 0; i < n; i++)
        if (buf_put(&payload, iov[i].iov_base, iov[i].iov_len)) {
            buf_free(&payload);
            return -1;
        }
    struct msg m = { .payload = payload.p, .payload_len = payload.len, .event_name = ev->name,
                     .key = ev->key, .event_time = ev->time };
    char err[512];
    int rc = dlq_append(gw->cfg.queue_dir, "_script", &m, why, 1, err, sizeof err);
    if (rc)
        log_once(LOG_ERROR, "ingest", "%s", err);
    buf_free(&payload);
    return rc;
}

static int grow_recs(size_t n)
{
    if (n <= scratch_cap)
        return 0;
    size_t cap = scratch_cap ? scratch_cap : 64;
    while (cap < n)
        cap *= 2;
    struct qrec *r = realloc(scratch_recs, cap * sizeof *r);
    if (!r)
        return -1;
    scratch_recs = r;
    scratch_cap = cap;
    return 0;
}

/* Append what was routed, one queue_append per queue directory. */
static int append_routed(struct gateway *gw, struct pending *p, char *err, size_t errlen)
{
    struct route_out *o = &scratch_out;
    if (grow_recs(o->n))
        return snprintf(err, errlen, "out of memory"), -1;
    for (size_t qi = 0; qi < gw->nq; qi++) {
        struct queue *q = gw->queues[qi];
        size_t n = 0;
        for (size_t i = 0; i < o->n; i++) {
            struct routed *m = &o->v[i];
            struct target *t = &gw->targets[m->target];
            if (t->q != q)
                continue;
            struct qrec *r = &scratch_recs[n++];
            r->to = t->reader;
            memcpy(r->payload, m->iov, sizeof r->payload);
            r->npayload = m->niov;
            r->event_name = m->ev->name;
            r->key = m->key ? m->key : m->ev->key;
            r->event_time = m->ev->time;
            r->opts = m->opts;
            r->op = (enum msg_op)m->op;
        }
        if (!n)
            continue;
        if (p->nq == MAX_QUEUES_PER_REQ)
            return snprintf(err, errlen, "too many queue directories"), -1;
        int rc = queue_append(q, scratch_recs, n, &p->ticket[p->nq], err, errlen);
        if (rc)
            return rc;
        p->q[p->nq++] = q;
    }
    for (size_t i = 0; i < o->n; i++)
        atomic_fetch_add(&gw->targets[o->v[i].target].routed, 1);
    return 0;
}

static int pending_done(struct pending *p, int *failed)
{
    *failed = 0;
    for (int i = 0; i < p->nq; i++) {
        if (queue_failed(p->q[i], p->ticket[i]))
            *failed = 1;
        else if (queue_durable(p->q[i]) < p->ticket[i])
            return 0;
    }
    return 1;
}

static void complete(struct gateway *gw, struct pending *p, int failed)
{
    if (failed) {
        reply_error(gw, p->req, 500, "Internal Server Error",
                    "the queue could not be made durable (disk error): retry");
    } else {
        char body[64];
        snprintf(body, sizeof body, "{\"status\":\"ok\",\"events\":%zu}", p->events);
        reply(gw, p->req, 200, "OK", body);
    }
    observe(gw, p->start_us);
}

/* Answer every request whose appends are durable now. */
static void flush_pending(struct gateway *gw)
{
    struct pending **pp = &gw->pending_head, *last = NULL;
    while (*pp) {
        struct pending *p = *pp;
        int failed;
        if (!pending_done(p, &failed)) {
            last = p;
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        gw->npending--;
        complete(gw, p, failed);
        free(p);
    }
    gw->pending_tail = last;
}

static void on_durable_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gateway *gw = arg;
    flush_pending(gw);
    if (atomic_load(&gw->stopping) && !gw->pending_head)
        event_base_loopexit(gw->base, NULL);
}

void http_on_durable(void *arg)
{
    struct gateway *gw = arg;
    event_active(gw->durable_ev, EV_READ, 0);
}

static void handle_ingest(struct gateway *gw, struct evhttp_request *req)
{
    char err[1024];
    uint64_t start = now_us();
    if (!authorized(gw, req)) {
        reply_error(gw, req, 401, "Unauthorized", "missing or wrong Authorization header");
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "";
    if (!body) {
        reply_error(gw, req, 500, "Internal Server Error", "out of memory");
        return;
    }
    if (ingest_parse(&scratch_in, body, len, err, sizeof err)) {
        reply_error(gw, req, 400, "Bad Request", err);
        return;
    }
    route_out_reset(&scratch_out);
    for (size_t i = 0; i < scratch_in.nev; i++) {
        const struct event *ev = &scratch_in.ev[i];
        uint64_t t0 = now_us();
        atomic_fetch_add(&gw->script_runs, 1);
        int rc = router_route(gw->router, &scratch_in, ev, &scratch_out, err, sizeof err);
        atomic_fetch_add(&gw->script_ns, (now_us() - t0) * 1000);
        if (rc) {
            atomic_fetch_add(&gw->script_errors, 1);
            log_once(LOG_ERROR, "script", "%s (event %s %s moved to the dead-letter queue _script)", err,
                     ev->name, ev->key);
            if (dead_letter_event(gw, ev, err)) {
                reply_error(gw, req, 500, "Internal Server Error",
                            "script failed and the dead-letter queue is unwritable");
                return;
            }
        }
    }
    atomic_fetch_add(&gw->events_received, scratch_in.nev);
    struct pending *p = calloc(1, sizeof *p);
    if (!p) {
        reply_error(gw, req, 500, "Internal Server Error", "out of memory");
        return;
    }
    p->req = req;
    p->events = scratch_in.nev;
    p->start_us = start;
    int rc = append_routed(gw, p, err, sizeof err);
    route_out_reset(&scratch_out);
    if (rc) {
        /* what was appended to other queues stays: the client retries, and
         * delivery is at least once anyway */
        reply_error(gw, req, 503, "Service Unavailable", err);
        if (rc != QUEUE_FULL)
            log_once(LOG_ERROR, "queue", "%s", err);
        free(p);
        return;
    }
    if (!p->nq) { /* nothing to make durable */
        complete(gw, p, 0);
        free(p);
        return;
    }
    if (gw->pending_tail)
        gw->pending_tail->next = p;
    else
        gw->pending_head = p;
    gw->pending_tail = p;
    gw->npending++;
    /* the commit may already have happened (queue_sync elsewhere) */
    int failed;
    if (pending_done(p, &failed))
        flush_pending(gw);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct gateway *gw = arg;
    const char *uri = evhttp_request_get_uri(req);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd == EVHTTP_REQ_GET && uri && (!strcmp(uri, "/health") || !strncmp(uri, "/health?", 8))) {
        struct evbuffer *out = evbuffer_new();
        int code;
        health_render(gw, out, &code);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
        count_code(gw, code);
        evhttp_send_reply(req, code, code == 200 ? "OK" : "Service Unavailable", out);
        evbuffer_free(out);
        return;
    }
    if (cmd == EVHTTP_REQ_GET && uri && !strcmp(uri, "/metrics")) {
        struct evbuffer *out = evbuffer_new();
        metrics_render(gw, out);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "text/plain; version=0.0.4");
        count_code(gw, 200);
        evhttp_send_reply(req, 200, "OK", out);
        evbuffer_free(out);
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        reply_error(gw, req, 405, "Method Not Allowed",
                    "POST events to any path; GET /health or /metrics");
        return;
    }
    if (!atomic_load(&gw->ready) || atomic_load(&gw->stopping)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        reply_error(gw, req, 503, "Service Unavailable",
                    atomic_load(&gw->stopping) ? "shutting down" : "starting");
        return;
    }
    handle_ingest(gw, req);
}

int http_start(struct gateway *gw, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(gw->cfg.listen, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - gw->cfg.listen), gw->cfg.listen);
    if (host[0] == '[') { /* [::1]:9100 */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    if (!*host)
        snprintf(host, sizeof host, "0.0.0.0");
    int port = atoi(colon + 1);
    gw->http = evhttp_new(gw->base);
    gw->durable_ev = event_new(gw->base, -1, 0, on_durable_event, gw);
    if (!gw->http || !gw->durable_ev) {
        snprintf(err, errlen, "cannot create the HTTP server");
        return -1;
    }
    evhttp_set_max_body_size(gw->http, (ev_ssize_t)gw->cfg.body_limit);
    evhttp_set_max_headers_size(gw->http, 64 * 1024);
    evhttp_set_timeout(gw->http, 30); /* slow clients lose their connection */
    evhttp_set_flags(gw->http, EVHTTP_SERVER_LINGERING_CLOSE);
    evhttp_set_allowed_methods(gw->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                             EVHTTP_REQ_HEAD | EVHTTP_REQ_DELETE);
    evhttp_set_gencb(gw->http, on_request, gw);
    gw->listener = evhttp_bind_socket_with_handle(gw->http, host, (ev_uint16_t)port);
    if (!gw->listener) {
        snprintf(err, errlen, "cannot listen on %s (in use, or not a local address?)", gw->cfg.listen);
        return -1;
    }
    return 0;
}

void http_stop_accepting(struct gateway *gw)
{
    if (gw->listener) {
        evhttp_del_accept_socket(gw->http, gw->listener);
        gw->listener = NULL;
    }
}

void http_free(struct gateway *gw)
{
    while (gw->pending_head) { /* only on a forced stop */
        struct pending *p = gw->pending_head;
        gw->pending_head = p->next;
        reply_error(gw, p->req, 503, "Service Unavailable", "shutting down");
        free(p);
    }
    gw->pending_tail = NULL;
    if (gw->http)
        evhttp_free(gw->http);
    if (gw->durable_ev)
        event_free(gw->durable_ev);
    gw->http = NULL;
    gw->durable_ev = NULL;
    ingest_free(&scratch_in);
    route_out_free(&scratch_out);
    free(scratch_recs);
    scratch_recs = NULL;
    scratch_cap = 0;
}
