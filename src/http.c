/* http.c -- the ingest server: a lean HTTP/1.1 server on libevent's loop.
 *
 * POST any path: parse the body into events, route each through the Lua
 * state, append every resulting message to its target's queue, and answer
 * 200 only once the group commit made those appends durable.  GET /health
 * and GET /metrics.  Errors are one-line JSON bodies naming the problem.
 *
 * Why not evhttp: it cost ~38k instructions per request (reply formatting
 * with vsnprintf, header lists searched with strcasecmp, several mallocs
 * and ~7 syscalls per request).  Here a connection owns one input buffer,
 * one body buffer and one output buffer, reused by every request on it;
 * Debian's http-parser does the parsing (no hand-written HTTP parser), a
 * response is formatted with memcpy and leaves in one send().
 *
 * A connection handles one request at a time, in order: when a request is
 * complete the parser is paused, and bytes of pipelined requests wait in
 * the input buffer until the response went out.  Reading goes on while a
 * request waits for its group commit, so a reset is noticed; the pending
 * entry of a closed connection is orphaned (its c is NULL), never freed
 * with the connection.
 *
 * Limits: head 64 KiB (431), body cfg.body_limit (413, before the body
 * when Content-Length says so, and for chunked bodies as they arrive),
 * 10 s to send a head, 30 s for a body, 60 s idle between keep-alive
 * requests, 30 s for a client to take a response (checked by a sweep
 * once a second: a request only stores a deadline), HTTP_MAX_CONNS
 * connections (more are accepted and closed at once).  A connection costs
 * ~18 KiB (its 16 KiB input buffer inline), plus its body buffer while
 * that is at most 64 KiB.
 *
 * TLS (tls_cert + tls_key): the listener then speaks HTTPS only.  OpenSSL
 * runs on the same non-blocking socket: the handshake is driven by the
 * read and write events before the first request, under the head timeout;
 * afterwards reads and writes go through SSL_read/SSL_write, which map
 * "want read/write" to EAGAIN, so every rule above (keep-alive,
 * pipelining, 100-continue, early 413, timeouts, the cap) is the same code
 * for both.  Plain connections keep their own read/write callbacks; they
 * pay one test of c->ssl per send and per conn_drive.
 * OpenSSL reads ahead: bytes it holds do not make the socket readable, so
 * a connection with such bytes is woken by hand whenever room is made in
 * its input buffer (tls_kick).  A plain HTTP request to the TLS port gets
 * a plain 400 naming the problem.  SIGHUP reloads the certificate and key
 * (new connections use them; a failed reload keeps the old ones). */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <http_parser.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "dlq.h"
#include "gateway.h"
#include "log.h"

const int http_code_list[HTTP_CODES] = { 200, 400, 401, 404, 405, 413, 431, 500, 503 };

#define MAX_QUEUES_PER_REQ 8
#define HTTP_MAX_CONNS 4096
#define HEAD_MAX (64 * 1024)   /* request line + headers */
#define IN_CAP (16 * 1024)     /* input buffer of a connection */
#define URL_MAX 256            /* enough to recognise /health and /metrics */
#define AUTH_MAX 1024
#define HEAD_TIMEOUT_S 10
#define BODY_TIMEOUT_S 30
#define IDLE_TIMEOUT_S 60
#define WRITE_TIMEOUT_S 30
#define LINGER_TIMEOUT_S 2
#define KEEP_BODY_CAP (64 * 1024) /* larger body buffers are freed after use */
#define KEEP_OUT_CAP (64 * 1024)

enum phase {
    P_IDLE,   /* between requests */
    P_HEAD,   /* reading a request line and headers */
    P_BODY,   /* reading a body */
    P_BUSY,   /* request complete: routing, waiting for durability, or writing */
    P_LINGER, /* answered an error and shut down writing: drain, then close */
};

enum hdr { H_OTHER, H_AUTH, H_EXPECT };

struct conn {
    struct conn *prev, *next;
    int fd;
    SSL *ssl;               /* NULL: plain HTTP */
    enum phase phase;
    struct event *rev, *wev;
    uint64_t deadline;      /* srv.now when it is cut; 0: none */
    http_parser p;
    struct pending *pend;
    /* request state */
    unsigned keep_alive : 1, http10 : 1, close_after : 1, linger : 1, peer_eof : 1, rpaused : 1,
        wpending : 1, resp_queued : 1, auth_seen : 1, hdr_in_value : 1, is_head : 1,
        hs : 1,       /* TLS handshake not done yet */
        tls_ok : 1,   /* TLS up and sane: close with a close_notify */
        tls_rww : 1;  /* SSL_read wants the socket writable */
    enum hdr cur;
    int err_code;           /* set by a callback that refused the request */
    size_t head_bytes;
    size_t field_len, url_len, auth_len, expect_len;
    char field[16];
    char expect[16];
    char url[URL_MAX];
    char auth[AUTH_MAX];
    /* buffers */
    char *body;
    size_t body_len, body_cap;
    char *out;
    size_t out_off, out_len, out_cap;
    size_t in_off, in_len;
    char in[IN_CAP];
};

