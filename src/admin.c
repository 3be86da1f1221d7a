/* admin.c -- the admin listener (admin.h): libevent's evhttp on a thread
 * and loop of its own, a dispatch table of endpoints, the admin token and
 * TLS (the ingest's context code, http_tls.c, with admin_tls_cert/key).
 *
 * Why evhttp and not the ingest server: the admin side serves few, small
 * requests and one long chunked stream (/tap); evhttp has both, and
 * keeping it apart means a probe never waits behind a script. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include "admin.h"
#include "admin_stats.h"
#include "clock.h"
#include "gateway.h"
#include "heartbeat.h"
#include "http_conn.h"
#include "log.h"
#include "metrics.h"
#include "tap.h"

struct admin {
    struct gateway *gw;
    struct event_base *base;
    struct evhttp *http;
    SSL_CTX *tls;
    char *auth;          /* "Bearer <admin_token>", NULL: open */
    pthread_t thread;
    int has_thread;
};

static void serve_live(struct gateway *gw, struct evhttp_request *req);
static void serve_ready(struct gateway *gw, struct evhttp_request *req);
static void serve_health(struct gateway *gw, struct evhttp_request *req);
static void serve_metrics(struct gateway *gw, struct evhttp_request *req);

/* The endpoints.  Adding one is one line: its path (a trailing '/' makes
 * it a prefix: /admin/dlq/ serves /admin/dlq/anything), whether it is
 * answered without the admin token (the probes only), and its handler. */
static const struct admin_route {
    const char *path;
    int open;
    admin_handler fn;
} routes[] = {
    { "/live", 1, serve_live },
    { "/ready", 1, serve_ready },
    { "/health", 0, serve_health },
    { "/metrics", 0, serve_metrics },
    { "/tap", 0, tap_serve },
    { "/admin/stats", 0, admin_stats_serve },
    { NULL, 0, NULL },
};

/* ---- the probes --------------------------------------------------------------- */

/* A loop is alive if it turned within the longest time one event may hold
 * it (script_timeout, after which the supervisor kills the worker) plus a
 * margin for a loaded machine. */
int admin_probe_live(struct gateway *gw, char *out, size_t len)
{
    uint64_t now = clock_mono_us();
    uint64_t limit = (uint64_t)gw->cfg.script_timeout_ms * 1000 + 5000000;
    if (!atomic_load(&gw->http.stopping)) /* a drain ends the loops on purpose */
        for (size_t i = 0; i < gw->http.nworkers; i++) {
            uint64_t at = http_worker_alive_us(gw, i);
            if (at && now > at + limit) {
                snprintf(out, len, "{\"status\":\"stuck\",\"worker\":%zu,\"seconds\":%.1f}\n", i,
                         (double)(now - at) / 1e6);
                return 503;
            }
        }
    snprintf(out, len, "{\"status\":\"live\"}\n");
    return 200;
}

/* Free bytes under dir; UINT64_MAX when it cannot be told. */
static uint64_t disk_free(const char *dir)
{
    struct statvfs sv;
    if (statvfs(dir, &sv))
        return UINT64_MAX;
    return (uint64_t)sv.f_bavail * sv.f_frsize;
}

/* Ready while ingest would accept an event: not while starting or
 * draining, not when every target's queue is at its queue_limit (a request
 * for any of them gets 503), not when a queue directory's disk has no room
 * for one largest request.  One target offline is no reason: its queue
 * absorbs the events. */
