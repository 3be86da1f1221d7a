/* queue.c -- segmented journal with per-target cursors and group commit.
 *
 * Writers append whole records to the current segment with one write()
 * per call, under the queue lock.  A committer thread (or queue_sync)
 * fdatasyncs and then publishes the durable position; readers never look
 * past it, so a reader only ever sees records that survive a crash.
 * A reader's committed cursor is the position after the last record it
 * acknowledged; segments every cursor has passed are deleted. */
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
#include "crc32c.h"
#include "queue.h"
#include "spare.h"

#define REC_MAGIC 0x3151474cu   /* "LGQ1" */
#define HDR_SIZE 12
#define FIXED_SIZE 24           /* op, lengths, enqueue time */
#define SEG_MAX (64u << 20)     /* rotate after 64 MiB */
#define ZERO_AHEAD_AFTER (1u << 20) /* zero segments ahead once this much came */
#define REC_MAX (64u << 20)     /* no record is larger */
#define READ_CHUNK (1u << 20)
#define CURSOR_MAGIC 0x3143474cu

struct qpos {
    uint64_t seg, off;
};

struct qreader {
    struct queue *q;
    char *target;
    int cfd;                 /* cursor file */
    struct qpos pos;         /* committed cursor */
    uint64_t pending;        /* records after pos, up to the written end */
    uint64_t limit;
    uint64_t adding;         /* queue_append's count for this reader (under the lock) */
    time_t cursor_synced;
    /* the read window over one segment */
    int sfd;
    uint64_t sseg, wstart;
    char *buf;
    size_t wlen, cap;
    /* the last peek */
    struct qpos *ends;
    uint64_t *times;
    size_t npeek, peekcap;
};

struct queue {
    char *dir;
    int jfd;                 /* the journal directory, for fsync */
    int lockfd;              /* flock: one process per queue directory */
    pthread_mutex_t lock;
    pthread_cond_t data_cond, sync_cond;
    uint64_t first_seg;      /* oldest segment on disk */
    uint64_t *segs;          /* the segments on disk, ascending (gaps possible) */
    size_t nsegs, segcap;
    int wfd;                 /* current segment */
    struct qpos wpos;        /* written end */
    struct qpos dpos;        /* durable end */
    struct qpos trusted;     /* where this process's appends begin (set once at open) */
    uint64_t written, durable;  /* byte tickets */
    uint64_t failed_lo, failed_hi; /* tickets in (lo, hi] were lost by a failed commit */
    int old_fd;              /* rotated segment not yet synced */
    int wzeroed;             /* the current segment came pre-zeroed: its file
                                runs past wpos, and is cut at rotation */
    struct spare *spare;     /* the next segment, zeroed ahead (spare.c) */
    int spare_wanted;
    int dir_dirty;
    struct qreader **readers;
    size_t nreaders;
    char *abuf;              /* append buffer */
    size_t acap;
    struct queue_stats st;
    pthread_t committer;
    int committer_on, stopping;
    unsigned window_us;
    void (*on_durable)(void *);
    void *arg;
};

static int pos_cmp(struct qpos a, struct qpos b)
{
    if (a.seg != b.seg)
        return a.seg < b.seg ? -1 : 1;
    return a.off < b.off ? -1 : a.off > b.off;
}

