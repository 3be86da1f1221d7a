/* backlog.h -- start-up honesty: events still queued for a target that is
 * no longer configured (its cursor file remains in the queue directory). */
#ifndef LUAGATE_BACKLOG_H
#define LUAGATE_BACKLOG_H

#include <stdint.h>
#include <stdio.h>
#include "queue.h"

struct backlog_entry {
    struct queue *q;
    struct qreader *r;
    char target[256];
    uint64_t n, oldest_ms;
};

struct backlog {
    struct backlog_entry *v;
    size_t n;
};

/* Before queue_start(q): a reader for every cursor in q's directory whose
 * target is not one of names[0..nnames-1].  -1 when out of memory. */
int backlog_register(struct backlog *b, struct queue *q, const char *const *names, size_t nnames);
/* After queue_start: count each one's events and the oldest, unregister
 * the empty ones (the others keep their segments until drained or purged)
 * and report the rest: to f, or the log when f is NULL.  Returns how many
 * targets have a backlog; frees the list. */
size_t backlog_report(struct backlog *b, FILE *f);

#endif
