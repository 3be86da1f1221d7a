/* file.c -- luagate's own local target (not in MinIO): each payload as
 * one line appended to a file, or to standard output with path "-".
 * A batch is one write() and, with fsync on, one fdatasync. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "driver.h"

struct filetgt {
    int fd;
    int own_fd;
    int sync;
    char *path;
};

static void file_close(void *ctx)
{
    struct filetgt *f = ctx;
    if (!f)
        return;
    if (f->own_fd && f->fd >= 0)
        close(f->fd);
    free(f->path);
    free(f);
}

/* Open lazily so a directory that appears later (a mounted volume) works. */
static int file_ready(struct filetgt *f, char *err, size_t errlen)
{
    if (f->fd >= 0)
        return 0;
    f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (f->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", f->path, strerror(errno));
        return -1;
    }
    f->own_fd = 1;
    return 0;
}

static void *file_open(const struct target_conf *c, char *err, size_t errlen)
{
    struct filetgt *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(tconf_str(c, "path")))) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        free(f);
        return NULL;
    }
    f->fd = -1;
    f->sync = tconf_bool(c, "fsync");
    if (!strcmp(f->path, "-")) {
        f->fd = STDOUT_FILENO;
        f->sync = 0;
    }
    return f;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int file_send(void *ctx, struct msg *msgs, size_t n)
{
    struct filetgt *f = ctx;
    char err[256];
    int rc = file_ready(f, err, sizeof err);
    if (!rc) {
        /* the batch as one buffer: lines are never interleaved or cut */
        size_t len = 0;
        for (size_t i = 0; i < n; i++)
            len += msgs[i].payload_len + 1;
        char *buf = malloc(len ? len : 1), *p = buf;
        for (size_t i = 0; buf && i < n; i++) {
            memcpy(p, msgs[i].payload, msgs[i].payload_len);
            p += msgs[i].payload_len;
            *p++ = '\n';
        }
        if (!buf || write_all(f->fd, buf, len)) {
            snprintf(err, sizeof err, "cannot write %s: %s", f->path, buf ? strerror(errno) : "out of memory");
            rc = -1;
        } else if (f->sync && fdatasync(f->fd)) {
            snprintf(err, sizeof err, "cannot sync %s: %s", f->path, strerror(errno));
            rc = -1;
        }
        free(buf);
    }
    for (size_t i = 0; i < n; i++) {
        msgs[i].status = rc ? MSG_RETRY : MSG_OK;
        if (rc)
            snprintf(msgs[i].error, sizeof msgs[i].error, "%s", err);
    }
    return rc;
}

static int file_health(void *ctx, char *err, size_t errlen)
{
    return file_ready(ctx, err, errlen);
}

/* check --connect: the file opens for appending (created if absent, as at
 * start); nothing is written. */
static int file_probe(void *ctx, struct probe_result *p)
{
    if (file_health(ctx, p->error, sizeof p->error))
        return -1;
    p->reachable = PROBE_YES;
    return 0;
}

static const struct key_spec file_keys[] = {
    { "path", KEY_PATH, NULL, KEY_REQUIRED, NULL, "file to append JSON lines to, or - for standard output" },
    { "fsync", KEY_BOOL, "on", 0, NULL, "fdatasync after every batch (ignored for standard output)" },
    { 0 }
};

/* What send(target, payload, opts) may set for this kind, beyond key and op. */
static const struct send_opt file_send_opts[] = {
    { 0 },
};

const struct driver file_driver = {
    .kind = "file",
    .keys = file_keys,
    .env_prefix = "LUAGATE_NOTIFY_",
    .about = "luagate's own kind (MinIO has none): JSON lines appended to a file, or to "
             "standard output with `path = \"-\"`.",
    .max_batch = 256,
    .send_opts = file_send_opts,
    .open = file_open,
    .send = file_send,
    .health = file_health,
    .probe = file_probe,
    .close = file_close,
};
