/* http_conn.h -- private to the ingest server (http.c, http_parse.c,
 * http_tls.c, ingest.c):
 * a connection, a request waiting for the group commit, the server state,
 * and the calls between those files.  Not an interface for the rest of
 * luagate: that is http.h (http_start, ...) and ingest.h. */
#ifndef LUAGATE_HTTP_CONN_H
#define LUAGATE_HTTP_CONN_H

#include <event2/listener.h>
#include <event2/util.h>
#include <http_parser.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include "gateway.h"
#include "http_chunked.h"

#define MAX_QUEUES_PER_REQ QUEUE_APPEND_MAX
#define HTTP_MAX_CONNS 4096
#define HEAD_MAX (64 * 1024)   /* request line + headers */
#define IN_CAP (16 * 1024)     /* input buffer of a connection */
#define URL_MAX 256            /* enough to recognise /health and /metrics */
#define AUTH_MAX 1024
#define HEAD_TIMEOUT_S 10
#define BODY_TIMEOUT_S 30
#define IDLE_TIMEOUT_S 60
#define FIRST_BYTE_TIMEOUT_S 10 /* a new connection that sends nothing */
#define IDLE_RESERVE 64         /* near the cap: idle connections give way to new ones */
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

enum hdr { H_OTHER, H_AUTH, H_EXPECT, H_TE };

/* http_parse's answers */
enum { HTTP_PARSE_MORE, HTTP_PARSE_REQUEST, HTTP_PARSE_ERROR };

struct conn {
    struct conn *prev, *next;
    struct conn *idle_prev, *idle_next; /* in w's idle list, oldest first, while P_IDLE */
    uint64_t idle_since;
    int fd;
    SSL *ssl;               /* NULL: plain HTTP */
    enum phase phase;
    struct event *rev, *wev;
    struct worker *w;       /* the worker serving it */
    uint64_t deadline;      /* w->now when it is cut; 0: none */
    http_parser p;
    struct pending *pend;
    /* request state */
    unsigned keep_alive : 1, http10 : 1, close_after : 1, linger : 1, peer_eof : 1, rpaused : 1,
        wpending : 1, resp_queued : 1, auth_seen : 1, hdr_in_value : 1, is_head : 1,
        hs : 1,       /* TLS handshake not done yet */
        tls_ok : 1,   /* TLS up and sane: close with a close_notify */
        tls_rww : 1,  /* SSL_read wants the socket writable */
        chunked : 1,  /* its chunked body is being decoded (ck) */
        idle : 1,     /* in the idle list */
        monitor : 3;  /* 1 + index in http_monitor_paths: counted apart from ingest */
    enum hdr cur;
    int err_code;           /* set by a callback that refused the request */
    const char *err_msg;    /* and why, when it is not the parser's error */
    const char *exec_start; /* the input the parser is running on */
    char tail;              /* the last non-blank byte parsed before it */
    int te_count;
    struct chunked ck;
    size_t head_bytes;
    size_t field_len, url_len, auth_len, expect_len, te_len;
    char field[24];
    char expect[16];
    char te[16];
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

/* One ingest worker: an event loop with its own listening socket, its
 * connections, scratch, requests waiting for the group commit and Lua
 * state (gw->routers[id]).  Worker 0 runs on the main thread's loop
 * (gw->base, which also takes the signals); workers 1..N-1 each on a
 * thread of their own (ingest_workers).  Only the worker's thread touches
 * it while it runs, except the fields said to be shared. */
struct worker {
    struct gateway *gw;
    unsigned id;
    struct event_base *base;   /* worker 0: gw->base */
    pthread_t thread;
    int has_thread;
    struct evconnlistener *lev;
    struct event *retry_ev;
    struct conn *conns;
    size_t nconns;
    struct conn *idle_head, *idle_tail; /* connections between requests, longest idle first */
    struct event *sweep_ev;    /* once a second while connections are open */
    uint64_t now;              /* seconds, monotonic, updated by the sweep */
    struct pending *free_pending;
    struct pending *pending_head, *pending_tail;
    int draining;              /* SIGTERM: not accepting, exit once pending is empty */
    struct evbuffer *render;   /* /health and /metrics */
    struct buf err;            /* error bodies */
    SSL_CTX *tls;              /* its own reference; NULL: plain HTTP */
    struct event *hup_ev;      /* worker 0 only: SIGHUP reloads the certificate */
    /* scratch of the ingest path (ingest.c) */
    struct event_batch in;
    struct route_out out;
    struct qrec *recs;
    size_t recs_cap;
    struct slice_job *jobs;    /* requests being routed in slices (ingest.c) */
    struct event *kick_ev;     /* the end of a loop batch that appended (ingest.c) */
    unsigned kick_mask;        /* the gw->queues it appended to, by index */
    /* shared: the queue committers wake durable_ev, the main thread the
     * others; mail_* is under mail_lock, npending and requests are read by
     * any thread (written by the worker only, relaxed: no locked op) */
    struct event *durable_ev, *mail_ev, *stop_ev, *deadline_ev;
    pthread_mutex_t mail_lock;
    struct router *mail_router; /* a reloaded script's state, to swap in */
    SSL_CTX *mail_tls;          /* a reloaded certificate, to swap in */
    atomic_size_t npending;
    atomic_uint_fast64_t requests;
    struct event *alive_ev;    /* every second: alive_us, for /live */
    _Atomic uint64_t alive_us;
};

/* http.c */
void http_on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen,
                    void *arg);
