/* backlog.c -- events queued for targets that are no longer configured.
 *
 * A target removed from the configuration leaves its cursor file and its
 * undelivered records in the journal.  Without a reader those records
 * would vanish silently once the other targets' cursors pass their
 * segments, so the gateway registers a reader for each such cursor, says
 * at start how many events wait and since when, and how to deliver or
 * drop them. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "backlog.h"
#include "log.h"

static int configured(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return 1;
    return 0;
}

static int backlog_add(struct backlog *b, struct queue *q, const char *target)
{
    struct qreader *r = queue_reader(q, target, UINT64_MAX);
    if (!r) /* an unsafe or unreadable name: not ours to report */
        return 0;
    struct backlog_entry *v = realloc(b->v, (b->n + 1) * sizeof *v);
    if (!v) {
        queue_reader_drop(r);
        return -1;
    }
    b->v = v;
    v[b->n] = (struct backlog_entry){ .q = q, .r = r };
    snprintf(v[b->n].target, sizeof v[b->n].target, "%s", target);
    b->n++;
    return 0;
}

int backlog_register(struct backlog *b, struct queue *q, const char *const *names, size_t nnames)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/cursors", queue_dir(q));
    DIR *d = opendir(path);
    if (!d)
        return 0; /* queue_open created it; nothing to report if it is unreadable */
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 4 || len - 4 >= sizeof b->v[0].target || strcmp(e->d_name + len - 4, ".cur"))
            continue;
        char target[256];
        snprintf(target, sizeof target, "%.*s", (int)(len - 4), e->d_name);
        if (!configured(target, names, nnames))
            rc = backlog_add(b, q, target);
    }
    closedir(d);
    return rc;
}

static void iso_ms(uint64_t ms, char *out, size_t len)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    if (!ms || !gmtime_r(&s, &tm) || !strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, len, "unknown");
}

static void report_one(const struct backlog_entry *e, FILE *f)
{
    char when[32];
    iso_ms(e->oldest_ms, when, sizeof when);
    const char *dir = queue_dir(e->q);
    const char *fmt = "queue %s holds %llu event(s) for %s, which is not configured to read it (oldest queued %s); "
                      "to deliver them configure %s again, to drop them stop luagate and delete "
                      "%s/cursors/%s.cur";
    if (f) {
        fprintf(f, fmt, dir, (unsigned long long)e->n, e->target, when, e->target, dir, e->target);
        fputc('\n', f);
    } else {
        log_warn("queue", fmt, dir, (unsigned long long)e->n, e->target, when, e->target, dir,
                 e->target);
    }
}

size_t backlog_report(struct backlog *b, FILE *f)
{
    size_t found = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct backlog_entry *e = &b->v[i];
        e->n = queue_len(e->r);
        if (!e->n) {
            queue_reader_drop(e->r);
            continue;
        }
        struct msg m;
        if (queue_peek(e->r, &m, 1, 0) > 0)
            e->oldest_ms = queue_peek_time(e->r, 0);
        report_one(e, f);
        found++;
    }
    free(b->v);
    b->v = NULL;
    b->n = 0;
    return found;
}
