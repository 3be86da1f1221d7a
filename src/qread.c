/* qread.c -- the readers of the durable queue: one per target, each with
 * a committed cursor file, reading durable records through a window over
 * one segment at a time, and deleting segments every cursor has passed. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "crc32c.h"
#include "queue_int.h"
#include "spare.h"

/* The first segment on disk after seg, or UINT64_MAX: segment numbers can
 * have gaps (a stray file), so readers step through the list, never +1. */
static uint64_t seg_next(struct queue *q, uint64_t seg)
{
    uint64_t next = UINT64_MAX;
    pthread_mutex_lock(&q->lock);
    for (size_t i = 0; i < q->nsegs; i++)
        if (q->segs[i] > seg) {
            next = q->segs[i];
            break;
        }
    pthread_mutex_unlock(&q->lock);
    return next;
}

/* ---- cursors ------------------------------------------------------------ */

static int cursor_write(struct qreader *r)
{
    char rec[24];
    memcpy(rec, &r->pos.seg, 8);
    memcpy(rec + 8, &r->pos.off, 8);
    put32_host(rec + 16, crc32c(0, rec, 16));
    put32_host(rec + 20, CURSOR_MAGIC);
    if (pwrite(r->cfd, rec, sizeof rec, 0) != (ssize_t)sizeof rec)
        return -1;
    time_t now = time(NULL);
    if (now != r->cursor_synced) { /* a lost cursor only means re-delivery */
        r->cursor_synced = now;
        if (fdatasync(r->cfd))
            return -1;
    }
    return 0;
}

static int cursor_read(struct qreader *r)
{
    char rec[24];
    if (pread(r->cfd, rec, sizeof rec, 0) != (ssize_t)sizeof rec)
        return -1;
    if (get32_host(rec + 20) != CURSOR_MAGIC || get32_host(rec + 16) != crc32c(0, rec, 16))
        return -1;
    memcpy(&r->pos.seg, rec, 8);
    memcpy(&r->pos.off, rec + 8, 8);
    return 0;
}

void qreader_free(struct qreader *r)
{
    if (!r)
        return;
    if (r->cfd >= 0)
        close(r->cfd);
    if (r->sfd >= 0)
        close(r->sfd);
    free(r->target);
    free(r->buf);
    free(r->ends);
    free(r->times);
    free(r);
}

void qreader_close(struct qreader *r)
{
    if (r->cfd >= 0 && fdatasync(r->cfd) == 0)
        r->cursor_synced = time(NULL);
    qreader_free(r);
}

/* Target names become file names: keep them to a safe alphabet. */
static int safe_name(const char *s)
{
    if (!*s || strlen(s) > 200 || s[0] == '.')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr(":_-.", *s)))
            return 0;
    return 1;
}

struct qreader *queue_reader(struct queue *q, const char *target, uint64_t limit)
{
    if (!safe_name(target))
        return NULL;
    struct qreader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->q = q;
    r->sfd = -1;
    r->limit = limit ? limit : 100000;
    char path[4096];
    snprintf(path, sizeof path, "%s/cursors/%s.cur", q->dir, target);
    r->target = strdup(target);
    r->cfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct qreader **rs = realloc(q->readers, (q->nreaders + 1) * sizeof *rs);
    if (!r->target || r->cfd < 0 || !rs) {
        if (rs)
            q->readers = rs;
        qreader_free(r);
        return NULL;
    }
    q->readers = rs;
    struct stat sb;
    int fresh = fstat(r->cfd, &sb) == 0 && sb.st_size == 0;
    if (fresh) {
        r->pos = q->wpos; /* a new target starts at the end */
        if (cursor_write(r)) {
            qreader_free(r);
            return NULL;
        }
    } else if (cursor_read(r) || pos_cmp(r->pos, q->wpos) > 0 || r->pos.seg < q->first_seg) {
        /* a damaged cursor: read again from the oldest record (duplicates, never loss) */
        r->pos = (struct qpos){ q->first_seg, 0 };
    }
    q->readers[q->nreaders++] = r;
    return r;
}

/* Unregister a reader (before queue_start's threads run): its cursor file
 * stays, its position no longer holds segments back. */
void queue_reader_drop(struct qreader *r)
{
    struct queue *q = r->q;
    for (size_t i = 0; i < q->nreaders; i++)
        if (q->readers[i] == r) {
            q->readers[i] = q->readers[--q->nreaders];
            break;
        }
    qreader_free(r);
}

const char *queue_reader_target(struct qreader *r) { return r->target; }
uint64_t queue_limit(struct qreader *r) { return r->limit; }

uint64_t queue_len(struct qreader *r)
{
    pthread_mutex_lock(&r->q->lock);
    uint64_t n = r->pending;
    pthread_mutex_unlock(&r->q->lock);
    return n;
}

