/* queue.c -- the durable queue's journal: segments, recovery, appends and
 * group commit (readers are in qread.c, the record layout in qrecord.c).
 *
 * Writers append whole records to the current segment with one pwrite()
 * per call, under the queue lock.  A committer thread (or queue_sync)
 * fdatasyncs and then publishes the durable position; readers never look
 * past it, so a reader only ever sees records that survive a crash.
 * Segments come pre-zeroed from spare.c when the disk has room, so a
 * commit's fdatasync writes only data.  A reader's committed cursor is
 * the position after the last record it acknowledged; segments every
 * cursor has passed are deleted. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "queue_int.h"
#include "spare.h"

int (*queue_fdatasync)(int fd) = fdatasync;

void qseg_path(const struct queue *q, uint64_t seg, char *out, size_t len)
{
    snprintf(out, len, "%s/journal/%020llu.seg", q->dir, (unsigned long long)seg);
}

/* ---- segments and recovery --------------------------------------------- */

static int list_segments(struct queue *q, uint64_t **out, size_t *n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/journal", q->dir);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        unsigned long long seg = strtoull(e->d_name, &end, 10);
        if (end == e->d_name || strcmp(end, ".seg"))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *g = realloc(*out, cap * sizeof *g);
            if (!g) {
                closedir(d);
                return -1;
            }
            *out = g;
        }
        (*out)[(*n)++] = seg;
    }
    closedir(d);
    for (size_t i = 1; i < *n; i++) /* few segments: insertion sort */
        for (size_t j = i; j > 0 && (*out)[j - 1] > (*out)[j]; j--) {
            uint64_t t = (*out)[j];
            (*out)[j] = (*out)[j - 1];
            (*out)[j - 1] = t;
        }
    return 0;
}

/* Read a whole segment into memory (recovery only). */
static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat sb;
    if (fstat(fd, &sb)) {
        close(fd);
        return NULL;
    }
    char *buf = malloc((size_t)sb.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)sb.st_size) {
        ssize_t r = pread(fd, buf + got, (size_t)sb.st_size - got, (off_t)got);
        if (r <= 0) {
            free(buf);
            buf = NULL;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return buf;
}

/* Scan a segment: count intact records, skip corrupt stretches.  Returns
 * the end of the last intact record (where a torn tail or the zeros of a
 * pre-zeroed segment start). */
static size_t scan_segment(struct queue *q, const char *buf, size_t len)
{
    size_t off = 0, valid_end = 0;
    while (off < len) {
        long sz = qrec_check(buf + off, len - off);
        if (sz > 0) {
            off += (size_t)sz;
            valid_end = off;
            continue;
        }
        if (qrec_zero_tail(buf, off, len))
            break;
        size_t next = qrec_resync(buf, len, off + 1);
        if (next < len)
            q->st.cut_records++;
        q->st.cut_bytes += next - off;
        off = next;
    }
    return valid_end;
}

static int open_segment(struct queue *q, uint64_t seg, int create)
{
    char path[4096];
    qseg_path(q, seg, path, sizeof path);
    int flags = O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
    return open(path, flags, 0600);
}

static int seg_add(struct queue *q, uint64_t seg)
{
    if (q->nsegs == q->segcap) {
        size_t cap = q->segcap ? q->segcap * 2 : 16;
        uint64_t *v = realloc(q->segs, cap * sizeof *v);
        if (!v)
            return -1;
        q->segs = v;
        q->segcap = cap;
    }
    q->segs[q->nsegs++] = seg;
    return 0;
}

static int recover(struct queue *q, char *err, size_t errlen)
{
    uint64_t *segs;
    size_t n;
    if (list_segments(q, &segs, &n)) {
        snprintf(err, errlen, "cannot list %s/journal: %s", q->dir, strerror(errno));
        return -1;
    }
    uint64_t last = 0, last_end = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        size_t len;
        qseg_path(q, segs[i], path, sizeof path);
        char *buf = slurp(path, &len);
        if (!buf) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            free(segs);
            return -1;
        }
        size_t end = scan_segment(q, buf, len);
        int zeroed = end < len && qrec_zero_tail(buf, end, len);
        free(buf);
        q->st.bytes += len;
        if (i == n - 1 && zeroed) {
            q->wzeroed = 1; /* keep the zeros: new appends overwrite them */
            q->st.bytes -= len - end;
        } else if (end < len && (i == n - 1 || zeroed)) {
            /* a torn tail: cut it so new appends follow intact records;
             * zeros in an older segment: a crash before its rotation cut
             * them (readers take a full segment's size as its end) */
            if (truncate(path, (off_t)end)) {
                snprintf(err, errlen, "cannot cut the torn tail of %s: %s", path, strerror(errno));
                free(segs);
                return -1;
            }
            q->st.bytes -= len - end;
        }
        last = segs[i];
        last_end = end;
    }
    q->first_seg = n ? segs[0] : 1;
    q->st.segments = n ? n : 1;
    q->segs = segs;
    q->nsegs = q->segcap = n;
    if (!n) {
        last = 1;
        if (seg_add(q, 1)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        q->wfd = open_segment(q, last, 1);
        q->dir_dirty = 1;
    } else {
        q->wfd = open_segment(q, last, 0);
    }
    if (q->wfd < 0) {
        snprintf(err, errlen, "cannot open journal segment %llu in %s: %s",
                 (unsigned long long)last, q->dir, strerror(errno));
        return -1;
    }
    q->wpos = (struct qpos){ last, last_end };
    q->dpos = q->wpos;
    /* everything before wpos came from the disk and is CRC-checked again
     * when read; what this process appends from here on was checksummed
     * from memory by rec_encode and is not checked a second time */
    q->trusted = q->wpos;
    return 0;
}

