/* event.c -- split a request body into events (see event.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "jscan.h"
#include "hex.h"

static const char ENV_SUFFIX[] = "]}";

/* event_query_unescape into o (room for n bytes + NUL): the length, or -1. */
static long qunescape_to(const char *s, size_t n, char *o)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int h, l;
            if (i + 2 >= n || (h = hex_value((unsigned char)s[i + 1])) < 0 ||
                (l = hex_value((unsigned char)s[i + 2])) < 0) {
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

int event_query_unescape(const char *s, size_t n, struct buf *out)
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

void event_batch_reset(struct event_batch *in)
{
    for (size_t i = 0; i < in->nev; i++)
        event_free(&in->ev[i]);
    in->nev = 0;
    in->arena_len = 0;
}

void event_batch_free(struct event_batch *in)
{
    event_batch_reset(in);
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
static int skip_value(const struct event_batch *in, int i)
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

/* ---- validation: every field MinIO writes has MinIO's JSON type ------------
 *
 * One walk over the tokens jscan already made (no second parse): each member
 * of the record, s3, s3.bucket, s3.object, ... is looked up in a small table
 * of the fields MinIO writes (reference §1.1); a known field of the wrong
 * type refuses the request, unknown members are let through (a newer MinIO
 * may add some).  Required are only the fields the gateway cannot route
 * without: eventName and s3.bucket.name (event_fields checks they came). */

enum { J_STR = 1, J_INT = 2, J_NUM = 4, J_OBJ = 8, J_ARR = 16, J_BOOL = 32, J_NULL = 64 };
enum { F_STRMAP = 1 /* an object whose values are strings */ };
/* slots: where the walk leaves the value tokens the events need */
enum { S_NAME, S_TIME, S_BUCKET, S_KEY, S_RECORDS, S_ENAME, S_EKEY, S_N };

struct field {
    const char *name;
    unsigned char len, types, flags;
    signed char slot;         /* -1: not kept */
    const struct field *sub;  /* members of an object value, NULL-terminated */
};
#define FLD(n, ty, fl, sl, sub) { n, sizeof n - 1, ty, fl, sl, sub }

static const struct field principal_f[] = { FLD("principalId", J_STR, 0, -1, NULL), { 0 } };
static const struct field bucket_f[] = {
    FLD("name", J_STR, 0, S_BUCKET, NULL),
    FLD("ownerIdentity", J_OBJ, 0, -1, principal_f),
    FLD("arn", J_STR, 0, -1, NULL),
    { 0 },
};
static const struct field object_f[] = {
    FLD("key", J_STR, 0, S_KEY, NULL),
    FLD("size", J_INT, 0, -1, NULL),
    FLD("eTag", J_STR, 0, -1, NULL),
    FLD("contentType", J_STR, 0, -1, NULL),
    FLD("userMetadata", J_OBJ | J_NULL, F_STRMAP, -1, NULL),
    FLD("versionId", J_STR, 0, -1, NULL),
    FLD("sequencer", J_STR, 0, -1, NULL),
    { 0 },
};
static const struct field s3_f[] = {
    FLD("s3SchemaVersion", J_STR, 0, -1, NULL),
    FLD("configurationId", J_STR, 0, -1, NULL),
    FLD("bucket", J_OBJ, 0, -1, bucket_f),
    FLD("object", J_OBJ, 0, -1, object_f),
    { 0 },
};
static const struct field source_f[] = {
    FLD("host", J_STR, 0, -1, NULL),
    FLD("port", J_STR, 0, -1, NULL),
    FLD("userAgent", J_STR, 0, -1, NULL),
    { 0 },
};
static const struct field record_f[] = {
    FLD("eventVersion", J_STR, 0, -1, NULL),
    FLD("eventSource", J_STR, 0, -1, NULL),
    FLD("awsRegion", J_STR, 0, -1, NULL),
    FLD("eventTime", J_STR, 0, S_TIME, NULL),
    FLD("eventName", J_STR, 0, S_NAME, NULL),
    FLD("userIdentity", J_OBJ, 0, -1, principal_f),
    FLD("requestParameters", J_OBJ | J_NULL, F_STRMAP, -1, NULL),
    FLD("responseElements", J_OBJ | J_NULL, F_STRMAP, -1, NULL),
    FLD("s3", J_OBJ, 0, -1, s3_f),
    FLD("source", J_OBJ, 0, -1, source_f),
    { 0 },
};
static const struct field envelope_f[] = { /* MinIO's order */
    FLD("EventName", J_STR, 0, S_ENAME, NULL),
    FLD("Key", J_STR, 0, S_EKEY, NULL),
    FLD("Records", J_ARR, 0, S_RECORDS, NULL),
    { 0 },
};

/* A step of the path to a field, for messages: a member name, or an index
 * when name is NULL. */
struct step {
    const struct step *up;
    const char *name;
    size_t len;
    int idx;
};

static size_t path_text(const struct step *s, char *out, size_t cap)
{
    if (!s)
        return 0;
    size_t n = path_text(s->up, out, cap);
    int w = s->name ? snprintf(out + n, cap - n, "%s%.*s", n ? "." : "", (int)s->len, s->name)
                    : snprintf(out + n, cap - n, "[%d]", s->idx);
    return w < 0 || (size_t)w >= cap - n ? cap - 1 : n + (size_t)w;
}

/* The type of a primitive: true/false, null, or a number. */
__attribute__((noinline)) static unsigned prim_type(const char *body, const jsmntok_t *t)
{
    char c = body[t->start];
    if (c == 't' || c == 'f')
        return J_BOOL;
    if (c == 'n')
        return J_NULL;
    const char *p = body + t->start, *e = body + t->end;
    for (; p < e; p++)
        if (*p == '.' || *p == 'e' || *p == 'E')
            return J_NUM;
    return J_INT | J_NUM;
}

static inline unsigned tok_type(const char *body, const jsmntok_t *t)
{
    switch (t->type) {
    case JSMN_STRING: return J_STR;
    case JSMN_OBJECT: return J_OBJ;
    case JSMN_ARRAY: return J_ARR;
    default: return prim_type(body, t);
    }
}

static const char *type_name(unsigned ty)
{
    return ty & J_STR ? "a string" : ty & J_INT ? "an integer" : ty & J_NUM ? "a number with a fraction or exponent"
         : ty & J_OBJ ? "an object" : ty & J_ARR ? "an array" : ty & J_BOOL ? "a boolean" : "null";
}

__attribute__((cold)) static int type_error(const struct step *at, unsigned want, unsigned got,
                                            char *err, size_t errlen)
{
    char path[256];
    path_text(at, path, sizeof path);
    snprintf(err, errlen, "%s: %s where MinIO writes %s%s", path, type_name(got),
             type_name(want), want & J_NULL && !(want & J_STR) ? " or null" : "");
    return -1;
}

/* The members of the string map at token obj (opened as step at) must all
 * be strings; the index past it, or -1. */
static int check_strmap(const struct event_batch *in, int obj, const struct step *at, char *err, size_t errlen)
{
    const jsmntok_t *t = in->toks;
    int j = obj + 1;
    for (int m = 0; m < t[obj].size; m++, j += 2)
        if (t[j + 1].type != JSMN_STRING) {
            struct step s = { at, in->body + t[j].start, (size_t)(t[j].end - t[j].start), 0 };
            return type_error(&s, J_STR, tok_type(in->body, &t[j + 1]), err, errlen);
        }
    return j;
}

/* a[0..n) == b[0..n), inline for the short member names MinIO writes
 * (no call to memcmp up to 32 bytes; n may be 0) */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    uint64_t x, y, u, w;
    if (n >= 8 && n <= 32) { /* loads that overlap cover it */
        memcpy(&x, a, 8), memcpy(&y, b, 8), memcpy(&u, a + n - 8, 8), memcpy(&w, b + n - 8, 8);
        if ((x ^ y) | (u ^ w))
            return 0;
        if (n <= 16)
            return 1;
        memcpy(&x, a + 8, 8), memcpy(&y, b + 8, 8), memcpy(&u, a + n - 16, 8), memcpy(&w, b + n - 16, 8);
        return !((x ^ y) | (u ^ w));
    }
    if (n >= 4 && n < 8) {
        uint32_t p, q, r, z;
        memcpy(&p, a, 4), memcpy(&q, b, 4), memcpy(&r, a + n - 4, 4), memcpy(&z, b + n - 4, 4);
        return !((p ^ q) | (r ^ z));
    }
    if (n < 4) /* the first, middle and last bytes are all of them */
        return !n || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
    return !memcmp(a, b, n);
}

/* The index in spec of the field named kp[0..kl), or of its terminator. */
static int find_field(const struct field *spec, const char *kp, size_t kl)
{
    int k = 0;
    for (; spec[k].name; k++)
        if (kl == spec[k].len && same_bytes(kp, spec[k].name, kl))
            break;
    return k;
}

/* What a walk needs besides the tokens: where kept tokens and the error go. */
struct walk {
    const struct event_batch *in;
    int *slot;
    char *err;
    size_t errlen;
};

/* How deep the field tables nest (record, s3, bucket, ownerIdentity):
 * objects with a table of their own open at most 3 deep in a record. */
#define SPEC_DEPTH 4

/* Walk the object at token obj against spec: the type of every known
 * member checked, the kept tokens in slot[] (event_fields then checks the
 * required ones came).  0, or -1 with err naming the field.  One loop, the
 * objects with a table of their own on a small stack (no call per object).
 * The walk stops early when all that is left is the subtree of the last
 * member of every open object and nothing in it is checked. */
static int check_object(const struct walk *w, int obj, const struct field *spec, const struct step *at)
{
    const jsmntok_t *const t = w->in->toks;
    const char *const body = w->in->body;
    struct frame {
        const struct field *spec;
        const struct step *at;
        const struct field *next;
        int left, tail;
        unsigned bit, seen;
    } stack[SPEC_DEPTH];
    struct step steps[SPEC_DEPTH];
    int depth = 0;
    int left = t[obj].size; /* members of the open object still to walk */
    const struct field *next = spec; /* the field MinIO writes next */
    unsigned bit = 1;       /* next's bit in seen */
    unsigned seen = 0;      /* the fields of spec met so far */
    int tail = 1;           /* every object around this one is at its last member */
    const jsmntok_t *kt = &t[obj + 1]; /* the member's key */
    for (;;) {
        if (!left) {
            if (!depth)
                return 0;
            depth--;
            spec = stack[depth].spec, at = stack[depth].at, left = stack[depth].left;
            next = stack[depth].next, bit = stack[depth].bit;
            seen = stack[depth].seen, tail = stack[depth].tail;
            continue;
        }
        left--;
        const char *kp = body + kt->start;
        size_t kl = (size_t)(kt->end - kt->start);
        const jsmntok_t *vt = kt + 1;
        /* MinIO writes the fields in the table's order: the one after the
         * last match is tried first, so a MinIO record costs one compare
         * per member (the terminator, length 0, matches only "") */
        const struct field *f = next;
        if (kl != f->len || !same_bytes(kp, f->name, kl)) {
            int k = find_field(spec, kp, kl);
            f = spec + k, bit = 1u << k;
        }
        if (__builtin_expect(!f->name || seen & bit, 0)) {
            /* unknown, or a later duplicate: json_get takes the first */
            next = spec, bit = 1;
            if (vt->type == JSMN_STRING || vt->type == JSMN_PRIMITIVE)
                kt = vt + 1;
            else if (tail && !left) /* the last member of every open object */
                return 0;
            else
                kt = t + skip_value(w->in, (int)(vt - t));
            continue;
        }
        seen |= bit;
        next = f + 1, bit <<= 1;
        unsigned ty = vt->type == JSMN_STRING ? J_STR : tok_type(body, vt);
        if (__builtin_expect(!(ty & f->types), 0)) {
            struct step s = { at, f->name, f->len, 0 };
            return type_error(&s, f->types, ty, w->err, w->errlen);
        }
        if (f->slot >= 0)
            w->slot[f->slot] = (int)(vt - t);
        if (!(ty & (J_OBJ | J_ARR))) {
            kt = vt + 1;
            continue;
        }
        if (ty == J_OBJ && f->sub) { /* its members next, then ours again */
            if (__builtin_expect(depth == SPEC_DEPTH, 0)) { /* a table nested deeper than SPEC_DEPTH */
                snprintf(w->err, w->errlen, "internal error: field tables nested too deep");
                return -1;
            }
            stack[depth] = (struct frame){ spec, at, next, left, tail, bit, seen };
            steps[depth] = (struct step){ at, f->name, f->len, 0 };
            at = &steps[depth++];
            tail = tail && !left;
            spec = next = f->sub, left = vt->size, bit = 1, seen = 0;
            kt = vt + 1;
            continue;
        }
        int j;
        if (ty == J_OBJ && f->flags & F_STRMAP) {
            struct step s = { at, f->name, f->len, 0 };
            j = check_strmap(w->in, (int)(vt - t), &s, w->err, w->errlen);
        } else if (tail && !left) { /* nothing after it is read */
            return 0;
        } else {
            j = skip_value(w->in, (int)(vt - t));
        }
        if (j < 0)
            return -1;
        kt = t + j;
    }
}

/* The string at token t, decoded, copied to the arena: NULL if t is no
 * string.  A decoded NUL ends it, as it ends a C string. */
static char *arena_string(struct event_batch *in, int t, size_t *len)
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

/* Check the record at token ev->tok (Records[idx]) and fill its name, key
 * and time, in one walk over its members and those of the objects in it. */
static int event_fields(struct event_batch *in, struct event *ev, int idx, char *err, size_t errlen)
{
    static const struct step records = { NULL, "Records", 7, 0 };
    const struct step at = { &records, NULL, 0, idx };
    int sl[S_N] = { -1, -1, -1, -1, -1, -1, -1 };
    const struct walk w = { in, sl, err, errlen };
    if (check_object(&w, ev->tok, record_f, &at) < 0)
        return -1;
    int bt = sl[S_BUCKET], kt = sl[S_KEY];
    ev->name = arena_string(in, sl[S_NAME], &ev->name_len);
    if (!ev->name || !*ev->name) {
        snprintf(err, errlen, "Records[%d]: no eventName: not an S3 event record", idx);
        return -1;
    }
    ev->time = arena_string(in, sl[S_TIME], &ev->time_len);
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
            else /* whole: an escaped NUL (\u0000) stays in the key, as %00 does */
                s = in->tmp.p, n = in->tmp.len;
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

static struct event *new_event(struct event_batch *in)
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

/* Where jscan stopped: the path of the string it was reading at pos, from
 * the ntok tokens it made before (containers still open have end -1), as
 * "Records[0].s3.object.key" or "a key in Records[0].s3". */
__attribute__((cold)) static void scan_where(const char *body, const jsmntok_t *t, int ntok, size_t pos,
                                             char *out, size_t cap)
{
    int open[JSCAN_MAX_DEPTH + 1], kids[JSCAN_MAX_DEPTH + 1], key[JSCAN_MAX_DEPTH + 1], depth = 0;
    for (int k = 0;; k++) {
        int start = k < ntok ? t[k].start : (int)pos;
        while (depth && t[open[depth - 1]].end >= 0 && t[open[depth - 1]].end <= start)
            depth--;
        if (k == ntok)
            break;
        if (depth && t[open[depth - 1]].type == JSMN_OBJECT && kids[depth - 1] % 2 == 0)
            key[depth - 1] = k;
        if (depth)
            kids[depth - 1]++;
        if ((t[k].type == JSMN_OBJECT || t[k].type == JSMN_ARRAY) && depth <= JSCAN_MAX_DEPTH)
            open[depth] = k, kids[depth] = 0, depth++;
    }
    int in_key = depth && t[open[depth - 1]].type == JSMN_OBJECT && kids[depth - 1] % 2 == 0;
    size_t n = 0;
    out[0] = 0;
    if (in_key)
        n = (size_t)snprintf(out, cap, "a key in ");
    for (int d = 0; d < depth - in_key && n < cap; d++) {
        const jsmntok_t *c = &t[open[d]];
        int last = d == depth - 1;
        if (c->type == JSMN_ARRAY)
            n += (size_t)snprintf(out + n, cap - n, "[%d]", kids[d] - !last);
        else
            n += (size_t)snprintf(out + n, cap - n, "%s%.*s", n && out[n - 1] != ' ' ? "." : "",
                                  t[key[d]].end - t[key[d]].start, body + t[key[d]].start);
    }
    if (in_key && depth == 1)
        snprintf(out + n, n < cap ? cap - n : 0, "the body");
}

/* The tokenizer refused the body: say which field, when it is a string
 * that is no UTF-8 (scanned again: this is the refusal path only). */
__attribute__((cold)) static void scan_error(struct event_batch *in, char *err, size_t errlen)
{
    struct jscan_error e;
    if (jscan(in->body, in->len, &in->toks, &in->tokcap, &e) >= 0 || e.code != JSCAN_E_UTF8)
        return;
    char where[256];
    scan_where(in->body, in->toks, e.ntok, e.pos, where, sizeof where);
    snprintf(err, errlen, "%s: not valid UTF-8 (byte %zu)", where[0] ? where : "the body", e.pos);
}

void event_parse_begin(struct event_batch *in, const char *body, size_t len)
{
    event_batch_reset(in);
    in->body = body;
    in->len = len;
    in->scan.started = 0;
    in->phase = EVENT_PARSE_TOKENS;
}

/* The whole body is tokenized: check the envelope, size the arena for
 * every event and go on to the records. */
static int parse_envelope(struct event_batch *in, char *err, size_t errlen)
{
    const jsmntok_t *t = in->toks;
    if (t[0].type != JSMN_OBJECT) {
        snprintf(err, errlen, "the body is not a JSON object with \"Records\": not an S3 event");
        return -1;
    }
    int tv[S_N] = { -1, -1, -1, -1, -1, -1, -1 };
    const struct walk w = { in, tv, err, errlen };
    if (check_object(&w, 0, envelope_f, NULL) < 0)
        return -1;
    int recs = tv[S_RECORDS];
    if (recs < 0 || t[recs].size == 0) {
        snprintf(err, errlen, "the body has no \"Records\" array with events: not an S3 event");
        return -1;
    }
    /* every string of every event comes out of a distinct string of the
     * body, never longer; each event adds 4 bytes (NULs, '/', "" time) */
    size_t need = in->len + 4 * (size_t)t[recs].size + 1;
    if (need > in->arena_cap) {
        char *a = realloc(in->arena, need);
        if (!a) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        in->arena = a;
        in->arena_cap = need;
    }
    in->is_envelope = t[recs].size == 1 && tv[S_ENAME] >= 0 && tv[S_EKEY] >= 0;
    in->recs = recs;
    in->next_rec = 0;
    in->next_tok = recs + 1;
    in->phase = EVENT_PARSE_RECORDS;
    return 0;
}

static int parse_tokens(struct event_batch *in, size_t budget, char *err, size_t errlen)
{
    struct jscan_error e;
    size_t pause_at = budget > SIZE_MAX - in->scan.pos ? SIZE_MAX : in->scan.pos + budget;
    int n = jscan_step(&in->scan, in->body, in->len, pause_at, &in->toks, &in->tokcap, &e);
    if (n == 0)
        return 1;
    if (n < 0) {
        json_scan_error(&e, err, errlen);
        scan_error(in, err, errlen);
        return -1;
    }
    in->ntoks = n;
    return parse_envelope(in, err, errlen);
}

/* The events of Records[next_rec..], about budget bytes of them. */
static int parse_records(struct event_batch *in, size_t budget, char *err, size_t errlen)
{
    const jsmntok_t *t = in->toks;
    int nrec = t[in->recs].size, r = in->next_tok;
    size_t read = 0;
    for (int i = in->next_rec; i < nrec; i++, r = i < nrec ? skip_value(in, r) : r) {
        if (read >= budget) {
            in->next_rec = i;
            in->next_tok = r;
            return 1;
        }
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
        ev->record = in->body + t[r].start;
        ev->record_len = (size_t)(t[r].end - t[r].start);
        read += ev->record_len;
        if (event_fields(in, ev, i, err, errlen))
            return -1;
        if (in->is_envelope) {
            /* forward MinIO's own bytes: the document without outer blanks */
            ev->envelope = in->body + t[0].start;
            ev->envelope_len = (size_t)(t[0].end - t[0].start);
        } else if (build_prefix(ev)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    in->phase = EVENT_PARSE_DONE;
    return 0;
}

int event_parse_step(struct event_batch *in, size_t budget, char *err, size_t errlen)
{
    switch (in->phase) {
    case EVENT_PARSE_TOKENS: {
        int rc = parse_tokens(in, budget, err, errlen);
        if (rc || in->len >= budget)
            return rc < 0 ? -1 : 1;
        /* a body smaller than the step: its records in the same step */
        return parse_records(in, budget, err, errlen);
    }
    case EVENT_PARSE_RECORDS:
        return parse_records(in, budget, err, errlen);
    default:
        return 0;
    }
}

int event_parse(struct event_batch *in, const char *body, size_t len, char *err, size_t errlen)
{
    int rc;
    event_parse_begin(in, body, len);
    while ((rc = event_parse_step(in, SIZE_MAX, err, errlen)) > 0)
        ;
    return rc;
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

int event_token(const struct event_batch *in, const struct event *ev, const char *path)
{
    return json_path(in->body, in->toks, ev->tok, path);
}

const char *event_string(struct event_batch *in, const struct event *ev, const char *path)
{
    int t = event_token(in, ev, path);
    if (t < 0 || in->toks[t].type != JSMN_STRING)
        return NULL;
    const jsmntok_t *v = &in->toks[t];
    if (json_unescape(in->body + v->start, (size_t)(v->end - v->start), &in->tmp))
        return NULL;
    return in->tmp.p;
}
