/* event.c -- split a request body into events (see event.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"

static const char ENV_SUFFIX[] = "]}";

int query_unescape(const char *s, size_t n, struct buf *out)
{
    static const char hexd[] = "0123456789abcdef0123456789ABCDEF";
    out->len = 0;
    if (buf_put(out, "", 0))
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+')
            c = ' ';
        else if (c == '%') {
            const char *h1, *h2;
            if (i + 2 >= n || !s[i + 1] || !s[i + 2] || !(h1 = memchr(hexd, s[i + 1], 32)) ||
                !(h2 = memchr(hexd, s[i + 2], 32)))
                return -1;
            c = (char)((((h1 - hexd) & 15) << 4) | ((h2 - hexd) & 15));
            i += 2;
        }
        if (buf_put(out, &c, 1))
            return -1;
    }
    return 0;
}

static char *tok_string(struct ingest *in, int t)
{
    if (t < 0 || in->toks[t].type != JSMN_STRING)
        return NULL;
    const jsmntok_t *v = &in->toks[t];
    if (json_unescape(in->body + v->start, (size_t)(v->end - v->start), &in->tmp))
        return NULL;
    return strdup(in->tmp.p);
}

static void event_free(struct event *ev)
{
    free(ev->env_prefix);
    free(ev->name);
    free(ev->key);
    free(ev->time);
}

void ingest_reset(struct ingest *in)
{
    for (size_t i = 0; i < in->nev; i++)
        event_free(&in->ev[i]);
    in->nev = 0;
}

void ingest_free(struct ingest *in)
{
    ingest_reset(in);
    free(in->ev);
    free(in->toks);
    buf_free(&in->tmp);
    memset(in, 0, sizeof *in);
}

/* Fill name, key and time of the record at token rec. */
static int event_fields(struct ingest *in, struct event *ev, int idx, char *err, size_t errlen)
{
    const char *b = in->body;
    ev->name = tok_string(in, json_get(b, in->toks, ev->tok, "eventName"));
    if (!ev->name || !*ev->name) {
        snprintf(err, errlen, "Records[%d]: no eventName: not an S3 event record", idx);
        return -1;
    }
    ev->time = tok_string(in, json_get(b, in->toks, ev->tok, "eventTime"));
    char *bucket = tok_string(in, json_path(b, in->toks, ev->tok, "s3.bucket.name"));
    int kt = json_path(b, in->toks, ev->tok, "s3.object.key");
    char *okey = tok_string(in, kt);
    int rc = -1;
    if (!bucket) {
        snprintf(err, errlen, "Records[%d]: no s3.bucket.name: not an S3 event record", idx);
    } else if (okey && query_unescape(okey, strlen(okey), &in->tmp)) {
        snprintf(err, errlen, "Records[%d]: s3.object.key is not URL-escaped properly", idx);
    } else {
        size_t bl = strlen(bucket), ol = okey ? in->tmp.len : 0;
        ev->key = malloc(bl + ol + 2);
        if (ev->key) {
            memcpy(ev->key, bucket, bl);
            ev->key[bl] = '/';
            if (ol)
                memcpy(ev->key + bl + 1, in->tmp.p, ol);
            ev->key[bl + 1 + ol] = 0;
            ev->bucket_len = bl;
            rc = 0;
        } else {
            snprintf(err, errlen, "out of memory");
        }
    }
    free(bucket);
    free(okey);
    if (!ev->time)
        ev->time = strdup("");
    return rc;
}

/* Build {"EventName":<name>,"Key":<key>,"Records":[ for a record that did
 * not come in MinIO's envelope, quoted as Go's json.Marshal does. */
static int build_prefix(struct event *ev)
{
    struct buf b = { 0 };
    int rc = buf_puts(&b, "{\"EventName\":") | json_quote(&b, ev->name, strlen(ev->name)) |
             buf_puts(&b, ",\"Key\":") | json_quote(&b, ev->key, strlen(ev->key)) |
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
    int recs = json_get(body, t, 0, "Records");
    if (recs < 0 || t[recs].type != JSMN_ARRAY || t[recs].size == 0) {
        snprintf(err, errlen, "the body has no \"Records\" array with events: not an S3 event");
        return -1;
    }
    int is_envelope = t[recs].size == 1 && json_get(body, t, 0, "EventName") >= 0 &&
                      json_get(body, t, 0, "Key") >= 0;
    int r = recs + 1;
    for (int i = 0; i < t[recs].size; i++, r = json_skip(t, r)) {
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
