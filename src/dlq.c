/* dlq.c -- dead-letter files (see dlq.h): appends, selection, listing,
 * and taking entries out for requeue or purge. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <sys/file.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "dlq.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include "buf.h"
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

/* Open path and flock it, making sure the lock is on the file now at
 * path: a rewrite renames a new file over it, and an append must not go
 * to the old one.  -1 with errno. */
static int dlq_open_locked(const char *path, int flags)
{
    for (int tries = 0; tries < 100; tries++) {
        int fd = open(path, flags | O_CLOEXEC, 0600);
        if (fd < 0)
            return -1;
        struct stat a, b;
        errno = 0; /* an inode mismatch (renamed meanwhile) leaves it 0: try again */
        if (flock(fd, LOCK_EX) == 0 && fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
            a.st_ino == b.st_ino && a.st_dev == b.st_dev)
            return fd;
        int e = errno;
        close(fd);
        if (e != 0 && e != ENOENT && e != EINTR)
            return errno = e, -1;
    }
    errno = EAGAIN;
    return -1;
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
    int fd = dlq_open_locked(path, O_WRONLY | O_APPEND | O_CREAT);
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

/* ---- selection ------------------------------------------------------------ */

static int has_glob(const char *p) { return strpbrk(p, "*?[") != NULL; }

/* N, N-M, N- (N onwards) or -M (up to M). */
static int sel_ids(struct dlq_sel *s, const char *val, char *err, size_t errlen)
{
    const char *dash = strchr(val, '-');
    char *end;
    errno = 0;
    s->id_lo = *val == '-' ? 1 : strtoull(val, &end, 10);
    int bad = *val != '-' && end != (dash ? dash : val + strlen(val));
    s->id_hi = !dash ? s->id_lo : dash[1] ? strtoull(dash + 1, &end, 10) : 0;
    bad |= dash && dash[1] && *end;
    if (bad || errno || !s->id_lo || (dash && dash[1] && s->id_hi < s->id_lo) || (*val == '-' && !dash[1]) ||
        strchr(val, ' ') || strchr(val, '+'))
        return snprintf(err, errlen, "id: '%s' is not N, N-M, N- or -M (ids start at 1)", val), -1;
    return 0;
}

int dlq_sel_set(struct dlq_sel *s, const char *name, const char *val, char *err, size_t errlen)
{
    struct { const char *name; char *dst; size_t len; } f[] = {
        { "since", s->since, sizeof s->since }, { "until", s->until, sizeof s->until },
        { "reason", s->reason, sizeof s->reason }, { "bucket", s->bucket, sizeof s->bucket },
        { "key", s->key, sizeof s->key },
    };
    if (!strcmp(name, "id"))
        return sel_ids(s, val, err, errlen);
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (!strcmp(name, f[i].name)) {
            if (strlen(val) >= f[i].len)
                return snprintf(err, errlen, "%s: longer than %zu bytes", name, f[i].len - 1), -1;
            snprintf(f[i].dst, f[i].len, "%s", val);
            return 0;
        }
    return snprintf(err, errlen, "unknown selection '%s' (id, since, until, reason, bucket, key)", name), -1;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decode a form component in place-free fashion into out. */
static void form_decode(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < outlen; i++) {
        if (s[i] == '+')
            out[o++] = ' ';
        else if (s[i] == '%' && i + 2 < n + 0 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else
            out[o++] = s[i];
    }
    out[o] = 0;
}

int dlq_sel_parse_form(struct dlq_sel *s, const char *form, size_t len, char *err, size_t errlen)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && form[end] != '&')
            end++;
        const char *eq = memchr(form + i, '=', end - i);
        if (end > i) {
            char name[32], val[1100];
            size_t nl = eq ? (size_t)(eq - (form + i)) : end - i;
            form_decode(form + i, nl, name, sizeof name);
            form_decode(eq ? eq + 1 : form + end, eq ? (size_t)(form + end - eq - 1) : 0, val, sizeof val);
            if (*val && dlq_sel_set(s, name, val, err, errlen))
                return -1;
        }
        i = end + 1;
    }
    return 0;
}

static int form_put(struct buf *b, const char *name, const char *val)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!*val)
        return 0;
    int rc = buf_puts(b, b->len ? "&" : "") | buf_puts(b, name) | buf_puts(b, "=");
    for (const unsigned char *p = (const unsigned char *)val; *p; p++) {
        char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
        rc |= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("-_.:", *p)
                  ? buf_put(b, p, 1)
                  : buf_put(b, enc, 3);
    }
    return rc;
}

