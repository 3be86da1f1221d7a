/* bench/drivers.c -- per-target delivery benchmark: N messages through a
 * driver's send() in batches of its max_batch, against a real server.
 *
 *   build/bench/drivers KIND [-n N] [-s shape] [--size] key=value...
 *
 * --size only prints the mean payload size of the shape (for redis-benchmark -d).
 *
 * Messages are shaped like MinIO's default route from the sample events
 * (unit_samples(): envelope for webhook/amqp/mqtt/nats/nsq/kafka/file,
 * {"Records":[r]} + "\n" for elasticsearch, {"Records":[r]} with key and
 * upsert/delete op for redis/mysql/postgres namespace; -s access picks the
 * access shape of redis: [{"Event":[r],"EventTime":"..."}]).  Object keys are
 * made unique per message ("bucket/object#i") so the namespace targets write
 * N rows/fields instead of updating the same 60 again and again (the raw
 * baselines do the same).
 *
 * One warm-up batch (connect, declare, create table) is sent first and not
 * counted.  Then the clock and getrusage() run over the N messages: wall
 * time, msgs/s, and this process's CPU (user+sys, all threads: librdkafka,
 * paho and cnats do their I/O in their own threads) per message.  Every
 * status must be MSG_OK, else exit 1 with the first error.
 *
 * Prints one line: kind=... n=... batch=... bytes=... wall_s=... msgs_s=...
 * cpu_us_msg=...  BENCH_TRACE=1 prints the time of every send() on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "unit.h"
#include "driver.h"
#include "targetconf.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

#define NS 64

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s KIND [-n N] [-s envelope|records|esrecords|access] key=value...\n",
                argv[0]);
        return 2;
    }
    const char *kind = argv[1];
    size_t total = 50000;
    const char *shape = NULL;
    int size_only = 0;
    const struct kind_info *ki = driver_kind(kind);
    const struct driver *drv = driver_find(kind);
    if (!ki || !drv) {
        fprintf(stderr, "unknown or unbuilt kind '%s'\n", kind);
        return 2;
    }
    struct target_conf *c = tconf_new(ki, "bench");
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) {
            total = strtoul(argv[++i], NULL, 10);
            continue;
        }
        if (!strcmp(argv[i], "--size")) {
            size_only = 1;
            continue;
        }
        if (!strcmp(argv[i], "-s") && i + 1 < argc) {
            shape = argv[++i];
            continue;
        }
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "not key=value: %s\n", argv[i]);
            return 2;
        }
        *eq = 0;
        tconf_set(c, argv[i], eq + 1);
    }
    char err[512] = "";
    if (tconf_validate(c, err, sizeof err)) {
        fprintf(stderr, "validate: %s\n", err);
        return 2;
    }
    if (!shape) {
        if (!strcmp(kind, "elasticsearch"))
            shape = "esrecords";
        else if (!strcmp(kind, "redis") || !strcmp(kind, "mysql") || !strcmp(kind, "postgres"))
            shape = strcmp(tconf_str(c, "format"), "access") ? "records" : "access";
        else
            shape = "envelope";
    }

    static struct sample S[NS];
    size_t ns = unit_samples(S, NS);
    if (!ns)
        return 2;
    /* One payload per sample in the route's shape. */
    char *pl[NS];
    for (size_t s = 0; s < ns; s++) {
        if (!strcmp(shape, "envelope")) {
            pl[s] = strdup(S[s].envelope);
        } else if (!strcmp(shape, "records")) {
            pl[s] = strdup(S[s].records);
        } else if (!strcmp(shape, "esrecords")) {
            pl[s] = malloc(strlen(S[s].records) + 2);
            sprintf(pl[s], "%s\n", S[s].records);
        } else if (!strcmp(shape, "access")) {
            pl[s] = malloc(strlen(S[s].record) + strlen(S[s].event_time) + 40);
            sprintf(pl[s], "[{\"Event\":[%s],\"EventTime\":\"%s\"}]", S[s].record, S[s].event_time);
        } else {
            fprintf(stderr, "unknown shape %s\n", shape);
            return 2;
        }
    }
    int ns_op = !strcmp(shape, "records") || !strcmp(shape, "esrecords");

    size_t batch = drv->max_batch ? drv->max_batch : 1;
    size_t warm = batch;
    size_t all = warm + total;
    struct msg *m = calloc(all, sizeof *m);
    char **keys = calloc(all, sizeof *keys);
    size_t bytes = 0;
    for (size_t i = 0; i < all; i++) {
        size_t s = i % ns;
        if (asprintf(&keys[i], "%s#%zu", S[s].key, i) < 0)
            return 2;
        m[i].payload = pl[s];
        m[i].payload_len = strlen(pl[s]);
        m[i].event_name = S[s].event_name;
        m[i].key = keys[i];
        m[i].event_time = S[s].event_time;
        m[i].op = ns_op && !strcmp(S[s].event_name, "s3:ObjectRemoved:Delete") ? OP_DELETE
                                                                                 : OP_UPSERT;
        if (i >= warm)
            bytes += m[i].payload_len;
    }

    if (size_only) { /* the mean payload size of this shape, for the raw baselines */
        printf("%zu\n", total ? bytes / total : 0);
        return 0;
    }
    void *ctx = drv->open(c, err, sizeof err);
    if (!ctx) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    /* Warm-up: connect, declare, create the table. */
    for (int tries = 0;; tries++) {
        drv->send(ctx, m, warm);
        size_t ok = 0;
        for (size_t i = 0; i < warm; i++)
            ok += m[i].status == MSG_OK;
        if (ok == warm)
            break;
        if (tries == 20) {
            for (size_t i = 0; i < warm; i++)
                if (m[i].status != MSG_OK) {
                    fprintf(stderr, "warm-up: message %zu status %d: %s\n", i, m[i].status,
                            m[i].error);
                    break;
                }
            return 1;
        }
        struct timespec d = { 0, 250 * 1000 * 1000 };
        nanosleep(&d, NULL);
    }

    struct msg *b = m + warm;
    size_t calls = 0;
    int trace = getenv("BENCH_TRACE") != NULL; /* per-call times on stderr */
    double t0 = now_s(), c0 = cpu_s();
    for (size_t off = 0; off < total;) {
        size_t k = total - off < batch ? total - off : batch;
        double ts = trace ? now_s() : 0;
        drv->send(ctx, b + off, k);
        if (trace)
            fprintf(stderr, "send %zu: %zu msgs %.3f ms\n", calls, k, (now_s() - ts) * 1e3);
        calls++;
        for (size_t i = off; i < off + k; i++)
            if (b[i].status != MSG_OK) {
                fprintf(stderr, "%s: message %zu of batch %zu: status %d: %s\n", kind, i - off,
                        calls, b[i].status, b[i].error);
                return 1;
            }
        off += k;
    }
    double wall = now_s() - t0, cpu = cpu_s() - c0;
    drv->close(ctx);
    printf("kind=%s n=%zu batch=%zu calls=%zu bytes=%zu wall_s=%.3f msgs_s=%.0f cpu_us_msg=%.2f\n",
           kind, total, batch, calls, total ? bytes / total : 0, wall, total / wall,
           cpu * 1e6 / (double)total);
    for (size_t i = 0; i < all; i++)
        free(keys[i]);
    free(keys);
    free(m);
    for (size_t s = 0; s < ns; s++)
        free(pl[s]);
    unit_samples_free(S, ns);
    tconf_free(c);
    return 0;
}
