/* event.c -- split a request body into events (see event.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"

static const char ENV_SUFFIX[] = "]}";

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* only 'A'..'F' and 'a'..'f' land in 'a'..'f' */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* query_unescape into o (room for n bytes + NUL): the length, or -1. */
static long qunescape_to(const char *s, size_t n, char *o)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int h, l;
            if (i + 2 >= n || (h = hexval((unsigned char)s[i + 1])) < 0 ||
                (l = hexval((unsigned char)s[i + 2])) < 0) {
                o[j] = 0;
                return -1;
            }
            c = (char)(h << 4 | l);
            i += 2;
        }
        o[j++] = c;
    }
    o[j] = 0;
    return (long)j;
}

int query_unescape(const char *s, size_t n, struct buf *out)
{
    out->len = 0;
    if (out->cap < n + 1) {
        char *p = realloc(out->p, n + 1);
        if (!p)
            return -1;
        out->p = p;
        out->cap = n + 1;
    }
    long len = qunescape_to(s, n, out->p);
    if (len < 0)
        return -1;
    out->len = (size_t)len;
    return 0;
}

static void event_free(struct event *ev)
{
    free(ev->env_prefix);
}

void ingest_reset(struct ingest *in)
{
    for (size_t i = 0; i < in->nev; i++)
        event_free(&in->ev[i]);
    in->nev = 0;
    in->arena_len = 0;
}

void ingest_free(struct ingest *in)
{
    ingest_reset(in);
    free(in->ev);
    free(in->toks);
    free(in->arena);
    buf_free(&in->tmp);
    memset(in, 0, sizeof *in);
}

/* Index just past the value at token i and its subtree.  Small subtrees
 * are walked; past 16 tokens the rest is found by binary search: tokens
 * are in document order and every descendant of a container starts
 * before the container's end, so the token after the subtree is the
 * first one that starts at or past that end. */
