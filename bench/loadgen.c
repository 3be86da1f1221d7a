/*
 * loadgen -- HTTP/1.1 load generator for luagate's end-to-end benchmark.
 *
 * N keep-alive connections to 127.0.0.1:PORT, each POSTing MinIO webhook
 * envelopes (the lines of a JSONL file, cycling) with Content-Length, one
 * request in flight per connection.  Two modes:
 *
 *   closed loop (default): a connection sends its next request as soon as the
 *     previous answer arrived -- what MinIO's webhook client does.  Latency is
 *     measured from the actual send.
 *   open loop (-r RATE): requests are due on a fixed timetable (RATE per
 *     second over all threads); a due request goes out on the first idle
 *     connection, and its latency is measured from the time it was due, so a
 *     stalled server is charged for the requests it kept from being sent
 *     (no coordinated omission).
 *
 * After a warm-up (-w) the run measures for -d seconds, then stops by itself.
 * -n COUNT instead sends exactly COUNT requests (closed loop, no warm-up),
 * for instruction counting under valgrind.
 *
 * Output: one line of key=value pairs on stdout (see print_result), e.g.
 *   conns=64 threads=1 mode=closed ... rps=12345 ... p99_us=4200 ...
 * Exit status 0 on a run that got answers, 1 if no request was answered,
 * 2 on usage errors or when the server is not there.
 *
 * epoll, one thread per -t (default 1); only ever connects to 127.0.0.1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF 16384
#define MAXEV 256

/* ---------- time ---------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------- log-linear histogram of nanoseconds, 64 sub-buckets per octave (1.6 %) ---------- */

#define HSUB 64
#define HBUCKETS (59 * HSUB)

typedef struct {
    uint64_t c[HBUCKETS];
    uint64_t n, max, sum;
} hist_t;

static unsigned hist_index(uint64_t v)
{
    if (v < HSUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= 6 */
    unsigned sub = (unsigned)(v >> (e - 6)) & (HSUB - 1);
    return (e - 5) * HSUB + sub;
}

/* Highest value that lands in bucket i (a conservative read-out). */
static uint64_t hist_upper(unsigned i)
{
    if (i < HSUB)
        return i;
    unsigned e = i / HSUB + 5, sub = i % HSUB;
    uint64_t lo = (uint64_t)(HSUB + sub) << (e - 6);
    return lo + ((uint64_t)1 << (e - 6)) - 1;
}

static void hist_add(hist_t *h, uint64_t v)
{
    h->c[hist_index(v)]++;
    h->n++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

static void hist_merge(hist_t *into, const hist_t *h)
{
    for (unsigned i = 0; i < HBUCKETS; i++)
        into->c[i] += h->c[i];
    into->n += h->n;
    into->sum += h->sum;
    if (h->max > into->max)
        into->max = h->max;
}

static uint64_t hist_pct(const hist_t *h, double p)
{
    if (!h->n)
        return 0;
    uint64_t want = (uint64_t)(p / 100.0 * (double)h->n + 0.5), seen = 0;
    if (want < 1)
        want = 1;
    for (unsigned i = 0; i < HBUCKETS; i++) {
        seen += h->c[i];
        if (seen >= want) {
            uint64_t u = hist_upper(i);
            return u < h->max ? u : h->max;
        }
    }
    return h->max;
}

/* ---------- options and shared state ---------- */

static struct {
    int port, conns, threads;
    double duration, warmup, rate;
    long long count;
    const char *file, *path, *token;
} opt = { 0, 64, 1, 5.0, 1.0, 0.0, 0, "examples/events/minio-webhook.jsonl", "/", NULL };

typedef struct {
    char *buf;
    size_t len;
} req_t;

static req_t *reqs;
static size_t nreqs;
static uint64_t t_start, t_warm, t_end;
static struct sockaddr_in srv;

/* ---------- per connection ---------- */

typedef struct conn {
    int fd;
    int busy;           /* a request is out (or partly written) */
    int wantout;        /* EPOLLOUT is armed */
    int in_idle;        /* on the worker's idle stack (open loop) */
    size_t ri, woff;    /* which request, bytes of it written */
    uint64_t t_sched;   /* send time (closed) or due time (open), ns */
    size_t rlen;
    char rbuf[RBUF];
} conn_t;

typedef struct worker {
    int id, ep, nconns;
    conn_t *c;
    int *idle, nidle;          /* stack of idle connections (open loop) */
    double period_ns, phase_ns;/* open-loop timetable of this thread */
    uint64_t due_i;            /* index of the next due request (open loop) */
    long long limit, sent, done; /* -n mode */
    size_t next_req;
    hist_t h;
    uint64_t ok, non200, errors, reconnects, ok_total, answered_total;
    int last_status;
    pthread_t th;
} worker_t;

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Blocking connect on loopback (fast), then non-blocking for the run. */
static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&srv, sizeof srv) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_nonblock(fd);
    return fd;
}

