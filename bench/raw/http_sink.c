/* http_sink.c -- a tiny keep-alive HTTP/1.1 server that answers 200 to
 * everything, for the webhook delivery bench (the Python receiver of the
 * tests, webhook_rx.py, would be the bottleneck).
 *
 *   http_sink PORT [COUNTFILE]
 *
 * One thread per connection; reads headers, skips Content-Length bytes of
 * body (answers 100 Continue when asked), replies `200` with an empty body.
 * On SIGTERM writes the number of requests served to COUNTFILE. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_long served;
static const char *countfile;

static void on_term(int sig)
{
    (void)sig;
    if (countfile) {
        FILE *f = fopen(countfile, "w");
        if (f) {
            fprintf(f, "%ld\n", (long)served);
            fclose(f);
        }
    }
    _exit(0);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

static void *conn(void *arg)
{
    int fd = (int)(long)arg;
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        char *end;
        while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
            if (len == cap)
                goto out;
            ssize_t r = read(fd, buf + len, cap - len);
            if (r <= 0)
                goto out;
            len += (size_t)r;
        }
        size_t hl = (size_t)(end + 4 - buf), body = 0;
        int expect = 0;
        for (char *l = buf; l < end; l = strstr(l, "\r\n") + 2) {
            if (!strncasecmp(l, "Content-Length:", 15))
                body = strtoul(l + 15, NULL, 10);
            else if (!strncasecmp(l, "Expect:", 7) && strcasestr(l, "100-continue"))
                expect = 1;
        }
        if (expect && write_all(fd, cont, sizeof cont - 1))
            goto out;
        size_t have = len - hl;
        /* drop the headers and as much body as we hold */
        size_t take = have < body ? have : body;
        memmove(buf, buf + hl + take, len - hl - take);
        len -= hl + take;
        body -= take;
        while (body) {
            ssize_t r = read(fd, buf, body < cap ? body : cap);
            if (r <= 0)
                goto out;
            body -= (size_t)r;
        }
        served++;
        if (write_all(fd, ok, sizeof ok - 1))
            goto out;
    }
out:
    free(buf);
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: http_sink PORT [COUNTFILE]\n");
        return 2;
    }
    countfile = argc > 2 ? argv[2] : NULL;
    signal(SIGTERM, on_term);
    signal(SIGPIPE, SIG_IGN);
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 128)) {
        perror("http_sink: bind");
        return 1;
    }
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        if (pthread_create(&t, NULL, conn, (void *)(long)c) == 0)
            pthread_detach(t);
        else
            close(c);
    }
}