int admin_probe_ready(struct gateway *gw, char *out, size_t len)
{
    const char *why = NULL;
    /* the supervisor's word comes first: the worker's loop may be busy
     * routing when the stop is asked for */
    if (atomic_load(&gw->http.stopping) || (heartbeat_shm && atomic_load(&heartbeat_shm->stopping)))
        why = "draining";
    else if (!atomic_load(&gw->http.ready))
        why = "starting";
    size_t full = 0;
    for (size_t i = 0; !why && i < gw->nt; i++)
        full += queue_len(gw->targets[i].reader) >= queue_limit(gw->targets[i].reader);
    if (!why && gw->nt && full == gw->nt)
        why = "every queue is full";
    for (size_t i = 0; !why && i < gw->nq; i++)
        if (disk_free(queue_dir(gw->queues[i])) < gw->cfg.body_limit)
            why = "disk full";
    if (why) {
        snprintf(out, len, "{\"status\":\"not ready\",\"reason\":\"%s\"}\n", why);
        return 503;
    }
    snprintf(out, len, "{\"status\":\"ready\",\"queues_full\":%zu,\"targets\":%zu}\n", full, gw->nt);
    return 200;
}

/* ---- handlers ---------------------------------------------------------------------- */

static void reply_text(struct evhttp_request *req, int code, const char *ctype, const char *body, size_t n)
{
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    if (evbuffer_add(b, body, n))
        code = 500;
    evhttp_send_reply(req, code, code == 200 ? "OK" : NULL, b);
    evbuffer_free(b);
}

void admin_reply_error(struct evhttp_request *req, int code, const char *msg)
{
    struct buf b = { 0 };
    if (buf_puts(&b, "{\"error\":") || json_quote(&b, msg, strlen(msg)) || buf_puts(&b, "}\n"))
        reply_text(req, 500, "application/json", "{\"error\":\"out of memory\"}\n", 26);
    else
        reply_text(req, code, "application/json", b.p, b.len);
    buf_free(&b);
}

static void serve_live(struct gateway *gw, struct evhttp_request *req)
{
    char body[160];
    int code = admin_probe_live(gw, body, sizeof body);
    reply_text(req, code, "application/json", body, strlen(body));
}

static void serve_ready(struct gateway *gw, struct evhttp_request *req)
{
    char body[160];
    int code = admin_probe_ready(gw, body, sizeof body);
    reply_text(req, code, "application/json", body, strlen(body));
}

static void reply_buffer(struct evhttp_request *req, int code, const char *ctype, struct evbuffer *b)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    evhttp_send_reply(req, code, NULL, b);
}

static void serve_health(struct gateway *gw, struct evhttp_request *req)
{
    struct evbuffer *b = evbuffer_new();
    int code = 500;
    if (!b) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    metrics_health_render(gw, b, &code);
    reply_buffer(req, code, "application/json", b);
    evbuffer_free(b);
}

static void serve_metrics(struct gateway *gw, struct evhttp_request *req)
{
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    metrics_render(gw, b);
    reply_buffer(req, 200, "text/plain; version=0.0.4", b);
    evbuffer_free(b);
}

/* ---- dispatch ---------------------------------------------------------------------- */

/* Constant time in the token's length: a wrong guess tells nothing of how
 * much of it was right. */
static int authorized(struct admin *a, struct evhttp_request *req)
{
    if (!a->auth)
        return 1;
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    size_t n = strlen(a->auth);
    return h && strlen(h) == n && CRYPTO_memcmp(h, a->auth, n) == 0;
}

static const struct admin_route *route_of(const char *path)
{
    for (const struct admin_route *r = routes; r->path; r++) {
        size_t n = strlen(r->path);
        if (r->path[n - 1] == '/' ? !strncmp(path, r->path, n) : !strcmp(path, r->path))
            return r;
    }
    return NULL;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct admin *a = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const struct admin_route *r = route_of(path && *path ? path : "/");
    if (!r) {
        admin_reply_error(req, 404, "unknown admin endpoint (known: /live /ready /health /metrics /tap "
                          "/admin/stats)");
        return;
    }
    if (!r->open && !authorized(a, req)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer");
        admin_reply_error(req, 401, "missing or wrong Authorization header (admin_token)");
        return;
    }
    r->fn(a->gw, req);
}

/* ---- TLS ------------------------------------------------------------------------- */

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
    struct admin *a = arg;
    SSL *ssl = SSL_new(a->tls);
    if (!ssl)
        return NULL;
    struct bufferevent *bev =
        bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        SSL_free(ssl);
    return bev;
}

