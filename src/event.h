/* event.h -- a request body split into events, without re-encoding.
 *
 * MinIO's webhook posts one {"EventName","Key","Records":[r]} envelope per
 * request; S3-style bodies {"Records":[r1, r2, ...]} carry several.  Each
 * record becomes one event that keeps pointers to its original bytes, so
 * every MinIO payload shape can be framed around them byte for byte. */
#ifndef LUAGATE_EVENT_H
#define LUAGATE_EVENT_H

#include <stddef.h>
#include <sys/uio.h>
#include "jscan.h"
#include "json.h"

struct event {
    const char *record;   /* the record's bytes in the body */
    size_t record_len;
    const char *envelope; /* the whole body when it is MinIO's envelope, else NULL */
    size_t envelope_len;
    char *env_prefix;     /* {"EventName":..,"Key":..,"Records":[  when built */
    int tok;              /* the record's token */
    char *name;           /* eventName */
    char *key;            /* bucket/object, object unescaped */
    char *time;           /* eventTime */
    size_t bucket_len;    /* key[0..bucket_len) is the bucket */
    size_t name_len, key_len, time_len; /* strlen of name, key, time */
};

struct event_batch {
    const char *body;
    size_t len;
    jsmntok_t *toks;
    size_t tokcap;
    int ntoks;
    struct event *ev;
    size_t nev, evcap;
    struct buf tmp;
    /* name, key and time of every event, NUL-terminated: sized for the
     * whole body before the events are read, so it never moves under them */
    char *arena;
    size_t arena_len, arena_cap;
    /* where a parse in steps stands (event_parse_step) */
    int phase;                  /* enum event_parse_phase */
    struct jscan_state scan;
    int recs, next_rec, next_tok, is_envelope;
};

enum event_parse_phase { EVENT_PARSE_TOKENS, EVENT_PARSE_RECORDS, EVENT_PARSE_DONE };

/* Parse body (kept by the caller for the life of the events).  -1 with a
 * one-line reason in err for malformed JSON, a string that is not UTF-8, a
 * field MinIO writes that has another JSON type, or a body that is no
 * event; the reason names the record and the field ("Records[1].s3.object.
 * size: a string where MinIO writes an integer"). */
int event_parse(struct event_batch *in, const char *body, size_t len, char *err, size_t errlen);
/* The same parse in steps, for bodies of megabytes on an event loop:
 * begin, then call step until it returns 0 (parsed) or -1 (refused, err
 * as above); 1 means more to do.  A step reads about budget bytes. */
void event_parse_begin(struct event_batch *in, const char *body, size_t len);
int event_parse_step(struct event_batch *in, size_t budget, char *err, size_t errlen);
void event_batch_reset(struct event_batch *in);  /* drop the events, keep the buffers */
void event_batch_free(struct event_batch *in);

/* Go's url.QueryUnescape: %XX and '+' for space; -1 on a bad escape. */
int event_query_unescape(const char *s, size_t n, struct buf *out);

/* The envelope of ev as up to 3 pieces (prefix, record, suffix). */
int event_envelope(const struct event *ev, struct iovec *iov);

/* A string field of the record by dotted path, decoded, or NULL. */
const char *event_string(struct event_batch *in, const struct event *ev, const char *path);
/* The token of a record field by dotted path, or -1. */
int event_token(const struct event_batch *in, const struct event *ev, const char *path);

#endif