int dlq_sel_form(const struct dlq_sel *s, struct buf *out)
{
    char id[64] = "";
    if (s->id_lo && s->id_hi == s->id_lo)
        snprintf(id, sizeof id, "%llu", s->id_lo);
    else if (s->id_lo && s->id_hi)
        snprintf(id, sizeof id, "%llu-%llu", s->id_lo, s->id_hi);
    else if (s->id_lo)
        snprintf(id, sizeof id, "%llu-", s->id_lo);
    int rc = form_put(out, "id", id) | form_put(out, "since", s->since) | form_put(out, "until", s->until) |
             form_put(out, "reason", s->reason) | form_put(out, "bucket", s->bucket) |
             form_put(out, "key", s->key);
    return rc || buf_put(out, "", 0) ? -1 : 0; /* NUL-terminated even when empty */
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Pattern p against text: a glob when it has one, else substring (or
 * prefix, for keys). */
static int text_match(const char *p, const char *text, int prefix)
{
    if (!*p)
        return 1;
    if (has_glob(p))
        return fnmatch(p, text, 0) == 0;
    return prefix ? !strncmp(text, p, strlen(p)) : strstr(text, p) != NULL;
}

static int sel_match(const struct dlq_sel *s, unsigned long long id, const cJSON *e)
{
    if ((s->id_lo && id < s->id_lo) || (s->id_hi && id > s->id_hi))
        return 0;
    const char *t = jstr(e, "time"), *key = jstr(e, "key");
    if (*s->since && strcmp(t, s->since) < 0)
        return 0;
    if (*s->until && strncmp(t, s->until, strlen(s->until)) > 0)
        return 0;
    const char *slash = strchr(key, '/');
    size_t blen = slash ? (size_t)(slash - key) : strlen(key);
    if (*s->bucket && (strlen(s->bucket) != blen || strncmp(key, s->bucket, blen)))
        return 0;
    return text_match(s->reason, jstr(e, "error"), 0) && text_match(s->key, slash ? slash + 1 : "", 1);
}

/* ---- the file --------------------------------------------------------------- */

struct dlq_file {
    struct buf text;  /* the whole file */
    size_t *off, *len; /* its lines */
    size_t n;
};

static void file_free(struct dlq_file *f)
{
    buf_free(&f->text);
    free(f->off);
    free(f->len);
    memset(f, 0, sizeof *f);
}

/* Read fd whole and split it into lines.  -1 with errno. */
static int file_read(int fd, struct dlq_file *f)
{
    char chunk[65536];
    ssize_t r;
    memset(f, 0, sizeof *f);
    while ((r = read(fd, chunk, sizeof chunk)) > 0)
        if (buf_put(&f->text, chunk, (size_t)r))
            return errno = ENOMEM, -1;
    if (r < 0)
        return -1;
    size_t cap = 0;
    for (size_t i = 0; i < f->text.len;) {
        const char *nl = memchr(f->text.p + i, '\n', f->text.len - i);
        size_t end = nl ? (size_t)(nl - f->text.p) : f->text.len;
        if (f->n == cap) {
            cap = cap ? cap * 2 : 64;
            size_t *o = realloc(f->off, cap * sizeof *o), *l = o ? realloc(f->len, cap * sizeof *l) : NULL;
            if (o)
                f->off = o;
            if (!l)
                return errno = ENOMEM, -1;
            f->len = l;
        }
        f->off[f->n] = i;
        f->len[f->n++] = end - i;
        i = end + 1;
    }
    return 0;
}

/* Read the file of target under its lock.  1 with f filled, 0 if there
 * is none (no dead letters), -1 with err. */
static int file_load(const char *path, struct dlq_file *f, char *err, size_t errlen)
{
    int fd = dlq_open_locked(path, O_RDONLY);
    if (fd < 0 && errno == ENOENT)
        return memset(f, 0, sizeof *f), 0;
    int rc = fd < 0 ? -1 : file_read(fd, f);
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (rc) {
        file_free(f);
        return snprintf(err, errlen, "cannot read %s: %s", path, strerror(e)), -1;
    }
    return 1;
}

int dlq_list(const char *dir, const char *target, const struct dlq_sel *s, struct buf *out,
             char *err, size_t errlen)
{
    char path[4096];
    struct dlq_file f;
    dlq_path(dir, target, path, sizeof path);
    if (file_load(path, &f, err, errlen) < 0)
        return -1;
    size_t selected = 0, bad = 0;
    int rc = buf_puts(out, "{\"target\":") | json_quote(out, target, strlen(target)) |
             buf_puts(out, ",\"file\":") | json_quote(out, path, strlen(path)) | buf_puts(out, ",\"entries\":[");
    for (size_t i = 0; i < f.n && !rc; i++) {
        cJSON *e = cJSON_ParseWithLength(f.text.p + f.off[i], f.len[i]);
        if (!cJSON_IsObject(e) || f.text.p[f.off[i]] != '{') { /* the entry is spliced after "id" below */
            bad += f.len[i] > 0;
            cJSON_Delete(e);
            continue;
        }
        if (sel_match(s, i + 1, e)) {
            char num[32];
            snprintf(num, sizeof num, "%zu", i + 1);
            rc = buf_puts(out, selected++ ? ",{\"id\":" : "{\"id\":") | buf_puts(out, num) | buf_puts(out, ",") |
                 buf_put(out, f.text.p + f.off[i] + 1, f.len[i] - 1);
        }
        cJSON_Delete(e);
    }
    char tail[128];
    snprintf(tail, sizeof tail, "],\"total\":%zu,\"selected\":%zu,\"unreadable\":%zu}\n", f.n - bad, selected, bad);
    rc |= buf_puts(out, tail);
    file_free(&f);
    if (rc)
        return snprintf(err, errlen, "out of memory"), -1;
    return 0;
}

/* Write the lines of f not in drop[] to a new file renamed over path
 * (under the lock the caller holds on the old one).  -1 with err. */
static int file_rewrite(const char *path, const struct dlq_file *f, const unsigned char *drop, char *err,
                        size_t errlen)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0;
    for (size_t i = 0; ok && i < f->n; i++) {
        if (drop[i] || !f->len[i])
            continue;
        const char *p = f->text.p + f->off[i];
        ok = write(fd, p, f->len[i]) == (ssize_t)f->len[i] && write(fd, "\n", 1) == 1;
    }
    ok = ok && fdatasync(fd) == 0;
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (!ok || rename(tmp, path)) {
        e = ok ? errno : e;
        unlink(tmp);
        return snprintf(err, errlen, "cannot rewrite %s: %s", path, strerror(e)), -1;
    }
    char d[4096];
    snprintf(d, sizeof d, "%s", path);
    char *slash = strrchr(d, '/');
    if (slash)
        *slash = 0;
    int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* the rename survives a crash; if this fails, the old file returns: duplicates, no loss */
        if (fsync(dfd))
            e = errno;
        close(dfd);
    }
    return 0;
}

