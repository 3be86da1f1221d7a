/* quarantine.c -- the list of events that took a worker down (quarantine.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "quarantine.h"

#define REASON_MAX 200

struct entry {
    uint64_t event;  /* 0: empty */
    char *reason;
    atomic_int dead_lettered;
};

/* Built once before the ingest threads start, read by all of them: an
 * open-addressing table, never resized while they run. */
static struct {
    struct entry *v;
    size_t cap, n;
    char path[4096];
    pthread_mutex_t append_lock;
} list = { .append_lock = PTHREAD_MUTEX_INITIALIZER };

static void list_path(const char *dir, char *out, size_t len)
{
    snprintf(out, len, "%s/quarantine", dir);
}

/* Append one line, durably; the file is created on first use and its
 * directory entry synced with it. */
static int append_line(const char *path, const char *line, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    int created = 0;
    if (fd < 0 && errno == ENOENT) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        created = 1;
    }
    size_t len = strlen(line);
    int ok = fd >= 0 && write(fd, line, len) == (ssize_t)len && fsync(fd) == 0;
    int e = errno;
    if (fd >= 0 && close(fd) && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && created) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ok = dfd >= 0 && fsync(dfd) == 0;
        e = errno;
        if (dfd >= 0)
            close(dfd);
    }
    if (!ok)
        snprintf(err, errlen, "cannot write the quarantine list %s: %s", path, strerror(e));
    return ok ? 0 : -1;
}

int quarantine_add(const char *queue_dir, uint64_t event, const char *reason, char *err, size_t errlen)
{
    char path[4096], line[REASON_MAX + 32];
    if (mkdir(queue_dir, 0700) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", queue_dir, strerror(errno));
        return -1;
    }
    list_path(queue_dir, path, sizeof path);
    snprintf(line, sizeof line, "%016" PRIx64 " Q %.*s\n", event, REASON_MAX, reason);
    for (char *c = line + 19; *c && c[1]; c++) /* one line whatever the reason holds */
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return append_line(path, line, err, errlen);
}

static struct entry *slot_of(uint64_t event)
{
    size_t i = (size_t)event & (list.cap - 1);
    while (list.v[i].event && list.v[i].event != event)
        i = (i + 1) & (list.cap - 1);
    return &list.v[i];
}

static int grow(void)
{
    if ((list.n + 1) * 2 <= list.cap)
        return 0;
    size_t old_cap = list.cap;
    struct entry *old = list.v;
    list.cap = old_cap ? old_cap * 2 : 64;
    if (!(list.v = calloc(list.cap, sizeof *list.v))) {
        list.v = old;
        list.cap = old_cap;
        return -1;
    }
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].event)
            *slot_of(old[i].event) = old[i];
    free(old);
    return 0;
}

/* One line of the file; a malformed one (a torn last line) is skipped. */
static int load_line(char *line)
{
    char *end;
    errno = 0;
    uint64_t event = strtoull(line, &end, 16);
    if (errno || end != line + 16 || !event || end[0] != ' ' || (end[1] != 'Q' && end[1] != 'D'))
        return 1;
    line[strcspn(line, "\n")] = 0;
    if (grow())
        return -1;
    struct entry *e = slot_of(event);
    if (end[1] == 'D') {
        if (e->event)
            atomic_store(&e->dead_lettered, 1);
        return 0;
    }
    if (e->event || end[2] != ' ')
        return e->event ? 0 : 1;
    if (!(e->reason = strdup(end + 3)))
        return -1;
    e->event = event;
    list.n++;
    return 0;
}

int quarantine_load(const char *queue_dir, char *err, size_t errlen)
{
    quarantine_free();
    list_path(queue_dir, list.path, sizeof list.path);
    FILE *f = fopen(list.path, "re");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read the quarantine list %s: %s", list.path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, bad = 0;
    int rc = 0;
    while (getline(&line, &cap, f) > 0 && rc >= 0)
        if ((rc = load_line(line)) > 0)
            bad++;
    free(line);
    fclose(f);
    if (rc < 0) {
        snprintf(err, errlen, "out of memory reading the quarantine list %s", list.path);
        return -1;
    }
    if (bad)
        log_warn("quarantine", "%s: %zu unreadable line(s) skipped", list.path, bad);
    if (list.n)
        log_info("quarantine", "%zu quarantined event(s) in %s: their retries go to the dead-letter queue "
                 "_script without running the script", list.n, list.path);
    return 0;
}

void quarantine_free(void)
{
    for (size_t i = 0; i < list.cap; i++)
        free(list.v[i].reason);
    free(list.v);
    list.v = NULL;
    list.cap = list.n = 0;
}

size_t quarantine_count(void) { return list.n; }

const char *quarantine_reason(uint64_t event, int *dead_lettered)
{
    if (!list.n)
        return NULL;
    struct entry *e = slot_of(event);
    if (!e->event)
        return NULL;
    *dead_lettered = atomic_load(&e->dead_lettered);
    return e->reason;
}

int quarantine_dead_lettered(uint64_t event)
{
    if (!list.n)
        return -1;
    struct entry *e = slot_of(event);
    if (!e->event || atomic_exchange(&e->dead_lettered, 1))
        return 1;
    char line[32], err[512];
    snprintf(line, sizeof line, "%016" PRIx64 " D\n", event);
    pthread_mutex_lock(&list.append_lock);
    int rc = append_line(list.path, line, err, sizeof err);
    pthread_mutex_unlock(&list.append_lock);
    if (rc)
        log_error("quarantine", "%s", err);
    return rc;
}