struct pending {
    struct pending *next;
    struct conn *c; /* NULL once the client went away */
    struct queue *q[MAX_QUEUES_PER_REQ];
    uint64_t ticket[MAX_QUEUES_PER_REQ];
    int nq, failed;
    size_t events;
    uint64_t start_us;
};

/* The server (one ingest thread, one gateway per process). */
static struct {
    struct gateway *gw;
    struct evconnlistener *lev;
    struct event *retry_ev;
    struct conn *conns;
    size_t nconns;
    struct event *sweep_ev; /* once a second while connections are open */
    uint64_t now;           /* seconds, monotonic, updated by the sweep */
    http_parser_settings settings;
    struct pending *free_pending;
    struct evbuffer *render; /* /health and /metrics */
    struct buf err;          /* error bodies */
    SSL_CTX *tls;            /* NULL: plain HTTP */
    struct event *hup_ev;    /* SIGHUP: reload the certificate */
} srv;

/* Scratch reused by every request of the (single) ingest thread. */
static struct ingest scratch_in;
static struct route_out scratch_out;
static struct qrec *scratch_recs;
static size_t scratch_cap;

static int conn_flush(struct conn *c);
static void conn_close(struct conn *c);
static ssize_t tls_recv(struct conn *c, char *buf, size_t len);
static ssize_t tls_send(struct conn *c, const char *p, size_t n);
static int tls_handshake(struct conn *c);
static void tls_close_notify(struct conn *c);
static void tls_kick(struct conn *c);

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

/* ---- responses ---------------------------------------------------------- */

static const char *reason_of(int code)
{
    switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

static int out_reserve(struct conn *c, size_t n)
{
    if (c->out_len + n <= c->out_cap)
        return 0;
    size_t cap = c->out_cap ? c->out_cap : 512;
    while (cap < c->out_len + n)
        cap *= 2;
    char *p = realloc(c->out, cap);
    if (!p)
        return -1;
    c->out = p;
    c->out_cap = cap;
    return 0;
}

static char *put(char *d, const char *s, size_t n)
{
    memcpy(d, s, n);
    return d + n;
}
#define PUTS(d, lit) put(d, lit, sizeof lit - 1)

static char *put_u64(char *d, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10));
    while (n)
        *d++ = tmp[--n];
    return d;
}

/* Queue the status line and headers of a response with a body of blen
 * bytes; return where the body goes (room for blen is reserved), or NULL
 * when out of memory (the connection is then to be closed). */
static char *start_response(struct conn *c, int code, const char *ctype, size_t blen)
{
    struct gateway *gw = srv.gw;
    if (atomic_load(&gw->stopping) || !c->keep_alive)
        c->close_after = 1;
    const char *reason = reason_of(code);
    size_t rl = strlen(reason), cl = strlen(ctype);
    if (out_reserve(c, 160 + rl + cl + blen))
        return NULL;
    char *d = c->out + c->out_len;
    d = PUTS(d, "HTTP/1.1 ");
    d = put_u64(d, (uint64_t)code);
    *d++ = ' ';
    d = put(d, reason, rl);
    d = PUTS(d, "\r\nContent-Type: ");
    d = put(d, ctype, cl);
    d = PUTS(d, "\r\nContent-Length: ");
    d = put_u64(d, blen);
    if (code == 503)
        d = PUTS(d, "\r\nRetry-After: 1");
    else if (code == 405)
        d = PUTS(d, "\r\nAllow: GET, POST");
    if (c->close_after)
        d = PUTS(d, "\r\nConnection: close");
    else if (c->http10)
        d = PUTS(d, "\r\nConnection: keep-alive");
    d = PUTS(d, "\r\n\r\n");
    c->out_len = (size_t)(d - c->out);
    count_code(gw, code);
    return d;
}

/* Queue a whole response and send it.  -1 if c was closed. */
static int reply(struct conn *c, int code, const char *ctype, const char *body, size_t blen)
{
    char *d = start_response(c, code, ctype, blen);
    if (!d) {
        conn_close(c);
        return -1;
    }
    if (!c->is_head) { /* HEAD: the headers only */
        memcpy(d, body, blen);
        c->out_len += blen;
    }
    c->resp_queued = 1;
    return conn_flush(c);
}

static int reply_error(struct conn *c, int code, const char *msg)
{
    struct buf *b = &srv.err;
    b->len = 0;
    if (buf_puts(b, "{\"error\":") || json_quote(b, msg, strlen(msg)) || buf_puts(b, "}\n"))
        return reply(c, code, "application/json", "{\"error\":\"out of memory\"}\n", 26);
    return reply(c, code, "application/json", b->p, b->len);
}

/* /health and /metrics render into an evbuffer; copy it out. */
static int reply_render(struct conn *c, int code, const char *ctype)
{
    size_t n = evbuffer_get_length(srv.render);
    char *d = start_response(c, code, ctype, n);
    if (!d) {
        evbuffer_drain(srv.render, n);
        conn_close(c);
        return -1;
    }
    evbuffer_remove(srv.render, d, n);
    c->out_len += n;
    c->resp_queued = 1;
    return conn_flush(c);
}

/* ---- the ingest path ----------------------------------------------------- */