/* Requeue and purge of one process never overlap (the admin API may be
 * served by several ingest workers). */
static pthread_mutex_t take_lock = PTHREAD_MUTEX_INITIALIZER;

static int take_locked(const char *path, const struct dlq_sel *s, dlq_take_fn fn, void *arg, size_t *taken,
                       char *err, size_t errlen)
{
    struct dlq_file f;
    int got = file_load(path, &f, err, errlen);
    if (got <= 0)
        return got;
    cJSON **sel = calloc(f.n ? f.n : 1, sizeof *sel);
    unsigned char *drop = calloc(f.n ? f.n : 1, 1);
    size_t n = 0, nlines = f.n;
    int rc = sel && drop ? 0 : (snprintf(err, errlen, "out of memory"), -1);
    for (size_t i = 0; !rc && i < f.n; i++) {
        cJSON *e = cJSON_ParseWithLength(f.text.p + f.off[i], f.len[i]);
        if (e && sel_match(s, i + 1, e)) {
            /* the line itself, for what cJSON cuts at a NUL (dlq_requeue_fn) */
            cJSON *line = cJSON_CreateString("");
            if (line) {
                free(line->valuestring);
                line->valuestring = strndup(f.text.p + f.off[i], f.len[i]);
            }
            if (!line || !line->valuestring || !cJSON_AddItemToObject(e, DLQ_LINE, line))
                rc = (snprintf(err, errlen, "out of memory"), -1);
            sel[n++] = e;
            drop[i] = 1;
        } else {
            cJSON_Delete(e);
        }
    }
    if (!rc && n)
        rc = fn(arg, sel, n, err, errlen);
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(sel[i]);
    free(sel);
    struct dlq_file now;
    if (!rc && n && (rc = file_load(path, &now, err, errlen)) > 0) {
        /* only appends happened meanwhile: the first lines are the ones read */
        int same = now.n >= nlines;
        for (size_t i = 0; same && i < nlines; i++)
            same = now.len[i] == f.len[i] && !memcmp(now.text.p + now.off[i], f.text.p + f.off[i], f.len[i]);
        unsigned char *d2 = same ? calloc(now.n ? now.n : 1, 1) : NULL;
        if (d2)
            memcpy(d2, drop, nlines);
        rc = !same ? (snprintf(err, errlen, "%s changed during the command: the entries were queued, "
                               "remove them by hand", path), -1)
             : !d2 ? (snprintf(err, errlen, "out of memory"), -1)
                   : file_rewrite(path, &now, d2, err, errlen);
        free(d2);
        file_free(&now);
    }
    if (rc == 0)
        *taken = n;
    free(drop);
    file_free(&f);
    return rc < 0 ? -1 : 0;
}

