/* http.c -- the ingest server: a lean HTTP/1.1 server on libevent's loop.
 *
 * POST any path: parse the body into events, route each through the Lua
 * state, append every resulting message to its target's queue, and answer
 * 200 only once the group commit made those appends durable.  GET (or
 * HEAD) /health and /metrics.  Errors are one-line JSON bodies naming the problem.
 *
 * Why not evhttp: it cost ~38k instructions per request (reply formatting
 * with vsnprintf, header lists searched with strcasecmp, several mallocs
 * and ~7 syscalls per request).  Here a connection owns one input buffer,
 * one body buffer and one output buffer, reused by every request on it;
 * http_parse.c frames requests (Debian's http-parser, made strict), a
 * response is formatted with memcpy and leaves in one send().
 *
 * A connection handles one request at a time, in order: when a request is
 * complete parsing stops, and bytes of pipelined requests wait in
 * the input buffer until the response went out.  Reading goes on while a
 * request waits for its group commit, so a reset is noticed; the pending
 * entry of a closed connection is orphaned (its c is NULL), never freed
 * with the connection.
 *
 * Limits: head 64 KiB (431), body cfg.body_limit (413, before the body
 * when Content-Length says so, and for chunked bodies as they arrive),
 * 10 s for a new connection's first byte and for a head, 30 s for a body,
 * 60 s idle between keep-alive requests, 30 s for a client to take a
 * response (checked by a sweep once a second: a request only stores a
 * deadline), HTTP_MAX_CONNS connections: within IDLE_RESERVE of the cap
 * each new connection closes the worker's connection idle the longest,
 * and only when none is idle is it refused.  A connection costs ~18 KiB
 * (its 16 KiB input buffer inline), plus its body buffer while that is at
 * most 64 KiB.
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
#include "admin.h"
#include "admin_dlq.h"
#include "http_conn.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"

const int http_code_list[HTTP_CODES] = { 200, 400, 401, 404, 405, 413, 431, 500, 503 };

static int conn_flush(struct conn *c);

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

int conn_reserve(struct conn *c, size_t n)
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
    if (atomic_load(&gw->http.stopping) || !c->keep_alive)
        c->close_after = 1;
    const char *reason = reason_of(code);
    size_t rl = strlen(reason), cl = strlen(ctype);
    if (conn_reserve(c, 160 + rl + cl + blen))
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
        d = PUTS(d, "\r\nAllow: GET, HEAD, POST");
    if (c->close_after)
        d = PUTS(d, "\r\nConnection: close");
    else if (c->http10)
        d = PUTS(d, "\r\nConnection: keep-alive");
    d = PUTS(d, "\r\n\r\n");
    c->out_len = (size_t)(d - c->out);
    count_answer(c, code);
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
    if (c->is_head) { /* the headers only, Content-Length as for GET */
        evbuffer_drain(render, n);
    } else {
        evbuffer_remove(render, d, n);
        c->out_len += n;
    }
    c->resp_queued = 1;
    return conn_flush(c);
}

/* ---- requests (POSTs go to ingest.c) ---------------------------------------- */

/* The path of the request target: origin form (/health) as is, absolute
 * form (http://host:port/health, RFC 9112 section 3.2.2) from the first
 * '/' after the authority. */
static const char *target_path(const struct conn *c, size_t *len)
{
    size_t n = c->url_len > URL_MAX ? 0 : c->url_len, skip = 0;
    if (n >= 7 && !strncasecmp(c->url, "http://", 7))
        skip = 7;
    else if (n >= 8 && !strncasecmp(c->url, "https://", 8))
        skip = 8;
    if (skip) {
        const char *slash = memchr(c->url + skip, '/', n - skip);
        if (!slash) {
            *len = 1;
            return "/";
        }
        skip = (size_t)(slash - c->url);
    }
    *len = n - skip;
    return c->url + skip;
}

static int path_is(const struct conn *c, const char *path, int query_ok)
{
    size_t n = strlen(path), len;
    const char *u = target_path(c, &len);
    if (len < n || memcmp(u, path, n))
        return 0;
    return len == n || (query_ok && u[n] == '?');
}

const char *const http_monitor_paths[HTTP_MONITOR_PATHS] = { "/health", "/metrics", "/live", "/ready" };