void http_on_accept_error(struct evconnlistener *lev, void *arg);
void http_on_accept_retry(evutil_socket_t fd, short what, void *arg);
void http_on_sweep(evutil_socket_t fd, short what, void *arg);
void http_worker_give(struct worker *w, struct router *r, SSL_CTX *tls);
void conn_close(struct conn *c);
void conn_drive(struct conn *c);
int http_reply(struct conn *c, int code, const char *ctype, const char *body, size_t blen);
int http_reply_error(struct conn *c, int code, const char *msg);
int conn_reserve(struct conn *c, size_t n); /* room for n more output bytes */

/* http_parse.c */
void http_parse_init(struct conn *c);
/* Parse c's buffered input up to the end of one request: HTTP_PARSE_MORE
 * (all consumed, the request is not complete), HTTP_PARSE_REQUEST (one is
 * complete, the bytes after it wait), HTTP_PARSE_ERROR (refused: c->err_code,
 * c->err_msg or the parser's error say why; nothing more is to be parsed). */
int http_parse(struct conn *c);

/* http_tls.c */
ssize_t tls_recv(struct conn *c, char *buf, size_t len);
ssize_t tls_send(struct conn *c, const char *p, size_t n);
int tls_handshake(struct conn *c);
void tls_close_notify(struct conn *c);
void tls_kick(struct conn *c);
SSL_CTX *tls_context(const struct gw_config *cfg, char *err, size_t errlen);
void tls_on_hup(evutil_socket_t fd, short what, void *arg);

/* Small helpers of all three (formatting a response, counting its code). */
static inline void count_code(struct gateway *gw, int code)
{
    for (int i = 0; i < HTTP_CODES; i++)
        if (http_code_list[i] == code) {
            atomic_fetch_add(&gw->http.codes[i], 1);
            return;
        }
}

/* The monitoring paths (c->monitor) apart from ingest. */
static inline void count_answer(struct conn *c, int code)
{
    if (!c->monitor) {
        count_code(c->w->gw, code);
        return;
    }
    for (int i = 0; i < HTTP_CODES; i++)
        if (http_code_list[i] == code) {
            atomic_fetch_add(&c->w->gw->http.monitor_codes[c->monitor - 1][i], 1);
            return;
        }
}

static inline char *put(char *d, const char *s, size_t n)
{
    memcpy(d, s, n);
    return d + n;
}
#define PUTS(d, lit) put(d, lit, sizeof lit - 1)

static inline char *put_u64(char *d, uint64_t v)
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

#endif
