/* queue_int.h -- private to the durable queue (queue.c: segments,
 * recovery, appends and group commit; qread.c: cursors and readers;
 * qrecord.c: the record layout).  The interface is queue.h. */
#ifndef LUAGATE_QUEUE_INT_H
#define LUAGATE_QUEUE_INT_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include "queue.h"

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
    pthread_cond_t data_cond, sync_cond, idle_cond; /* idle_cond: syncing went 0 */
    uint64_t first_seg;      /* oldest segment on disk */
    uint64_t *segs;          /* the segments on disk, ascending (gaps possible) */
    size_t nsegs, segcap;
    int wfd;                 /* current segment */
    struct qpos wpos;        /* written end */
    struct qpos dpos;        /* durable end */
    struct qpos trusted;     /* where this process's appends begin (set once at open) */
    uint64_t written;        /* byte tickets: appended... */
    _Atomic uint64_t durable; /* ...and synced (read without the lock by the waiting requests) */
    int syncing;             /* a commit runs (one at a time: see commit_claimed) */
    uint64_t commit_us;      /* how long the last commit took */
    uint64_t failed_lo;      /* tickets in (lo, hi] were lost by a failed commit; */
    _Atomic uint64_t failed_hi; /* hi is published before durable passes it */
    int old_fd;              /* rotated segment not yet synced */
    int wzeroed;             /* the current segment came pre-zeroed: its file
                                runs past wpos, and is cut at rotation */
    struct spare *spare;     /* the next segment, zeroed ahead (spare.c) */
    int spare_wanted;
    uint64_t wseg_us;        /* first append into the current segment (monotonic), or 0 */
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

static inline int pos_cmp(struct qpos a, struct qpos b)
{
    if (a.seg != b.seg)
        return a.seg < b.seg ? -1 : 1;
    return a.off < b.off ? -1 : a.off > b.off;
}

/* Integers in records and cursors are stored in host byte order: a journal
 * is read back by the machine that wrote it, never moved to another. */
static inline void put32_host(char *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put16_host(char *p, uint16_t v) { memcpy(p, &v, 2); }
static inline uint32_t get32_host(const char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint16_t get16_host(const char *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* Body: u8 op, u8 target_len, u16 name_len, u16 key_len, u8 time_len, u8 0,
 * u32 opts_len, u32 payload_len, u64 enqueue ms, then each string with a
 * NUL after it (lengths exclude the NUL), so readers hand out pointers
 * into the read buffer as C strings. */
struct rec_view {
    enum msg_op op;
    const char *target, *event_name, *key, *event_time, *opts, *payload;
    size_t payload_len, key_len;
    uint64_t enq_ms;
};

/* qrecord.c */
int qrec_decode(const char *body, uint32_t len, struct rec_view *v);
/* The record's size, 0 if invalid, -1 if it needs more than avail. */
long qrec_check(const char *buf, size_t avail);
size_t qrec_encode(char **buf, size_t *cap, size_t at, const struct qrec *r, uint64_t ms);
/* Next offset >= from that may hold a record, or len if none. */
size_t qrec_resync(const char *buf, size_t len, size_t from);
/* Non-zero if buf[off..len) is all zeros (the unused rest of a segment). */
int qrec_zero_tail(const char *buf, size_t off, size_t len);
int qgrow(char **buf, size_t *cap, size_t need);

/* queue.c */
/* The commit's fdatasync: a pointer so that the unit tests can make a
 * commit fail and check that the failure reaches the waiting requests. */
extern int (*queue_fdatasync)(int fd);
void qseg_path(const struct queue *q, uint64_t seg, char *out, size_t len);

/* qread.c */
struct qreader *qreader_find(struct queue *q, const char *target);
/* Sync the cursor and free the reader (queue_close). */
void qreader_close(struct qreader *r);
void qreader_free(struct qreader *r);

#endif
