/* fuzz_http.c -- libFuzzer target for request framing (src/http_parse.c
 * over Debian's http-parser and src/http_chunked.c): a connection's input
 * bytes into requests, as the ingest server's read loop feeds them.
 *
 *   bash tests/fuzz/run.sh 60 http
 *   build/fuzz/fuzz_http build/fuzz/corpus/http
 *
 * The first input byte chooses how the rest is cut into reads; the rest is
 * what a client sent on one connection.  The bytes are parsed twice: in
 * reads as large as the connection's input buffer, and in small reads of
 * 1 to 16 bytes cut by the first byte.  Each parse gives a transcript: for
 * every request its method, target, body, keep-alive and HEAD flags, then
 * how the input ended (refused with which code and reason, or waiting for
 * more).  A refusal is recorded without its reason (see record_refusal).
 *
 * Invariants checked (a violation traps, so libFuzzer keeps the input):
 *  - both transcripts are the same: where one request ends and the next
 *    begins never depends on how the bytes arrived (a framing decision that
 *    did would be a smuggling vector);
 *  - no body is longer than body_limit, no request follows a refusal, and
 *    the parser never consumes more than it was given. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_conn.h"

#define CHECK(c)                                                                      \
    do {                                                                              \
        if (!(c)) {                                                                   \
            fprintf(stderr, "fuzz_http: invariant failed at line %d: %s\n", __LINE__, \
                    #c);                                                              \
            __builtin_trap();                                                         \
        }                                                                             \
    } while (0)

#define BODY_LIMIT 4096

struct transcript {
    unsigned char *p;
    size_t len, cap;
};

static void put_bytes(struct transcript *t, const void *s, size_t n)
{
    if (!n)
        return;
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n)
            cap *= 2;
        unsigned char *p = realloc(t->p, cap);
        CHECK(p != NULL);
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
}

static void put_num(struct transcript *t, uint64_t v)
{
    put_bytes(t, &v, sizeof v);
}

static struct gateway gw;
static struct worker w;

static struct conn *conn_new(void)
{
    struct conn *c = calloc(1, sizeof *c);
    CHECK(c != NULL);
    c->w = &w;
    c->fd = -1;
    http_parse_init(c);
    c->phase = P_IDLE;
    return c;
}

static void conn_free(struct conn *c)
{
    free(c->body);
    free(c->out);
    free(c);
}

static void record_request(struct transcript *t, struct conn *c)
{
    CHECK(c->body_len <= BODY_LIMIT);
    put_num(t, 1);
    put_num(t, c->p.method);
    put_num(t, (uint64_t)c->keep_alive << 2 | (uint64_t)c->is_head << 1 | c->http10);
    put_num(t, c->url_len);
    if (c->url_len <= URL_MAX) /* a longer target is not kept (nor looked at) */
        put_bytes(t, c->url, c->url_len);
    put_num(t, c->body_len);
    put_bytes(t, c->body, c->body_len);
    /* what the server does after the answer (response_done) */
    c->phase = P_IDLE;
    c->out_len = c->out_off = 0;
}

/* Only that it was refused: which check fires first (and so the reason,
 * or 431 against 400 near the head limit) may depend on where a read
 * ended, as the parser reports some errors only at a callback. */
static void record_refusal(struct transcript *t, struct conn *c)
{
    (void)c;
    put_num(t, 2);
}

/* Parse what is buffered as the server's conn_drive does.  0 go on, -1 refused. */
static int drive(struct transcript *t, struct conn *c)
{
    while (c->in_off < c->in_len) {
        size_t before = c->in_off;
        int r = http_parse(c);
        CHECK(c->in_off >= before && c->in_off <= c->in_len);
        if (r == HTTP_PARSE_ERROR) {
            record_refusal(t, c);
            return -1;
        }
        if (r == HTTP_PARSE_REQUEST)
            record_request(t, c);
    }
    c->in_off = c->in_len = 0;
    return 0;
}

/* Feed data in reads: each at most `read` bytes (0: as much as fits), or
 * cut by the seed when small is set. */
static void run(struct transcript *t, const uint8_t *data, size_t size, unsigned seed, int small)
{
    struct conn *c = conn_new();
    size_t off = 0;
    unsigned k = seed;
    while (off < size) {
        size_t room = IN_CAP - c->in_len, n = size - off;
        if (small) {
            k = k * 1103515245u + 12345u;
            size_t piece = 1 + (k >> 16) % 16;
            n = n < piece ? n : piece;
        }
        n = n < room ? n : room;
        memcpy(c->in + c->in_len, data + off, n);
        c->in_len += n;
        off += n;
        if (drive(t, c)) {
            conn_free(c);
            return;
        }
    }
    put_num(t, 3); /* waiting for more */
    put_num(t, c->phase == P_IDLE);
    conn_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    gw.cfg.body_limit = BODY_LIMIT;
    w.gw = &gw;
    struct transcript a = { 0 }, b = { 0 };
    run(&a, data + 1, size - 1, data[0], 0);
    run(&b, data + 1, size - 1, data[0], 1);
    CHECK(a.len == b.len && !memcmp(a.p, b.p, a.len));
    free(a.p);
    free(b.p);
    return 0;
}