/* Constant-time comparison of the Authorization header. */
static int authorized(struct gateway *gw, struct conn *c)
{
    if (!gw->auth_header)
        return 1;
    const char *got = c->auth;
    const char *want = gw->auth_header;
    size_t gl = c->auth_seen ? c->auth_len : 0, wl = strlen(want);
    while (gl && gl <= AUTH_MAX && (got[gl - 1] == ' ' || got[gl - 1] == '\t'))
        gl--;
    unsigned char diff = (unsigned char)(gl != wl);
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned char)(want[i] ^ (i < gl && i < AUTH_MAX ? got[i] : 0));
    return c->auth_seen && !diff;
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

static struct pending *pending_new(void)
{
    struct pending *p = srv.free_pending;
    if (p)
        srv.free_pending = p->next;
    else if (!(p = malloc(sizeof *p)))
        return NULL;
    p->next = NULL;
    p->c = NULL;
    p->nq = 0;
    p->events = 0;
    return p;
}

static void pending_put(struct pending *p)
{
    p->next = srv.free_pending;
    srv.free_pending = p;
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

/* pending_done against durable positions read once per flush (each read
 * takes the queue's lock; a flush looks at every waiting request).  A
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
            rc = reply_error(c, 500, "the queue could not be made durable (disk error): retry");
        else
            count_code(gw, 500);
    } else if (c) {
        char body[64], *d = body;
        d = PUTS(d, "{\"status\":\"ok\",\"events\":");
        d = put_u64(d, p->events);
        d = PUTS(d, "}\n");
        rc = reply(c, 200, "application/json", body, (size_t)(d - body));
    } else {
        count_code(gw, 200); /* durable, but nobody left to tell */
    }
    observe(gw, p->start_us);
    return rc;
}

static void conn_drive(struct conn *c);

/* Answer every request whose appends are durable now.  The done ones are
 * taken off the list first: answering one may run the next pipelined
 * request of its connection, which adds to the list. */
static void flush_pending(struct gateway *gw)
{
    struct pending *done = NULL, **dt = &done;
    struct pending **pp = &gw->pending_head, *last = NULL;
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
        gw->npending--;
        p->next = NULL;
        p->failed = failed;
        *dt = p;
        dt = &p->next;
    }
    gw->pending_tail = last;
    while (done) {
        struct pending *p = done;
        done = p->next;
        struct conn *c = p->c;
        if (complete(gw, p, p->failed) == 0 && c)
            conn_drive(c);
        pending_put(p);
    }
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

/* -1 if c was closed. */
static int handle_ingest(struct gateway *gw, struct conn *c)
{
    char err[1024];
    uint64_t start = now_us();
    if (!authorized(gw, c))
        return reply_error(c, 401, "missing or wrong Authorization header");
    const char *body = c->body_len ? c->body : "";
    if (ingest_parse(&scratch_in, body, c->body_len, err, sizeof err))
        return reply_error(c, 400, err);
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
                route_out_reset(&scratch_out);
                return reply_error(c, 500, "script failed and the dead-letter queue is unwritable");
            }
        }
    }
    atomic_fetch_add(&gw->events_received, scratch_in.nev);
    struct pending *p = pending_new();
    if (!p) {
        route_out_reset(&scratch_out);
        return reply_error(c, 500, "out of memory");
    }
    p->events = scratch_in.nev;
    p->start_us = start;
    int rc = append_routed(gw, p, err, sizeof err);
    route_out_reset(&scratch_out);
    if (rc) {
        /* what was appended to other queues stays: the client retries, and
         * delivery is at least once anyway */
        pending_put(p);
        if (rc != QUEUE_FULL)
            log_once(LOG_ERROR, "queue", "%s", err);
        return reply_error(c, 503, err);
    }
    p->c = c;
    if (!p->nq) { /* nothing to make durable */
        rc = complete(gw, p, 0);
        pending_put(p);
        return rc;
    }
    c->pend = p;
    if (gw->pending_tail)
        gw->pending_tail->next = p;
    else
        gw->pending_head = p;
    gw->pending_tail = p;
    gw->npending++;
    /* The commit may already have happened (queue_sync elsewhere); the
     * durable event answers it then, never this call (no re-entry). */
    int failed;
    if (pending_done(p, &failed))
        event_active(gw->durable_ev, EV_READ, 0);
    return 0;
}

static int path_is(const struct conn *c, const char *path, int query_ok)
{
    size_t n = strlen(path);
    if (c->url_len < n || c->url_len > URL_MAX || memcmp(c->url, path, n))
        return 0;
    return c->url_len == n || (query_ok && c->url[n] == '?');
}

/* A complete request.  -1 if c was closed. */
static int handle_request(struct conn *c)
{
    struct gateway *gw = srv.gw;
    unsigned method = c->p.method;
    if (method == HTTP_GET && path_is(c, "/health", 1)) {
        int code;
        health_render(gw, srv.render, &code);
        return reply_render(c, code, "application/json");
    }
    if (method == HTTP_GET && path_is(c, "/metrics", 0)) {
        metrics_render(gw, srv.render);
        return reply_render(c, 200, "text/plain; version=0.0.4");
    }
    if (method != HTTP_POST)
        return reply_error(c, 405, "POST events to any path; GET /health or /metrics");
    if (!atomic_load(&gw->ready) || atomic_load(&gw->stopping)) {
        c->close_after = 1;
        return reply_error(c, 503, atomic_load(&gw->stopping) ? "shutting down" : "starting");
    }
    return handle_ingest(gw, c);
}

