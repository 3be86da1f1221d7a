/* http_chunked.h -- a strict decoder of chunked request bodies (RFC 9112
 * section 7.1), fed the raw bytes after a request's head. */
#ifndef LUAGATE_HTTP_CHUNKED_H
#define LUAGATE_HTTP_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

/* tchar of RFC 9110 section 5.6.2 (header names, chunk extensions) */
static inline int http_tchar(unsigned char ch)
{
    static const uint64_t lo = 0x3ff6cfa00000000ULL, hi = 0x57ffffffc7fffffeULL;
    return ch < 64 ? (int)(lo >> ch & 1) : ch < 128 ? (int)(hi >> (ch - 64) & 1) : 0;
}

#define CHUNKED_LINE_MAX 4096       /* a chunk-size line with its extensions */
#define CHUNKED_TRAILER_MAX 16384   /* the whole trailer section */

struct chunked {
    int state;
    uint64_t left;   /* data bytes of the current chunk still to come */
    size_t line;     /* bytes of the current chunk-size line so far */
    size_t trailer;  /* bytes of the trailer section so far */
    int digits;      /* hex digits of the chunk size */
};

/* Chunk data, handed over as it is decoded; non-zero stops the decoder
 * (http_chunked_feed then returns -1 with *why NULL). */
typedef int (*chunked_data_fn)(void *arg, const char *p, size_t n);

void http_chunked_init(struct chunked *k);

/* Decode p[0..n): *used is set to the bytes consumed.  Returns 1 once the
 * body ended (the final CRLF consumed; what follows it is not read), 0 when
 * every byte was consumed and more are needed, -1 on a framing error, with
 * *why naming it (static text).  A body is refused whole: after -1 nothing
 * more is to be fed. */
int http_chunked_feed(struct chunked *k, const char *p, size_t n, size_t *used, chunked_data_fn fn,
                      void *arg, const char **why);

#endif
