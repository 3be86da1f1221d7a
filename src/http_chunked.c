/* http_chunked.c -- a strict decoder of chunked request bodies.
 *
 * Why not http-parser's own: Debian builds libhttp-parser without
 * HTTP_PARSER_STRICT, so it takes any two bytes after chunk data as its
 * CRLF, and even its strict mode ignores everything after a space or ';'
 * up to the next CR in a chunk-size line (a bare LF included).  (Debian
 * has no deb-src here to rebuild it strict, and ships no llhttp C library:
 * node-llhttp holds its TypeScript sources.)  A front proxy that
 * frames the same bytes by the RFC sees a different request boundary, so
 * bytes it passed on as body would run here as a request of their own.
 * The ingest server makes the parser stop after a chunked request's head
 * and hands the body to this decoder, which accepts exactly the grammar of
 * RFC 9112 section 7.1:
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-ext    = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
 *   trailer      = *( field-name ":" field-value CRLF )
 *
 * Line ends are CRLF only; a chunk-size line is at most CHUNKED_LINE_MAX
 * bytes, a trailer section CHUNKED_TRAILER_MAX; trailers are checked and
 * dropped (the gateway has no use for them). */
#include "http_chunked.h"
#include "hex.h"

enum {
    K_SIZE,        /* hex digits */
    K_SIZE_WS,     /* BWS, which only a ';' may follow */
    K_NAME_START,  /* after ';' */
    K_NAME,
    K_AFTER_NAME,  /* BWS after a name */
    K_VAL_START,   /* after '=' */
    K_VAL,         /* a token value */
    K_QUOTED,
    K_QUOTED_ESC,
    K_AFTER_VAL,   /* a quoted value ended */
    K_LINE_LF,     /* the CR of the size line was seen */
    K_DATA,
    K_DATA_CR,
    K_DATA_LF,
    K_TRAILER_START,
    K_TRAILER_NAME,
    K_TRAILER_VALUE,
    K_TRAILER_LF,
    K_END_LF,
};

void http_chunked_init(struct chunked *k)
{
    k->state = K_SIZE;
    k->left = 0;
    k->line = k->trailer = 0;
    k->digits = 0;
}

static int is_ws(unsigned char ch) { return ch == ' ' || ch == '\t'; }

/* field-vchar / obs-text, and the spaces between them */
static int is_value_char(unsigned char ch) { return is_ws(ch) || (ch > 0x20 && ch != 0x7f); }

/* The states of a chunk-size line after the size: one step each byte.
 * Returns the next state, or -1 with *why set. */
static int ext_step(int state, unsigned char ch, const char **why)
{
    *why = "malformed chunk extension";
    switch (state) {
    case K_SIZE_WS:
        return is_ws(ch) ? K_SIZE_WS : ch == ';' ? K_NAME_START : -1;
    case K_NAME_START:
        return is_ws(ch) ? K_NAME_START : http_tchar(ch) ? K_NAME : -1;
    case K_NAME:
        return http_tchar(ch) ? K_NAME : is_ws(ch) ? K_AFTER_NAME : ch == '=' ? K_VAL_START
               : ch == ';' ? K_NAME_START : ch == '\r' ? K_LINE_LF : -1;
    case K_AFTER_NAME:
        return is_ws(ch) ? K_AFTER_NAME : ch == '=' ? K_VAL_START : ch == ';' ? K_NAME_START : -1;
    case K_VAL_START:
        return is_ws(ch) ? K_VAL_START : ch == '"' ? K_QUOTED : http_tchar(ch) ? K_VAL : -1;
    case K_VAL:
        return http_tchar(ch) ? K_VAL : is_ws(ch) ? K_SIZE_WS : ch == ';' ? K_NAME_START
               : ch == '\r' ? K_LINE_LF : -1;
    case K_AFTER_VAL:
        return is_ws(ch) ? K_SIZE_WS : ch == ';' ? K_NAME_START : ch == '\r' ? K_LINE_LF : -1;
    case K_QUOTED:
        if (ch == '"')
            return K_AFTER_VAL;
        if (ch == '\\')
            return K_QUOTED_ESC;
        return is_value_char(ch) ? K_QUOTED : -1;
    case K_QUOTED_ESC:
        return is_value_char(ch) ? K_QUOTED : -1;
    }
    return -1;
}

