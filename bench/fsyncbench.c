/*
 * fsyncbench -- the disk's own group-commit latency, for bench/scale.sh.
 *
 *   fsyncbench DIR [SECONDS [BATCH [RECORD_BYTES [zeroed]]]]     (defaults 3, 64, 1536)
 *
 * Appends BATCH records of RECORD_BYTES to a file in DIR (one write per
 * batch, like the journal's group commit) and fdatasyncs after every batch,
 * for SECONDS.  The file is replaced every 64 MB, as a journal segment
 * would be.  Prints one line of key=value pairs: the number of batches and
 * the p50/p99/max/mean duration of fdatasync in µs.  Only the fdatasync is
 * timed: it is the floor under luagate's acknowledgement latency.
 *
 * "zeroed": the batches overwrite a file whose zeros were written and
 * synced first (not timed), as luagate's journal does with the segments
 * spare.c zeroes ahead: fdatasync then writes data only, no file size.
 * That is the floor of one durable acknowledgement (bench/ack.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEGMENT_BYTES (64u << 20)

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int open_segment(const char *path)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        fprintf(stderr, "fsyncbench: %s: %s\n", path, strerror(errno));
    return fd;
}

#define ZEROED_BYTES (16u << 20)

/* A file of ZEROED_BYTES zeros, on the disk; its fd or -1. */
static int open_zeroed(const char *path)
{
    static char zeros[1 << 20];
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "fsyncbench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (size_t off = 0; off < ZEROED_BYTES; off += sizeof zeros)
        if (pwrite(fd, zeros, sizeof zeros, (off_t)off) != (ssize_t)sizeof zeros) {
            fprintf(stderr, "fsyncbench: zeroing %s: %s\n", path, strerror(errno));
            close(fd);
            return -1;
        }
    if (fsync(fd)) {
        fprintf(stderr, "fsyncbench: fsync %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *buf, size_t len, off_t at)
{
    while (len > 0) {
        ssize_t n = at < 0 ? write(fd, buf, len) : pwrite(fd, buf, len, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
        if (at >= 0)
            at += n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fsyncbench DIR [SECONDS [BATCH [RECORD_BYTES]]]\n");
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 3;
    long batch = argc > 3 ? atol(argv[3]) : 64, record = argc > 4 ? atol(argv[4]) : 1536;
    int zeroed = argc > 5 && !strcmp(argv[5], "zeroed");
    if (seconds <= 0 || batch <= 0 || record <= 0) {
        fprintf(stderr, "fsyncbench: SECONDS, BATCH and RECORD_BYTES must be positive\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/fsyncbench.seg", argv[1]);
    size_t len = (size_t)batch * (size_t)record;
    char *buf = malloc(len);
    size_t cap = 1 << 16, n = 0;
    uint64_t *lat = malloc(cap * sizeof *lat);
    if (!buf || !lat) {
        fprintf(stderr, "fsyncbench: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < len; i++) /* JSON-ish bytes, one record per line */
        buf[i] = (i + 1) % (size_t)record == 0 ? '\n' : (char)('a' + i % 26);

    size_t seg_bytes = zeroed ? ZEROED_BYTES : SEGMENT_BYTES;
    if (len > seg_bytes) {
        fprintf(stderr, "fsyncbench: a batch is larger than a segment\n");
        return 2;
    }
    int fd = zeroed ? open_zeroed(path) : open_segment(path);
    if (fd < 0)
        return 1;
    size_t written = 0;
    uint64_t end = now_ns() + (uint64_t)(seconds * 1e9), sum = 0;
    while (now_ns() < end) {
        if (written + len > seg_bytes) {
            close(fd);
            if ((fd = zeroed ? open_zeroed(path) : open_segment(path)) < 0)
                return 1;
            written = 0;
        }
        if (write_all(fd, buf, len, zeroed ? (off_t)written : -1)) {
            fprintf(stderr, "fsyncbench: write: %s\n", strerror(errno));
            return 1;
        }
        written += len;
        uint64_t t0 = now_ns();
        if (fdatasync(fd)) {
            fprintf(stderr, "fsyncbench: fdatasync: %s\n", strerror(errno));
            return 1;
        }
        uint64_t d = now_ns() - t0;
        if (n == cap) {
            uint64_t *more = realloc(lat, 2 * cap * sizeof *lat);
            if (!more) {
                fprintf(stderr, "fsyncbench: out of memory\n");
                return 1;
            }
            lat = more;
            cap *= 2;
        }
        lat[n++] = d;
        sum += d;
    }
    close(fd);
    unlink(path);
    if (n == 0) {
        fprintf(stderr, "fsyncbench: no batch finished in %.1f s\n", seconds);
        return 1;
    }
    qsort(lat, n, sizeof *lat, cmp_u64);
    printf("syncs=%zu batch=%ld record_bytes=%ld zeroed=%d syncs_per_s=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f mean_us=%.0f\n",
           n, batch, record, zeroed, n / seconds, lat[n / 2] / 1e3, lat[(n * 99) / 100] / 1e3, lat[n - 1] / 1e3,
           (double)sum / (double)n / 1e3);
    free(lat);
    free(buf);
    return 0;
}