/* A complete request.  -1 if c was closed. */
static int handle_request(struct conn *c)
{
    struct worker *w = c->w;
    struct gateway *gw = w->gw;
    unsigned method = c->p.method;
    int get = method == HTTP_GET || method == HTTP_HEAD;
    if (get && path_is(c, "/health", 1)) {
        int code;
        c->monitor = 1;
        metrics_health_render(gw, w->render, &code);
        return reply_render(c, code, "application/json");
    }
    if (get && !gw->admin && (path_is(c, "/live", 0) || path_is(c, "/ready", 0))) {
        char body[160]; /* the probes, here when there is no admin listener */
        int live = path_is(c, "/live", 0);
        c->monitor = live ? 3 : 4;
        int code = live ? admin_probe_live(gw, body, sizeof body) : admin_probe_ready(gw, body, sizeof body);
        return http_reply(c, code, "application/json", body, strlen(body));
    }
    if (get && path_is(c, "/metrics", 0)) {
        c->monitor = 2;
        metrics_render(gw, w->render);
        return reply_render(c, 200, "text/plain; version=0.0.4");
    }
    if (admin_dlq_is(c)) /* here, not on admin_listen: a requeue runs an ingest worker's script */
        return admin_dlq_handle(c);
    if (method != HTTP_POST)
        return http_reply_error(c, 405, gw->admin ? "POST events to any path; GET or HEAD /health or /metrics "
                                                    "(/live, /ready and /tap are on admin_listen)"
                                                  : "POST events to any path; GET or HEAD /health, /metrics, "
                                                    "/live or /ready");
    /* events only: probes of /health and /metrics would swamp how MinIO's
     * posts spread over the workers.  One writer: no locked instruction,
     * /metrics reads it from any thread */
    atomic_store_explicit(&w->requests, atomic_load_explicit(&w->requests, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (!atomic_load(&gw->http.ready) || atomic_load(&gw->http.stopping)) {
        c->close_after = 1;
        return http_reply_error(c, 503, atomic_load(&gw->http.stopping) ? "shutting down" : "starting");
    }
    return ingest_handle(gw, c);
}

/* ---- idle connections -------------------------------------------------------
 * Connections between requests (and new ones before their first byte) are
 * kept in a list, longest idle first, so that near the connection cap the
 * oldest can be cut for a new one (http_on_accept): connections that never
 * send must not keep out those that do. */

static void idle_enter(struct conn *c)
{
    struct worker *w = c->w;
    c->idle = 1;
    c->idle_since = w->now;
    c->idle_next = NULL;
    c->idle_prev = w->idle_tail;
    if (w->idle_tail)
        w->idle_tail->idle_next = c;
    else
        w->idle_head = c;
    w->idle_tail = c;
}

static void idle_leave(struct conn *c)
{
    struct worker *w = c->w;
    if (c->idle_prev)
        c->idle_prev->idle_next = c->idle_next;
    else
        w->idle_head = c->idle_next;
    if (c->idle_next)
        c->idle_next->idle_prev = c->idle_prev;
    else
        w->idle_tail = c->idle_prev;
    c->idle = 0;
    c->idle_prev = c->idle_next = NULL;
}

/* ---- connections ------------------------------------------------------------ */

void conn_close(struct conn *c)
{
    if (c->pend) /* its commit is still to come: orphan the entry */
        c->pend->c = NULL;
    if (c->idle)
        idle_leave(c);
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
    atomic_fetch_sub(&w->gw->http.nconns, 1);
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
        if (c->in_off < c->in_len) /* bytes after the last request (CONNECT, Connection: close) */
            c->linger = 1;
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
    idle_enter(c);
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
    snprintf(msg, sizeof msg, "malformed HTTP request: %s", c->err_msg ? c->err_msg : http_errno_description(e));
    return http_reply_error(c, 400, msg);
}

/* Parse buffered input and run the requests in it, one at a time. */
void conn_drive(struct conn *c)
{
    while (c->phase != P_BUSY && c->phase != P_LINGER && c->in_off < c->in_len) {
        if (c->idle) /* a request begins */
            idle_leave(c);
        int r = http_parse(c);
        if (r == HTTP_PARSE_ERROR) {
            conn_reject(c);
            return;
        }
        /* a 100 Continue, or what is left of the previous answer */
        if (c->out_len > c->out_off && !c->wpending && conn_send(c) < 0)
            return;
        if (r == HTTP_PARSE_REQUEST && handle_request(c) < 0)
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

/* Near the cap: cut the connection of this worker idle the longest (one
 * that never sent a byte, or one between keep-alive requests), so that
 * clients that do send keep being served.  -1 if none is idle. */
static int make_room(struct worker *w)
{
    struct conn *c = w->idle_head;
    if (!c)
        return -1;
    log_once(LOG_WARN, "http", "near %d connections: closing those idle the longest for new ones",
             HTTP_MAX_CONNS);
    conn_close(c);
    return 0;
}

static void accept_refuse(struct gateway *gw, evutil_socket_t fd)
{
    atomic_fetch_sub(&gw->http.nconns, 1);
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
    int n = atomic_fetch_add(&gw->http.nconns, 1);
    if (n >= HTTP_MAX_CONNS - IDLE_RESERVE && make_room(w) && n >= HTTP_MAX_CONNS) {
        log_once(LOG_WARN, "http", "%d connections open, none of them idle: refusing more", HTTP_MAX_CONNS);
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
    http_parse_init(c);
    c->phase = P_IDLE;
    if (!w->nconns && !evtimer_pending(w->sweep_ev, NULL)) {
        w->now = coarse_now();
        struct timeval tv = { 1, 0 };
        evtimer_add(w->sweep_ev, &tv);
    }
    c->deadline = w->now + FIRST_BYTE_TIMEOUT_S;
    idle_enter(c);
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