/* ---- parser callbacks ------------------------------------------------------ */

static int head_add(struct conn *c, size_t n)
{
    c->head_bytes += n;
    if (c->head_bytes > HEAD_MAX) {
        c->err_code = 431;
        return -1;
    }
    return 0;
}

static int on_message_begin(http_parser *p)
{
    struct conn *c = p->data;
    c->phase = P_HEAD;
    c->head_bytes = c->field_len = c->url_len = c->auth_len = c->expect_len = 0;
    c->auth_seen = c->hdr_in_value = c->is_head = 0;
    c->cur = H_OTHER;
    c->body_len = 0;
    c->deadline = srv.now + HEAD_TIMEOUT_S;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (head_add(c, n))
        return -1;
    if (c->url_len + n <= URL_MAX)
        memcpy(c->url + c->url_len, at, n);
    c->url_len += n;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (head_add(c, n))
        return -1;
    if (c->hdr_in_value) { /* a new header */
        c->hdr_in_value = 0;
        c->field_len = 0;
    }
    if (c->field_len + n <= sizeof c->field)
        memcpy(c->field + c->field_len, at, n);
    c->field_len += n;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (head_add(c, n))
        return -1;
    if (!c->hdr_in_value) { /* the name is complete: is it one we want? */
        c->hdr_in_value = 1;
        c->cur = H_OTHER;
        if (c->field_len == 13 && !strncasecmp(c->field, "Authorization", 13) && !c->auth_seen) {
            c->cur = H_AUTH;
            c->auth_seen = 1;
        } else if (c->field_len == 6 && !strncasecmp(c->field, "Expect", 6)) {
            c->cur = H_EXPECT;
            c->expect_len = 0;
        }
    }
    if (c->cur == H_AUTH) {
        if (c->auth_len + n <= AUTH_MAX)
            memcpy(c->auth + c->auth_len, at, n);
        c->auth_len += n; /* longer than AUTH_MAX: never equal */
    } else if (c->cur == H_EXPECT) {
        if (c->expect_len + n <= sizeof c->expect)
            memcpy(c->expect + c->expect_len, at, n);
        c->expect_len += n;
    }
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct conn *c = p->data;
    struct gateway *gw = srv.gw;
    c->hdr_in_value = 0;
    int chunked = (p->flags & F_CHUNKED) != 0;
    uint64_t cl = p->content_length;
    if (!chunked && cl != ULLONG_MAX && cl > gw->cfg.body_limit) {
        c->err_code = 413; /* before reading the body */
        return -1;
    }
    c->phase = P_BODY;
    if (!chunked && (cl == ULLONG_MAX || cl == 0))
        return 0; /* no body: on_message_complete follows */
    if (!chunked && cl > c->body_cap) {
        char *b = realloc(c->body, cl);
        if (b) {
            c->body = b;
            c->body_cap = cl;
        }
    }
    if (c->expect_len == 12 && !strncasecmp(c->expect, "100-continue", 12) && p->http_major == 1 &&
        p->http_minor >= 1 && c->out_len == 0) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (out_reserve(c, sizeof cont - 1) == 0) {
            memcpy(c->out + c->out_len, cont, sizeof cont - 1);
            c->out_len += sizeof cont - 1; /* sent when the parser returns */
        }
    }
    c->deadline = srv.now + BODY_TIMEOUT_S;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (c->body_len + n > srv.gw->cfg.body_limit) {
        c->err_code = 413; /* a chunked body grew too large */
        return -1;
    }
    if (c->body_len + n > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + n)
            cap *= 2;
        char *b = realloc(c->body, cap);
        if (!b) {
            c->err_code = 500;
            return -1;
        }
        c->body = b;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, n);
    c->body_len += n;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = p->data;
    c->phase = P_BUSY;
    c->keep_alive = http_should_keep_alive(p) != 0;
    c->http10 = p->http_major == 1 && p->http_minor == 0;
    c->is_head = p->method == HTTP_HEAD;
    c->deadline = 0; /* none while routing and waiting for the commit */
    http_parser_pause(p, 1); /* one request at a time */
    return 0;
}

/* ---- connections ------------------------------------------------------------ */

static void conn_close(struct conn *c)
{
    if (c->pend) /* its commit is still to come: orphan the entry */
        c->pend->c = NULL;
    event_free(c->rev);
    event_free(c->wev);
    if (c->ssl) {
        tls_close_notify(c);
        SSL_free(c->ssl);
    }
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv.nconns--;
    free(c->body);
    free(c->out);
    free(c);
}

static inline ssize_t conn_write(struct conn *c, const char *p, size_t n)
{
    if (__builtin_expect(c->ssl != NULL, 0))
        return tls_send(c, p, n);
    return send(c->fd, p, n, MSG_NOSIGNAL);
}