static int conn_open(worker_t *w, conn_t *c)
{
    c->fd = dial();
    c->busy = c->wantout = 0;
    c->rlen = c->woff = 0;
    if (c->fd < 0)
        return -1;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

static void conn_close(conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->busy = 0;
}

static void arm_out(worker_t *w, conn_t *c, int on)
{
    if (c->wantout == on)
        return;
    struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c };
    epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->wantout = on;
}

static void conn_fail(worker_t *w, conn_t *c);

static void idle_push(worker_t *w, conn_t *c)
{
    if (!c->in_idle) {
        c->in_idle = 1;
        w->idle[w->nidle++] = (int)(c - w->c);
    }
}

static void conn_flush(worker_t *w, conn_t *c)
{
    const req_t *r = &reqs[c->ri];
    while (c->woff < r->len) {
        ssize_t n = write(c->fd, r->buf + c->woff, r->len - c->woff);
        if (n > 0) {
            c->woff += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            arm_out(w, c, 1);
            return;
        } else {
            conn_fail(w, c);
            return;
        }
    }
    arm_out(w, c, 0);
}

static void conn_send(worker_t *w, conn_t *c, uint64_t t_sched)
{
    c->ri = w->next_req;
    w->next_req = (w->next_req + 1) % nreqs;
    c->woff = 0;
    c->busy = 1;
    c->t_sched = t_sched;
    w->sent++;
    conn_flush(w, c);
}

/* A connection broke with a request out: count it, reconnect, carry on. */
static void conn_fail(worker_t *w, conn_t *c)
{
    int was_busy = c->busy;
    uint64_t t = c->t_sched;
    conn_close(c);
    if (was_busy) {
        w->errors++;
        if (w->limit)
            w->sent--; /* -n mode: send it again */
    }
    w->reconnects++;
    if (conn_open(w, c) < 0)
        return; /* stays closed; the main loop retries */
    if (opt.rate > 0) {
        if (was_busy) /* the due request is re-sent, still charged from its due time */
            conn_send(w, c, t);
        else
            idle_push(w, c);
    } else if (!w->limit || w->sent < w->limit) {
        conn_send(w, c, now_ns());
    }
}

/*
 * Is a complete response at the start of b[0..n)?  Returns 1 and fills
 * *status, *used, *closing when it is, 0 when more bytes are needed, -1 on
 * garbage.  Handles Content-Length and chunked bodies (no trailers).
 */
static int parse_response(const char *b, size_t n, int *status, size_t *used, int *closing)
{
    const char *end = memmem(b, n, "\r\n\r\n", 4);
    if (!end)
        return n >= RBUF ? -1 : 0;
    if (n < 12 || memcmp(b, "HTTP/1.", 7))
        return -1;
    *status = atoi(b + 9);
    size_t hlen = (size_t)(end - b) + 4, clen = 0;
    int chunked = 0;
    *closing = b[7] == '0';
    for (const char *p = memchr(b, '\n', hlen); p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
        p++;
        if (!strncasecmp(p, "content-length:", 15))
            clen = strtoul(p + 15, NULL, 10);
        else if (!strncasecmp(p, "transfer-encoding:", 18) && memmem(p, (size_t)(end - p), "chunked", 7))
            chunked = 1;
        else if (!strncasecmp(p, "connection:", 11)) {
            const char *v = p + 11;
            while (*v == ' ')
                v++;
            if (!strncasecmp(v, "close", 5))
                *closing = 1;
            else if (!strncasecmp(v, "keep-alive", 10))
                *closing = 0;
        }
    }
    if (*status == 204 || *status == 304 || (*status >= 100 && *status < 200))
        clen = 0, chunked = 0;
    if (!chunked) {
        if (n < hlen + clen)
            return hlen + clen > RBUF ? -1 : 0;
        *used = hlen + clen;
        return 1;
    }
    size_t off = hlen;
    for (;;) {
        const char *nl = memmem(b + off, n - off, "\r\n", 2);
        if (!nl)
            return 0;
        size_t sz = strtoul(b + off, NULL, 16);
        off = (size_t)(nl - b) + 2;
        if (n < off + sz + 2)
            return off + sz + 2 > RBUF ? -1 : 0;
        off += sz + 2;
        if (sz == 0) {
            *used = off;
            return 1;
        }
    }
}