static int mkdir_p(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0700) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

struct queue *queue_open(const char *dir, char *err, size_t errlen)
{
    struct queue *q = calloc(1, sizeof *q);
    char path[4096];
    if (!q || !(q->dir = strdup(dir))) {
        free(q);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    q->wfd = q->jfd = q->old_fd = q->lockfd = -1;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->data_cond, NULL);
    pthread_cond_init(&q->sync_cond, NULL);
    pthread_cond_init(&q->idle_cond, NULL);
    snprintf(path, sizeof path, "%s/journal", dir);
    if (mkdir_p(path)) {
        snprintf(err, errlen, "cannot create queue directory %s: %s", path, strerror(errno));
        goto fail;
    }
    snprintf(path, sizeof path, "%s/cursors", dir);
    if (mkdir_p(path)) {
        snprintf(err, errlen, "cannot create queue directory %s: %s", path, strerror(errno));
        goto fail;
    }
    snprintf(path, sizeof path, "%s/lock", dir);
    q->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (q->lockfd < 0 || flock(q->lockfd, LOCK_EX | LOCK_NB)) {
        snprintf(err, errlen, "queue directory %s is in use by another luagate process%s%s", dir,
                 q->lockfd < 0 ? ": " : "", q->lockfd < 0 ? strerror(errno) : "");
        goto fail;
    }
    snprintf(path, sizeof path, "%s/journal", dir);
    q->jfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (q->jfd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    if (recover(q, err, errlen))
        goto fail;
    return q;
fail:
    queue_close(q);
    return NULL;
}

const char *queue_dir(const struct queue *q) { return q->dir; }

void queue_stats(struct queue *q, struct queue_stats *st)
{
    pthread_mutex_lock(&q->lock);
    *st = q->st;
    st->segments = q->nsegs;
    pthread_mutex_unlock(&q->lock);
}

/* One pass over the journal counting, per reader, the records past its
 * cursor.  Corrupt stretches are skipped as in recovery. */
int queue_start(struct queue *q)
{
    for (size_t si = 0; si < q->nsegs; si++) {
        uint64_t seg = q->segs[si];
        char path[4096];
        size_t len;
        qseg_path(q, seg, path, sizeof path);
        char *buf = slurp(path, &len);
        if (!buf)
            continue;
        size_t off = 0;
        while (off < len) {
            long sz = qrec_check(buf + off, len - off);
            if (sz <= 0 && qrec_zero_tail(buf, off, len))
                break;
            if (sz <= 0) {
                off = qrec_resync(buf, len, off + 1);
                continue;
            }
            struct rec_view v;
            if (!qrec_decode(buf + off + HDR_SIZE, (uint32_t)sz - HDR_SIZE, &v)) {
                struct qreader *r = qreader_find(q, v.target);
                if (r && pos_cmp((struct qpos){ seg, off }, r->pos) >= 0)
                    r->pending++;
            }
            off += (size_t)sz;
        }
        free(buf);
    }
    return 0;
}

/* ---- appending and committing ------------------------------------------ */

/* Bytes/s written to the current segment since its first append (an idle
 * gateway's start-up does not count): how fast the next one must be
 * zeroed (spare.c). */
static double write_rate(const struct queue *q)
{
    uint64_t us = q->wseg_us ? clock_mono_us() - q->wseg_us : 0;
    return us ? (double)q->wpos.off * 1e6 / (double)us : 0;
}

/* Start the next segment: the pre-zeroed spare if one is ready, else a
 * new empty file.  The zeros left in a pre-zeroed segment are cut first:
 * readers take a full segment's size as its end. */
static int rotate(struct queue *q)
{
    char path[4096];
    if (seg_add(q, q->wpos.seg + 1))
        return -1;
    if (q->wzeroed && ftruncate(q->wfd, (off_t)q->wpos.off)) {
        q->nsegs--;
        return -1;
    }
    qseg_path(q, q->wpos.seg + 1, path, sizeof path);
    int fd = spare_take(q->spare, path, write_rate(q)), zeroed = fd >= 0;
    if (fd < 0)
        fd = open_segment(q, q->wpos.seg + 1, 1);
    if (fd < 0) {
        q->nsegs--;
        return -1;
    }
    if (q->old_fd >= 0) { /* the committer has not caught up: sync it here */
        if (fdatasync(q->old_fd))
            return close(fd), -1;
        close(q->old_fd);
    }
    q->old_fd = q->wfd;
    q->wfd = fd;
    q->wzeroed = zeroed;
    q->wseg_us = 0;
    q->wpos = (struct qpos){ q->wpos.seg + 1, 0 };
    q->dir_dirty = 1;
    return 0;
}

/* Cut what was written after the published end of the journal (an append
 * that failed, here or in another journal of the same request).  The
 * zeros of a pre-zeroed segment go with it. */
static int append_unwrite(struct queue *q)
{
    if (ftruncate(q->wfd, (off_t)q->wpos.off))
        return -1;
    q->wzeroed = 0;
    return 0;
}

/* Is there room for recs in every target's queue_limit?  Under q->lock. */
static int append_room(const struct qrec *recs, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        recs[i].to->adding = 0;
    for (size_t i = 0; i < n; i++) {
        /* this record and the ones before it in recs for the same target */
        if (recs[i].to->pending + ++recs[i].to->adding > recs[i].to->limit) {
            snprintf(err, errlen, "queue of %s is full (queue_limit %llu)", recs[i].to->target,
                     (unsigned long long)recs[i].to->limit);
            return QUEUE_FULL;
        }
    }
    return 0;
}

/* Write recs after the journal's end without publishing them: *len gets
 * their size.  Under q->lock.  On failure nothing of them is left. */
int queue_encode(char **buf, size_t *len, size_t *cap, const struct qrec *recs, size_t n)
{
    uint64_t ms = clock_wall_ms();
    for (size_t i = 0; i < n; i++) {
        size_t sz = qrec_encode(buf, cap, *len, &recs[i], ms);
        if (!sz)
            return -1;
        *len += sz;
    }
    return 0;
}

static int append_write(struct queue *q, const struct qappend *a, size_t *len, char *err, size_t errlen)
{
    const struct qrec *recs = a->recs;
    size_t n = a->n;
    uint64_t ms = clock_wall_ms();
    /* a segment that was not zeroed ahead (the first one, or after a
     * shortage of disk) is left as soon as a zeroed one is ready */
    if (!q->wseg_us)
        q->wseg_us = clock_mono_us();
    if (q->spare && !q->spare_wanted && q->wpos.off >= ZERO_AHEAD_AFTER) {
        spare_want(q->spare, write_rate(q));
        q->spare_wanted = 1;
    }
    int early = !q->wzeroed && q->wpos.off && spare_ready(q->spare);
    if ((q->wpos.off >= SEG_MAX || early) && rotate(q)) {
        snprintf(err, errlen, "cannot start a new journal segment in %s: %s", q->dir, strerror(errno));
        return -1;
    }
    *len = 0;
    const char *bytes = a->bytes;
    if (bytes) {
        *len = a->len;
    } else {
        for (size_t i = 0; i < n; i++) {
            size_t sz = qrec_encode(&q->abuf, &q->acap, *len, &recs[i], ms);
            if (!sz) {
                snprintf(err, errlen, "message for %s too large or out of memory", recs[i].to->target);
                return -1;
            }
            *len += sz;
        }
        bytes = q->abuf;
    }
    size_t done = 0;
    while (done < *len) {
        ssize_t w = pwrite(q->wfd, bytes + done, *len - done, (off_t)(q->wpos.off + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            if (done && append_unwrite(q)) /* the journal stays whole */
                e = errno;
            snprintf(err, errlen, "cannot write to the queue in %s: %s", q->dir, strerror(e));
            errno = e;
            return -1;
        }
        done += (size_t)w;
    }
    return 0;
}

/* Make written records part of the journal.  Under q->lock. */
static void append_publish(struct queue *q, const struct qrec *recs, size_t n, size_t len,
                           int defer_kick, uint64_t *ticket)
{
    q->wpos.off += len;
    q->written += len;
    q->st.bytes += len;
    for (size_t i = 0; i < n; i++)
        recs[i].to->pending++;
    *ticket = q->written;
    if (!defer_kick)
        pthread_cond_signal(&q->sync_cond);
}

int queue_append(struct queue *q, const struct qrec *recs, size_t n, uint64_t *ticket,
                 char *err, size_t errlen)
{
    struct qappend a = { .q = q, .recs = recs, .n = n };
    int rc = queue_append_all(&a, 1, err, errlen);
    *ticket = a.ticket;
    return rc;
}

/* Every journal locked (in the caller's order, the same for every caller)
 * for the whole append, so that nothing is published until every write
 * succeeded, and a failed one can take the others' bytes back. */
int queue_append_all(struct qappend *a, size_t nq, char *err, size_t errlen)
{
    int rc = 0;
    size_t k = 0, len[QUEUE_APPEND_MAX];
    if (nq > QUEUE_APPEND_MAX)
        return snprintf(err, errlen, "more than %d queue directories in one append", QUEUE_APPEND_MAX), -1;
    for (size_t i = 0; i < nq; i++)
        pthread_mutex_lock(&a[i].q->lock);
    for (size_t i = 0; i < nq && !rc; i++)
        rc = append_room(a[i].recs, a[i].n, err, errlen);
    for (; k < nq && !rc; k++)
        rc = append_write(a[k].q, &a[k], &len[k], err, errlen);
    if (rc && k > 1) { /* take back what the journals before the failed one got */
        for (size_t i = 0; i + 1 < k; i++) {
            struct queue *q = a[i].q;
            size_t used = strlen(err);
            if (len[i] && append_unwrite(q) && used < errlen)
                snprintf(err + used, errlen - used, "; and cannot cut it from %s (%s): a restart "
                         "may deliver it", q->dir, strerror(errno));
        }
    }
    for (size_t i = 0; i < nq && !rc; i++)
        append_publish(a[i].q, a[i].recs, a[i].n, len[i], a[i].defer_kick, &a[i].ticket);
    for (size_t i = nq; i-- > 0;)
        pthread_mutex_unlock(&a[i].q->lock);
    return rc;
}

/* Without the lock: every waiting request asks after each commit, and the
 * readers woken by that commit take the lock at the same time. */
uint64_t queue_durable(struct queue *q)
{
    return atomic_load_explicit(&q->durable, memory_order_acquire);
}

int queue_failed(struct queue *q, uint64_t ticket)
{
    if (ticket > atomic_load_explicit(&q->failed_hi, memory_order_acquire))
        return 0; /* no failed commit reached it (the common case, without the lock) */
    pthread_mutex_lock(&q->lock);
    int f = ticket > q->failed_lo && ticket <= q->failed_hi;
    pthread_mutex_unlock(&q->lock);
    return f;
}

/* One group commit: sync the rotated and the current segment, the
 * directory if a segment was created, then publish the new durable end.
 * The caller claimed the commit (q->syncing): two commits at once could
 * publish the end of a rotated segment the other one is still syncing. */
static int commit_claimed(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t upto = q->written;
    struct qpos wpos = q->wpos;
    int old = q->old_fd, fd = q->wfd, dirty = q->dir_dirty;
    q->old_fd = -1;
    q->dir_dirty = 0;
    pthread_mutex_unlock(&q->lock);
    int rc = 0;
    uint64_t t0 = clock_mono_us();
    if (old >= 0) {
        rc |= queue_fdatasync(old);
        close(old);
    }
    rc |= queue_fdatasync(fd);
    if (dirty)
        rc |= fsync(q->jfd);
    pthread_mutex_lock(&q->lock);
    uint64_t durable = atomic_load_explicit(&q->durable, memory_order_relaxed);
    if (rc) {
        q->failed_lo = durable;
        atomic_store_explicit(&q->failed_hi, upto, memory_order_release);
    }
    else if (pos_cmp(wpos, q->dpos) > 0)
        q->dpos = wpos;
    /* after failed_hi: whoever sees the new end sees its failure too */
    atomic_store_explicit(&q->durable, upto > durable ? upto : durable, memory_order_release);
    q->st.commits++;
    q->commit_us = clock_mono_us() - t0;
    q->syncing = 0;
    int more = q->written != upto || q->stopping; /* the committer's turn (or its exit) */
    pthread_mutex_unlock(&q->lock);
    /* woken after the unlock, the readers do not block on it at once */
    pthread_cond_broadcast(&q->data_cond);
    pthread_cond_broadcast(&q->idle_cond);
    if (more)
        pthread_cond_signal(&q->sync_cond);
    return rc ? -1 : 0;
}

int queue_sync(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->syncing)
        pthread_cond_wait(&q->idle_cond, &q->lock);
    q->syncing = 1;
    pthread_mutex_unlock(&q->lock);
    int rc = commit_claimed(q);
    /* requests the committer was waiting to sync may be durable now, and
     * it will not run for them: answer them as it would */
    if (q->on_durable)
        q->on_durable(q->arg);
    return rc;
}

/* Longest last commit after which a caller may still lead the next one:
 * past it the disk is stalling, and the caller's loop would stop for that
 * long; the committer takes it.  Below it leading costs the loop little:
 * a request arriving during the sync waits for the next one either way,
 * only its parse is not overlapped (and /health on that loop waits). */
#define LEAD_MAX_US 10000

int queue_kick(struct queue *q, int lead)
{
    pthread_mutex_lock(&q->lock);
    int idle = !q->syncing && q->written != q->durable;
    lead = lead && idle && q->committer_on && !q->window_us && q->commit_us <= LEAD_MAX_US;
    if (lead)
        q->syncing = 1;
    pthread_mutex_unlock(&q->lock);
    if (!lead) {
        if (idle) /* else a running commit hands what is left to the committer */
            pthread_cond_signal(&q->sync_cond);
        return 0;
    }
    commit_claimed(q);
    if (q->on_durable)
        q->on_durable(q->arg);
    return 1;
}

/* Natural group commit: no timer.  The committer syncs as soon as there
 * is data and no sync is running; whatever is appended during a sync
 * forms the next group.  A lone request waits for one fdatasync only, and
 * groups grow with the load by themselves (as in PostgreSQL's and
 * RocksDB's group commit).  window_us, when set, is an upper bound on the
 * commit rate: the next commit starts no sooner than window_us after the
 * previous one started, for disks where each sync costs more than the
 * latency it saves (an append after a quiet spell is still synced at
 * once). */
static void *committer_main(void *arg)
{
    struct queue *q = arg;
    uint64_t last = 0;
    pthread_setname_np(pthread_self(), "commit"); /* for top -H and /proc: best effort */
    for (;;) {
        pthread_mutex_lock(&q->lock);
        while ((!q->stopping && q->written == q->durable) || q->syncing)
            pthread_cond_wait(&q->sync_cond, &q->lock);
        int stop = q->stopping && q->written == q->durable;
        if (!stop)
            q->syncing = 1;
        pthread_mutex_unlock(&q->lock);
        if (stop)
            break;
        if (q->window_us) {
            uint64_t now = clock_mono_us();
            if (now - last < q->window_us)
                usleep((useconds_t)(q->window_us - (now - last)));
            last = clock_mono_us();
        }
        commit_claimed(q);
        if (q->on_durable)
            q->on_durable(q->arg);
    }
    return NULL;
}

int queue_start_committer(struct queue *q, unsigned window_us, void (*on_durable)(void *), void *arg)
{
    q->window_us = window_us;
    q->on_durable = on_durable;
    q->arg = arg;
    if (pthread_create(&q->committer, NULL, committer_main, q))
        return -1;
    q->committer_on = 1;
    char jdir[4096];
    snprintf(jdir, sizeof jdir, "%s/journal", q->dir);
    struct spare *sp = spare_start(jdir, SEG_MAX); /* NULL: plain segments, only slower */
    pthread_mutex_lock(&q->lock);
    q->spare = sp;
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void queue_wake(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    pthread_cond_broadcast(&q->data_cond);
    pthread_mutex_unlock(&q->lock);
}

void queue_close(struct queue *q)
{
    if (!q)
        return;
    if (q->committer_on) {
        pthread_mutex_lock(&q->lock);
        q->stopping = 1;
        pthread_cond_broadcast(&q->sync_cond);
        pthread_cond_broadcast(&q->data_cond);
        pthread_mutex_unlock(&q->lock);
        pthread_join(q->committer, NULL);
        spare_stop(q->spare);
    } else if (q->wfd >= 0 && q->written != q->durable) {
        queue_sync(q);
    }
    for (size_t i = 0; i < q->nreaders; i++)
        qreader_close(q->readers[i]);
    free(q->readers);
    if (q->old_fd >= 0)
        close(q->old_fd);
    if (q->wfd >= 0)
        close(q->wfd);
    if (q->jfd >= 0)
        close(q->jfd);
    if (q->lockfd >= 0)
        close(q->lockfd);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->data_cond);
    pthread_cond_destroy(&q->sync_cond);
    pthread_cond_destroy(&q->idle_cond);
    free(q->abuf);
    free(q->segs);
    free(q->dir);
    free(q);
}
