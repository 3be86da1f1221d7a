/* http_parse.c -- request framing: a connection's input bytes into
 * requests (method, target, the headers the gateway uses, body).
 *
 * Debian's http-parser does the parsing.  It is built without
 * HTTP_PARSER_STRICT, and RFC 9112 asks for more than even its strict mode
 * checks, so the callbacks here add what request smuggling needs closed
 * (a proxy in front that frames the same bytes otherwise would see other
 * request boundaries); each refusal is a 400 and the connection is closed
 * without reading another request from it:
 *  - a header name is a token (the parser lets only a space through): no
 *    space before the colon
 *    ("Content-Length : 5" is honoured by the parser), no line starting
 *    with whitespace (obs-fold, or a space before the first header);
 *  - Transfer-Encoding is exactly "chunked", once, and only in HTTP/1.1;
 *  - a chunked body is decoded by http_chunked.c, not by the parser (which
 *    ignores the rest of a chunk-size line after a space or ';' and takes
 *    any two bytes after chunk data as CRLF).
 * The parser itself refuses Content-Length together with Transfer-Encoding,
 * a second Content-Length and a Transfer-Encoding that is not chunked.
 *
 * A complete request pauses the parser: one request at a time, the bytes
 * of pipelined ones stay in the input buffer until the answer went out. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http_conn.h"

static int is_ws(char ch) { return ch == ' ' || ch == '\t'; }

static int head_add(struct conn *c, size_t n)
{
    c->head_bytes += n;
    if (c->head_bytes > HEAD_MAX) {
        c->err_code = 431;
        return -1;
    }
    return 0;
}

static int refuse(struct conn *c, const char *why)
{
    c->err_code = 400;
    c->err_msg = why;
    return -1;
}

static int on_message_begin(http_parser *p)
{
    struct conn *c = p->data;
    c->phase = P_HEAD;
    c->head_bytes = c->field_len = c->url_len = c->auth_len = c->expect_len = c->te_len = 0;
    c->auth_seen = c->hdr_in_value = c->is_head = c->chunked = c->monitor = 0;
    c->te_count = 0;
    c->cur = H_OTHER;
    c->body_len = 0;
    c->deadline = c->w->now + HEAD_TIMEOUT_S;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (head_add(c, n))
        return -1;
    if (c->url_len + n <= URL_MAX)
        memcpy(c->url + c->url_len, at, n);
    c->url_len += n;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (head_add(c, n))
        return -1;
    /* the parser refuses every other byte that is not a tchar (its token
     * table), but not a space unless built strict */
    if (memchr(at, ' ', n))
        return refuse(c, "whitespace in a header name, or a header line starting with it");
    if (c->hdr_in_value) { /* a new header */
        c->hdr_in_value = 0;
        c->field_len = 0;
    }
    if (c->field_len + n <= sizeof c->field)
        memcpy(c->field + c->field_len, at, n);
    c->field_len += n;
    return 0;
}

/* A value's bytes that start right after a line end (only blanks between)
 * continue the header on a new line (obs-fold), which the parser joins.
 * The byte before them may be in the previous input (c->tail). */
static int folded(const struct conn *c, const char *at)
{
    const char *q = at;
    while (q > c->exec_start && is_ws(q[-1]))
        q--;
    char before = q > c->exec_start ? q[-1] : c->tail;
    return before == '\n' || before == '\r';
}

static void capture(char *dst, size_t cap, size_t *len, const char *at, size_t n)
{
    if (*len + n <= cap)
        memcpy(dst + *len, at, n);
    *len += n;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct conn *c = p->data;
    if (head_add(c, n))
        return -1;
    if (n && folded(c, at))
        return refuse(c, "header value continued on a new line (obs-fold)");
    if (!c->hdr_in_value) { /* the name is complete: is it one we want? */
        c->hdr_in_value = 1;
        c->cur = H_OTHER;
        if (c->field_len == 13 && !strncasecmp(c->field, "Authorization", 13) && !c->auth_seen) {
            c->cur = H_AUTH;
            c->auth_seen = 1;
        } else if (c->field_len == 6 && !strncasecmp(c->field, "Expect", 6)) {
            c->cur = H_EXPECT;
            c->expect_len = 0;
        } else if (c->field_len == 17 && !strncasecmp(c->field, "Transfer-Encoding", 17)) {
            c->cur = H_TE;
            c->te_count++;
            c->te_len = 0;
        }
    }
    if (c->cur == H_AUTH)
        capture(c->auth, AUTH_MAX, &c->auth_len, at, n); /* longer than AUTH_MAX: never equal */
    else if (c->cur == H_EXPECT)
        capture(c->expect, sizeof c->expect, &c->expect_len, at, n);
    else if (c->cur == H_TE)
        capture(c->te, sizeof c->te, &c->te_len, at, n);
    return 0;
}