/* One answer to c's request: count it, then send the next one (or park c). */
static void on_answer(worker_t *w, conn_t *c, int status, int closing)
{
    uint64_t t = now_ns();
    c->busy = 0;
    w->answered_total++;
    w->done++;
    if (status == 200)
        w->ok_total++;
    if (w->limit || (t >= t_warm && t < t_end)) {
        hist_add(&w->h, t - c->t_sched);
        if (status == 200) {
            w->ok++;
        } else {
            w->non200++;
            w->last_status = status;
        }
    }
    if (closing) /* the server hangs up after this answer: reconnect (not an error) */
        conn_fail(w, c);
    else if (opt.rate > 0)
        idle_push(w, c);
    else if (!w->limit || w->sent < w->limit)
        conn_send(w, c, t);
}

static void conn_read(worker_t *w, conn_t *c)
{
    for (;;) {
        ssize_t n = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) { /* EOF or error */
            conn_fail(w, c);
            return;
        }
        c->rlen += (size_t)n;
        for (;;) {
            int status = 0, closing = 0;
            size_t used = 0;
            int r = parse_response(c->rbuf, c->rlen, &status, &used, &closing);
            if (r == 0)
                break;
            if (r < 0 || !c->busy) { /* garbage, or an answer nobody asked for */
                conn_fail(w, c);
                return;
            }
            memmove(c->rbuf, c->rbuf + used, c->rlen - used);
            c->rlen -= used;
            on_answer(w, c, status, closing);
            if (c->fd < 0)
                return;
        }
        if ((size_t)n < RBUF)
            return; /* a short read drained the socket; avoid an extra EAGAIN read */
    }
}

/* Open loop: hand every request that is due to an idle connection. */
static void dispatch_due(worker_t *w, uint64_t t)
{
    while (w->nidle > 0) {
        uint64_t due = t_start + (uint64_t)(w->phase_ns + (double)w->due_i * w->period_ns);
        if (due > t || due >= t_end)
            return;
        conn_t *c = &w->c[w->idle[--w->nidle]];
        c->in_idle = 0;
        if (c->fd < 0)
            continue; /* broke while idle; the retry loop brings it back */
        w->due_i++;
        conn_send(w, c, due);
    }
}

static void *worker_run(void *arg)
{
    worker_t *w = arg;
    struct epoll_event evs[MAXEV];
    uint64_t last_retry = 0;

    for (int i = 0; i < w->nconns; i++) {
        if (opt.rate > 0)
            idle_push(w, &w->c[i]);
        else if (w->c[i].fd >= 0 && (!w->limit || w->sent < w->limit))
            conn_send(w, &w->c[i], now_ns());
    }
    for (;;) {
        uint64_t t = now_ns();
        if (w->limit ? w->done >= w->limit : t >= t_end)
            break;
        if (w->limit && t >= t_end)
            break; /* -n mode: -d is the time limit */
        /* reconnect connections that could not reconnect, every 10 ms */
        if (t - last_retry > 10000000) {
            last_retry = t;
            for (int i = 0; i < w->nconns; i++) {
                conn_t *c = &w->c[i];
                if (c->fd >= 0 || conn_open(w, c) < 0)
                    continue;
                if (opt.rate > 0)
                    idle_push(w, c);
                else if (!w->limit || w->sent < w->limit)
                    conn_send(w, c, now_ns());
            }
        }
        uint64_t wake = t_end;
        if (opt.rate > 0) {
            dispatch_due(w, t);
            if (w->nidle > 0) {
                uint64_t due = t_start + (uint64_t)(w->phase_ns + (double)w->due_i * w->period_ns);
                if (due < wake)
                    wake = due;
            }
        }
        if (wake > t + 10000000)
            wake = t + 10000000;
        uint64_t dt = wake > t ? wake - t : 0;
        struct timespec ts = { (time_t)(dt / 1000000000u), (long)(dt % 1000000000u) };
        int n = epoll_pwait2(w->ep, evs, MAXEV, &ts, NULL);
        if (n < 0 && errno != EINTR) {
            perror("loadgen: epoll_pwait2");
            exit(2);
        }
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->fd < 0)
                continue;
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                conn_read(w, c);
            if (c->fd >= 0 && (evs[i].events & EPOLLOUT) && c->busy)
                conn_flush(w, c);
        }
    }
    return NULL;
}