struct qreader *qreader_find(struct queue *q, const char *target)
{
    for (size_t i = 0; i < q->nreaders; i++)
        if (!strcmp(q->readers[i]->target, target))
            return q->readers[i];
    return NULL;
}

/* ---- reading ------------------------------------------------------------- */

/* Make [off, off+need) of segment seg readable in the window; 0 ok,
 * -1 if those bytes are not in the file.  The window never reaches past
 * dpos: a pre-zeroed segment holds zeros there that later appends
 * replace, and the window must not keep a copy of them. */
static int window_load(struct qreader *r, struct qpos dpos, uint64_t seg, uint64_t off, size_t need)
{
    if (r->sfd >= 0 && r->sseg == seg && off >= r->wstart && off + need <= r->wstart + r->wlen)
        return 0;
    if (r->sfd < 0 || r->sseg != seg) {
        if (r->sfd >= 0)
            close(r->sfd);
        char path[4096];
        qseg_path(r->q, seg, path, sizeof path);
        r->sfd = open(path, O_RDONLY | O_CLOEXEC);
        r->sseg = seg;
        r->wlen = 0;
        if (r->sfd < 0)
            return -1;
    }
    size_t want = need > READ_CHUNK ? need : READ_CHUNK;
    if (qgrow(&r->buf, &r->cap, want))
        return -1;
    if (seg == dpos.seg)
        want = off >= dpos.off ? 0 : want < dpos.off - off ? want : (size_t)(dpos.off - off);
    ssize_t got = pread(r->sfd, r->buf, want, (off_t)off);
    if (got < 0)
        return -1;
    r->wstart = off;
    r->wlen = (size_t)got;
    return (size_t)got >= need ? 0 : -1;
}

static int peek_push(struct qreader *r, struct qpos end, uint64_t ms)
{
    if (r->npeek == r->peekcap) {
        size_t cap = r->peekcap ? r->peekcap * 2 : 64;
        struct qpos *e = realloc(r->ends, cap * sizeof *e);
        if (!e)
            return -1;
        r->ends = e;
        uint64_t *t = realloc(r->times, cap * sizeof *t);
        if (!t)
            return -1;
        r->times = t;
        r->peekcap = cap;
    }
    r->ends[r->npeek] = end;
    r->times[r->npeek++] = ms;
    return 0;
}

/* Fill out[] from the cursor on, up to the durable end (dpos).  Records
 * of other targets are stepped over; their end positions still count so
 * an ack moves the cursor past them. */
static size_t peek_from(struct qreader *r, struct qpos dpos, struct msg *out, size_t max)
{
    struct qpos p = r->pos;
    size_t n = 0;
    r->npeek = 0;
    while (n < max && pos_cmp(p, dpos) < 0) {
        /* messages handed out point into the window: never move it under them */
        if (n && (r->sfd < 0 || p.seg != r->sseg || p.off < r->wstart ||
                  p.off + HDR_SIZE > r->wstart + r->wlen))
            break;
        if (p.seg < dpos.seg) { /* the end of a full segment is its size */
            struct stat sb;
            if (window_load(r, dpos, p.seg, p.off, 0) || fstat(r->sfd, &sb) || p.off >= (uint64_t)sb.st_size) {
                p = (struct qpos){ seg_next(r->q, p.seg), 0 };
                continue;
            }
        }
        if (window_load(r, dpos, p.seg, p.off, HDR_SIZE)) {
            p = (struct qpos){ seg_next(r->q, p.seg), 0 };
            continue;
        }
        const char *h = r->buf + (p.off - r->wstart);
        size_t len = get32_host(h + 4);
        long sz = get32_host(h) == REC_MAGIC && len <= REC_MAX ? (long)(HDR_SIZE + len) : 0;
        if (sz && n && (p.off + (uint64_t)sz > r->wstart + r->wlen))
            break; /* would move the window under the messages handed out */
        if (sz && window_load(r, dpos, p.seg, p.off, (size_t)sz))
            sz = 0;
        if (sz) {
            h = r->buf + (p.off - r->wstart);
            /* records read back from the disk (before q->trusted) are
             * checked against their CRC; this process's own appends were
             * checksummed as they were encoded */
            if (pos_cmp(p, r->q->trusted) < 0 || (size_t)sz < HDR_SIZE + FIXED_SIZE)
                sz = qrec_check(h, (size_t)sz);
        }
        if (sz <= 0) { /* corrupt: step to the next intact record */
            if (n)
                break; /* the next peek starts here with a fresh window */
            if (window_load(r, dpos, p.seg, p.off, HDR_SIZE)) {
                p = (struct qpos){ seg_next(r->q, p.seg), 0 };
                continue;
            }
            h = r->buf + (p.off - r->wstart);
            size_t avail = r->wlen - (size_t)(p.off - r->wstart);
            size_t next = qrec_resync(h, avail, 1);
            p.off += next;
            if (next >= avail && p.seg < dpos.seg)
                p = (struct qpos){ seg_next(r->q, p.seg), 0 };
            continue;
        }
        struct rec_view v;
        p.off += (uint64_t)sz;
        if (qrec_decode(h + HDR_SIZE, (uint32_t)sz - HDR_SIZE, &v) || strcmp(v.target, r->target))
            continue;
        if (peek_push(r, p, v.enq_ms))
            break;
        struct msg *m = &out[n++];
        memset(m, 0, sizeof *m);
        m->payload = v.payload;
        m->payload_len = v.payload_len;
        m->event_name = v.event_name;
        m->key = v.key;
        m->key_len = v.key_len;
        m->event_time = v.event_time;
        m->opts = v.opts;
        m->op = v.op;
    }
    if (p.seg > dpos.seg) /* stepped past the last segment */
        p = dpos;
    /* nothing of ours before p: remember how far we looked */
    if (!n && pos_cmp(p, r->pos) > 0) {
        pthread_mutex_lock(&r->q->lock);
        r->pos = p;
        pthread_mutex_unlock(&r->q->lock);
    }
    return n;
}

