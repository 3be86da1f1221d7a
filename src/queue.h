/* queue.h -- the durable queue: one append-only journal per directory,
 * shared by every target whose queue lives there, with one committed
 * cursor per target (Hindsight's shape).
 *
 * Layout of <dir>:  journal/<20-digit segment number>.seg   the records
 *                   cursors/<target>.cur                     read positions
 * A record is  u32 magic | u32 body length | u32 crc32(body) | body,
 * little endian; the body holds the target name, the message fields and
 * the payload.  Group commit: any number of appends, from any number of
 * requests and targets, are made durable by one fdatasync. */
#ifndef LUAGATE_QUEUE_H
#define LUAGATE_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "driver.h"

#define QUEUE_FULL (-2) /* a target's queue_limit is reached */

struct queue;
struct qreader;

/* One message to append.  The payload is gathered from up to 4 pieces so
 * the router can frame the original bytes without copying them first. */
struct qrec {
    struct qreader *to;
    struct iovec payload[4];
    int npayload;
    const char *event_name, *key, *event_time, *opts; /* opts may be NULL */
    size_t key_len; /* bytes of key, which may hold NULs (an object name with %00); 0: strlen */
    enum msg_op op;
};

struct queue_stats {
    uint64_t cut_records; /* corrupt or torn records skipped at recovery */
    uint64_t cut_bytes;
    uint64_t segments;
    uint64_t bytes;       /* journal bytes on disk */
    uint64_t commits;     /* group commits made (fdatasync rounds) */
};

/* Open (creating) the journal in dir and recover it: a torn or corrupt
 * tail is cut, corrupt records elsewhere are skipped and counted. */
struct queue *queue_open(const char *dir, char *err, size_t errlen);
void queue_close(struct queue *q);
const char *queue_dir(const struct queue *q);
void queue_stats(struct queue *q, struct queue_stats *st);

/* Register a target's reader (before queue_start).  A new target starts
 * at the end of the journal; a known one at its committed cursor. */
struct qreader *queue_reader(struct queue *q, const char *target, uint64_t limit);
/* Unregister a reader before queue_start (its cursor file stays). */
void queue_reader_drop(struct qreader *r);
/* Count what every reader has pending; call once after the readers. */
int queue_start(struct queue *q);
/* Run a thread that makes appends durable in groups, then calls
 * on_durable(arg) after each group.  It syncs as soon as there is data
 * and no sync is running (natural group commit); window_us > 0 makes it
 * start at most one commit per window_us (an upper bound on the sync rate). */
int queue_start_committer(struct queue *q, unsigned window_us, void (*on_durable)(void *),
                          void *arg);

/* Append records (page cache only).  All or nothing: QUEUE_FULL if one of
 * the targets is at its limit, -1 on a write error (errno kept, err set).
 * *ticket is what queue_durable() must reach for them to be on disk. */
int queue_append(struct queue *q, const struct qrec *recs, size_t n, uint64_t *ticket,
                 char *err, size_t errlen);
/* 1 if the record can be queued whatever its target, event name and key;
 * 0 with why if it never can (a payload past the record limit). */
int queue_rec_fits(const struct qrec *r, char *why, size_t whylen);

/* One journal's part of a request that goes to several. */
struct qappend {
    struct queue *q;
    const struct qrec *recs;
    size_t n;
    uint64_t ticket; /* out */
    const char *bytes; /* recs as queue_encode made them, or NULL: encoded under the lock */
    size_t len;
    int defer_kick; /* leave the committer asleep: the caller calls queue_kick later */
};
/* Encode recs[0..n) as the journal holds them after (*buf)[0..*len),
 * growing *buf (*cap bytes): the part of an append that needs no lock,
 * for a caller that spreads a large one over several turns of its loop.
 * 0, or -1 (a record too large, out of memory). */
int queue_encode(char **buf, size_t *len, size_t *cap, const struct qrec *recs, size_t n);
#define QUEUE_APPEND_MAX 8 /* journals one append may span: queue directories of a gateway */
/* queue_append to several journals, all or nothing: if one is full or
 * cannot be written, none of them keeps anything of the request.  Callers
 * list the journals in one fixed order (they are locked in it). */
int queue_append_all(struct qappend *a, size_t nq, char *err, size_t errlen);
uint64_t queue_durable(struct queue *q);
/* Non-zero if the commit covering ticket failed (the appends are lost). */
int queue_failed(struct queue *q, uint64_t ticket);
/* Make everything appended so far durable now, in the calling thread. */
int queue_sync(struct queue *q);
/* After appends made with defer_kick: wake the committer for them, or,
 * with lead set, when no commit runs and the last one was quick, make
 * them durable in the calling thread and call on_durable as the
 * committer would (1 then).  Leading saves the two thread hand-offs of a
 * lone request (to the committer and back), about as long as a fast
 * disk's fdatasync; a caller leads only when it has nothing else to do. */
int queue_kick(struct queue *q, int lead);

/* Up to max durable messages of this reader from its cursor on, without
 * consuming them; waits up to wait_ms when there are none.  The messages
 * stay valid until the next peek/ack on this reader. */
int queue_peek(struct qreader *r, struct msg *out, size_t max, int wait_ms);
/* The enqueue time (ms since the epoch) of the i-th message of the last peek. */
uint64_t queue_peek_time(struct qreader *r, size_t i);
/* Consume the first n messages of the last peek. */
int queue_ack(struct qreader *r, size_t n);
uint64_t queue_len(struct qreader *r);
uint64_t queue_limit(struct qreader *r);
const char *queue_reader_target(struct qreader *r);
/* Wake every reader blocked in queue_peek (for shutdown). */
void queue_wake(struct queue *q);

#endif
