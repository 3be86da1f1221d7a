/* tap.c -- the live stream of routing decisions (tap.h).
 *
 * Publishers are the ingest workers' threads, the consumer the admin
 * thread.  The list of tappers is under a rwlock (workers read it, the
 * admin thread adds and removes); each tapper's line buffer under its own
 * mutex, held only for a memcpy.  The admin thread moves the buffer to the
 * connection every TICK_MS while the connection's own output is below
 * OUT_MAX; a line that does not fit in BUF_MAX is dropped and counted, and
 * the tapper is told how many once a second. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "admin.h"
#include "gateway.h"
#include "json.h"
#include "tap.h"

#define BUF_MAX (256 * 1024)  /* lines waiting for the admin thread, per tapper */
#define OUT_MAX (256 * 1024)  /* bytes waiting in the connection's output */
#define SNDBUF (64 * 1024)    /* kernel send buffer of a tap connection */
#define TICK_MS 50
#define REPORT_TICKS 20       /* a drop report at most once a second */

atomic_int tap_clients;
static atomic_uint_fast64_t dropped_total;
static pthread_rwlock_t tap_lock = PTHREAD_RWLOCK_INITIALIZER;

struct tapper {
    struct tapper *next;
    struct evhttp_request *req;
    struct evhttp_connection *conn;
    struct event *tick;
    struct event *gone;   /* the socket readable: the client left (it sends nothing after its request) */
    unsigned ticks;
    int freeing;          /* we free the connection (on_gone), which frees the request */
    pthread_mutex_t lock; /* buf, len, dropped */
    char *buf;
    size_t len;
    uint64_t dropped, reported;
    /* filters: "" matches everything */
    char target[160], bucket[256], prefix[1024], event[160];
    int payloads;
};

static struct tapper *tappers; /* under tap_lock */

uint64_t tap_dropped_total(void)
{
    return atomic_load(&dropped_total);
}

/* ---- publishing (ingest workers' threads) ---------------------------------------- */

static int event_matches(const char *want, const char *name)
{
    size_t n = strlen(want);
    if (n && want[n - 1] == '*') /* s3:ObjectCreated:* */
        return !strncmp(name, want, n - 1);
    return !strcmp(name, want);
}

static int matches(const struct tapper *t, struct gateway *gw, const struct event *ev, const struct routed *m,
                   size_t n)
{
    if (*t->bucket && (strlen(t->bucket) != ev->bucket_len || memcmp(t->bucket, ev->key, ev->bucket_len)))
        return 0;
    if (*t->prefix) {
        const char *obj = ev->key_len > ev->bucket_len ? ev->key + ev->bucket_len + 1 : "";
        if (strncmp(obj, t->prefix, strlen(t->prefix)))
            return 0;
    }
    if (*t->event && !event_matches(t->event, ev->name))
        return 0;
    if (!*t->target)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(gw->targets[m[i].target].conf->name, t->target))
            return 1;
    return 0;
}

/* Why these targets: the operator's script, or the built-in router
 * following the configured bucket rules, or MinIO's default route. */
static const char *decided_by(struct gateway *gw)
{
    if (gw->cfg.script)
        return "script";
    return gw->cfg.buckets.given ? "bucket rules" : "default route";
}

static int put_time(struct buf *b)
{
    struct timespec ts;
    struct tm tm;
    char s[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    if (!gmtime_r(&ts.tv_sec, &tm))
        return -1;
    size_t n = strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(s + n, sizeof s - n, ".%03ldZ\"", ts.tv_nsec / 1000000);
    return buf_puts(b, "{\"time\":\"") || buf_puts(b, s);
}

/* The record as the tapper sees it: redacted as log lines are (every
 * target's secrets hidden). */
static int put_payload(struct buf *b, struct gateway *gw, const struct event *ev)
{
    char *text = malloc(ev->record_len + 1);
    if (!text)
        return -1;
    memcpy(text, ev->record, ev->record_len);
    text[ev->record_len] = 0;
    for (size_t i = 0; i < gw->nt; i++)
        tconf_redact(gw->targets[i].conf, text, ev->record_len + 1);
    int rc = buf_puts(b, ",\"payload\":") || json_quote(b, text, strlen(text));
    free(text);
    return rc;
}

static int format_line(struct buf *b, struct gateway *gw, unsigned worker, const struct event *ev,
                       const struct routed *m, size_t n, uint64_t script_ns, const char *error, int payload)
{
    const char *obj = ev->key_len > ev->bucket_len ? ev->key + ev->bucket_len + 1 : "";
    size_t objlen = ev->key_len > ev->bucket_len ? ev->key_len - ev->bucket_len - 1 : 0;
    char num[96];
    if (put_time(b) || buf_puts(b, ",\"bucket\":") || json_quote(b, ev->key, ev->bucket_len) ||
        buf_puts(b, ",\"key\":") || json_quote(b, obj, objlen) || buf_puts(b, ",\"event\":") ||
        json_quote(b, ev->name, ev->name_len) || buf_puts(b, ",\"targets\":["))
        return -1;
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        for (size_t j = 0; j < i; j++)
            dup |= m[j].target == m[i].target;
        const char *name = gw->targets[m[i].target].conf->name;
        if (!dup && ((!first && buf_puts(b, ",")) || json_quote(b, name, strlen(name))))
            return -1;
        first &= dup;
    }
    snprintf(num, sizeof num, "],\"messages\":%zu,\"by\":\"%s\",\"script_us\":%.1f,\"worker\":%u", n,
             decided_by(gw), (double)script_ns / 1000.0, worker);
    if (buf_puts(b, num))
        return -1;
    if (error && (buf_puts(b, ",\"error\":") || json_quote(b, error, strlen(error))))
        return -1;
    if (payload && put_payload(b, gw, ev))
        return -1;
    return buf_puts(b, "}\n");
}

