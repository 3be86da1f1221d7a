/* http_worker.c -- the ingest server's workers: their listening sockets
 * (SO_REUSEPORT when there are several) and their lives: start, the
 * mailbox through which the main thread hands over reloaded Lua states and
 * TLS contexts, drain on SIGTERM, stop, free.  Connections and requests
 * are in http.c. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "clock.h"
#include "heartbeat.h"
#include "http_conn.h"
#include "ingest.h"
#include "log.h"

/* ---- listening sockets --------------------------------------------------------- */

/* A listening socket as evconnlistener_new_bind makes one. */
static int bind_one(const struct sockaddr *sa, socklen_t salen, int reuseport)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)) ||
        bind(fd, sa, salen) || listen(fd, 1024)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* With SO_REUSEPORT, a second gateway started on the same port would bind
 * too and silently take a share of the connections: refuse a port that
 * something listens on already, as a plain bind does. */
static int port_taken(const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0; /* the real bind will say */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int taken = bind(fd, sa, len) != 0 && errno == EADDRINUSE;
    close(fd);
    return taken;
}

static void close_fds(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

/* One worker: a listening socket, as always.  Several: one socket each,
 * all bound to the same address with SO_REUSEPORT so that the kernel
 * spreads the connections; the others bind where the first did (its port
 * when listen says 0). */
int http_bind(const char *listen_addr, size_t n, int *fds, char *err, size_t errlen)
{
    char host[256], port[16];
    const char *colon = strrchr(listen_addr, ':');
    for (size_t i = 0; i < n; i++)
        fds[i] = -1;
    if (!colon) {
        snprintf(err, errlen, "listen: expected host:port, got '%s'", listen_addr);
        return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - listen_addr), listen_addr);
    if (host[0] == '[') { /* [::1]:9100 */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    if (!*host)
        snprintf(host, sizeof host, "0.0.0.0");
    snprintf(port, sizeof port, "%d", atoi(colon + 1));

    struct evutil_addrinfo hints = { 0 }, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = EVUTIL_AI_PASSIVE;
    if (evutil_getaddrinfo(host, port, &hints, &ai) || !ai) {
        snprintf(err, errlen, "cannot listen on %s (in use, or not a local address?)", listen_addr);
        return -1;
    }
    int many = n > 1;
    for (struct evutil_addrinfo *a = ai; a && fds[0] < 0; a = a->ai_next)
        if (!many || !port_taken(a->ai_addr, (socklen_t)a->ai_addrlen))
            fds[0] = bind_one(a->ai_addr, (socklen_t)a->ai_addrlen, many);
    evutil_freeaddrinfo(ai);
    if (fds[0] < 0) {
        snprintf(err, errlen, "cannot listen on %s (in use, or not a local address?)", listen_addr);
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    if (many && getsockname(fds[0], (struct sockaddr *)&ss, &sslen)) {
        snprintf(err, errlen, "listen %s: %s", listen_addr, strerror(errno));
        close_fds(fds, n);
        return -1;
    }
    for (size_t i = 1; i < n; i++)
        if ((fds[i] = bind_one((struct sockaddr *)&ss, sslen, 1)) < 0) {
            snprintf(err, errlen, "cannot listen on %s a %zuth time (SO_REUSEPORT): %s", listen_addr, i + 1,
                     strerror(errno));
            close_fds(fds, n);
            return -1;
        }
    return 0;
}

/* Each worker serves one socket: bound here, or inherited from the
 * supervisor, which keeps its own copies so that connections wait in the
 * backlog while a worker restarts. */
static int listen_all(struct gateway *gw, char *err, size_t errlen)
{
    int own[INGEST_WORKERS_MAX];
    int *fds = gw->http.listen_fds;
    if (!fds) {
        if (http_bind(gw->cfg.listen, gw->http.nworkers, own, err, errlen))
            return -1;
        fds = own;
    }
    for (size_t i = 0; i < gw->http.nworkers; i++) {
        struct worker *w = &gw->http.workers[i];
        int fd = fds[i]; /* the listener owns it: closing it on drain refuses new connections */
        w->lev = fd < 0 ? NULL
                        : evconnlistener_new(w->base, http_on_accept, w,
                                             LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
        if (!w->lev) {
            snprintf(err, errlen, "cannot serve the listening socket of %s: %s", gw->cfg.listen, strerror(errno));
            close_fds(fds + i, gw->http.nworkers - i);
            return -1;
        }
        evconnlistener_set_error_cb(w->lev, http_on_accept_error);
    }
    return 0;
}

int http_port(struct gateway *gw)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (!gw->http.workers || !gw->http.workers[0].lev ||
        getsockname(evconnlistener_get_fd(gw->http.workers[0].lev), (struct sockaddr *)&ss, &len))
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* ---- workers: start, reload, stop ------------------------------------------------ */

/* The main thread hands a worker a fresh Lua state or TLS context; the
 * worker swaps it in between two of its own events (on_mail), so a state
 * is only ever run by one thread.  One it has not taken yet was never
 * used: the newer one replaces it. */
void http_worker_give(struct worker *w, struct router *r, SSL_CTX *tls)
{
    pthread_mutex_lock(&w->mail_lock);
    if (r) {
        router_free(w->mail_router);
        w->mail_router = r;
    }
    if (tls) {
        SSL_CTX_free(w->mail_tls);
        w->mail_tls = tls;
    }
    pthread_mutex_unlock(&w->mail_lock);
    event_active(w->mail_ev, EV_READ, 0);
}

void http_give_router(struct gateway *gw, size_t i, struct router *r)
{
    http_worker_give(&gw->http.workers[i], r, NULL);
}

static void on_mail(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    pthread_mutex_lock(&w->mail_lock);
    struct router *r = w->mail_router;
    SSL_CTX *tls = w->mail_tls;
    w->mail_router = NULL;
    w->mail_tls = NULL;
    pthread_mutex_unlock(&w->mail_lock);
    if (r) {
        router_free(w->gw->routers[w->id]);
        w->gw->routers[w->id] = r;
    }
    if (tls) { /* new connections use it */
        SSL_CTX_free(w->tls);
        w->tls = tls;
    }
}

static void stop_accepting(struct worker *w)
{
    if (w->lev) {
        evconnlistener_free(w->lev);
        w->lev = NULL;
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    log_warn("luagate", "shutdown deadline reached with %zu request(s) unanswered",
             atomic_load_explicit(&w->npending, memory_order_relaxed));
    event_base_loopexit(w->base, NULL);
}

/* SIGTERM, on the worker's thread: stop accepting; leave the loop once
 * every waiting request is answered (ingest_on_durable_event) or at the deadline. */
static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    if (w->draining)
        return;
    w->draining = 1;
    stop_accepting(w);
    if (!w->pending_head && !w->jobs) { /* requests routed in slices (ingest.c) finish first */
        event_base_loopexit(w->base, NULL);
        return;
    }
    long long ms = w->gw->cfg.shutdown_ms;
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
    evtimer_add(w->deadline_ev, &tv);
}

/* /live asks whether every loop still turns. */
static void on_alive(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    atomic_store_explicit(&w->alive_us, clock_mono_us(), memory_order_relaxed);
}

uint64_t http_worker_alive_us(struct gateway *gw, size_t i)
{
    return gw->http.workers ? atomic_load_explicit(&gw->http.workers[i].alive_us, memory_order_relaxed) : 0;
}

static int worker_init(struct gateway *gw, struct worker *w, unsigned id)
{
    if (pthread_mutex_init(&w->mail_lock, NULL))
        return -1;
    w->gw = gw; /* also says the lock is to be destroyed */
    w->id = id;
    if (!(w->base = id ? event_base_new() : gw->base))
        return -1;
    w->durable_ev = event_new(w->base, -1, 0, ingest_on_durable_event, w);
    w->kick_ev = event_new(w->base, -1, 0, ingest_on_batch_end, w);
    w->mail_ev = event_new(w->base, -1, 0, on_mail, w);
    w->stop_ev = event_new(w->base, -1, 0, on_stop, w);
    w->deadline_ev = evtimer_new(w->base, on_deadline, w);
    w->retry_ev = evtimer_new(w->base, http_on_accept_retry, w);
    w->sweep_ev = evtimer_new(w->base, http_on_sweep, w);
    w->render = evbuffer_new();
    w->alive_ev = event_new(w->base, -1, EV_PERSIST, on_alive, w);
    struct timeval second = { 1, 0 };
    atomic_store(&w->alive_us, clock_mono_us());
    if (!w->alive_ev || event_add(w->alive_ev, &second))
        return -1;
    return w->durable_ev && w->kick_ev && w->mail_ev && w->stop_ev && w->deadline_ev && w->retry_ev && w->sweep_ev &&
                   w->render ? 0 : -1;
}

int http_start(struct gateway *gw, char *err, size_t errlen)
{
    if (!(gw->http.workers = calloc(gw->http.nworkers, sizeof *gw->http.workers))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < gw->http.nworkers; i++)
        if (worker_init(gw, &gw->http.workers[i], (unsigned)i)) {
            snprintf(err, errlen, "cannot create the HTTP server");
            return -1;
        }
    if (gw->cfg.tls_cert) {
        SSL_CTX *ctx = tls_context(&gw->cfg, err, errlen);
        if (!ctx)
            return -1;
        for (size_t i = 0; i < gw->http.nworkers; i++)
            if (SSL_CTX_up_ref(ctx))
                gw->http.workers[i].tls = ctx;
        SSL_CTX_free(ctx); /* the workers hold theirs */
        /* libevent delivers a signal to one loop: the main one (worker 0's) */
        struct worker *w0 = &gw->http.workers[0];
        w0->hup_ev = evsignal_new(gw->base, SIGHUP, tls_on_hup, gw);
        if (!w0->hup_ev || event_add(w0->hup_ev, NULL)) {
            snprintf(err, errlen, "cannot install the SIGHUP handler of the TLS listener");
            return -1;
        }
    }
    if (listen_all(gw, err, errlen))
        return -1;
    if (gw->cfg.tls_cert)
        log_info("http", "the ingest listener speaks HTTPS only (TLS 1.2+, certificate %s%s)",
                 gw->cfg.tls_cert, gw->cfg.tls_client_ca ? ", client certificates required" : "");
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char name[16];
    snprintf(name, sizeof name, "ingest-%u", w->id);
    pthread_setname_np(pthread_self(), name); /* for top -H and /proc: best effort */
    if (event_base_dispatch(w->base) < 0)
        log_error("http", "ingest worker %u: its event loop failed", w->id);
    return NULL;
}

int http_spawn(struct gateway *gw, char *err, size_t errlen)
{
    /* signals are the main loop's: the worker threads are born blocking them */
    sigset_t sigs, old;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, &old);
    int rc = 0;
    for (size_t i = 1; i < gw->http.nworkers && !rc; i++) {
        struct worker *w = &gw->http.workers[i];
        if (pthread_create(&w->thread, NULL, worker_main, w))
            rc = -1;
        else
            w->has_thread = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        snprintf(err, errlen, "cannot start the ingest worker threads");
    return rc;
}

void http_drain(struct gateway *gw)
{
    for (size_t i = 0; gw->http.workers && i < gw->http.nworkers; i++)
        event_active(gw->http.workers[i].stop_ev, EV_READ, 0);
}

void http_stop_now(struct gateway *gw)
{
    for (size_t i = 0; gw->http.workers && i < gw->http.nworkers; i++)
        event_base_loopexit(gw->http.workers[i].base, NULL);
}

void http_join(struct gateway *gw)
{
    for (size_t i = 0; gw->http.workers && i < gw->http.nworkers; i++)
        if (gw->http.workers[i].has_thread) {
            pthread_join(gw->http.workers[i].thread, NULL);
            gw->http.workers[i].has_thread = 0;
        }
}

size_t http_npending(struct gateway *gw)
{
    size_t n = 0;
    for (size_t i = 0; gw->http.workers && i < gw->http.nworkers; i++)
        n += atomic_load_explicit(&gw->http.workers[i].npending, memory_order_relaxed);
    return n;
}

uint64_t http_worker_requests(struct gateway *gw, size_t i)
{
    return gw->http.workers ? atomic_load_explicit(&gw->http.workers[i].requests, memory_order_relaxed) : 0;
}

static void event_free_if(struct event *ev)
{
    if (ev)
        event_free(ev);
}

static void worker_free(struct worker *w)
{
    while (w->pending_head) { /* only on a forced stop */
        struct pending *p = w->pending_head;
        w->pending_head = p->next;
        if (p->c) {
            p->c->pend = NULL;
            p->c->close_after = 1;
            http_reply_error(p->c, 503, "shutting down");
        }
        free(p);
    }
    w->pending_tail = NULL;
    atomic_store(&w->npending, 0);
    stop_accepting(w);
    while (w->conns)
        conn_close(w->conns);
    while (w->free_pending) {
        struct pending *p = w->free_pending;
        w->free_pending = p->next;
        free(p);
    }
    event_free_if(w->retry_ev);
    event_free_if(w->sweep_ev);
    event_free_if(w->hup_ev);
    event_free_if(w->durable_ev);
    event_free_if(w->kick_ev);
    event_free_if(w->mail_ev);
    event_free_if(w->stop_ev);
    event_free_if(w->deadline_ev);
    event_free_if(w->alive_ev);
    SSL_CTX_free(w->tls); /* after the connections: their SSLs hold references */
    SSL_CTX_free(w->mail_tls);
    router_free(w->mail_router);
    if (w->render)
        evbuffer_free(w->render);
    buf_free(&w->err);
    ingest_scratch_free(w);
    if (w->gw)
        pthread_mutex_destroy(&w->mail_lock);
    if (w->id && w->base)
        event_base_free(w->base);
    memset(w, 0, sizeof *w);
}

void http_free(struct gateway *gw)
{
    if (!gw->http.workers)
        return;
    for (size_t i = 0; i < gw->http.nworkers; i++) /* still running only after a failed start */
        if (gw->http.workers[i].has_thread)
            event_base_loopexit(gw->http.workers[i].base, NULL);
    http_join(gw);
    for (size_t i = 0; i < gw->http.nworkers; i++)
        worker_free(&gw->http.workers[i]);
    free(gw->http.workers);
    gw->http.workers = NULL;
}
