/* qrecord.c -- the journal's record layout: encode, check, decode, and
 * find the next record after damage.
 *
 * A record is  u32 magic | u32 body length | u32 crc32c(body) | body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "crc32c.h"
#include "queue_int.h"

int qrec_decode(const char *body, uint32_t len, struct rec_view *v)
{
    if (len < FIXED_SIZE)
        return -1;
    size_t tl = (unsigned char)body[1], nl = get16_host(body + 2), kl = get16_host(body + 4);
    size_t ml = (unsigned char)body[6], ol = get32_host(body + 8), pl = get32_host(body + 12);
    size_t need = FIXED_SIZE + tl + nl + kl + ml + ol + pl + 6;
    if (need != len)
        return -1;
    /* every field ends with the NUL the writer put there: readers hand the
     * fields out as C strings, so a record without them is corrupt */
    const char *z = body + FIXED_SIZE;
    size_t lens[6] = { tl, nl, kl, ml, ol, pl };
    for (int i = 0; i < 6; i++) {
        z += lens[i];
        if (*z++)
            return -1;
    }
    v->op = body[0] ? OP_DELETE : OP_UPSERT;
    memcpy(&v->enq_ms, body + 16, 8);
    const char *p = body + FIXED_SIZE;
    v->target = p; p += tl + 1;
    v->event_name = p; p += nl + 1;
    v->key = p; p += kl + 1;
    v->key_len = kl;
    v->event_time = p; p += ml + 1;
    v->opts = ol ? p : NULL; p += ol + 1;
    v->payload = p;
    v->payload_len = pl;
    return 0;
}

/* Validate the record at buf[0..avail): its total size, or 0 if invalid
 * (bad magic, length, or CRC), or -1 if it needs more bytes than avail. */
long qrec_check(const char *buf, size_t avail)
{
    if (avail < HDR_SIZE)
        return -1;
    if (get32_host(buf) != REC_MAGIC)
        return 0;
    uint32_t len = get32_host(buf + 4);
    if (len < FIXED_SIZE || len > REC_MAX)
        return 0;
    if (avail < HDR_SIZE + (size_t)len)
        return -1;
    uint32_t crc = crc32c(0, buf + HDR_SIZE, len);
    return crc == get32_host(buf + 8) ? (long)(HDR_SIZE + len) : 0;
}

int qgrow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    char *b = realloc(*buf, n);
    if (!b)
        return -1;
    *buf = b;
    *cap = n;
    return 0;
}

static size_t cstr_len(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n > max ? max : n;
}

static char *put_str(char *p, const char *s, size_t n)
{
    if (n)
        memcpy(p, s, n);
    p[n] = 0;
    return p + n + 1;
}

static size_t payload_len(const struct qrec *r)
{
    size_t pl = 0;
    for (int i = 0; i < r->npayload; i++)
        pl += r->payload[i].iov_len;
    return pl;
}

int queue_rec_fits(const struct qrec *r, char *why, size_t whylen)
{
    size_t pl = payload_len(r), ol = r->opts ? strlen(r->opts) : 0;
    if (pl + ol + FIXED_SIZE + 65535 * 2 + 255 * 2 + 6 <= REC_MAX)
        return 1;
    snprintf(why, whylen, "message of %zu bytes (payload %zu, opts %zu) is larger than a queue record "
             "can be (%u MiB): it can never be queued", pl + ol, pl, ol, REC_MAX >> 20);
    return 0;
}

/* Encode one record at *buf + at (grown as needed); its size, or 0 if it
 * is too large or on ENOMEM. */
size_t qrec_encode(char **buf, size_t *cap, size_t at, const struct qrec *r, uint64_t ms)
{
    const char *target = r->to->target;
    size_t tl = cstr_len(target, 255), nl = cstr_len(r->event_name, 65535),
           kl = r->key_len ? (r->key_len > 65535 ? 65535 : r->key_len) : cstr_len(r->key, 65535),
           ml = cstr_len(r->event_time, 255),
           ol = cstr_len(r->opts, UINT32_MAX), pl = payload_len(r);
    size_t body = FIXED_SIZE + tl + nl + kl + ml + ol + pl + 6;
    if (body > REC_MAX || qgrow(buf, cap, at + HDR_SIZE + body))
        return 0;
    char *h = *buf + at, *b = h + HDR_SIZE;
    b[0] = r->op == OP_DELETE;
    b[1] = (char)tl;
    put16_host(b + 2, (uint16_t)nl);
    put16_host(b + 4, (uint16_t)kl);
    b[6] = (char)ml;
    b[7] = 0;
    put32_host(b + 8, (uint32_t)ol);
    put32_host(b + 12, (uint32_t)pl);
    memcpy(b + 16, &ms, 8);
    char *p = b + FIXED_SIZE;
    p = put_str(p, target, tl);
    p = put_str(p, r->event_name, nl);
    p = put_str(p, r->key, kl);
    p = put_str(p, r->event_time, ml);
    p = put_str(p, r->opts, ol);
    for (int i = 0; i < r->npayload; i++) {
        memcpy(p, r->payload[i].iov_base, r->payload[i].iov_len);
        p += r->payload[i].iov_len;
    }
    *p = 0;
    put32_host(h, REC_MAGIC);
    put32_host(h + 4, (uint32_t)body);
    put32_host(h + 8, crc32c(0, b, body));
    return HDR_SIZE + body;
}

/* Next offset >= from that may hold a record (valid, or running past the
 * end of buf), or len if none. */
size_t qrec_resync(const char *buf, size_t len, size_t from)
{
    for (size_t o = from; o + HDR_SIZE <= len; o++)
        if (get32_host(buf + o) == REC_MAGIC && qrec_check(buf + o, len - o) != 0)
            return o;
    return len;
}

/* Non-zero if buf[off..len) is all zeros: the unused rest of a segment
 * that was zeroed ahead (spare.c), not damage. */
int qrec_zero_tail(const char *buf, size_t off, size_t len)
{
    for (; off < len; off++)
        if (buf[off])
            return 0;
    return 1;
}