static void tapper_put(struct tapper *t, const char *p, size_t n)
{
    pthread_mutex_lock(&t->lock);
    if (t->len + n <= BUF_MAX) {
        memcpy(t->buf + t->len, p, n);
        t->len += n;
    } else {
        t->dropped++;
        atomic_fetch_add(&dropped_total, 1);
    }
    pthread_mutex_unlock(&t->lock);
}

void tap_event(struct gateway *gw, unsigned worker, const struct event *ev, const struct routed *m, size_t n,
               uint64_t script_ns, const char *error)
{
    struct buf line[2] = { { 0 }, { 0 } }; /* without, with the payload: formatted once, when wanted */
    int failed[2] = { 0, 0 };
    pthread_rwlock_rdlock(&tap_lock);
    for (struct tapper *t = tappers; t; t = t->next) {
        if (!matches(t, gw, ev, m, n))
            continue;
        int k = t->payloads;
        if (!line[k].len && !failed[k] &&
            (failed[k] = format_line(&line[k], gw, worker, ev, m, n, script_ns, error, k) != 0))
            line[k].len = 0;
        if (failed[k]) { /* out of memory: a lost line, counted */
            pthread_mutex_lock(&t->lock);
            t->dropped++;
            pthread_mutex_unlock(&t->lock);
            atomic_fetch_add(&dropped_total, 1);
            continue;
        }
        tapper_put(t, line[k].p, line[k].len);
    }
    pthread_rwlock_unlock(&tap_lock);
    buf_free(&line[0]);
    buf_free(&line[1]);
}

/* ---- the admin thread ---------------------------------------------------------------- */

static void tapper_free(struct tapper *t)
{
    if (t->tick)
        event_free(t->tick);
    if (t->gone)
        event_free(t->gone);
    pthread_mutex_destroy(&t->lock);
    free(t->buf);
    free(t);
}

/* Out of the list: no worker can reach t once the write lock is released. */
static void tapper_unlink(struct tapper *t)
{
    pthread_rwlock_wrlock(&tap_lock);
    for (struct tapper **p = &tappers; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            atomic_fetch_sub(&tap_clients, 1);
            break;
        }
    pthread_rwlock_unlock(&tap_lock);
}

/* The connection is being freed.  When evhttp failed it (a write error,
 * the write timeout) it detached the request, whose reply we never ended,
 * and left it to us; when we freed it (on_gone) the request went with it. */
static void on_close(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    struct tapper *t = arg;
    tapper_unlink(t);
    if (!t->freeing)
        evhttp_request_free(t->req);
    tapper_free(t);
}

/* evhttp notices a closed connection only when a write fails, and an idle
 * tap writes nothing: watch the socket.  A tap client sends nothing after
 * its request, so anything readable (EOF, a reset, a TLS close_notify)
 * means it left.  Freeing the connection frees the request, then calls
 * on_close, which frees t. */
static void on_gone(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct tapper *t = arg;
    t->freeing = 1;
    evhttp_connection_free(t->conn);
}