/* Transfer-Encoding as this server takes it: "chunked", once, HTTP/1.1. */
static int check_te(struct conn *c, const http_parser *p)
{
    if (!c->te_count)
        return 0;
    if (p->http_major == 1 && p->http_minor == 0)
        return refuse(c, "Transfer-Encoding in an HTTP/1.0 request");
    size_t n = c->te_len <= sizeof c->te ? c->te_len : 0; /* longer: not kept, not "chunked" */
    while (n && is_ws(c->te[n - 1]))
        n--;
    if (c->te_count > 1 || n != 7 || strncasecmp(c->te, "chunked", 7))
        return refuse(c, "Transfer-Encoding other than one \"chunked\"");
    return 0;
}

static void queue_continue(struct conn *c, const http_parser *p)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (c->expect_len == 12 && !strncasecmp(c->expect, "100-continue", 12) && p->http_major == 1 &&
        p->http_minor >= 1 && c->out_len == 0 && conn_reserve(c, sizeof cont - 1) == 0) {
        memcpy(c->out + c->out_len, cont, sizeof cont - 1);
        c->out_len += sizeof cont - 1; /* sent when the parser returns */
    }
}

/* 0: read the body (if any) with the parser; 1: no body for the parser
 * (a chunked body goes to the decoder); -1: refused. */
static int on_headers_complete(http_parser *p)
{
    struct conn *c = p->data;
    struct gateway *gw = c->w->gw;
    c->hdr_in_value = 0;
    if (check_te(c, p))
        return -1;
    int chunked = (p->flags & F_CHUNKED) != 0;
    uint64_t cl = p->content_length;
    if (!chunked && cl != ULLONG_MAX && cl > gw->cfg.body_limit) {
        c->err_code = 413; /* before reading the body */
        return -1;
    }
    c->phase = P_BODY;
    if (!chunked && (cl == ULLONG_MAX || cl == 0))
        return 0; /* no body: on_message_complete follows */
    if (!chunked && cl > c->body_cap) {
        char *b = realloc(c->body, cl);
        if (b) {
            c->body = b;
            c->body_cap = cl;
        }
    }
    queue_continue(c, p);
    c->deadline = c->w->now + BODY_TIMEOUT_S;
    if (!chunked)
        return 0;
    c->chunked = 1;
    http_chunked_init(&c->ck);
    return 1; /* the parser completes the head as a message: the decoder takes over */
}

static int body_add(struct conn *c, const char *at, size_t n)
{
    if (c->body_len + n > c->w->gw->cfg.body_limit) {
        c->err_code = 413; /* a chunked body grew too large */
        return -1;
    }
    if (c->body_len + n > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + n)
            cap *= 2;
        char *b = realloc(c->body, cap);
        if (!b) {
            c->err_code = 500;
            return -1;
        }
        c->body = b;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, n);
    c->body_len += n;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    return body_add(p->data, at, n);
}

static int on_chunk_data(void *arg, const char *at, size_t n)
{
    return body_add(arg, at, n);
}

static void request_complete(struct conn *c)
{
    c->phase = P_BUSY;
    c->deadline = 0; /* none while routing and waiting for the commit */
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = p->data;
    c->keep_alive = http_should_keep_alive(p) != 0;
    c->http10 = p->http_major == 1 && p->http_minor == 0;
    c->is_head = p->method == HTTP_HEAD;
    if (p->method == HTTP_CONNECT) /* the client would take what follows for a tunnel */
        c->keep_alive = 0;
    http_parser_pause(p, 1); /* one request at a time; a chunked body is read next */
    if (!c->chunked)
        request_complete(c);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http_parse_init(struct conn *c)
{
    http_parser_init(&c->p, HTTP_REQUEST);
    c->p.data = c;
    c->tail = '\n'; /* a request starts on a new line */
}

/* The last byte before the next input that is not a blank (folded()). */
static void note_tail(struct conn *c, const char *data, size_t n)
{
    while (n && is_ws(data[n - 1]))
        n--;
    if (n)
        c->tail = data[n - 1];
}

static int chunked_body(struct conn *c)
{
    size_t used;
    const char *why;
    int r = http_chunked_feed(&c->ck, c->in + c->in_off, c->in_len - c->in_off, &used, on_chunk_data, c, &why);
    c->in_off += used;
    if (r < 0) {
        if (why)
            refuse(c, why);
        return HTTP_PARSE_ERROR;
    }
    if (r == 0)
        return HTTP_PARSE_MORE;
    c->chunked = 0;
    request_complete(c);
    return HTTP_PARSE_REQUEST;
}

int http_parse(struct conn *c)
{
    while (c->in_off < c->in_len) {
        if (c->chunked)
            return chunked_body(c);
        const char *data = c->in + c->in_off;
        c->exec_start = data;
        size_t n = http_parser_execute(&c->p, &parser_settings, data, c->in_len - c->in_off);
        note_tail(c, data, n);
        c->in_off += n;
        enum http_errno e = HTTP_PARSER_ERRNO(&c->p);
        if (e == HPE_PAUSED) {
            http_parser_pause(&c->p, 0);
            if (c->chunked)
                continue;
            return HTTP_PARSE_REQUEST;
        }
        if (e != HPE_OK)
            return HTTP_PARSE_ERROR;
    }
    return HTTP_PARSE_MORE;
}
