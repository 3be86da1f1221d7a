/*
 * floor -- the smallest HTTP/1.1 server worth measuring against: one thread,
 * epoll, keep-alive, answers every request with
 *   HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n
 * It parses just enough to find where a request ends (end of headers plus a
 * Content-Length body), so pipelined requests are answered in order.  What
 * luagate costs above this is the price of its HTTP library, routing and
 * durability.
 *
 * usage: floor PORT   (listens on 127.0.0.1:PORT until SIGTERM/SIGINT)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF (64 * 1024)
#define MAXEV 256

static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

typedef struct {
    int fd;
    size_t len;      /* bytes in buf */
    size_t skip;     /* body bytes still to discard beyond buf */
    char buf[BUF];
} conn_t;

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

/* Content-Length of the headers in h[0..n), 0 when absent. */
static size_t content_length(const char *h, size_t n)
{
    for (const char *p = memchr(h, '\n', n); p && p < h + n; p = memchr(p, '\n', (size_t)(h + n - p))) {
        p++;
        if ((size_t)(h + n - p) > 15 && !strncasecmp(p, "content-length:", 15))
            return strtoul(p + 15, NULL, 10);
    }
    return 0;
}

static void conn_close(conn_t *c)
{
    close(c->fd);
    free(c);
}

/* Read what is there, answer every complete request; 0 keeps the connection. */
static int conn_serve(conn_t *c)
{
    for (;;) {
        size_t want = BUF - c->len;
        ssize_t n = read(c->fd, c->buf + c->len, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return -1;
        c->len += (size_t)n;
        if (c->skip) { /* the tail of a body larger than the buffer */
            size_t d = c->skip < c->len ? c->skip : c->len;
            memmove(c->buf, c->buf + d, c->len - d);
            c->len -= d;
            c->skip -= d;
        }
        int answers = 0;
        size_t off = 0;
        for (;;) {
            char *end = memmem(c->buf + off, c->len - off, "\r\n\r\n", 4);
            if (!end)
                break;
            size_t hlen = (size_t)(end - (c->buf + off)) + 4;
            size_t clen = content_length(c->buf + off, hlen);
            if (off + hlen + clen > c->len) {
                if (hlen + clen <= BUF)
                    break; /* wait for the rest of the body */
                c->skip = off + hlen + clen - c->len;
                off = c->len;
                answers++;
                break;
            }
            off += hlen + clen;
            answers++;
        }
        if (off == 0 && c->len == BUF)
            return -1; /* headers larger than the buffer */
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
        if (answers) {
            char out[sizeof resp * 16];
            while (answers > 0) {
                int k = answers < 16 ? answers : 16;
                for (int i = 0; i < k; i++)
                    memcpy(out + i * (sizeof resp - 1), resp, sizeof resp - 1);
                size_t len = (size_t)k * (sizeof resp - 1), w = 0;
                while (w < len) { /* tiny answers; a full socket buffer is a broken client */
                    ssize_t m = write(c->fd, out + w, len - w);
                    if (m < 0 && errno == EINTR)
                        continue;
                    if (m <= 0)
                        return -1;
                    w += (size_t)m;
                }
                answers -= k;
            }
        }
        if ((size_t)n < want)
            return 0; /* a short read: the socket is drained */
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 || atoi(argv[1]) <= 0) {
        fprintf(stderr, "usage: floor PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
        fprintf(stderr, "floor: cannot listen on 127.0.0.1:%s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);

    struct epoll_event evs[MAXEV];
    while (!stop) {
        int n = epoll_wait(ep, evs, MAXEV, -1);
        if (n < 0 && errno != EINTR) {
            perror("floor: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn_t *nc = malloc(sizeof *nc);
                    if (!nc) {
                        close(fd);
                        continue;
                    }
                    nc->fd = fd;
                    nc->len = nc->skip = 0;
                    struct epoll_event cev = { .events = EPOLLIN, .data.ptr = nc };
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            if (conn_serve(c) < 0)
                conn_close(c);
        }
    }
    return 0;
}