static int skip_value(const struct ingest *in, int i)
{
    const jsmntok_t *t = in->toks;
    int pending = 1, j = i;
    for (int steps = 0; steps < 16; steps++) {
        pending += t[j].size - 1;
        j++;
        if (!pending)
            return j;
    }
    int end = t[i].end, lo = j, hi = in->ntoks;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (t[mid].start < end)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A member name to look for, with its length. */
struct mkey {
    const char *s;
    size_t n;
};
#define MKEY(lit) { lit, sizeof lit - 1 }

/* One walk over the members of the object at token obj: val[k] becomes
 * the value token of the first member named keys[k] (as json_get finds
 * it), or stays -1.  Stops once every key is found. */
static inline __attribute__((always_inline)) void
find_members(const struct ingest *in, int obj, const struct mkey *keys, int nkeys, int *val)
{
    const jsmntok_t *t = in->toks;
    for (int k = 0; k < nkeys; k++)
        val[k] = -1;
    if (obj < 0 || t[obj].type != JSMN_OBJECT)
        return;
    int found = 0, j = obj + 1;
    for (int m = 0; m < t[obj].size; m++) {
        const char *kp = in->body + t[j].start;
        size_t kl = (size_t)(t[j].end - t[j].start);
        for (int k = 0; k < nkeys; k++)
            if (val[k] < 0 && kl == keys[k].n && !memcmp(kp, keys[k].s, keys[k].n)) {
                val[k] = j + 1;
                if (++found == nkeys)
                    return;
                break;
            }
        j = skip_value(in, j + 1);
    }
}

/* The string at token t, decoded, copied to the arena: NULL if t is no
 * string.  A decoded NUL ends it, as it ends a C string. */
static char *arena_string(struct ingest *in, int t, size_t *len)
{
    if (t < 0 || in->toks[t].type != JSMN_STRING)
        return NULL;
    const jsmntok_t *v = &in->toks[t];
    const char *s = in->body + v->start;
    size_t n = (size_t)(v->end - v->start);
    if (memchr(s, '\\', n)) {
        if (json_unescape(s, n, &in->tmp))
            return NULL;
        s = in->tmp.p;
        n = strlen(s); /* decoding never makes a string longer */
    }
    char *d = in->arena + in->arena_len;
    memcpy(d, s, n);
    d[n] = 0;
    in->arena_len += n + 1;
    *len = n;
    return d;
}

/* Fill name, key and time of the record at token ev->tok, in one walk
 * over its members (and those of s3, s3.bucket, s3.object). */
static int event_fields(struct ingest *in, struct event *ev, int idx, char *err, size_t errlen)
{
    const struct mkey rec_keys[] = { MKEY("eventName"), MKEY("eventTime"), MKEY("s3") };
    const struct mkey s3_keys[] = { MKEY("bucket"), MKEY("object") };
    const struct mkey name_key[] = { MKEY("name") }, key_key[] = { MKEY("key") };
    int rv[3], sv[2], bt, kt;
    find_members(in, ev->tok, rec_keys, 3, rv);
    find_members(in, rv[2], s3_keys, 2, sv);
    find_members(in, sv[0], name_key, 1, &bt);
    find_members(in, sv[1], key_key, 1, &kt);
    ev->name = arena_string(in, rv[0], &ev->name_len);
    if (!ev->name || !*ev->name) {
        snprintf(err, errlen, "Records[%d]: no eventName: not an S3 event record", idx);
        return -1;
    }
    ev->time = arena_string(in, rv[1], &ev->time_len);
    if (!ev->time) {
        ev->time = in->arena + in->arena_len++;
        *ev->time = 0;
        ev->time_len = 0;
    }
    size_t bl;
    char *key = arena_string(in, bt, &bl);
    if (!key) {
        snprintf(err, errlen, "Records[%d]: no s3.bucket.name: not an S3 event record", idx);
        return -1;
    }
    /* the bucket's NUL becomes the '/', the object name follows it */
    key[bl] = '/';
    long ol = 0;
    if (kt >= 0 && in->toks[kt].type == JSMN_STRING) {
        const jsmntok_t *v = &in->toks[kt];
        const char *s = in->body + v->start;
        size_t n = (size_t)(v->end - v->start);
        if (memchr(s, '\\', n)) {
            if (json_unescape(s, n, &in->tmp))
                n = 0, s = "";
            else
                s = in->tmp.p, n = strlen(s);
        }
        ol = qunescape_to(s, n, key + bl + 1);
        if (ol < 0) {
            snprintf(err, errlen, "Records[%d]: s3.object.key is not URL-escaped properly", idx);
            return -1;
        }
    } else {
        key[bl + 1] = 0;
    }
    in->arena_len += (size_t)ol + 1;
    ev->key = key;
    ev->key_len = bl + 1 + (size_t)ol;
    ev->bucket_len = bl;
    return 0;
}

/* Build {"EventName":<name>,"Key":<key>,"Records":[ for a record that did
 * not come in MinIO's envelope, quoted as Go's json.Marshal does. */
static int build_prefix(struct event *ev)
{
    struct buf b = { 0 };
    int rc = buf_puts(&b, "{\"EventName\":") | json_quote(&b, ev->name, ev->name_len) |
             buf_puts(&b, ",\"Key\":") | json_quote(&b, ev->key, ev->key_len) |
             buf_puts(&b, ",\"Records\":[");
    if (rc) {
        buf_free(&b);
        return -1;
    }
    ev->env_prefix = b.p;
    return 0;
}

static struct event *new_event(struct ingest *in)
{
    if (in->nev == in->evcap) {
        size_t cap = in->evcap ? in->evcap * 2 : 8;
        struct event *e = realloc(in->ev, cap * sizeof *e);
        if (!e)
            return NULL;
        in->ev = e;
        in->evcap = cap;
    }
    struct event *ev = &in->ev[in->nev++];
    memset(ev, 0, sizeof *ev);
    return ev;
}

int ingest_parse(struct ingest *in, const char *body, size_t len, char *err, size_t errlen)
{
    ingest_reset(in);
    in->body = body;
    in->len = len;
    in->ntoks = json_tokenize(body, len, &in->toks, &in->tokcap, err, errlen);
    if (in->ntoks < 0)
        return -1;
    const jsmntok_t *t = in->toks;
    if (t[0].type != JSMN_OBJECT) {
        snprintf(err, errlen, "the body is not a JSON object with \"Records\": not an S3 event");
        return -1;
    }
    const struct mkey top_keys[] = { MKEY("Records"), MKEY("EventName"), MKEY("Key") };
    int tv[3];
    find_members(in, 0, top_keys, 3, tv);
    int recs = tv[0];
    if (recs < 0 || t[recs].type != JSMN_ARRAY || t[recs].size == 0) {
        snprintf(err, errlen, "the body has no \"Records\" array with events: not an S3 event");
        return -1;
    }
    /* every string of every event comes out of a distinct string of the
     * body, never longer; each event adds 4 bytes (NULs, '/', "" time) */
    size_t need = len + 4 * (size_t)t[recs].size + 1;
    if (need > in->arena_cap) {
        char *a = realloc(in->arena, need);
        if (!a) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        in->arena = a;
        in->arena_cap = need;
    }
    int is_envelope = t[recs].size == 1 && tv[1] >= 0 && tv[2] >= 0;
    int r = recs + 1;
    for (int i = 0; i < t[recs].size; i++, r = i < t[recs].size ? skip_value(in, r) : r) {
        if (t[r].type != JSMN_OBJECT) {
            snprintf(err, errlen, "Records[%d] is not an object", i);
            return -1;
        }
        struct event *ev = new_event(in);
        if (!ev) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        ev->tok = r;
        ev->record = body + t[r].start;
        ev->record_len = (size_t)(t[r].end - t[r].start);
        if (event_fields(in, ev, i, err, errlen))
            return -1;
        if (is_envelope) {
            /* forward MinIO's own bytes: the document without outer blanks */
            ev->envelope = body + t[0].start;
            ev->envelope_len = (size_t)(t[0].end - t[0].start);
        } else if (build_prefix(ev)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

int event_envelope(const struct event *ev, struct iovec *iov)
{
    if (ev->envelope) {
        iov[0] = (struct iovec){ (void *)ev->envelope, ev->envelope_len };
        return 1;
    }
    iov[0] = (struct iovec){ ev->env_prefix, strlen(ev->env_prefix) };
    iov[1] = (struct iovec){ (void *)ev->record, ev->record_len };
    iov[2] = (struct iovec){ (void *)ENV_SUFFIX, 2 };
    return 3;
}

int event_token(const struct ingest *in, const struct event *ev, const char *path)
{
    return json_path(in->body, in->toks, ev->tok, path);
}

const char *event_string(struct ingest *in, const struct event *ev, const char *path)
{
    int t = event_token(in, ev, path);
    if (t < 0 || in->toks[t].type != JSMN_STRING)
        return NULL;
    const jsmntok_t *v = &in->toks[t];
    if (json_unescape(in->body + v->start, (size_t)(v->end - v->start), &in->tmp))
        return NULL;
    return in->tmp.p;
}