/* ---------- setup ---------- */

static void load_requests(void)
{
    FILE *f = fopen(opt.file, "r");
    if (!f) {
        fprintf(stderr, "loadgen: cannot open %s: %s\n", opt.file, strerror(errno));
        exit(2);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    size_t rcap = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        char hdr[512], auth[300] = "";
        if (opt.token)
            snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", opt.token);
        int hl = snprintf(hdr, sizeof hdr,
                          "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: luagate-loadgen\r\n"
                          "Content-Type: application/json\r\n%sContent-Length: %zd\r\n\r\n",
                          opt.path, opt.port, auth, len);
        if (nreqs == rcap) {
            rcap = rcap ? 2 * rcap : 64;
            reqs = realloc(reqs, rcap * sizeof *reqs);
        }
        req_t *r = &reqs[nreqs++];
        r->len = (size_t)hl + (size_t)len;
        r->buf = malloc(r->len);
        if (!reqs || !r->buf) {
            fprintf(stderr, "loadgen: out of memory\n");
            exit(2);
        }
        memcpy(r->buf, hdr, (size_t)hl);
        memcpy(r->buf + hl, line, (size_t)len);
    }
    free(line);
    fclose(f);
    if (!nreqs) {
        fprintf(stderr, "loadgen: %s has no lines\n", opt.file);
        exit(2);
    }
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static void sleep_until(uint64_t t)
{
    for (uint64_t n; (n = now_ns()) < t;) {
        uint64_t d = t - n;
        struct timespec ts = { (time_t)(d / 1000000000u), (long)(d % 1000000000u) };
        nanosleep(&ts, NULL);
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen -p PORT [-c CONNS] [-t THREADS] [-d SECONDS] [-w WARMUP] [-r RATE]\n"
            "               [-n COUNT] [-f FILE.jsonl] [-P PATH] [-a TOKEN]\n"
            "  -p PORT     server port on 127.0.0.1 (required)\n"
            "  -c CONNS    keep-alive connections, one request in flight each (64)\n"
            "  -t THREADS  epoll threads (1)\n"
            "  -d SECONDS  measured duration (5); with -n, the time limit\n"
            "  -w SECONDS  warm-up before measuring (1)\n"
            "  -r RATE     open loop: RATE requests/s on a timetable, latency from the due time\n"
            "  -n COUNT    send exactly COUNT requests (closed loop, no warm-up)\n"
            "  -f FILE     JSONL file of request bodies, cycled (%s)\n"
            "  -P PATH     request path (/)\n"
            "  -a TOKEN    send 'Authorization: Bearer TOKEN'\n",
            opt.file);
    exit(2);
}

int main(int argc, char **argv)
{
    int ch;
    while ((ch = getopt(argc, argv, "p:c:t:d:w:r:n:f:P:a:h")) != -1) {
        switch (ch) {
        case 'p': opt.port = atoi(optarg); break;
        case 'c': opt.conns = atoi(optarg); break;
        case 't': opt.threads = atoi(optarg); break;
        case 'd': opt.duration = atof(optarg); break;
        case 'w': opt.warmup = atof(optarg); break;
        case 'r': opt.rate = atof(optarg); break;
        case 'n': opt.count = atoll(optarg); break;
        case 'f': opt.file = optarg; break;
        case 'P': opt.path = optarg; break;
        case 'a': opt.token = optarg; break;
        default: usage();
        }
    }
    if (opt.port <= 0 || opt.port > 65535 || opt.conns < 1 || opt.threads < 1 || opt.threads > opt.conns ||
        opt.duration <= 0 || opt.warmup < 0 || opt.rate < 0 || opt.count < 0 || (opt.count && opt.rate > 0))
        usage();
    signal(SIGPIPE, SIG_IGN);
    load_requests();

    srv.sin_family = AF_INET;
    srv.sin_port = htons((uint16_t)opt.port);
    srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    /* One probe so that a missing server is one clear line, not N errors. */
    int probe = dial();
    if (probe < 0) {
        fprintf(stderr, "loadgen: cannot connect to 127.0.0.1:%d: %s (is the server running?)\n", opt.port,
                strerror(errno));
        return 2;
    }
    close(probe);

    worker_t *ws = calloc((size_t)opt.threads, sizeof *ws);
    if (!ws)
        return 2;
    for (int k = 0; k < opt.threads; k++) {
        worker_t *w = &ws[k];
        w->id = k;
        w->nconns = opt.conns / opt.threads + (k < opt.conns % opt.threads);
        w->c = calloc((size_t)w->nconns, sizeof *w->c);
        w->idle = calloc((size_t)w->nconns, sizeof *w->idle);
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->next_req = (size_t)k * 7 % nreqs;
        if (opt.rate > 0) {
            w->period_ns = 1e9 * opt.threads / opt.rate;
            w->phase_ns = 1e9 * k / opt.rate;
        }
        if (opt.count)
            w->limit = opt.count / opt.threads + (k < opt.count % opt.threads);
        if (!w->c || !w->idle || w->ep < 0)
            return 2;
        for (int i = 0; i < w->nconns; i++) {
            if (conn_open(w, &w->c[i]) < 0) {
                fprintf(stderr, "loadgen: connection %d to 127.0.0.1:%d failed: %s\n", i, opt.port,
                        strerror(errno));
                return 2;
            }
        }
    }

    t_start = now_ns();
    if (opt.count) {
        t_warm = t_start;
        t_end = t_start + (uint64_t)(opt.duration * 1e9);
    } else {
        t_warm = t_start + (uint64_t)(opt.warmup * 1e9);
        t_end = t_warm + (uint64_t)(opt.duration * 1e9);
    }
    double cpu0 = cpu_s(), cpu1 = cpu0;
    for (int k = 0; k < opt.threads; k++)
        pthread_create(&ws[k].th, NULL, worker_run, &ws[k]);
    uint64_t tm0 = t_warm, tm1 = t_end;
    if (!opt.count) {
        sleep_until(t_warm);
        cpu0 = cpu_s();
        sleep_until(t_end);
        cpu1 = cpu_s();
        tm1 = t_end;
    }
    for (int k = 0; k < opt.threads; k++)
        pthread_join(ws[k].th, NULL);
    if (opt.count) {
        cpu1 = cpu_s();
        tm1 = now_ns();
    }

    hist_t *h = calloc(1, sizeof *h);
    uint64_t ok = 0, non200 = 0, errors = 0, reconnects = 0, ok_total = 0, answered = 0, backlog = 0, sent = 0;
    int last_status = 0;
    for (int k = 0; k < opt.threads; k++) {
        worker_t *w = &ws[k];
        hist_merge(h, &w->h);
        ok += w->ok;
        non200 += w->non200;
        errors += w->errors;
        reconnects += w->reconnects;
        ok_total += w->ok_total;
        answered += w->answered_total;
        sent += (uint64_t)w->sent;
        if (w->last_status)
            last_status = w->last_status;
        if (opt.rate > 0) { /* requests that were due but never got a connection */
            uint64_t due_by_end = (uint64_t)(((double)(t_end - t_start) - w->phase_ns) / w->period_ns) + 1;
            if (due_by_end > w->due_i)
                backlog += due_by_end - w->due_i;
        }
    }
    double secs = (double)(tm1 - tm0) / 1e9;
    uint64_t nreq = ok + non200;
    printf("conns=%d threads=%d mode=%s rate=%.0f duration_s=%.3f requests=%llu rps=%.0f ok=%llu non200=%llu "
           "last_status=%d errors=%llu reconnects=%llu p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f "
           "mean_us=%.0f cpu_us_per_req=%.2f cpu_cores=%.2f backlog=%llu sent_total=%llu answered_total=%llu "
           "ok_total=%llu\n",
           opt.conns, opt.threads, opt.count ? "count" : opt.rate > 0 ? "open" : "closed", opt.rate, secs,
           (unsigned long long)nreq, secs > 0 ? (double)nreq / secs : 0.0, (unsigned long long)ok,
           (unsigned long long)non200, last_status, (unsigned long long)errors, (unsigned long long)reconnects,
           (double)hist_pct(h, 50) / 1e3, (double)hist_pct(h, 90) / 1e3, (double)hist_pct(h, 99) / 1e3,
           (double)h->max / 1e3, h->n ? (double)h->sum / (double)h->n / 1e3 : 0.0,
           nreq ? (cpu1 - cpu0) * 1e6 / (double)nreq : 0.0, secs > 0 ? (cpu1 - cpu0) / secs : 0.0,
           (unsigned long long)backlog, (unsigned long long)sent, (unsigned long long)answered,
           (unsigned long long)ok_total);
    fflush(stdout);
    if (!nreq) {
        fprintf(stderr, "loadgen: no request was answered in the measured window (errors=%llu)\n",
                (unsigned long long)errors);
        return 1;
    }
    return 0;
}