/* The ingest's context code with the admin's files: the same TLS versions
 * and ciphers, no client certificates (the admin token is the check). */
static SSL_CTX *admin_tls(const struct gw_config *cfg, char *err, size_t errlen)
{
    struct gw_config c = *cfg;
    c.tls_cert = cfg->admin_tls_cert;
    c.tls_key = cfg->admin_tls_key;
    c.tls_client_ca = NULL;
    SSL_CTX *ctx = tls_context(&c, err, errlen);
    /* read-ahead suits the ingest's own loop, which drains SSL_pending; a
     * bufferevent would leave a request read with the handshake's last
     * record in OpenSSL's buffer and wait for the socket forever */
    if (ctx)
        SSL_CTX_set_read_ahead(ctx, 0);
    return ctx;
}

/* ---- the thread ------------------------------------------------------------------- */

static void *admin_main(void *arg)
{
    struct admin *a = arg;
    pthread_setname_np(pthread_self(), "admin");
    if (event_base_dispatch(a->base) < 0)
        log_error("admin", "the admin listener's event loop failed");
    return NULL;
}

static void admin_free(struct admin *a)
{
    tap_close_all(a->gw);
    if (a->http)
        evhttp_free(a->http);
    if (a->base)
        event_base_free(a->base);
    SSL_CTX_free(a->tls);
    free(a->auth);
    free(a);
}

static int admin_setup(struct admin *a, int fd, char *err, size_t errlen)
{
    const struct gw_config *cfg = &a->gw->cfg;
    if (cfg->admin_token &&
        (!(a->auth = malloc(strlen(cfg->admin_token) + 8)) ||
         snprintf(a->auth, strlen(cfg->admin_token) + 8, "Bearer %s", cfg->admin_token) < 0))
        return snprintf(err, errlen, "out of memory"), -1;
    if (cfg->admin_tls_cert && !(a->tls = admin_tls(cfg, err, errlen)))
        return -1;
    if (!(a->base = event_base_new()) || !(a->http = evhttp_new(a->base)))
        return snprintf(err, errlen, "cannot create the admin listener's event loop"), -1;
    evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                        EVHTTP_REQ_DELETE);
    evhttp_set_max_headers_size(a->http, 16384);
    evhttp_set_max_body_size(a->http, 1 << 20);
    evhttp_set_timeout(a->http, 30);
    evhttp_set_gencb(a->http, on_request, a);
    if (a->tls)
        evhttp_set_bevcb(a->http, tls_bev, a);
    if (!evhttp_accept_socket_with_handle(a->http, fd))
        return snprintf(err, errlen, "cannot serve the admin listener %s", cfg->admin_listen), -1;
    return 0;
}

int admin_start(struct gateway *gw, int fd, char *err, size_t errlen)
{
    if (fd < 0)
        return 0;
    struct admin *a = calloc(1, sizeof *a);
    if (!a)
        return snprintf(err, errlen, "out of memory"), -1;
    a->gw = gw;
    if (admin_setup(a, fd, err, errlen)) {
        admin_free(a);
        return -1;
    }
    if (pthread_create(&a->thread, NULL, admin_main, a)) {
        admin_free(a);
        return snprintf(err, errlen, "cannot start the admin listener's thread"), -1;
    }
    a->has_thread = 1;
    gw->admin = a;
    log_info("admin", "admin listener on %s://%s/ (/live /ready /health /metrics /tap /admin/stats)%s",
             a->tls ? "https" : "http", gw->cfg.admin_listen, a->auth ? ", admin_token required" : "");
    return 0;
}

void admin_stop(struct gateway *gw)
{
    struct admin *a = gw->admin;
    if (!a)
        return;
    event_base_loopexit(a->base, NULL);
    if (a->has_thread)
        pthread_join(a->thread, NULL);
    admin_free(a);
    gw->admin = NULL;
}