int dlq_take(const char *dir, const char *target, const struct dlq_sel *s, dlq_take_fn fn, void *arg,
             size_t *taken, char *err, size_t errlen)
{
    char path[4096];
    dlq_path(dir, target, path, sizeof path);
    *taken = 0;
    pthread_mutex_lock(&take_lock);
    int rc = take_locked(path, s, fn, arg, taken, err, errlen);
    pthread_mutex_unlock(&take_lock);
    return rc;
}

/* A running gateway's committer makes the appends durable (a second
 * thread committing beside it could race its segment rotation): wait for
 * it.  Stopped, commit here. */
static int queue_made_durable(const struct dlq_requeue *rq, uint64_t ticket)
{
    if (!rq->live)
        return queue_sync(rq->q);
    for (int ms = 0; ms < 60000; ms++) {
        if (queue_failed(rq->q, ticket))
            return -1;
        if (queue_durable(rq->q) >= ticket)
            return 0;
        usleep(1000);
    }
    return -1;
}

/* String field k of the dead letter's line decoded whole into out: a key
 * or payload may hold NULs, where cJSON's valuestring ends.  "" when
 * absent; -1 out of memory or a bad escape. */
static int jbytes(const char *text, const jsmntok_t *t, const char *k, struct buf *out)
{
    int i = json_get(text, t, 0, k);
    out->len = 0;
    if (i < 0 || t[i].type != JSMN_STRING)
        return buf_put(out, "", 0);
    return json_unescape(text + t[i].start, (size_t)(t[i].end - t[i].start), out);
}

/* The key and payload of entry e, NULs kept, into key and payload. */
static int entry_bytes(const cJSON *e, struct buf *key, struct buf *payload, char *err, size_t errlen)
{
    const char *line = jstr(e, DLQ_LINE);
    jsmntok_t *toks = NULL;
    size_t cap = 0;
    int rc = json_tokenize(line, strlen(line), &toks, &cap, err, errlen) < 0 ? -1 : 0;
    if (!rc && (jbytes(line, toks, "key", key) || jbytes(line, toks, "payload", payload)))
        rc = (snprintf(err, errlen, "out of memory, or a bad escape in a dead letter's key or payload"), -1);
    free(toks);
    return rc;
}

int dlq_requeue_fn(void *arg, cJSON *const *entries, size_t n, char *err, size_t errlen)
{
    struct dlq_requeue *rq = arg;
    struct qrec *recs = calloc(n, sizeof *recs);
    char **opts = calloc(n, sizeof *opts);
    struct buf *bytes = calloc(2 * n, sizeof *bytes); /* key, payload of each */
    int rc = recs && opts && bytes ? 0 : (snprintf(err, errlen, "out of memory"), -1);
    for (size_t i = 0; !rc && i < n; i++) {
        const cJSON *e = entries[i];
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(e, "opts");
        opts[i] = cJSON_IsObject(o) ? cJSON_PrintUnformatted(o) : NULL;
        struct buf *key = &bytes[2 * i], *payload = &bytes[2 * i + 1];
        if ((rc = entry_bytes(e, key, payload, err, errlen)))
            break;
        recs[i] = (struct qrec){ .to = rq->r, .npayload = 1, .event_name = jstr(e, "event_name"),
                                 .key = key->p, .key_len = key->len, .event_time = jstr(e, "event_time"),
                                 .opts = opts[i], .op = strcmp(jstr(e, "op"), "delete") ? OP_UPSERT : OP_DELETE };
        recs[i].payload[0] = (struct iovec){ payload->p, payload->len };
    }
    uint64_t ticket;
    /* one append, all or nothing: the entries leave the file only if every one is queued, in order */
    if (!rc && (rc = queue_append(rq->q, recs, n, &ticket, err, errlen)) == QUEUE_FULL)
        snprintf(err, errlen, "the target's queue has no room for %zu more (queue_limit): nothing requeued", n);
    if (!rc && queue_made_durable(rq, ticket)) {
        snprintf(err, errlen, "the queue could not be made durable (disk error)");
        rc = -1;
    }
    for (size_t i = 0; opts && i < n; i++)
        free(opts[i]);
    for (size_t i = 0; bytes && i < 2 * n; i++)
        buf_free(&bytes[i]);
    free(bytes);
    free(opts);
    free(recs);
    return rc ? -1 : 0;
}

int dlq_queue_busy(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}