/* Send what is queued.  1 all sent, 0 waiting for EV_WRITE, -1 closed. */
static int conn_send(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = conn_write(c, c->out + c->out_off, c->out_len - c->out_off);
        if (n >= 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!c->wpending) {
                event_add(c->wev, NULL);
                c->wpending = 1;
            }
            if (c->phase == P_BUSY)
                c->deadline = srv.now + WRITE_TIMEOUT_S;
            return 0;
        }
        conn_close(c);
        return -1;
    }
    c->out_off = c->out_len = 0;
    if (c->wpending) {
        event_del(c->wev);
        c->wpending = 0;
    }
    return 1;
}

/* The response went out: next request, or close.  -1 if c was closed. */
static int response_done(struct conn *c)
{
    c->resp_queued = 0;
    if (c->close_after) {
        if (!c->linger || c->peer_eof) {
            conn_close(c);
            return -1;
        }
        /* Closing with unread input makes the kernel send a reset, which
         * can destroy the answer before the client read it: stop writing,
         * drain what comes for a moment, then close. */
        c->phase = P_LINGER;
        if (c->ssl)
            tls_close_notify(c); /* then the lingering reads are raw */
        shutdown(c->fd, SHUT_WR);
        c->in_off = c->in_len = 0;
        if (c->rpaused) {
            event_add(c->rev, NULL);
            c->rpaused = 0;
        }
        c->deadline = srv.now + LINGER_TIMEOUT_S;
        return 0;
    }
    c->phase = P_IDLE;
    if (c->body_cap > KEEP_BODY_CAP) {
        free(c->body);
        c->body = NULL;
        c->body_cap = 0;
    }
    if (c->out_cap > KEEP_OUT_CAP) {
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
    c->deadline = srv.now + IDLE_TIMEOUT_S;
    if (c->rpaused && !c->peer_eof) {
        event_add(c->rev, NULL);
        c->rpaused = 0;
    }
    return 0;
}

static int conn_flush(struct conn *c)
{
    int rc = conn_send(c);
    if (rc == 1 && c->resp_queued)
        return response_done(c);
    return rc < 0 ? -1 : 0;
}

/* Refuse a request the parser or a callback rejected, and close. */
static int conn_reject(struct conn *c)
{
    int code = c->err_code ? c->err_code : 400;
    enum http_errno e = HTTP_PARSER_ERRNO(&c->p);
    c->phase = P_BUSY;
    c->close_after = 1;
    c->linger = 1;
    if (!c->out_off && c->out_len) { /* a 100 Continue not sent yet: drop it */
        c->out_len = 0;
        if (c->wpending) {
            event_del(c->wev);
            c->wpending = 0;
        }
    }
    c->deadline = 0;
    if (code == 413) {
        char msg[128];
        snprintf(msg, sizeof msg, "body larger than body_limit (%zu bytes)", srv.gw->cfg.body_limit);
        return reply_error(c, 413, msg);
    }
    if (code == 431)
        return reply_error(c, 431, "request head larger than 64 KiB");
    if (code == 500)
        return reply_error(c, 500, "out of memory");
    char msg[160];
    snprintf(msg, sizeof msg, "malformed HTTP request: %s", http_errno_description(e));
    return reply_error(c, 400, msg);
}

/* Parse buffered input and run the requests in it, one at a time. */
static void conn_drive(struct conn *c)
{
    while (c->phase != P_BUSY && c->phase != P_LINGER && c->in_off < c->in_len) {
        size_t n = http_parser_execute(&c->p, &srv.settings, c->in + c->in_off, c->in_len - c->in_off);
        c->in_off += n;
        enum http_errno e = HTTP_PARSER_ERRNO(&c->p);
        if (e == HPE_PAUSED) {
            http_parser_pause(&c->p, 0);
            if (c->out_len > c->out_off && !c->wpending && conn_send(c) < 0)
                return;
            if (handle_request(c) < 0)
                return;
            continue;
        }
        if (e != HPE_OK) {
            conn_reject(c);
            return;
        }
        if (c->out_len > c->out_off && !c->wpending && conn_send(c) < 0) /* 100 Continue */
            return;
    }
    if (c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
    else if (c->in_off) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    /* the client stopped sending: once nothing is left to answer, close */
    if (c->peer_eof && c->phase != P_BUSY && c->phase != P_LINGER && !c->in_len) {
        conn_close(c);
        return;
    }
    if (__builtin_expect(c->ssl != NULL, 0))
        tls_kick(c);
}

/* The read path, compiled twice: on_read for plain connections (as cheap
 * as before TLS existed) and tls_on_read, which first drives the handshake. */
static inline __attribute__((always_inline)) void read_some(struct conn *c, const int tls)
{
    if (c->phase == P_LINGER) { /* TLS too: close_notify was sent, the rest is raw */
        char sink[4096];
        ssize_t n = recv(c->fd, sink, sizeof sink, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            conn_close(c);
        return;
    }
    if (tls && c->hs && tls_handshake(c) <= 0)
        return;
    if (c->in_off && c->in_len == IN_CAP) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    if (c->in_len == IN_CAP) { /* a request is running and more wait: stop reading */
        event_del(c->rev);
        c->rpaused = 1;
        return;
    }
    ssize_t n = tls ? tls_recv(c, c->in + c->in_len, IN_CAP - c->in_len)
                    : recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        conn_close(c); /* reset: a waiting request is orphaned */
        return;
    }
    if (n == 0) {
        c->peer_eof = 1;
        event_del(c->rev);
        c->rpaused = 1;
        if (c->phase != P_BUSY)
            conn_drive(c); /* closes it */
        return;
    }
    c->in_len += (size_t)n;
    if (c->phase != P_BUSY)
        conn_drive(c);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    read_some(arg, 0);
}

static void tls_on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    read_some(arg, 1);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    if (conn_flush(c) == 0 && c->phase != P_BUSY)
        conn_drive(c);
}

static void tls_on_write(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    if (c->hs) {
        if (tls_handshake(c) == 1)
            event_active(c->rev, EV_READ, 0); /* a request may wait in OpenSSL's buffer */
        return;
    }
    if (c->tls_rww) { /* SSL_read waited for this: read again */
        c->tls_rww = 0;
        event_active(c->rev, EV_READ, 0);
    }
    on_write(fd, what, arg);
}

/* ---- TLS -------------------------------------------------------------------- */

/* SSL_read into buf until OpenSSL wants more from the socket or buf is
 * full: recv()'s contract (bytes, 0 at the client's end, -1 with errno). */
static ssize_t tls_recv(struct conn *c, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        int n = SSL_read(c->ssl, buf + got, len - got > INT_MAX ? INT_MAX : (int)(len - got));
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ)
            break;
        if (e == SSL_ERROR_WANT_WRITE) { /* e.g. the answer to a key update */
            c->tls_rww = 1;
            if (!c->wpending) {
                event_add(c->wev, NULL);
                c->wpending = 1;
            }
            break;
        }
        if (got) { /* deliver these bytes first, then come back for the end */
            event_active(c->rev, EV_READ, 0);
            break;
        }
        if (e == SSL_ERROR_ZERO_RETURN) /* close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
            return 0;
        c->tls_ok = 0;
        ERR_clear_error();
        errno = ECONNRESET;
        return -1;
    }
    if (got)
        return (ssize_t)got;
    errno = EAGAIN;
    return -1;
}

/* send()'s contract.  Partial writes are on, and the buffer may move
 * between retries (c->out can grow while a 100 Continue waits). */
static ssize_t tls_send(struct conn *c, const char *p, size_t n)
{
    int r = SSL_write(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
    if (r > 0)
        return r;
    if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    c->tls_ok = 0; /* renegotiation is off: WANT_READ here is an error too */
    ERR_clear_error();
    errno = EPIPE;
    return -1;
}

/* Send one close_notify (best effort, never waits). */
static void tls_close_notify(struct conn *c)
{
    if (c->tls_ok) {
        c->tls_ok = 0;
        SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
}

/* Room was made in the input buffer: if OpenSSL holds bytes already read
 * from the socket, the socket will not say so; read them now. */
static void tls_kick(struct conn *c)
{
    if (!c->rpaused && !c->hs && c->in_len < IN_CAP && SSL_has_pending(c->ssl))
        event_active(c->rev, EV_READ, 0);
}

/* A plain HTTP request on the TLS port: answer it in plain HTTP, so the
 * client sees why instead of a reset, then close as after any error. */
static void tls_refuse_plain(struct conn *c)
{
#define PLAIN_LEN 83
#define PLAIN_BODY "{\"error\":\"this port speaks HTTPS only: plain HTTP request refused (use https://)\"}\n"
#define STR_(x) #x
#define STR(x) STR_(x)
    static const char resp[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                               "Connection: close\r\nContent-Length: " STR(PLAIN_LEN) "\r\n\r\n" PLAIN_BODY;
    _Static_assert(sizeof PLAIN_BODY - 1 == PLAIN_LEN, "Content-Length of the plain HTTP refusal");
    c->hs = 0;
    c->tls_ok = 0;
    if (c->wpending) {
        event_del(c->wev);
        c->wpending = 0;
    }
    count_code(srv.gw, 400);
    ssize_t n = send(c->fd, resp, sizeof resp - 1, MSG_NOSIGNAL); /* small: fits the socket buffer */
    (void)n;
    c->phase = P_LINGER; /* drain what the client still sends, then close */
    shutdown(c->fd, SHUT_WR);
    c->deadline = srv.now + LINGER_TIMEOUT_S;
}

/* Drive the handshake.  1 done, 0 waiting for the socket, -1 c was closed
 * (or refused and lingering: the caller must not read). */
static int tls_handshake(struct conn *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->hs = 0;
        c->tls_ok = 1;
        if (c->wpending) {
            event_del(c->wev);
            c->wpending = 0;
        }
        c->deadline = srv.now + IDLE_TIMEOUT_S;
        return 1;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        if (e == SSL_ERROR_WANT_WRITE && !c->wpending) {
            event_add(c->wev, NULL);
            c->wpending = 1;
        } else if (e == SSL_ERROR_WANT_READ && c->wpending) {
            event_del(c->wev);
            c->wpending = 0;
        }
        return 0;
    }
    unsigned long le = ERR_peek_error();
    if (ERR_GET_LIB(le) == ERR_LIB_SSL && ERR_GET_REASON(le) == SSL_R_HTTP_REQUEST) {
        ERR_clear_error();
        log_once(LOG_WARN, "http", "plain HTTP request on the TLS listener refused with 400 (the client "
                 "must use https://)");
        tls_refuse_plain(c);
        return -1;
    }
    if (le) { /* a silent close or reset (port probes) is not worth a line */
        char why[256];
        ERR_error_string_n(le, why, sizeof why);
        log_once(LOG_WARN, "http", "TLS handshake with a client failed: %s", why);
    }
    ERR_clear_error();
    conn_close(c);
    return -1;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0; /* an encrypted key fails to load instead of prompting */
}

static void tls_error(char *err, size_t errlen, const char *fmt, const char *path)
{
    char why[256] = "";
    unsigned long le = ERR_peek_error(); /* the first: the most specific */
    if (le)
        ERR_error_string_n(le, why, sizeof why);
    char what[1024];
    snprintf(what, sizeof what, fmt, path);
    snprintf(err, errlen, "%s%s%s", what, *why ? ": " : "", why);
    ERR_clear_error();
}

/* The server's TLS context from the configured files, or NULL with err. */
static SSL_CTX *tls_context(const struct gw_config *cfg, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        tls_error(err, errlen, "cannot create a TLS context%s", "");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"luagate", 7);
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
        tls_error(err, errlen, "tls_cert: cannot load a PEM certificate from %s", cfg->tls_cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 &&
        ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
        tls_error(err, errlen, "tls_key: cannot load a PEM private key (unencrypted) from %s", cfg->tls_key);
        goto fail;
    }
    if (ERR_peek_last_error() || SSL_CTX_check_private_key(ctx) != 1) {
        char what[512];
        snprintf(what, sizeof what, "tls_key: %%s is not the private key of the certificate in %s",
                 cfg->tls_cert);
        tls_error(err, errlen, what, cfg->tls_key);
        goto fail;
    }
    if (cfg->tls_client_ca) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->tls_client_ca);
        if (!names || SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca, NULL) != 1) {
            if (names)
                sk_X509_NAME_pop_free(names, X509_NAME_free);
            tls_error(err, errlen, "tls_client_ca: cannot load PEM CA certificates from %s",
                      cfg->tls_client_ca);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* SIGHUP (beside main's script reload): read the certificate and key
 * again, e.g. after a renewal.  Open connections keep the context they
 * started with (OpenSSL counts references). */
static void on_hup(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    char err[1024];
    SSL_CTX *ctx = tls_context(&srv.gw->cfg, err, sizeof err);
    if (!ctx) {
        log_error("http", "TLS reload failed, keeping the previous certificate: %s", err);
        return;
    }
    SSL_CTX_free(srv.tls);
    srv.tls = ctx;
    log_info("http", "TLS certificate reloaded from %s", srv.gw->cfg.tls_cert);
}

static uint64_t coarse_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec;
}

/* Timeouts: a request only stores its deadline (no timer calls on the hot
 * path); this sweep, once a second while connections are open, cuts slow
 * heads and bodies, idle connections, clients not reading their answer and
 * lingering closes.  Precision is a second, enough for limits of 10-60 s. */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    srv.now = coarse_now();
    for (struct conn *c = srv.conns, *next; c; c = next) {
        next = c->next;
        if (c->deadline && srv.now >= c->deadline)
            conn_close(c);
    }
    if (srv.nconns) {
        struct timeval tv = { 1, 0 };
        evtimer_add(srv.sweep_ev, &tv);
    }
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    (void)lev;
    (void)sa;
    (void)salen;
    (void)arg;
    if (srv.nconns >= HTTP_MAX_CONNS) {
        log_once(LOG_WARN, "http", "%d connections open: refusing more", HTTP_MAX_CONNS);
        close(fd);
        return;
    }
    struct conn *c = malloc(sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    memset(c, 0, offsetof(struct conn, in));
    c->fd = fd;
    c->rev = event_new(srv.gw->base, fd, EV_READ | EV_PERSIST, srv.tls ? tls_on_read : on_read, c);
    c->wev = event_new(srv.gw->base, fd, EV_WRITE | EV_PERSIST, srv.tls ? tls_on_write : on_write, c);
    if (srv.tls && (c->ssl = SSL_new(srv.tls))) {
        c->hs = 1;
        SSL_set_accept_state(c->ssl);
    }
    if (!c->rev || !c->wev || (srv.tls && (!c->ssl || !SSL_set_fd(c->ssl, fd))) ||
        event_add(c->rev, NULL)) {
        if (c->rev)
            event_free(c->rev);
        if (c->wev)
            event_free(c->wev);
        if (c->ssl)
            SSL_free(c->ssl);
        ERR_clear_error();
        free(c);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    http_parser_init(&c->p, HTTP_REQUEST);
    c->p.data = c;
    c->phase = P_IDLE;
    if (!srv.nconns && !evtimer_pending(srv.sweep_ev, NULL)) {
        srv.now = coarse_now();
        struct timeval tv = { 1, 0 };
        evtimer_add(srv.sweep_ev, &tv);
    }
    c->deadline = srv.now + (c->hs ? HEAD_TIMEOUT_S : IDLE_TIMEOUT_S);
    c->next = srv.conns;
    if (srv.conns)
        srv.conns->prev = c;
    srv.conns = c;
    srv.nconns++;
}

static void on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (srv.lev)
        evconnlistener_enable(srv.lev);
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    (void)arg;
    int e = EVUTIL_SOCKET_ERROR();
    log_once(LOG_WARN, "http", "accept: %s", evutil_socket_error_to_string(e));
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
        /* out of descriptors: stop accepting for a second instead of spinning */
        evconnlistener_disable(lev);
        struct timeval tv = { 1, 0 };
        evtimer_add(srv.retry_ev, &tv);
    }
}

int http_start(struct gateway *gw, char *err, size_t errlen)
{
    char host[256], port[16];
    const char *colon = strrchr(gw->cfg.listen, ':');
    if (!colon) {
        snprintf(err, errlen, "listen: expected host:port, got '%s'", gw->cfg.listen);
        return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - gw->cfg.listen), gw->cfg.listen);
    if (host[0] == '[') { /* [::1]:9100 */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    if (!*host)
        snprintf(host, sizeof host, "0.0.0.0");
    snprintf(port, sizeof port, "%d", atoi(colon + 1));

    memset(&srv, 0, sizeof srv);
    srv.gw = gw;
    http_parser_settings_init(&srv.settings);
    srv.settings.on_message_begin = on_message_begin;
    srv.settings.on_url = on_url;
    srv.settings.on_header_field = on_header_field;
    srv.settings.on_header_value = on_header_value;
    srv.settings.on_headers_complete = on_headers_complete;
    srv.settings.on_body = on_body;
    srv.settings.on_message_complete = on_message_complete;
    gw->durable_ev = event_new(gw->base, -1, 0, on_durable_event, gw);
    srv.retry_ev = evtimer_new(gw->base, on_accept_retry, NULL);
    srv.sweep_ev = evtimer_new(gw->base, on_sweep, NULL);
    srv.render = evbuffer_new();
    if (!gw->durable_ev || !srv.retry_ev || !srv.sweep_ev || !srv.render) {
        snprintf(err, errlen, "cannot create the HTTP server");
        return -1;
    }
    if (gw->cfg.tls_cert) {
        if (!(srv.tls = tls_context(&gw->cfg, err, errlen)))
            return -1;
        srv.hup_ev = evsignal_new(gw->base, SIGHUP, on_hup, NULL);
        if (!srv.hup_ev || event_add(srv.hup_ev, NULL)) {
            snprintf(err, errlen, "cannot install the SIGHUP handler of the TLS listener");
            return -1;
        }
    }

    struct evutil_addrinfo hints = { 0 }, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = EVUTIL_AI_PASSIVE;
    if (evutil_getaddrinfo(host, port, &hints, &ai) || !ai) {
        snprintf(err, errlen, "cannot listen on %s (in use, or not a local address?)", gw->cfg.listen);
        return -1;
    }
    for (struct evutil_addrinfo *a = ai; a && !srv.lev; a = a->ai_next)
        srv.lev = evconnlistener_new_bind(gw->base, on_accept, NULL,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                              LEV_OPT_CLOSE_ON_EXEC,
                                          1024, a->ai_addr, (int)a->ai_addrlen);
    evutil_freeaddrinfo(ai);
    if (!srv.lev) {
        snprintf(err, errlen, "cannot listen on %s (in use, or not a local address?)", gw->cfg.listen);
        return -1;
    }
    evconnlistener_set_error_cb(srv.lev, on_accept_error);
    if (srv.tls)
        log_info("http", "the ingest listener speaks HTTPS only (TLS 1.2+, certificate %s%s)",
                 gw->cfg.tls_cert, gw->cfg.tls_client_ca ? ", client certificates required" : "");
    return 0;
}

void http_stop_accepting(struct gateway *gw)
{
    (void)gw;
    if (srv.lev) {
        evconnlistener_free(srv.lev);
        srv.lev = NULL;
    }
}

void http_free(struct gateway *gw)
{
    while (gw->pending_head) { /* only on a forced stop */
        struct pending *p = gw->pending_head;
        gw->pending_head = p->next;
        if (p->c) {
            p->c->pend = NULL;
            p->c->close_after = 1;
            reply_error(p->c, 503, "shutting down");
        }
        free(p);
    }
    gw->pending_tail = NULL;
    gw->npending = 0;
    http_stop_accepting(gw);
    while (srv.conns)
        conn_close(srv.conns);
    while (srv.free_pending) {
        struct pending *p = srv.free_pending;
        srv.free_pending = p->next;
        free(p);
    }
    if (srv.retry_ev)
        event_free(srv.retry_ev);
    if (srv.sweep_ev)
        event_free(srv.sweep_ev);
    srv.sweep_ev = NULL;
    if (srv.hup_ev)
        event_free(srv.hup_ev);
    srv.hup_ev = NULL;
    SSL_CTX_free(srv.tls); /* after the connections: their SSLs hold references */
    srv.tls = NULL;
    if (srv.render)
        evbuffer_free(srv.render);
    buf_free(&srv.err);
    srv.retry_ev = NULL;
    srv.render = NULL;
    if (gw->durable_ev)
        event_free(gw->durable_ev);
    gw->durable_ev = NULL;
    ingest_free(&scratch_in);
    route_out_free(&scratch_out);
    free(scratch_recs);
    scratch_recs = NULL;
    scratch_cap = 0;
}
