/* spare.c -- a pre-zeroed journal segment kept ready by a background thread.
 * See spare.h for why.  The thread writes the zeros and fdatasyncs them
 * before publishing the file, so a segment taken from here never needs its
 * size or allocation synced again while it is filled. */
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
#include "log.h"
#include "spare.h"

#define ZERO_CHUNK (1u << 20)
#define RETRY_S 10 /* after a failure or while the disk is short of room */

struct spare {
    char *path;          /* <dir>/spare.tmp */
    char *dir;
    size_t bytes;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int fd;              /* the ready spare, or -1 */
    atomic_int ready;
    int wanted;          /* traffic came: keep a spare from now on */
    int stopping;
};

static int enough_room(const struct spare *s)
{
    struct statvfs vfs;
    if (statvfs(s->dir, &vfs))
        return 0;
    return (double)vfs.f_bavail * (double)vfs.f_frsize >= 4.0 * (double)s->bytes;
}

/* Create the file and write its zeros to the disk; its fd or -1. */
static int prepare(struct spare *s)
{
    static const char zeros[ZERO_CHUNK];
    int fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    for (size_t off = 0; off < s->bytes; off += ZERO_CHUNK) {
        size_t n = s->bytes - off < ZERO_CHUNK ? s->bytes - off : ZERO_CHUNK;
        ssize_t w = pwrite(fd, zeros, n, (off_t)off);
        if (w != (ssize_t)n)
            goto fail;
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
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_s;
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
    for (;;) {
        wait_turn(s, backoff);
        pthread_mutex_lock(&s->lock);
        int stop = s->stopping;
        pthread_mutex_unlock(&s->lock);
        if (stop)
            break;
        backoff = RETRY_S;
        if (!enough_room(s)) {
            log_once(LOG_WARN, "queue", "journal segments in %s are not zeroed ahead: less than "
                     "%zu MiB free (group commits are slower)", s->dir, 4 * (s->bytes >> 20));
            continue;
        }
        int fd = prepare(s);
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
    if (!s->dir || !s->path) {
        free(s->dir);
        free(s->path);
        free(s);
        return NULL;
    }
    snprintf(s->path, len, "%s/spare.tmp", dir);
    unlink(s->path); /* a crash may have left one half written */
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->thread, NULL, spare_main, s)) {
        s->stopping = 1;
        spare_stop(s);
        return NULL;
    }
    return s;
}

void spare_want(struct spare *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->wanted = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int spare_ready(struct spare *s)
{
    return s && atomic_load(&s->ready);
}

int spare_take(struct spare *s, const char *path)
{
    if (!spare_ready(s))
        return -1;
    pthread_mutex_lock(&s->lock);
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
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s->dir);
    free(s->path);
    free(s);
}
