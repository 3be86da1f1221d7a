/* spare.c -- a pre-zeroed journal segment kept ready by a background thread.
 * See spare.h for why.  The thread writes the zeros and fdatasyncs them
 * before publishing the file, so a segment taken from here never needs its
 * size or allocation synced again while it is filled.  A segment every
 * reader has passed is zeroed again in place rather than deleted: freeing
 * 64 MiB of blocks (and discarding them, on a filesystem mounted with
 * discard) stalled the group commits running at the same time for 10-20 ms. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "log.h"
#include "spare.h"

#define ZERO_CHUNK (256u << 10)
#define RETRY_S 10 /* after a failure or while the disk is short of room */
#define MIN_RATE (16.0 * 1024 * 1024) /* bytes/s of zeros, whatever the traffic */

struct spare {
    char *path;          /* <dir>/spare.tmp */
    char *recycled;      /* <dir>/recycle.tmp: a passed segment to zero again */
    char *dir;
    size_t bytes;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int fd;              /* the ready spare, or -1 */
    atomic_int ready;
    int wanted;          /* traffic came: keep a spare from now on */
    int has_recycled;    /* recycled names a file */
    double rate;         /* bytes/s the journal was last written at */
    int stopping;
};

static int enough_room(const struct spare *s)
{
    struct statvfs vfs;
    if (statvfs(s->dir, &vfs))
        return 0;
    return (double)vfs.f_bavail * (double)vfs.f_frsize >= 4.0 * (double)s->bytes;
}

static double mono_s(void) { return (double)clock_mono_us() / 1e6; }

/* Sleep until `until` (CLOCK_MONOTONIC seconds) unless stopped; non-zero
 * if stopped. */
static int pause_until(struct spare *s, double until)
{
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        double left = until - mono_s();
        if (left <= 0)
            break;
        /* rounded up: a wait of 0 ms would spin until `until` */
        struct timespec ts = clock_after(CLOCK_REALTIME, (long long)(left * 1e3) + 1);
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
    }
    int stop = s->stopping;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

/* The file to zero: a recycled segment (no new blocks needed), else a
 * new one if the filesystem has room; -1 if neither. */
