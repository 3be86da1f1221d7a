/* nsq_proto.c -- nsqd TCP protocol V2 framing, without any I/O. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nsq_proto.h"

static uint32_t get32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static void put32(char *p, uint32_t v)
{
    p[0] = (char)(v >> 24);
    p[1] = (char)(v >> 16);
    p[2] = (char)(v >> 8);
    p[3] = (char)v;
}

long nsqp_parse(const char *buf, size_t len, size_t max, struct nsqp_frame *f, char *err,
                size_t errlen)
{
    if (len < 4)
        return 0;
    uint32_t size = get32(buf);
    if (size < 4) {
        snprintf(err, errlen, "bad frame size %u (below 4)", size);
        return -1;
    }
    /* size counts the type and the data, not itself */
    if ((uint64_t)size + 4 > max || (uint64_t)size + 4 > (uint64_t)LONG_MAX) {
        snprintf(err, errlen, "frame of %u bytes exceeds the %zu byte limit", size, max);
        return -1;
    }
    if (len - 4 < size)
        return 0;
    f->type = (int32_t)get32(buf + 4);
    f->data = buf + 8;
    f->len = size - 4;
    return (long)size + 4;
}

static int is(const struct nsqp_frame *f, const char *s)
{
    size_t n = strlen(s);
    return f->len == n && !memcmp(f->data, s, n);
}

enum nsqp_kind nsqp_kind(const struct nsqp_frame *f)
{
    switch (f->type) {
    case NSQP_FRAME_RESPONSE:
        if (is(f, "OK"))
            return NSQP_OK;
        if (is(f, "_heartbeat_"))
            return NSQP_HEARTBEAT;
        if (is(f, "CLOSE_WAIT"))
            return NSQP_CLOSE_WAIT;
        return NSQP_RESPONSE;
    case NSQP_FRAME_ERROR:
        return NSQP_ERROR;
    case NSQP_FRAME_MESSAGE:
        return NSQP_MESSAGE;
    default:
        return NSQP_UNKNOWN;
    }
}

const char *nsqp_error_code(const struct nsqp_frame *f, char *code, size_t codelen)
{
    size_t n = 0;
    if (!codelen)
        return code;
    while (n < f->len && n + 1 < codelen && f->data[n] != ' ' && f->data[n] != '\n' &&
           f->data[n] != '\0')
        n++;
    memcpy(code, f->data, n);
    code[n] = 0;
    return code;
}

int nsqp_message(const struct nsqp_frame *f, struct nsqp_message *m)
{
    if (f->type != NSQP_FRAME_MESSAGE || f->len < 26)
        return -1;
    uint64_t ts = (uint64_t)get32(f->data) << 32 | get32(f->data + 4);
    m->timestamp = (int64_t)ts;
    m->attempts = (uint16_t)((unsigned char)f->data[8] << 8 | (unsigned char)f->data[9]);
    memcpy(m->id, f->data + 10, 16);
    m->id[16] = 0;
    m->body = f->data + 26;
    m->len = f->len - 26;
    return 0;
}

int nsqp_topic_valid(const char *topic)
{
    size_t n = strlen(topic);
    if (n < 1 || n > NSQP_MAX_TOPIC)
        return 0;
    static const char eph[] = "#ephemeral";
    size_t body = n;
    if (n > sizeof eph - 1 && !strcmp(topic + n - (sizeof eph - 1), eph))
        body = n - (sizeof eph - 1);
    for (size_t i = 0; i < body; i++) {
        char c = topic[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

void nsqp_buf_reset(struct nsqp_buf *b)
{
    b->len = 0;
}

void nsqp_buf_free(struct nsqp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static int reserve(struct nsqp_buf *b, size_t more)
{
    if (more > SIZE_MAX / 2 - b->len)
        return -1;
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d)
        return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

static int append(struct nsqp_buf *b, const void *p, size_t n)
{
    if (reserve(b, n))
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static int append32(struct nsqp_buf *b, uint32_t v)
{
    char s[4];
    put32(s, v);
    return append(b, s, 4);
}

int nsqp_magic(struct nsqp_buf *b)
{
    return append(b, NSQP_MAGIC, 4);
}

int nsqp_nop(struct nsqp_buf *b)
{
    return append(b, "NOP\n", 4);
}

int nsqp_cls(struct nsqp_buf *b)
{
    return append(b, "CLS\n", 4);
}

/* "<line>\n<size><body>", all or nothing. */
static int command(struct nsqp_buf *b, const char *verb, const char *topic, const char *body,
                   size_t len)
{
    size_t vlen = strlen(verb), tlen = topic ? strlen(topic) : 0;
    if (len > UINT32_MAX || reserve(b, vlen + tlen + 6 + len))
        return -1;
    append(b, verb, vlen);
    if (topic) {
        append(b, " ", 1);
        append(b, topic, tlen);
    }
    append(b, "\n", 1);
    append32(b, (uint32_t)len);
    append(b, body, len);
    return 0;
}

int nsqp_identify(struct nsqp_buf *b, const char *json, size_t len)
{
    return command(b, "IDENTIFY", NULL, json, len);
}

int nsqp_pub(struct nsqp_buf *b, const char *topic, const char *body, size_t len)
{
    return command(b, "PUB", topic, body, len);
}

int nsqp_mpub_begin(struct nsqp_buf *b, const char *topic, uint32_t count, size_t *mark)
{
    size_t tlen = strlen(topic);
    if (reserve(b, tlen + 14))
        return -1;
    append(b, "MPUB ", 5);
    append(b, topic, tlen);
    append(b, "\n", 1);
    *mark = b->len;
    append32(b, 0);
    append32(b, count);
    return 0;
}

int nsqp_mpub_add(struct nsqp_buf *b, const char *body, size_t len)
{
    if (len > UINT32_MAX || reserve(b, 4 + len))
        return -1;
    append32(b, (uint32_t)len);
    append(b, body, len);
    return 0;
}

void nsqp_mpub_end(struct nsqp_buf *b, size_t mark)
{
    put32(b->data + mark, (uint32_t)(b->len - mark - 4));
}

size_t nsqp_mpub_body_size(size_t count, size_t bytes)
{
    return 4 + 4 * count + bytes;
}
