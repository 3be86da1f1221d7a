/* dlq.c -- append-only dead-letter files (see dlq.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "dlq.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include "json.h"
#include "queue.h"

void dlq_path(const char *queue_dir, const char *target, char *out, size_t len)
{
    snprintf(out, len, "%s/dlq/%s.jsonl", queue_dir, target);
}

static int field(struct buf *b, const char *name, const char *val, size_t n, int first)
{
    return buf_puts(b, first ? "{\"" : ",\"") | buf_puts(b, name) | buf_puts(b, "\":") |
           json_quote(b, val ? val : "", val ? n : 0);
}

int dlq_append(const char *queue_dir, const char *target, const struct msg *m, const char *why,
               unsigned attempts, char *err, size_t errlen)
{
    char path[4096], stamp[32], num[32];
    snprintf(path, sizeof path, "%s/dlq", queue_dir);
    if (mkdir(path, 0700) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    dlq_path(queue_dir, target, path, sizeof path);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(num, sizeof num, "%u", attempts);
    struct buf b = { 0 };
    int rc = field(&b, "time", stamp, strlen(stamp), 1) |
             field(&b, "target", target, strlen(target), 0) |
             field(&b, "error", why, strlen(why), 0) | buf_puts(&b, ",\"attempts\":") |
             buf_puts(&b, num) |
             field(&b, "event_name", m->event_name, m->event_name ? strlen(m->event_name) : 0, 0) |
             field(&b, "key", m->key, msg_key_len(m), 0) |
             field(&b, "event_time", m->event_time, m->event_time ? strlen(m->event_time) : 0, 0) |
             field(&b, "op", m->op == OP_DELETE ? "delete" : "upsert", m->op == OP_DELETE ? 6 : 6, 0) |
             buf_puts(&b, ",\"opts\":") | buf_puts(&b, m->opts ? m->opts : "null") |
             field(&b, "payload", m->payload, m->payload_len, 0) | buf_puts(&b, "}\n");
    if (rc) {
        buf_free(&b);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    ssize_t w = fd >= 0 ? write(fd, b.p, b.len) : -1;
    int ok = w == (ssize_t)b.len && fdatasync(fd) == 0;
    int e = errno;
    if (fd >= 0)
        close(fd);
    buf_free(&b);
    if (!ok) {
        snprintf(err, errlen, "cannot write the dead-letter queue %s: %s", path, strerror(e));
        return -1;
    }
    return 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* String field k of the dead letter text (tokens t) decoded whole into out:
 * a key or payload may hold NULs, where cJSON's valuestring ends.  "" when
 * absent; -1 out of memory or a bad escape. */
static int jbytes(const char *text, const jsmntok_t *t, const char *k, struct buf *out)
{
    int i = json_get(text, t, 0, k);
    out->len = 0;
    if (i < 0 || t[i].type != JSMN_STRING)
        return buf_put(out, "", 0);
    return json_unescape(text + t[i].start, (size_t)(t[i].end - t[i].start), out);
}

/* Queue the dead letter e (line[0..len)) again for reader r. */
static int requeue_one(struct queue *q, struct qreader *r, const cJSON *e, const char *line, size_t len,
                       char *err, size_t errlen)
{
    jsmntok_t *toks = NULL;
    size_t tcap = 0;
    struct buf key = { 0 }, payload = { 0 };
    int rc = -1;
    if (json_tokenize(line, len, &toks, &tcap, err, errlen) < 0)
        goto out;
    if (jbytes(line, toks, "key", &key) || jbytes(line, toks, "payload", &payload)) {
        snprintf(err, errlen, "out of memory, or a bad escape in a dead letter's key or payload");
        goto out;
    }
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(e, "opts");
    char *opts_text = cJSON_IsObject(opts) ? cJSON_PrintUnformatted(opts) : NULL;
    struct qrec rec = { .to = r, .npayload = 1, .event_name = jstr(e, "event_name"), .key = key.p,
                        .key_len = key.len, .event_time = jstr(e, "event_time"), .opts = opts_text,
                        .op = strcmp(jstr(e, "op"), "delete") ? OP_UPSERT : OP_DELETE };
    rec.payload[0] = (struct iovec){ payload.p, payload.len };
    uint64_t ticket;
    rc = queue_append(q, &rec, 1, &ticket, err, errlen);
    free(opts_text);
out:
    free(toks);
    buf_free(&key);
    buf_free(&payload);
    return rc;
}

int dlq_command(const char *dir, const char *target, const char *path, int requeue, int configured)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) {
            printf("%s: no dead letters\n", target);
            return 0;
        }
        fprintf(stderr, "luagate: cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (requeue && !configured) {
        fprintf(stderr, "luagate: %s is not a configured target: nothing to requeue to\n", target);
        fclose(f);
        return 2;
    }
    char err[512];
    struct queue *q = requeue ? queue_open(dir, err, sizeof err) : NULL;
    struct qreader *r = q ? queue_reader(q, target, UINT64_MAX) : NULL;
    if (requeue && (!q || !r || queue_start(q))) {
        fprintf(stderr, "luagate: %s\n", q ? "cannot open the target's queue" : err);
        queue_close(q);
        fclose(f);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0, n = 0, bad = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        cJSON *e = cJSON_ParseWithLength(line, (size_t)len);
        if (!e) {
            bad++;
            continue;
        }
        n++;
        if (!requeue) {
            printf("%s  %s  %s  attempts=%d\n    error: %s\n", jstr(e, "time"), jstr(e, "event_name"),
                   jstr(e, "key"), cJSON_GetObjectItemCaseSensitive(e, "attempts")
                                       ? cJSON_GetObjectItemCaseSensitive(e, "attempts")->valueint
                                       : 0,
                   jstr(e, "error"));
        } else if (requeue_one(q, r, e, line, (size_t)len, err, sizeof err)) {
            fprintf(stderr, "luagate: %s\n", err);
            rc = 1;
        }
        cJSON_Delete(e);
        if (rc)
            break;
    }
    free(line);
    fclose(f);
    if (requeue) {
        if (!rc && queue_sync(q) == 0 && truncate(path, 0) == 0)
            printf("%s: %zu dead letter(s) queued again\n", target, n);
        else if (!rc) {
            fprintf(stderr, "luagate: could not finish the requeue: %s\n", strerror(errno));
            rc = 1;
        }
        queue_close(q);
    } else {
        printf("%s: %zu dead letter(s)%s\n", target, n, bad ? " (some lines unreadable)" : "");
    }
    return rc;
}
