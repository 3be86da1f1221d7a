/* script_watch.c -- inotify on the directories of the script's files (see
 * script_watch.h). */
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "script_watch.h"

#define WATCH_FILES 64
#define QUIET_MS 300 /* a burst of saves, or a ConfigMap's swap, gives one reload */
/* No IN_MODIFY: a file written in place ends with IN_CLOSE_WRITE, and a
 * busy neighbour in the same directory (a file target's output, a queue)
 * would wake the ingest loop at each of its writes. */
#define DIR_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB)

struct watched {
    char *path;
    char base[NAME_MAX + 1];  /* its name in its directory */
    char rbase[NAME_MAX + 1]; /* the name of the file it resolves to */
    int present;
    struct stat st;           /* as last seen, through symlinks */
};

struct script_watch {
    int fd;
    struct event *ev, *quiet;
    pthread_mutex_t lock;     /* files: script_watch_add runs on the reload thread */
    struct watched files[WATCH_FILES];
    size_t n;
    script_watch_fn on_change;
    void *arg;
};

static void base_of(const char *path, char *out)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    size_t n = strnlen(b, NAME_MAX);
    memcpy(out, b, n);
    out[n] = 0;
}

/* inotify_add_watch on the directory holding path ("." for a bare name). */
static int watch_dir_of(struct script_watch *w, const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    if (inotify_add_watch(w->fd, dir, DIR_EVENTS | IN_ONLYDIR) < 0) {
        log_warn("script", "cannot watch %s for changes of %s: %s", dir, path, strerror(errno));
        return -1;
    }
    return 0;
}

static void snapshot(struct watched *f)
{
    f->present = stat(f->path, &f->st) == 0;
}

static int same(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Add path unless watched; the lock is held. */
static int add_locked(struct script_watch *w, const char *path)
{
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->files[i].path, path))
            return 0;
    if (w->n == WATCH_FILES) {
        log_once(LOG_WARN, "script", "more than %d script files: %s is not watched", WATCH_FILES, path);
        return 0;
    }
    struct watched *f = &w->files[w->n];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path)))
        return -1;
    base_of(path, f->base);
    char real[PATH_MAX];
    if (realpath(path, real)) {
        base_of(real, f->rbase);
        if (strcmp(real, path))
            watch_dir_of(w, real); /* a symlink to a file edited where it is */
    }
    snapshot(f);
    w->n++;
    return watch_dir_of(w, path);
}

void script_watch_add(void *arg, const char *path)
{
    struct script_watch *w = arg;
    pthread_mutex_lock(&w->lock);
    add_locked(w, path);
    pthread_mutex_unlock(&w->lock);
}

void script_watch_sync(struct script_watch *w)
{
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->n; i++)
        snapshot(&w->files[i]);
    pthread_mutex_unlock(&w->lock);
}

/* Does an event named name concern a watched file? */
static int relevant(struct script_watch *w, const char *name)
{
    if (!strncmp(name, "..", 2)) /* a ConfigMap's ..data and ..<timestamp> */
        return 1;
    int hit = 0;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->n && !hit; i++)
        hit = !strcmp(name, w->files[i].base) || !strcmp(name, w->files[i].rbase);
    pthread_mutex_unlock(&w->lock);
    return hit;
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct script_watch *w = arg;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    int hit = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            if ((e->mask & IN_Q_OVERFLOW) || (e->len && relevant(w, e->name)))
                hit = 1;
            p += sizeof *e + e->len;
        }
    struct timeval quiet = { 0, QUIET_MS * 1000 };
    if (hit && event_add(w->quiet, &quiet)) /* (re)armed: the last event of a burst counts */
        log_error("script", "cannot arm the script watch's timer");
}

/* The quiet period is over: reload if a file differs from what was seen.
 * A script that is missing now (between an unlink and a rename) waits for
 * the event that brings it back. */
static void on_quiet(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct script_watch *w = arg;
    char why[PATH_MAX] = "";
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->n; i++) {
        struct watched *f = &w->files[i];
        struct stat old = f->st;
        int was = f->present;
        snapshot(f);
        if ((was != f->present || (f->present && !same(&old, &f->st))) && !*why)
            snprintf(why, sizeof why, "%s", f->path);
    }
    int script_there = w->n && w->files[0].present;
    pthread_mutex_unlock(&w->lock);
    if (*why && !script_there)
        log_warn("script", "%s is gone: the running script stays until it is back", w->files[0].path);
    else if (*why)
        w->on_change(w->arg, why);
}

struct script_watch *script_watch_start(struct event_base *base, const char *script, script_watch_fn on_change,
                                        void *arg, char *err, size_t errlen)
{
    struct script_watch *w = calloc(1, sizeof *w);
    if (!w)
        return snprintf(err, errlen, "out of memory"), NULL;
    pthread_mutex_init(&w->lock, NULL);
    w->on_change = on_change;
    w->arg = arg;
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        snprintf(err, errlen, "cannot watch the script (inotify): %s", strerror(errno));
        script_watch_stop(w);
        return NULL;
    }
    w->ev = event_new(base, w->fd, EV_READ | EV_PERSIST, on_inotify, w);
    w->quiet = evtimer_new(base, on_quiet, w);
    if (!w->ev || !w->quiet || event_add(w->ev, NULL)) {
        snprintf(err, errlen, "cannot watch the script: out of memory");
        script_watch_stop(w);
        return NULL;
    }
    if (add_locked(w, script)) {
        snprintf(err, errlen, "cannot watch the directory of %s", script);
        script_watch_stop(w);
        return NULL;
    }
    return w;
}

void script_watch_stop(struct script_watch *w)
{
    if (!w)
        return;
    if (w->ev)
        event_free(w->ev);
    if (w->quiet)
        event_free(w->quiet);
    if (w->fd >= 0)
        close(w->fd);
    for (size_t i = 0; i < w->n; i++)
        free(w->files[i].path);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
