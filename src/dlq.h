/* dlq.h -- dead-letter queues: one JSON-lines file per target under
 * <queue_dir>/dlq/, for messages a target refused for good, and events a
 * script failed on (target "_script").  Each line is
 * {"time","target","error","attempts","event_name","key","event_time",
 *  "op","opts","payload"}.
 *
 * An entry's id is its line number in the file (1 = oldest).  Appends
 * (the delivery threads, the router) and rewrites (requeue, purge) take
 * an flock on the file, so a running gateway and an operator's command
 * never interleave. */
#ifndef LUAGATE_DLQ_H
#define LUAGATE_DLQ_H

#include <stdio.h>
#include "driver.h"
#include "json.h"
#include "queue.h"

struct cJSON;

/* Append one entry and fdatasync it.  -1 with err on failure. */
int dlq_append(const char *queue_dir, const char *target, const struct msg *m, const char *why,
               unsigned attempts, char *err, size_t errlen);
/* The file of a target's dead letters. */
void dlq_path(const char *queue_dir, const char *target, char *out, size_t len);

/* Which entries a command works on; an empty field matches everything. */
struct dlq_sel {
    unsigned long long id_lo, id_hi; /* ids, inclusive; 0: no bound */
    char since[40], until[40];       /* ISO 8601 prefixes of the entry's time, inclusive */
    char reason[256];                /* glob (or substring) of the error */
    char bucket[256];                /* the bucket, exactly */
    char key[1024];                  /* glob (or prefix) of the object name */
};

/* Set one criterion by name: id (N or N-M), since, until, reason, bucket,
 * key.  -1 with err naming what was wrong. */
int dlq_sel_set(struct dlq_sel *s, const char *name, const char *val, char *err, size_t errlen);
/* The criteria from a form (id=3-7&reason=...): a query string or a POST body. */
int dlq_sel_parse_form(struct dlq_sel *s, const char *form, size_t len, char *err, size_t errlen);
/* The same criteria as a form (for the admin API); 0 or -1 (no memory). */
int dlq_sel_form(const struct dlq_sel *s, struct buf *out);

/* The selected entries of target's file in dir as one JSON object:
 * {"target","file","total","selected","entries":[{"id",...entry}]}. */
int dlq_list(const char *dir, const char *target, const struct dlq_sel *s, struct buf *out,
             char *err, size_t errlen);

/* What requeue or purge does with the selected entries, in file order,
 * before they leave the file; 0, or -1 with err (they all stay). */
/* The item of a taken entry holding its line as written (what cJSON cuts
 * at a NUL is decoded from it); a name no dead letter has. */
#define DLQ_LINE "\x01line"
typedef int (*dlq_take_fn)(void *arg, struct cJSON *const *entries, size_t n, char *err, size_t errlen);
/* Take the selected entries out of target's file: fn(entries), then the
 * file is rewritten without them.  The file is not locked while fn runs
 * (fn may dead-letter again); entries appended meanwhile stay. */
int dlq_take(const char *dir, const char *target, const struct dlq_sel *s, dlq_take_fn fn, void *arg,
             size_t *taken, char *err, size_t errlen);
/* A dlq_take_fn: append the entries to a target's queue and make them
 * durable (arg: struct dlq_requeue). */
struct dlq_requeue {
    struct queue *q;
    struct qreader *r;
    int live; /* the gateway's committer runs: wait for it rather than sync */
};
int dlq_requeue_fn(void *arg, struct cJSON *const *entries, size_t n, char *err, size_t errlen);
/* The queue directory is held by a running gateway (its flock)? */
int dlq_queue_busy(const char *dir);

#endif
