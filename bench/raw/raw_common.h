/* raw_common.h -- shared by the raw baselines of bench/targets.sh: the sample
 * payloads (same shapes and unique keys as bench/drivers.c), a clock and the
 * result line.  Header-only; each raw_*.c is one small program. */
#ifndef RAW_COMMON_H
#define RAW_COMMON_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>
#include "unit.h"

static double raw_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double raw_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

#define RAW_NS 64
static struct sample raw_s[RAW_NS];
static size_t raw_ns;

/* Payload i (envelope or {"Records":[r]}), its unique key "bucket/object#i". */
static int raw_load(void)
{
    raw_ns = unit_samples(raw_s, RAW_NS);
    return raw_ns ? 0 : -1;
}
static const char *raw_payload(size_t i, int records)
{
    return records ? raw_s[i % raw_ns].records : raw_s[i % raw_ns].envelope;
}
static const char *raw_key(size_t i, char *buf, size_t len)
{
    snprintf(buf, len, "%s#%zu", raw_s[i % raw_ns].key, i);
    return buf;
}
static const struct sample *raw_sample(size_t i) { return &raw_s[i % raw_ns]; }

static double raw_t0, raw_c0;
static void raw_start(void) { raw_t0 = raw_now(); raw_c0 = raw_cpu(); }
static void raw_done(const char *what, size_t n, size_t bytes)
{
    double wall = raw_now() - raw_t0, cpu = raw_cpu() - raw_c0;
    printf("raw=%s n=%zu bytes=%zu wall_s=%.3f msgs_s=%.0f cpu_us_msg=%.2f\n", what, n,
           n ? bytes / n : 0, wall, n / wall, cpu * 1e6 / (double)n);
    fflush(stdout);
}
#endif