static int open_target(struct spare *s)
{
    pthread_mutex_lock(&s->lock);
    int recycled = s->has_recycled && rename(s->recycled, s->path) == 0;
    s->has_recycled = 0;
    pthread_mutex_unlock(&s->lock);
    if (recycled) {
        int fd = open(s->path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0 && ftruncate(fd, (off_t)s->bytes) == 0)
            return fd;
        if (fd >= 0)
            close(fd);
        unlink(s->path);
    }
    if (!enough_room(s)) {
        log_once(LOG_WARN, "queue", "journal segments in %s are not zeroed ahead: less than "
                 "%zu MiB free (group commits are slower)", s->dir, 4 * (s->bytes >> 20));
        errno = ENOSPC;
        return -2;
    }
    return open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

/* Create the file and write its zeros to the disk; its fd or -1.  The
 * zeros go out at twice the rate the journal is written at (at least
 * MIN_RATE), each chunk pushed to the device at once: every group commit's
 * flush then carries a little of them, instead of one commit carrying
 * 64 MiB (a latency spike of tens of ms, seen in bench/SCALE.md). */
static int prepare(struct spare *s)
{
    static const char zeros[ZERO_CHUNK];
    int fd = open_target(s);
    if (fd < 0)
        return fd;
    pthread_mutex_lock(&s->lock);
    double rate = 2 * s->rate > MIN_RATE ? 2 * s->rate : MIN_RATE;
    pthread_mutex_unlock(&s->lock);
    double start = mono_s();
    for (size_t off = 0; off < s->bytes; off += ZERO_CHUNK) {
        size_t n = s->bytes - off < ZERO_CHUNK ? s->bytes - off : ZERO_CHUNK;
        ssize_t w = pwrite(fd, zeros, n, (off_t)off);
        if (w != (ssize_t)n)
            goto fail;
        /* start the write-back now; failing that, fdatasync below still
         * writes everything, only all at once */
        (void)sync_file_range(fd, (off_t)off, (off_t)n, SYNC_FILE_RANGE_WRITE);
        if (pause_until(s, start + (double)(off + n) / rate)) {
            errno = ECANCELED;
            goto fail;
        }
    }
    if (fdatasync(fd))
        goto fail;
    return fd;
fail:;
    int e = errno;
    close(fd);
    unlink(s->path);
    errno = e ? e : ENOSPC;
    return -1;
}

/* Sleep until asked for a spare, stopped, or (timeout_s > 0) timed out. */
static void wait_turn(struct spare *s, int timeout_s)
{
    struct timespec ts = clock_after(CLOCK_REALTIME, timeout_s * 1000LL);
    pthread_mutex_lock(&s->lock);
    while (!s->stopping && (s->fd >= 0 || !s->wanted))
        pthread_cond_wait(&s->cond, &s->lock);
    if (timeout_s > 0 && !s->stopping)
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
    pthread_mutex_unlock(&s->lock);
}

static void *spare_main(void *arg)
{
    struct spare *s = arg;
    int backoff = 0;
    pthread_setname_np(pthread_self(), "spare"); /* for top -H and /proc: best effort */
    for (;;) {
        wait_turn(s, backoff);
        pthread_mutex_lock(&s->lock);
        int stop = s->stopping;
        pthread_mutex_unlock(&s->lock);
        if (stop)
            break;
        backoff = RETRY_S;
        int fd = prepare(s);
        pthread_mutex_lock(&s->lock);
        stop = s->stopping;
        pthread_mutex_unlock(&s->lock);
        if (fd < 0 && stop)
            break;
        if (fd == -2)
            continue; /* short of room: logged, tried again later */
        if (fd < 0) {
            log_once(LOG_WARN, "queue", "cannot prepare a journal segment in %s: %s (appending "
                     "to plain files: group commits are slower)", s->dir, strerror(errno));
            continue;
        }
        backoff = 0;
        pthread_mutex_lock(&s->lock);
        s->fd = fd;
        atomic_store(&s->ready, 1);
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

struct spare *spare_start(const char *dir, size_t bytes)
{
    struct spare *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = -1;
    s->bytes = bytes;
    s->dir = strdup(dir);
    size_t len = strlen(dir) + sizeof "/spare.tmp";
    s->path = malloc(len);
    s->recycled = malloc(len + 2);
    if (!s->dir || !s->path || !s->recycled) {
        free(s->dir);
        free(s->path);
        free(s->recycled);
        free(s);
        return NULL;
    }
    snprintf(s->path, len, "%s/spare.tmp", dir);
    snprintf(s->recycled, len + 2, "%s/recycle.tmp", dir);
    unlink(s->path); /* a crash may have left one half written */
    unlink(s->recycled);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->thread, NULL, spare_main, s)) {
        s->stopping = 1;
        spare_stop(s);
        return NULL;
    }
    return s;
}

void spare_want(struct spare *s, double rate)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->wanted = 1;
    s->rate = rate;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int spare_recycle(struct spare *s, const char *path)
{
    if (!s)
        return -1;
    pthread_mutex_lock(&s->lock);
    int taken = !s->stopping && !s->has_recycled && rename(path, s->recycled) == 0;
    if (taken) {
        s->has_recycled = 1;
        pthread_cond_signal(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return taken ? 0 : -1;
}

int spare_ready(struct spare *s)
{
    return s && atomic_load(&s->ready);
}

int spare_take(struct spare *s, const char *path, double rate)
{
    if (!spare_ready(s))
        return -1;
    pthread_mutex_lock(&s->lock);
    s->rate = rate;
    int fd = s->fd;
    if (fd >= 0 && rename(s->path, path)) {
        log_once(LOG_WARN, "queue", "cannot rename %s to %s: %s", s->path, path, strerror(errno));
        close(fd);
        unlink(s->path);
        fd = -1;
    }
    s->fd = -1;
    atomic_store(&s->ready, 0);
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return fd;
}

void spare_stop(struct spare *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    int started = !s->stopping;
    s->stopping = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (started)
        pthread_join(s->thread, NULL);
    if (s->fd >= 0) {
        close(s->fd);
        unlink(s->path);
    }
    if (s->has_recycled)
        unlink(s->recycled);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s->dir);
    free(s->path);
    free(s->recycled);
    free(s);
}
