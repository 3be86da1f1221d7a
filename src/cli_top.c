/* cli_top.c -- `luagate top`: a terminal dashboard of a running gateway,
 * redrawn every second from GET /admin/stats (admin_stats.h).  Rates and
 * latency percentiles are computed here, from the difference of two
 * snapshots: they describe the last interval, not the gateway's life. */
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "admin_client.h"
#include "cli.h"
#include "json.h"

#define MAX_TARGETS 64

struct tstat {
    char name[128], state[16], error[160];
    double routed, delivered, failed, retried, dead, queue, limit, oldest_s;
};

struct snap {
    double t_ms, events, lat_count, runs, errors, script_s, restarts, tap_dropped;
    double bounds[12], buckets[12];
    int ok;
    size_t nt;
    struct tstat t[MAX_TARGETS];
};

static int collect(const char *p, size_t n, void *arg)
{
    return buf_put(arg, p, n);
}

static double num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void str(const cJSON *o, const char *name, char *out, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    snprintf(out, len, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static void parse_targets(const cJSON *arr, struct snap *s)
{
    const cJSON *t;
    s->nt = 0;
    cJSON_ArrayForEach(t, arr)
    {
        if (s->nt == MAX_TARGETS)
            break;
        struct tstat *d = &s->t[s->nt++];
        str(t, "name", d->name, sizeof d->name);
        str(t, "state", d->state, sizeof d->state);
        str(t, "error", d->error, sizeof d->error);
        d->routed = num(t, "routed");
        d->delivered = num(t, "delivered");
        d->failed = num(t, "failed");
        d->retried = num(t, "retried");
        d->dead = num(t, "dead_lettered");
        d->queue = num(t, "queue");
        d->limit = num(t, "limit");
        d->oldest_s = num(t, "oldest_s");
    }
}

/* -1 with err: the gateway did not answer, or not with its stats. */
static int snapshot(const struct admin_client *ac, struct snap *s, char *err, size_t errlen)
{
    struct buf b = { 0 };
    int code = admin_client_get(ac, "/admin/stats", 10, collect, &b, err, errlen);
    cJSON *j = code == 200 && b.p ? cJSON_ParseWithLength(b.p, b.len) : NULL;
    if (code >= 0 && !j)
        snprintf(err, errlen, "%s/admin/stats answered %d: %.200s", ac->base, code, b.p ? b.p : "");
    buf_free(&b);
    if (!j)
        return -1;
    memset(s, 0, sizeof *s);
    s->t_ms = num(j, "time_ms");
    s->events = num(j, "events");
    s->restarts = num(j, "restarts");
    s->tap_dropped = num(j, "tap_dropped");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(j, "ingest_latency");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(j, "script");
    s->lat_count = num(lat, "count");
    s->runs = num(sc, "runs");
    s->errors = num(sc, "errors");
    s->script_s = num(sc, "seconds");
    const cJSON *bo = cJSON_GetObjectItemCaseSensitive(lat, "bounds_ms"),
                *bu = cJSON_GetObjectItemCaseSensitive(lat, "buckets");
    for (int i = 0; i < 12; i++) {
        const cJSON *x = cJSON_GetArrayItem(bo, i), *y = cJSON_GetArrayItem(bu, i);
        s->bounds[i] = cJSON_IsNumber(x) ? x->valuedouble : 0;
        s->buckets[i] = cJSON_IsNumber(y) ? y->valuedouble : 0;
    }
    parse_targets(cJSON_GetObjectItemCaseSensitive(j, "targets"), s);
    cJSON_Delete(j);
    s->ok = 1;
    return 0;
}

/* The upper bound of the histogram bucket holding quantile q of the
 * requests between a and b: "<= N ms". */
static void percentile(const struct snap *a, const struct snap *b, double q, char *out, size_t len)
{
    double total = b->lat_count - (a ? a->lat_count : 0), cum = 0;
    if (total <= 0) {
        snprintf(out, len, "-");
        return;
    }
    for (int i = 0; i < 12; i++) {
        cum += b->buckets[i] - (a ? a->buckets[i] : 0);
        if (cum >= q * total) {
            snprintf(out, len, "<=%gms", b->bounds[i]);
            return;
        }
    }
    snprintf(out, len, ">%gms", b->bounds[11]);
}

static double rate(double now, double before, double secs)
{
    return secs > 0 && now >= before ? (now - before) / secs : 0;
}

static const struct tstat *prev_target(const struct snap *a, const char *name)
{
    for (size_t i = 0; a && i < a->nt; i++)
        if (!strcmp(a->t[i].name, name))
            return &a->t[i];
    return NULL;
}

static void draw(FILE *f, const char *base, const struct snap *a, const struct snap *b, int ansi)
{
    double secs = a ? (b->t_ms - a->t_ms) / 1000.0 : 0;
    char p50[32], p99[32], clock[16];
    time_t now = time(NULL);
    struct tm tm;
    strftime(clock, sizeof clock, "%H:%M:%S", localtime_r(&now, &tm));
    percentile(a, b, 0.5, p50, sizeof p50);
    percentile(a, b, 0.99, p99, sizeof p99);
    double runs = b->runs - (a ? a->runs : 0), ss = b->script_s - (a ? a->script_s : 0);
    const char *bold = ansi ? "\033[1m" : "", *off = ansi ? "\033[0m" : "";
    if (ansi)
        fputs("\033[H\033[2J", f);
    fprintf(f, "%sluagate top%s  %s  %s  (Ctrl-C quits)\n", bold, off, base, clock);
    fprintf(f, "ingest  %9.1f events/s  latency p50 %s p99 %s  events %.0f\n", rate(b->events, a ? a->events : 0, secs),
            p50, p99, b->events);
    fprintf(f, "script  %9.1f errors/s  %.1f us/event  errors %.0f  restarts %.0f  tap drops %.0f\n",
            rate(b->errors, a ? a->errors : 0, secs), runs > 0 ? ss * 1e6 / runs : 0, b->errors, b->restarts,
            b->tap_dropped);
    fprintf(f, "%s%-22s %-8s %10s %8s %8s %8s %8s %6s  %s%s\n", bold, "TARGET", "STATE", "DELIVER/s", "QUEUE",
            "LIMIT", "OLDEST", "RETRIED", "DEAD", "REASON", off);
    for (size_t i = 0; i < b->nt; i++) {
        const struct tstat *pt = prev_target(a, b->t[i].name);
        const char *col = !ansi ? "" : !strcmp(b->t[i].state, "offline") ? "\033[31m"
                                       : !strcmp(b->t[i].state, "online") ? "\033[32m" : "";
        fprintf(f, "%-22s %s%-8s%s %10.1f %8.0f %8.0f %7.1fs %8.0f %6.0f  %s\n", b->t[i].name, col, b->t[i].state,
                *col ? off : "", pt ? rate(b->t[i].delivered, pt->delivered, secs) : 0.0, b->t[i].queue, b->t[i].limit,
                b->t[i].oldest_s, b->t[i].retried, b->t[i].dead, b->t[i].error);
    }
    fflush(f);
}

static int top_usage(void)
{
    fputs("usage: luagate top [--admin HOST:PORT] [-c CONFIG] [--once | --iterations N] [--cacert FILE]\n"
          "                   [--insecure]\n"
          "Redraws every second: ingest rate and latency, script errors and time, per target its state,\n"
          "delivery rate, queue, oldest event, retries and dead letters.  --once prints one screen (after\n"
          "a second, for the rates) without clearing the terminal.\n",
          stderr);
    return 2;
}

int cli_top(const char *config_path, int argc, char **argv)
{
    const char *admin = NULL, *cacert = NULL;
    long iterations = 0; /* 0: until interrupted */
    int insecure = 0, once = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--once"))
            once = 1, iterations = 1;
        else if (!strcmp(a, "--insecure"))
            insecure = 1;
        else if (v && !strcmp(a, "--admin"))
            admin = argv[++i];
        else if (v && !strcmp(a, "--cacert"))
            cacert = argv[++i];
        else if (v && !strcmp(a, "--iterations") && (iterations = atol(argv[++i])) > 0)
            continue;
        else
            return top_usage();
    }
    struct admin_client ac;
    char err[1400];
    if (admin_client_init(&ac, admin, config_path, err, sizeof err)) {
        fprintf(stderr, "luagate top: %s\n", err);
        return 2;
    }
    if (cacert)
        snprintf(ac.cacert, sizeof ac.cacert, "%s", cacert);
    ac.insecure = insecure;
    static struct snap s[2];
    int cur = 0, ansi = !once && isatty(STDOUT_FILENO);
    if (snapshot(&ac, &s[0], err, sizeof err)) {
        fprintf(stderr, "luagate top: %s\n", err);
        return 1;
    }
    for (long n = 0; !iterations || n < iterations; n++) {
        sleep(1);
        if (snapshot(&ac, &s[!cur], err, sizeof err)) {
            fprintf(stderr, "luagate top: %s\n", err);
            return 1;
        }
        cur = !cur;
        draw(stdout, ac.base, &s[!cur], &s[cur], ansi);
    }
    return 0;
}
