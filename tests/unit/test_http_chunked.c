/* test_http_chunked.c -- the strict chunked-body decoder: what it accepts,
 * what it refuses and why, fed whole and one byte at a time. */
#include "http_chunked.h"
#include "unit.h"

struct sink {
    char data[256];
    size_t len;
};

static int collect(void *arg, const char *p, size_t n)
{
    struct sink *s = arg;
    if (s->len + n > sizeof s->data)
        return -1;
    memcpy(s->data + s->len, p, n);
    s->len += n;
    return 0;
}

/* Decode in pieces of `step` bytes; returns 1 done, 0 more, -1 refused;
 * *end is where the body ended (or failed), *why the reason. */
static int decode(const char *in, size_t step, struct sink *s, size_t *end, const char **why)
{
    struct chunked k;
    http_chunked_init(&k);
    size_t n = strlen(in), off = 0;
    memset(s, 0, sizeof *s);
    *why = NULL;
    while (off < n) {
        size_t piece = n - off < step ? n - off : step, used;
        int r = http_chunked_feed(&k, in + off, piece, &used, collect, s, why);
        off += used;
        if (r) {
            *end = off;
            return r;
        }
    }
    *end = off;
    return 0;
}

/* Both ways of feeding agree on the outcome, the data and the end. */
static int outcome(const char *in, char *data, size_t *end, const char **why)
{
    struct sink a, b;
    size_t ea, eb;
    const char *wa, *wb;
    int ra = decode(in, 1 << 20, &a, &ea, &wa), rb = decode(in, 1, &b, &eb, &wb);
    if (ra != rb || ea != eb || (ra >= 0 && (a.len != b.len || memcmp(a.data, b.data, a.len))) || wa != wb)
        return 99;
    memcpy(data, a.data, a.len);
    data[a.len] = 0;
    *end = ea;
    *why = wa;
    return ra;
}

TEST(accepts_rfc_9112_bodies)
{
    char d[300];
    size_t end;
    const char *why;
    CHECK_INT(outcome("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET /", d, &end, &why), 1);
    CHECK_STR(d, "hello world");
    CHECK_INT(end, 26); /* the next request is not read */
    CHECK_INT(outcome("00A;name\r\n0123456789\r\n0\r\n\r\n", d, &end, &why), 1);
    CHECK_STR(d, "0123456789");
    CHECK_INT(outcome("2 ; a = b ;c=\"q\\\"x\";d\t;e=f\r\nhi\r\n000;z\r\n\r\n", d, &end, &why), 1);
    CHECK_STR(d, "hi");
    CHECK_INT(outcome("2\r\nhi\r\n0\r\nX-Trailer: 1\r\nX-Empty:\r\n\r\n", d, &end, &why), 1);
    CHECK_INT(outcome("2\r\nhi\r\n0\r\n", d, &end, &why), 0); /* more to come */
}

TEST(refuses_each_malformed_part)
{
    static const struct {
        const char *in, *why;
    } bad[] = {
        { "5 garbage\r\nhello\r\n0\r\n\r\n", "malformed chunk extension" },
        { "5 \r\nhello\r\n0\r\n\r\n", "malformed chunk extension" },
        { "5x\r\nhello\r\n0\r\n\r\n", "invalid character after the chunk size" },
        { ";a\r\n", "chunk size is not a hexadecimal number" },
        { "\r\n", "chunk size is not a hexadecimal number" },
        { "5;ext\nhello\r\n0\r\n\r\n", "malformed chunk extension" },
        { "5\nhello\r\n0\r\n\r\n", "invalid character after the chunk size" },
        { "5\r\rhello\r\n", "chunk-size line not ended by CRLF" },
        { "5;a=\"b\r\nhello\r\n", "malformed chunk extension" },
        { "5;a=b c\r\nhello\r\n", "malformed chunk extension" },
        { "5;a b\r\nhello\r\n", "malformed chunk extension" },
        { "5;=b\r\nhello\r\n", "malformed chunk extension" },
        { "5\r\nhelloXX0\r\n\r\n", "chunk data longer than its size, or not followed by CRLF" },
        { "3\r\nhello\r\n0\r\n\r\n", "chunk data longer than its size, or not followed by CRLF" },
        { "5\r\nhello\n0\r\n\r\n", "chunk data longer than its size, or not followed by CRLF" },
        { "1FFFFFFFFFFFFFFFF\r\n", "chunk size too large" },
        { "0\n\r\n", "invalid character after the chunk size" },
        { "0\r\nX-T : 1\r\n\r\n", "malformed trailer field" },
        { "0\r\nX-T: 1\n\r\n", "malformed trailer field" },
        { "0\r\n folded\r\n\r\n", "malformed trailer field" },
        { "0\r\n\rX", "chunked body not ended by CRLF" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char d[300];
        size_t end;
        const char *why;
        int r = outcome(bad[i].in, d, &end, &why);
        CHECK_INT(r, -1);
        CHECK_STR(why, bad[i].why);
        if (r != -1 || !why || strcmp(why, bad[i].why))
            printf("  # input %zu: %s\n", i, bad[i].in);
    }
}

TEST(long_lines_and_trailers_are_bounded)
{
    static char in[CHUNKED_TRAILER_MAX + 64];
    char d[300];
    size_t end;
    const char *why;
    memset(in, 0, sizeof in);
    strcpy(in, "1;");
    memset(in + 2, 'a', CHUNKED_LINE_MAX);
    CHECK_INT(outcome(in, d, &end, &why), -1);
    CHECK_STR(why, "chunk-size line too long");
    memset(in, 0, sizeof in);
    strcpy(in, "0\r\nX:");
    memset(in + 5, 'v', CHUNKED_TRAILER_MAX);
    CHECK_INT(outcome(in, d, &end, &why), -1);
    CHECK_STR(why, "trailer section too large");
}

TEST(a_refusing_sink_stops_it)
{
    struct chunked k;
    size_t used;
    const char *why;
    static char big[300];
    memset(big, 'x', sizeof big);
    struct sink s = { .len = 0 };
    http_chunked_init(&k);
    CHECK_INT(http_chunked_feed(&k, "12C\r\n", 5, &used, collect, &s, &why), 0);
    CHECK_INT(http_chunked_feed(&k, big, sizeof big, &used, collect, &s, &why), -1);
    CHECK(why == NULL); /* the sink's own reason (413) stands */
}

int main(void)
{
    RUN(accepts_rfc_9112_bodies);
    RUN(refuses_each_malformed_part);
    RUN(long_lines_and_trailers_are_bounded);
    RUN(a_refusing_sink_stops_it);
    return unit_done();
}
