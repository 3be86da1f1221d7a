/* admin_dlq.c -- dead letters of the running gateway, for `luagate dlq`.
 *
 *   GET  /admin/dlq/TARGET[?selection]     list (JSON, dlq_list's shape)
 *   POST /admin/dlq/TARGET/list            list, selection in the body
 *   POST /admin/dlq/TARGET/requeue         back to the target's queue
 *   POST /admin/dlq/TARGET/purge           drop them
 *
 * A selection is a form: id=3-7&since=2026-12-06T10:00&reason=*timeout*&
 * bucket=photos&key=2026/ (dlq.h).  The same token as ingest guards it.
 * Requeue appends to the journal the delivery thread reads, in file
 * order and all at once, and the entries leave the file only once that
 * is durable: delivered once, in order, never raced.  Requeue of _script
 * runs each event through the current script again.  The work is done on
 * the ingest worker's thread (a dead-letter file is small beside ingest);
 * it blocks that worker for one commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>
#include "admin_dlq.h"
#include "dlq.h"
#include "http_conn.h"
#include "ingest.h"

#define ADMIN_DLQ "/admin/dlq/"

int admin_dlq_is(const struct conn *c)
{
    /* the first URL_MAX bytes are kept of a longer URL: still ours, refused below */
    return c->url_len >= sizeof ADMIN_DLQ - 1 && !memcmp(c->url, ADMIN_DLQ, sizeof ADMIN_DLQ - 1);
}

/* The target's dead-letter directory and, for a configured target, its
 * runtime state; NULL dir if the name is unknown. */
static const char *target_dir(struct gateway *gw, const char *name, struct target **t)
{
    *t = NULL;
    if (!strcmp(name, "_script"))
        return gw->cfg.queue_dir;
    for (size_t i = 0; i < gw->nt; i++)
        if (!strcmp(gw->targets[i].conf->name, name)) {
            *t = &gw->targets[i];
            return gw->targets[i].dlq_dir;
        }
    return NULL;
}

static int unknown_target(struct conn *c, const char *name)
{
    struct gateway *gw = c->w->gw;
    struct buf b = { 0 };
    int rc = buf_puts(&b, "unknown target '") | buf_puts(&b, name) | buf_puts(&b, "'; configured:");
    for (size_t i = 0; i < gw->nt; i++)
        rc |= buf_puts(&b, " ") | buf_puts(&b, gw->targets[i].conf->name);
    rc |= buf_puts(&b, " _script (events a script failed on)");
    int r = http_reply_error(c, 404, rc ? "unknown target" : b.p);
    buf_free(&b);
    return r;
}

static int reply_json(struct conn *c, int code, struct buf *b)
{
    int rc = http_reply(c, code, "application/json", b->p ? b->p : "{}\n", b->p ? b->len : 3);
    buf_free(b);
    return rc;
}

/* _script: each event through the current script again. */
struct replay {
    struct worker *w;
};

static int replay_fn(void *arg, cJSON *const *entries, size_t n, char *err, size_t errlen)
{
    struct replay *r = arg;
    for (size_t i = 0; i < n; i++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(entries[i], "payload");
        if (!cJSON_IsString(p))
            return snprintf(err, errlen, "entry without a payload"), -1;
        /* only this worker's thread runs it, and the entries before it are queued: stop at the first failure */
        if (ingest_replay(r->w, p->valuestring, strlen(p->valuestring), err, errlen))
            return -1;
    }
    return 0;
}

static int purge_fn(void *arg, cJSON *const *entries, size_t n, char *err, size_t errlen)
{
    (void)arg, (void)entries, (void)n, (void)err, (void)errlen;
    return 0;
}

static int do_take(struct conn *c, const char *name, const char *dir, struct target *t, int requeue,
                   const struct dlq_sel *sel)
{
    char err[1024], num[160];
    size_t taken = 0;
    struct dlq_requeue rq = { t ? t->q : NULL, t ? t->reader : NULL, 1 };
    struct replay rp = { c->w };
    dlq_take_fn fn = !requeue ? purge_fn : t ? dlq_requeue_fn : replay_fn;
    void *arg = !requeue ? NULL : t ? (void *)&rq : (void *)&rp;
    if (dlq_take(dir, name, sel, fn, arg, &taken, err, sizeof err))
        return http_reply_error(c, 500, err);
    struct buf b = { 0 };
    snprintf(num, sizeof num, ",\"%s\":%zu}\n", requeue ? "requeued" : "purged", taken);
    char path[4096];
    dlq_path(dir, name, path, sizeof path);
    int rc = buf_puts(&b, "{\"target\":") | json_quote(&b, name, strlen(name)) | buf_puts(&b, ",\"file\":") |
             json_quote(&b, path, strlen(path)) | buf_puts(&b, num);
    if (rc)
        return buf_free(&b), http_reply_error(c, 500, "out of memory");
    return reply_json(c, 200, &b);
}

int admin_dlq_handle(struct conn *c)
{
    struct gateway *gw = c->w->gw;
    char name[256], err[1024];
    if (!ingest_authorized(gw, c))
        return http_reply_error(c, 401, "missing or wrong Authorization header");
    if (c->url_len > URL_MAX)
        return http_reply_error(c, 400, "URL too long: POST the selection in the body");
    const char *p = c->url + sizeof ADMIN_DLQ - 1, *end = c->url + c->url_len;
    const char *q = memchr(p, '?', (size_t)(end - p));
    const char *path_end = q ? q : end, *slash = memchr(p, '/', (size_t)(path_end - p));
    size_t nl = (size_t)((slash ? slash : path_end) - p);
    if (!nl || nl >= sizeof name)
        return http_reply_error(c, 404, "name a target: /admin/dlq/TARGET[/list|requeue|purge]");
    memcpy(name, p, nl);
    name[nl] = 0;
    const char *action = slash ? slash + 1 : path_end;
    size_t al = (size_t)(path_end - action);
    int get = c->p.method == HTTP_GET || c->p.method == HTTP_HEAD;
    int list = (get && !al) || (!get && al == 4 && !memcmp(action, "list", 4));
    int requeue = !get && al == 7 && !memcmp(action, "requeue", 7);
    int purge = !get && al == 5 && !memcmp(action, "purge", 5);
    if (!list && !requeue && !purge)
        return http_reply_error(c, 405, "GET /admin/dlq/TARGET, or POST /admin/dlq/TARGET/list, /requeue or /purge");
    struct target *t;
    const char *dir = target_dir(gw, name, &t);
    if (!dir)
        return unknown_target(c, name);
    struct dlq_sel sel = { 0 };
    if (q && dlq_sel_parse_form(&sel, q + 1, (size_t)(end - q - 1), err, sizeof err))
        return http_reply_error(c, 400, err);
    if (!get && c->body_len && dlq_sel_parse_form(&sel, c->body, c->body_len, err, sizeof err))
        return http_reply_error(c, 400, err);
    if (!list)
        return do_take(c, name, dir, t, requeue, &sel);
    struct buf b = { 0 };
    if (dlq_list(dir, name, &sel, &b, err, sizeof err))
        return buf_free(&b), http_reply_error(c, 500, err);
    return reply_json(c, 200, &b);
}
