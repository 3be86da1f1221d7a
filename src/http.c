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
 * Workers (ingest_workers): each serves its own listening socket on the
 * same address (SO_REUSEPORT), its own connections and Lua state; worker 0
 * on the main loop, the others on threads of their own.  Nothing is shared
 * on the hot path: the group commit wakes every worker's durable event,
 * and the main thread (signals) hands over reloaded states and TLS
 * contexts through a mailbox each worker empties on its own thread.
 *
 * Workers and listening sockets are in http_worker.c, TLS (tls_cert +
 * tls_key) in http_tls.c, the ingest path (a POST: auth, routing, queue
 * appends, waiting for the group commit) in ingest.c; http_conn.h holds
 * what they share. */
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
#include "http_conn.h"
#include "log.h"

const int http_code_list[HTTP_CODES] = { 200, 400, 401, 404, 405, 413, 431, 500, 503 };

static int conn_flush(struct conn *c);
static const http_parser_settings parser_settings;

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

/* Queue the status line and headers of a response with a body of blen
 * bytes; return where the body goes (room for blen is reserved), or NULL
 * when out of memory (the connection is then to be closed). */
static char *start_response(struct conn *c, int code, const char *ctype, size_t blen)
{
    struct gateway *gw = c->w->gw;
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
int http_reply(struct conn *c, int code, const char *ctype, const char *body, size_t blen)
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

int http_reply_error(struct conn *c, int code, const char *msg)
{
    struct buf *b = &c->w->err;
    b->len = 0;
    if (buf_puts(b, "{\"error\":") || json_quote(b, msg, strlen(msg)) || buf_puts(b, "}\n"))
        return http_reply(c, code, "application/json", "{\"error\":\"out of memory\"}\n", 26);
    return http_reply(c, code, "application/json", b->p, b->len);
}

/* /health and /metrics render into an evbuffer; copy it out. */
static int reply_render(struct conn *c, int code, const char *ctype)
{
    struct evbuffer *render = c->w->render;
    size_t n = evbuffer_get_length(render);
    char *d = start_response(c, code, ctype, n);
    if (!d) {
        evbuffer_drain(render, n);
        conn_close(c);
        return -1;
    }
    evbuffer_remove(render, d, n);
    c->out_len += n;
    c->resp_queued = 1;
    return conn_flush(c);
}

/* ---- requests (POSTs go to ingest.c) ---------------------------------------- */

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
    struct worker *w = c->w;
    struct gateway *gw = w->gw;
    unsigned method = c->p.method;
    /* one writer: no locked instruction, /metrics reads it from any thread */
    atomic_store_explicit(&w->requests, atomic_load_explicit(&w->requests, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (method == HTTP_GET && path_is(c, "/health", 1)) {
        int code;
        health_render(gw, w->render, &code);
        return reply_render(c, code, "application/json");
    }
    if (method == HTTP_GET && path_is(c, "/metrics", 0)) {
        metrics_render(gw, w->render);
        return reply_render(c, 200, "text/plain; version=0.0.4");
    }
    if (method != HTTP_POST)
        return http_reply_error(c, 405, "POST events to any path; GET /health or /metrics");
    if (!atomic_load(&gw->ready) || atomic_load(&gw->stopping)) {
        c->close_after = 1;
        return http_reply_error(c, 503, atomic_load(&gw->stopping) ? "shutting down" : "starting");
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
    c->deadline = c->w->now + HEAD_TIMEOUT_S;
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
    struct gateway *gw = c->w->gw;
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
    c->deadline = c->w->now + BODY_TIMEOUT_S;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (c->body_len + n > c->w->gw->cfg.body_limit) {
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

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- connections ------------------------------------------------------------ */

void conn_close(struct conn *c)
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
    struct worker *w = c->w;
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    w->nconns--;
    atomic_fetch_sub(&w->gw->nconns, 1);
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
                c->deadline = c->w->now + WRITE_TIMEOUT_S;
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
        c->deadline = c->w->now + LINGER_TIMEOUT_S;
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
    c->deadline = c->w->now + IDLE_TIMEOUT_S;
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
        snprintf(msg, sizeof msg, "body larger than body_limit (%zu bytes)", c->w->gw->cfg.body_limit);
        return http_reply_error(c, 413, msg);
    }
    if (code == 431)
        return http_reply_error(c, 431, "request head larger than 64 KiB");
    if (code == 500)
        return http_reply_error(c, 500, "out of memory");
    char msg[160];
    snprintf(msg, sizeof msg, "malformed HTTP request: %s", http_errno_description(e));
    return http_reply_error(c, 400, msg);
}

/* Parse buffered input and run the requests in it, one at a time. */
void conn_drive(struct conn *c)
{
    while (c->phase != P_BUSY && c->phase != P_LINGER && c->in_off < c->in_len) {
        size_t n = http_parser_execute(&c->p, &parser_settings, c->in + c->in_off, c->in_len - c->in_off);
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
void http_on_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    w->now = coarse_now();
    for (struct conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        if (c->deadline && w->now >= c->deadline)
            conn_close(c);
    }
    if (w->nconns) {
        struct timeval tv = { 1, 0 };
        evtimer_add(w->sweep_ev, &tv);
    }
}

static void accept_refuse(struct gateway *gw, evutil_socket_t fd)
{
    atomic_fetch_sub(&gw->nconns, 1);
    close(fd);
}

void http_on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    (void)lev;
    (void)sa;
    (void)salen;
    struct worker *w = arg;
    struct gateway *gw = w->gw;
    /* the cap is the process's: take a place first, so that two workers
     * cannot both take the last one */
    if (atomic_fetch_add(&gw->nconns, 1) >= HTTP_MAX_CONNS) {
        log_once(LOG_WARN, "http", "%d connections open: refusing more", HTTP_MAX_CONNS);
        accept_refuse(gw, fd);
        return;
    }
    struct conn *c = malloc(sizeof *c);
    if (!c) {
        accept_refuse(gw, fd);
        return;
    }
    memset(c, 0, offsetof(struct conn, in));
    c->fd = fd;
    c->w = w;
    c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, w->tls ? tls_on_read : on_read, c);
    c->wev = event_new(w->base, fd, EV_WRITE | EV_PERSIST, w->tls ? tls_on_write : on_write, c);
    if (w->tls && (c->ssl = SSL_new(w->tls))) {
        c->hs = 1;
        SSL_set_accept_state(c->ssl);
    }
    if (!c->rev || !c->wev || (w->tls && (!c->ssl || !SSL_set_fd(c->ssl, fd))) ||
        event_add(c->rev, NULL)) {
        if (c->rev)
            event_free(c->rev);
        if (c->wev)
            event_free(c->wev);
        if (c->ssl)
            SSL_free(c->ssl);
        ERR_clear_error();
        free(c);
        accept_refuse(gw, fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    http_parser_init(&c->p, HTTP_REQUEST);
    c->p.data = c;
    c->phase = P_IDLE;
    if (!w->nconns && !evtimer_pending(w->sweep_ev, NULL)) {
        w->now = coarse_now();
        struct timeval tv = { 1, 0 };
        evtimer_add(w->sweep_ev, &tv);
    }
    c->deadline = w->now + (c->hs ? HEAD_TIMEOUT_S : IDLE_TIMEOUT_S);
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
}

void http_on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    if (w->lev)
        evconnlistener_enable(w->lev);
}

void http_on_accept_error(struct evconnlistener *lev, void *arg)
{
    struct worker *w = arg;
    int e = EVUTIL_SOCKET_ERROR();
    log_once(LOG_WARN, "http", "accept: %s", evutil_socket_error_to_string(e));
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
        /* out of descriptors: stop accepting for a second instead of spinning */
        evconnlistener_disable(lev);
        struct timeval tv = { 1, 0 };
        evtimer_add(w->retry_ev, &tv);
    }
}