static void send_chunk(struct tapper *t, const char *p, size_t n)
{
    struct evbuffer *b = evbuffer_new();
    if (!b)
        return;
    if (!evbuffer_add(b, p, n))
        evhttp_send_reply_chunk(t->req, b);
    evbuffer_free(b);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct tapper *t = arg;
    struct bufferevent *bev = evhttp_connection_get_bufferevent(t->conn);
    size_t queued = bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
    char report[128] = "";
    pthread_mutex_lock(&t->lock);
    char *lines = NULL;
    size_t n = 0;
    if (queued < OUT_MAX && t->len) { /* take the buffer whole; the workers get a fresh one */
        char *fresh = malloc(BUF_MAX);
        if (fresh) {
            lines = t->buf;
            n = t->len;
            t->buf = fresh;
            t->len = 0;
        }
    }
    if (++t->ticks % REPORT_TICKS == 0 && t->dropped != t->reported) {
        snprintf(report, sizeof report, "{\"dropped\":%llu,\"dropped_since_last\":%llu}\n",
                 (unsigned long long)t->dropped, (unsigned long long)(t->dropped - t->reported));
        t->reported = t->dropped;
    }
    pthread_mutex_unlock(&t->lock);
    if (n)
        send_chunk(t, lines, n);
    free(lines);
    if (*report)
        send_chunk(t, report, strlen(report));
}

static void query_value(struct evkeyvalq *q, const char *name, char *out, size_t len)
{
    const char *v = evhttp_find_header(q, name);
    snprintf(out, len, "%s", v ? v : "");
}

/* The filters of the query; -1 with the reason in err. */
static int parse_filters(struct gateway *gw, struct tapper *t, const char *query, char *err, size_t errlen)
{
    struct evkeyvalq q;
    TAILQ_INIT(&q);
    if (query && evhttp_parse_query_str(query, &q))
        return snprintf(err, errlen, "cannot parse the query string"), -1;
    query_value(&q, "target", t->target, sizeof t->target);
    query_value(&q, "bucket", t->bucket, sizeof t->bucket);
    query_value(&q, "prefix", t->prefix, sizeof t->prefix);
    query_value(&q, "event", t->event, sizeof t->event);
    const char *p = evhttp_find_header(&q, "payloads");
    t->payloads = p && (!strcmp(p, "1") || !strcmp(p, "true") || !*p);
    evhttp_clear_headers(&q);
    if (!*t->target)
        return 0;
    struct buf known = { 0 };
    for (size_t i = 0; i < gw->nt; i++) {
        if (!strcmp(gw->targets[i].conf->name, t->target)) {
            buf_free(&known);
            return 0;
        }
        if (buf_puts(&known, " ") || buf_puts(&known, gw->targets[i].conf->name))
            break;
    }
    snprintf(err, errlen, "target=%s: no such target (configured:%s)", t->target, known.p ? known.p : " none");
    buf_free(&known);
    return -1;
}

void tap_serve(struct gateway *gw, struct evhttp_request *req)
{
    char err[1400];
    struct tapper *t = calloc(1, sizeof *t);
    if (!t || pthread_mutex_init(&t->lock, NULL)) {
        free(t);
        admin_reply_error(req, 500, "out of memory");
        return;
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    if (parse_filters(gw, t, uri ? evhttp_uri_get_query(uri) : NULL, err, sizeof err)) {
        tapper_free(t);
        admin_reply_error(req, 400, err);
        return;
    }
    t->req = req;
    t->conn = evhttp_request_get_connection(req);
    struct timeval tv = { 0, TICK_MS * 1000 };
    struct bufferevent *bev = evhttp_connection_get_bufferevent(t->conn);
    if (!(t->buf = malloc(BUF_MAX)) ||
        !(t->tick = event_new(evhttp_connection_get_base(t->conn), -1, EV_PERSIST, on_tick, t)) ||
        event_add(t->tick, &tv)) {
        tapper_free(t);
        admin_reply_error(req, 500, "out of memory");
        return;
    }
    /* a small kernel buffer: a slow reader's backlog waits here, where it is bounded and counted */
    int sndbuf = SNDBUF;
    if (bev && bufferevent_getfd(bev) >= 0)
        setsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/x-ndjson");
    evhttp_send_reply_start(req, 200, "OK");
    evhttp_connection_set_closecb(t->conn, on_close, t);
    if (bev && bufferevent_getfd(bev) >= 0 &&
        (t->gone = event_new(evhttp_connection_get_base(t->conn), bufferevent_getfd(bev), EV_READ, on_gone, t)))
        event_add(t->gone, NULL);
    send_chunk(t, "{\"tap\":\"started\"}\n", 18);
    pthread_rwlock_wrlock(&tap_lock);
    t->next = tappers;
    tappers = t;
    atomic_fetch_add(&tap_clients, 1);
    pthread_rwlock_unlock(&tap_lock);
}

void tap_close_all(struct gateway *gw)
{
    (void)gw;
    pthread_rwlock_wrlock(&tap_lock);
    struct tapper *t = tappers;
    tappers = NULL;
    pthread_rwlock_unlock(&tap_lock);
    while (t) {
        struct tapper *next = t->next;
        atomic_fetch_sub(&tap_clients, 1);
        evhttp_connection_set_closecb(t->conn, NULL, NULL);
        tapper_free(t);
        t = next;
    }
}