int queue_peek(struct qreader *r, struct msg *out, size_t max, int wait_ms)
{
    struct queue *q = r->q;
    pthread_mutex_lock(&q->lock);
    if (!r->pending && !q->stopping) {
        /* nothing of ours anywhere: jump to the end so we pin no segment */
        if (pos_cmp(q->dpos, r->pos) > 0)
            r->pos = q->dpos;
        if (wait_ms > 0) {
            struct timespec ts = clock_after(CLOCK_REALTIME, wait_ms);
            pthread_cond_timedwait(&q->data_cond, &q->lock, &ts);
        }
    }
    struct qpos dpos = q->dpos;
    pthread_mutex_unlock(&q->lock);
    size_t n = peek_from(r, dpos, out, max);
    if (!n && wait_ms > 0) {
        /* ours are appended but not yet durable: wait for the commit */
        pthread_mutex_lock(&q->lock);
        if (pos_cmp(q->dpos, dpos) == 0 && r->pending && !q->stopping) {
            struct timespec ts = clock_after(CLOCK_REALTIME, 50);
            pthread_cond_timedwait(&q->data_cond, &q->lock, &ts);
        }
        pthread_mutex_unlock(&q->lock);
    }
    return (int)n;
}

uint64_t queue_peek_time(struct qreader *r, size_t i)
{
    return i < r->npeek ? r->times[i] : 0;
}

#define DROP_MAX 8

/* Take the segments every cursor has passed off the list (at most max),
 * under the lock; queue_ack deletes their files after releasing it. */
static size_t take_passed_segments(struct queue *q, uint64_t *out, size_t max)
{
    uint64_t min = q->wpos.seg;
    for (size_t i = 0; i < q->nreaders; i++)
        if (q->readers[i]->pos.seg < min)
            min = q->readers[i]->pos.seg;
    size_t gone = 0;
    while (gone < q->nsegs && gone < max && q->segs[gone] < min) {
        out[gone] = q->segs[gone];
        gone++;
    }
    if (gone) {
        memmove(q->segs, q->segs + gone, (q->nsegs - gone) * sizeof *q->segs);
        q->nsegs -= gone;
        q->first_seg = q->nsegs ? q->segs[0] : q->wpos.seg;
    }
    return gone;
}

/* A passed segment becomes the next spare when spare.c takes it (zeroed
 * again in place), else it is deleted.  Never under the queue lock, which
 * every append takes: deleting 64 MiB takes milliseconds.  A file that
 * cannot be deleted now is found again at the next start, behind every
 * cursor, and deleted then. */
static void delete_segments(struct queue *q, const uint64_t *segs, size_t n)
{
    uint64_t freed = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        qseg_path(q, segs[i], path, sizeof path);
        struct stat sb;
        if (!stat(path, &sb) && (!spare_recycle(q->spare, path) || !unlink(path)))
            freed += (uint64_t)sb.st_size;
    }
    pthread_mutex_lock(&q->lock);
    q->st.bytes -= freed < q->st.bytes ? freed : q->st.bytes;
    pthread_mutex_unlock(&q->lock);
}

int queue_ack(struct qreader *r, size_t n)
{
    if (!n)
        return 0;
    if (n > r->npeek)
        n = r->npeek;
    struct queue *q = r->q;
    pthread_mutex_lock(&q->lock);
    r->pos = r->ends[n - 1];
    r->pending -= n <= r->pending ? n : r->pending;
    uint64_t gone[DROP_MAX];
    size_t ngone = take_passed_segments(q, gone, DROP_MAX);
    pthread_mutex_unlock(&q->lock);
    if (ngone)
        delete_segments(q, gone, ngone);
    /* the unacked rest of the peek is read again by the next peek */
    r->npeek = 0;
    return cursor_write(r);
}