/* One byte of a chunk-size line. */
static int size_step(struct chunked *k, unsigned char ch, const char **why)
{
    if (++k->line > CHUNKED_LINE_MAX) {
        *why = "chunk-size line too long";
        return -1;
    }
    if (k->state == K_SIZE) {
        int v = hex_value(ch);
        if (v >= 0) {
            if (k->left >> 60) {
                *why = "chunk size too large";
                return -1;
            }
            k->left = k->left << 4 | (uint64_t)v;
            k->digits++;
            return K_SIZE;
        }
        if (!k->digits) {
            *why = "chunk size is not a hexadecimal number";
            return -1;
        }
        if (ch == '\r')
            return K_LINE_LF;
        if (ch == ';' || is_ws(ch))
            return ch == ';' ? K_NAME_START : K_SIZE_WS;
        *why = "invalid character after the chunk size";
        return -1;
    }
    if (k->state == K_LINE_LF) {
        if (ch != '\n') {
            *why = "chunk-size line not ended by CRLF";
            return -1;
        }
        return k->left ? K_DATA : K_TRAILER_START;
    }
    return ext_step(k->state, ch, why);
}

/* One byte of the trailer section (after the last chunk). */
static int trailer_step(struct chunked *k, unsigned char ch, const char **why)
{
    if (++k->trailer > CHUNKED_TRAILER_MAX) {
        *why = "trailer section too large";
        return -1;
    }
    *why = "malformed trailer field";
    switch (k->state) {
    case K_TRAILER_START:
        return ch == '\r' ? K_END_LF : http_tchar(ch) ? K_TRAILER_NAME : -1;
    case K_TRAILER_NAME:
        return http_tchar(ch) ? K_TRAILER_NAME : ch == ':' ? K_TRAILER_VALUE : -1;
    case K_TRAILER_VALUE:
        return ch == '\r' ? K_TRAILER_LF : is_value_char(ch) ? K_TRAILER_VALUE : -1;
    case K_TRAILER_LF:
        return ch == '\n' ? K_TRAILER_START : -1;
    case K_END_LF:
        if (ch != '\n')
            *why = "chunked body not ended by CRLF";
        return ch == '\n' ? K_END_LF : -1; /* the caller sees the end */
    }
    return -1;
}

int http_chunked_feed(struct chunked *k, const char *p, size_t n, size_t *used, chunked_data_fn fn,
                      void *arg, const char **why)
{
    size_t i = 0;
    *why = NULL;
    while (i < n) {
        unsigned char ch = (unsigned char)p[i];
        int next;
        if (k->state == K_DATA) {
            size_t take = n - i < k->left ? n - i : (size_t)k->left;
            if (fn(arg, p + i, take)) {
                *used = i;
                return -1;
            }
            i += take;
            k->left -= take;
            if (!k->left)
                k->state = K_DATA_CR;
            continue;
        }
        if (k->state == K_DATA_CR || k->state == K_DATA_LF) {
            if (ch != (k->state == K_DATA_CR ? '\r' : '\n')) {
                *why = "chunk data longer than its size, or not followed by CRLF";
                *used = i;
                return -1;
            }
            i++;
            if (k->state == K_DATA_LF) {
                http_chunked_init(k); /* the next chunk-size line */
                continue;
            }
            k->state = K_DATA_LF;
            continue;
        }
        next = k->state >= K_TRAILER_START ? trailer_step(k, ch, why) : size_step(k, ch, why);
        if (next < 0) {
            *used = i;
            return -1;
        }
        i++;
        if (k->state == K_END_LF) { /* the final CRLF: done */
            *used = i;
            *why = NULL;
            return 1;
        }
        k->state = next;
    }
    *used = i;
    *why = NULL;
    return 0;
}