static void put32(char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(char *p, uint16_t v) { memcpy(p, &v, 2); }
static uint32_t get32(const char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t get16(const char *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void seg_path(const struct queue *q, uint64_t seg, char *out, size_t len)
{
    snprintf(out, len, "%s/journal/%020llu.seg", q->dir, (unsigned long long)seg);
}

/* ---- record layout ---------------------------------------------------- */

/* Body: u8 op, u8 target_len, u16 name_len, u16 key_len, u8 time_len, u8 0,
 * u32 opts_len, u32 payload_len, u64 enqueue ms, then each string with a
 * NUL after it (lengths exclude the NUL), so readers hand out pointers
 * into the read buffer as C strings. */
struct rec_view {
    enum msg_op op;
    const char *target, *event_name, *key, *event_time, *opts, *payload;
    size_t payload_len;
    uint64_t enq_ms;
};

static int rec_decode(const char *body, uint32_t len, struct rec_view *v)
{
    if (len < FIXED_SIZE)
        return -1;
    size_t tl = (unsigned char)body[1], nl = get16(body + 2), kl = get16(body + 4);
    size_t ml = (unsigned char)body[6], ol = get32(body + 8), pl = get32(body + 12);
    size_t need = FIXED_SIZE + tl + nl + kl + ml + ol + pl + 6;
    if (need != len)
        return -1;
    /* every field ends with the NUL the writer put there: readers hand the
     * fields out as C strings, so a record without them is corrupt */
    const char *z = body + FIXED_SIZE;
    size_t lens[6] = { tl, nl, kl, ml, ol, pl };
    for (int i = 0; i < 6; i++) {
        z += lens[i];
        if (*z++)
            return -1;
    }
    v->op = body[0] ? OP_DELETE : OP_UPSERT;
    memcpy(&v->enq_ms, body + 16, 8);
    const char *p = body + FIXED_SIZE;
    v->target = p; p += tl + 1;
    v->event_name = p; p += nl + 1;
    v->key = p; p += kl + 1;
    v->event_time = p; p += ml + 1;
    v->opts = ol ? p : NULL; p += ol + 1;
    v->payload = p;
    v->payload_len = pl;
    return 0;
}

/* Validate the record at buf[0..avail): its total size, or 0 if invalid
 * (bad magic, length, or CRC), or -1 if it needs more bytes than avail. */
static long rec_check(const char *buf, size_t avail)
{
    if (avail < HDR_SIZE)
        return -1;
    if (get32(buf) != REC_MAGIC)
        return 0;
    uint32_t len = get32(buf + 4);
    if (len < FIXED_SIZE || len > REC_MAX)
        return 0;
    if (avail < HDR_SIZE + (size_t)len)
        return -1;
    uint32_t crc = crc32c(0, buf + HDR_SIZE, len);
    return crc == get32(buf + 8) ? (long)(HDR_SIZE + len) : 0;
}

static int grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    char *b = realloc(*buf, n);
    if (!b)
        return -1;
    *buf = b;
    *cap = n;
    return 0;
}

static size_t cstr_len(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    return n > max ? max : n;
}

static char *put_str(char *p, const char *s, size_t n)
{
    if (n)
        memcpy(p, s, n);
    p[n] = 0;
    return p + n + 1;
}

/* Encode one record at q->abuf + at; returns its size or 0 on ENOMEM. */
static size_t rec_encode(struct queue *q, size_t at, const struct qrec *r, uint64_t ms)
{
    const char *target = r->to->target;
    size_t tl = cstr_len(target, 255), nl = cstr_len(r->event_name, 65535),
           kl = cstr_len(r->key, 65535), ml = cstr_len(r->event_time, 255),
           ol = cstr_len(r->opts, UINT32_MAX), pl = 0;
    for (int i = 0; i < r->npayload; i++)
        pl += r->payload[i].iov_len;
    size_t body = FIXED_SIZE + tl + nl + kl + ml + ol + pl + 6;
    if (body > REC_MAX || grow(&q->abuf, &q->acap, at + HDR_SIZE + body))
        return 0;
    char *h = q->abuf + at, *b = h + HDR_SIZE;
    b[0] = r->op == OP_DELETE;
    b[1] = (char)tl;
    put16(b + 2, (uint16_t)nl);
    put16(b + 4, (uint16_t)kl);
    b[6] = (char)ml;
    b[7] = 0;
    put32(b + 8, (uint32_t)ol);
    put32(b + 12, (uint32_t)pl);
    memcpy(b + 16, &ms, 8);
    char *p = b + FIXED_SIZE;
    p = put_str(p, target, tl);
    p = put_str(p, r->event_name, nl);
    p = put_str(p, r->key, kl);
    p = put_str(p, r->event_time, ml);
    p = put_str(p, r->opts, ol);
    for (int i = 0; i < r->npayload; i++) {
        memcpy(p, r->payload[i].iov_base, r->payload[i].iov_len);
        p += r->payload[i].iov_len;
    }
    *p = 0;
    put32(h, REC_MAGIC);
    put32(h + 4, (uint32_t)body);
    put32(h + 8, crc32c(0, b, body));
    return HDR_SIZE + body;
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

/* Next offset >= from that may hold a record (valid, or running past the
 * end of buf), or len if none. */
static size_t resync(const char *buf, size_t len, size_t from)
{
    for (size_t o = from; o + HDR_SIZE <= len; o++)
        if (get32(buf + o) == REC_MAGIC && rec_check(buf + o, len - o) != 0)
            return o;
    return len;
}

/* Non-zero if buf[off..len) is all zeros: the unused rest of a segment
 * that was zeroed ahead (spare.c), not damage. */
static int zero_tail(const char *buf, size_t off, size_t len)
{
    for (; off < len; off++)
        if (buf[off])
            return 0;
    return 1;
}

/* Scan a segment: count intact records, skip corrupt stretches.  Returns
 * the end of the last intact record (where a torn tail or the zeros of a
 * pre-zeroed segment start). */
static size_t scan_segment(struct queue *q, const char *buf, size_t len)
{
    size_t off = 0, valid_end = 0;
    while (off < len) {
        long sz = rec_check(buf + off, len - off);
        if (sz > 0) {
            off += (size_t)sz;
            valid_end = off;
            continue;
        }
        if (zero_tail(buf, off, len))
            break;
        size_t next = resync(buf, len, off + 1);
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
    seg_path(q, seg, path, sizeof path);
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
        seg_path(q, segs[i], path, sizeof path);
        char *buf = slurp(path, &len);
        if (!buf) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            free(segs);
            return -1;
        }
        size_t end = scan_segment(q, buf, len);
        int zeroed = end < len && zero_tail(buf, end, len);
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

/* ---- cursors ------------------------------------------------------------ */

static int cursor_write(struct qreader *r)
{
    char rec[24];
    memcpy(rec, &r->pos.seg, 8);
    memcpy(rec + 8, &r->pos.off, 8);
    put32(rec + 16, crc32c(0, rec, 16));
    put32(rec + 20, CURSOR_MAGIC);
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
    if (get32(rec + 20) != CURSOR_MAGIC || get32(rec + 16) != crc32c(0, rec, 16))
        return -1;
    memcpy(&r->pos.seg, rec, 8);
    memcpy(&r->pos.off, rec + 8, 8);
    return 0;
}

static void reader_free(struct qreader *r)
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
        reader_free(r);
        return NULL;
    }
    q->readers = rs;
    struct stat sb;
    int fresh = fstat(r->cfd, &sb) == 0 && sb.st_size == 0;
    if (fresh) {
        r->pos = q->wpos; /* a new target starts at the end */
        if (cursor_write(r)) {
            reader_free(r);
            return NULL;
        }
    } else if (cursor_read(r) || pos_cmp(r->pos, q->wpos) > 0 || r->pos.seg < q->first_seg) {
        /* a damaged cursor: read again from the oldest record (duplicates, never loss) */
        r->pos = (struct qpos){ q->first_seg, 0 };
    }
    q->readers[q->nreaders++] = r;
    return r;
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

static struct qreader *reader_of(struct queue *q, const char *target)
{
    for (size_t i = 0; i < q->nreaders; i++)
        if (!strcmp(q->readers[i]->target, target))
            return q->readers[i];
    return NULL;
}

/* One pass over the journal counting, per reader, the records past its
 * cursor.  Corrupt stretches are skipped as in recovery. */
int queue_start(struct queue *q)
{
    for (size_t si = 0; si < q->nsegs; si++) {
        uint64_t seg = q->segs[si];
        char path[4096];
        size_t len;
        seg_path(q, seg, path, sizeof path);
        char *buf = slurp(path, &len);
        if (!buf)
            continue;
        size_t off = 0;
        while (off < len) {
            long sz = rec_check(buf + off, len - off);
            if (sz <= 0 && zero_tail(buf, off, len))
                break;
            if (sz <= 0) {
                off = resync(buf, len, off + 1);
                continue;
            }
            struct rec_view v;
            if (!rec_decode(buf + off + HDR_SIZE, (uint32_t)sz - HDR_SIZE, &v)) {
                struct qreader *r = reader_of(q, v.target);
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
    seg_path(q, q->wpos.seg + 1, path, sizeof path);
    int fd = spare_take(q->spare, path), zeroed = fd >= 0;
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
    q->wpos = (struct qpos){ q->wpos.seg + 1, 0 };
    q->dir_dirty = 1;
    return 0;
}

int queue_append(struct queue *q, const struct qrec *recs, size_t n, uint64_t *ticket,
                 char *err, size_t errlen)
{
    uint64_t ms = now_ms();
    pthread_mutex_lock(&q->lock);
    for (size_t i = 0; i < n; i++)
        recs[i].to->adding = 0;
    for (size_t i = 0; i < n; i++) {
        /* this record and the ones before it in recs for the same target */
        if (recs[i].to->pending + ++recs[i].to->adding > recs[i].to->limit) {
            snprintf(err, errlen, "queue of %s is full (queue_limit %llu)", recs[i].to->target,
                     (unsigned long long)recs[i].to->limit);
            pthread_mutex_unlock(&q->lock);
            return QUEUE_FULL;
        }
    }
    /* a segment that was not zeroed ahead (the first one, or after a
     * shortage of disk) is left as soon as a zeroed one is ready */
    if (q->spare && !q->spare_wanted && q->wpos.off >= ZERO_AHEAD_AFTER) {
        spare_want(q->spare);
        q->spare_wanted = 1;
    }
    int early = !q->wzeroed && q->wpos.off && spare_ready(q->spare);
    if ((q->wpos.off >= SEG_MAX || early) && rotate(q)) {
        snprintf(err, errlen, "cannot start a new journal segment in %s: %s", q->dir, strerror(errno));
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t sz = rec_encode(q, len, &recs[i], ms);
        if (!sz) {
            snprintf(err, errlen, "message for %s too large or out of memory", recs[i].to->target);
            pthread_mutex_unlock(&q->lock);
            return -1;
        }
        len += sz;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(q->wfd, q->abuf + done, len - done, (off_t)(q->wpos.off + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            /* cut what was partly written so the journal stays whole */
            if (done && ftruncate(q->wfd, (off_t)q->wpos.off))
                e = errno;
            else if (done)
                q->wzeroed = 0; /* the cut took the zeros with it */
            snprintf(err, errlen, "cannot write to the queue in %s: %s", q->dir, strerror(e));
            pthread_mutex_unlock(&q->lock);
            errno = e;
            return -1;
        }
        done += (size_t)w;
    }
    q->wpos.off += len;
    q->written += len;
    q->st.bytes += len;
    for (size_t i = 0; i < n; i++)
        recs[i].to->pending++;
    *ticket = q->written;
    pthread_cond_signal(&q->sync_cond);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

uint64_t queue_durable(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t d = q->durable;
    pthread_mutex_unlock(&q->lock);
    return d;
}

int queue_failed(struct queue *q, uint64_t ticket)
{
    pthread_mutex_lock(&q->lock);
    int f = ticket > q->failed_lo && ticket <= q->failed_hi;
    pthread_mutex_unlock(&q->lock);
    return f;
}

/* One group commit: sync the rotated and the current segment, the
 * directory if a segment was created, then publish the new durable end. */
static int commit(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t upto = q->written;
    struct qpos wpos = q->wpos;
    int old = q->old_fd, fd = q->wfd, dirty = q->dir_dirty;
    q->old_fd = -1;
    q->dir_dirty = 0;
    pthread_mutex_unlock(&q->lock);
    int rc = 0;
    if (old >= 0) {
        rc |= fdatasync(old);
        close(old);
    }
    rc |= fdatasync(fd);
    if (dirty)
        rc |= fsync(q->jfd);
    pthread_mutex_lock(&q->lock);
    if (rc) {
        q->failed_lo = q->durable;
        q->failed_hi = upto;
    }
    else if (pos_cmp(wpos, q->dpos) > 0)
        q->dpos = wpos;
    q->durable = upto > q->durable ? upto : q->durable;
    pthread_cond_broadcast(&q->data_cond);
    pthread_mutex_unlock(&q->lock);
    return rc ? -1 : 0;
}

int queue_sync(struct queue *q)
{
    return commit(q);
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Group commit: at most one commit per window.  An append after a quiet
 * spell is synced at once (no added latency); under load, appends that
 * arrive while a sync runs or within the window join the next group, so
 * the fdatasync cost is shared by every request of the window. */
static void *committer_main(void *arg)
{
    struct queue *q = arg;
    uint64_t last = 0;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        while (!q->stopping && q->written == q->durable)
            pthread_cond_wait(&q->sync_cond, &q->lock);
        int stop = q->stopping && q->written == q->durable;
        pthread_mutex_unlock(&q->lock);
        if (stop)
            break;
        uint64_t now = mono_us();
        if (q->window_us && now - last < q->window_us)
            usleep((useconds_t)(q->window_us - (now - last)));
        last = mono_us();
        commit(q);
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
        seg_path(r->q, seg, path, sizeof path);
        r->sfd = open(path, O_RDONLY | O_CLOEXEC);
        r->sseg = seg;
        r->wlen = 0;
        if (r->sfd < 0)
            return -1;
    }
    size_t want = need > READ_CHUNK ? need : READ_CHUNK;
    if (grow(&r->buf, &r->cap, want))
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
        size_t len = get32(h + 4);
        long sz = get32(h) == REC_MAGIC && len <= REC_MAX ? (long)(HDR_SIZE + len) : 0;
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
                sz = rec_check(h, (size_t)sz);
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
            size_t next = resync(h, avail, 1);
            p.off += next;
            if (next >= avail && p.seg < dpos.seg)
                p = (struct qpos){ seg_next(r->q, p.seg), 0 };
            continue;
        }
        struct rec_view v;
        p.off += (uint64_t)sz;
        if (rec_decode(h + HDR_SIZE, (uint32_t)sz - HDR_SIZE, &v) || strcmp(v.target, r->target))
            continue;
        if (peek_push(r, p, v.enq_ms))
            break;
        struct msg *m = &out[n++];
        memset(m, 0, sizeof *m);
        m->payload = v.payload;
        m->payload_len = v.payload_len;
        m->event_name = v.event_name;
        m->key = v.key;
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
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += wait_ms / 1000;
            ts.tv_nsec += (long)(wait_ms % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000)
                ts.tv_sec++, ts.tv_nsec -= 1000000000;
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
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 50 * 1000000L;
            if (ts.tv_nsec >= 1000000000)
                ts.tv_sec++, ts.tv_nsec -= 1000000000;
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

static void drop_passed_segments(struct queue *q)
{
    uint64_t min = q->wpos.seg;
    for (size_t i = 0; i < q->nreaders; i++)
        if (q->readers[i]->pos.seg < min)
            min = q->readers[i]->pos.seg;
    size_t gone = 0;
    while (gone < q->nsegs && q->segs[gone] < min) {
        char path[4096];
        seg_path(q, q->segs[gone], path, sizeof path);
        struct stat sb;
        if (!stat(path, &sb))
            q->st.bytes -= (uint64_t)sb.st_size < q->st.bytes ? (uint64_t)sb.st_size : q->st.bytes;
        if (unlink(path) && errno != ENOENT)
            break;
        gone++;
    }
    if (gone) {
        memmove(q->segs, q->segs + gone, (q->nsegs - gone) * sizeof *q->segs);
        q->nsegs -= gone;
        q->first_seg = q->nsegs ? q->segs[0] : q->wpos.seg;
    }
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
    drop_passed_segments(q);
    pthread_mutex_unlock(&q->lock);
    /* the unacked rest of the peek is read again by the next peek */
    r->npeek = 0;
    return cursor_write(r);
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
        commit(q);
    }
    for (size_t i = 0; i < q->nreaders; i++) {
        struct qreader *r = q->readers[i];
        if (r->cfd >= 0 && fdatasync(r->cfd) == 0)
            r->cursor_synced = time(NULL);
        reader_free(r);
    }
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
    free(q->abuf);
    free(q->segs);
    free(q->dir);
    free(q);
}
