/* gateway.c -- assemble and tear down the running gateway. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include "backlog.h"
#include "clock.h"
#include "delivery.h"
#include "gateway.h"
#include "ingest.h"
#include "log.h"
#include "qdir.h"
#include "script_watch.h"

/* The running script was compiled now: luagate_script_loaded_timestamp_seconds. */
static void loaded_now(struct gateway *gw)
{
    atomic_store(&gw->script_loaded_ms, (int_fast64_t)clock_wall_ms());
}

static const char *target_queue_dir(struct gw_config *cfg, struct target_conf *tc)
{
    const char *own = tconf_str(tc, "queue_dir");
    return *own ? own : cfg->queue_dir;
}

static struct queue *queue_for(struct gateway *gw, const char *given, char *err, size_t errlen)
{
    char canon[PATH_MAX];
    /* one directory, one journal, however spelt (qdir.h); a name that cannot
     * be resolved is left to queue_open to refuse */
    const char *dir = qdir_canon(given, canon, sizeof canon) ? given : canon;
    for (size_t i = 0; i < gw->nq; i++)
        if (!strcmp(queue_dir(gw->queues[i]), dir))
            return gw->queues[i];
    struct queue **v = realloc(gw->queues, (gw->nq + 1) * sizeof *v);
    if (!v)
        return snprintf(err, errlen, "out of memory"), NULL;
    gw->queues = v;
    struct queue *q = queue_open(dir, err, errlen);
    if (q)
        gw->queues[gw->nq++] = q;
    return q;
}

struct route_target *gateway_route_targets(struct gw_config *cfg)
{
    struct route_target *rt = calloc(cfg->ntargets ? cfg->ntargets : 1, sizeof *rt);
    if (!rt)
        return NULL;
    for (size_t i = 0; i < cfg->ntargets; i++) {
        struct target_conf *tc = cfg->targets[i];
        rt[i].name = tc->name;
        rt[i].kind = tc->kind->kind;
        rt[i].format = tconf_spec(tc, "format") ? tconf_str(tc, "format") : "";
        rt[i].events = tconf_str(tc, "events");
        rt[i].prefix = tconf_str(tc, "prefix");
        rt[i].suffix = tconf_str(tc, "suffix");
        rt[i].shape = driver_shape(tc->kind->drv, rt[i].format);
    }
    return rt;
}

static struct router_limits limits_of(struct gw_config *cfg)
{
    struct router_limits lim = { cfg->script_memory, cfg->script_instructions, &cfg->buckets, cfg->script_env };
    return lim;
}

static void routers_free(struct router **r, size_t n)
{
    for (size_t i = 0; r && i < n; i++)
        router_free(r[i]);
    free(r);
}

/* One state per ingest worker, each compiled from the script on this
 * thread: a worker only ever runs its own.  NULL with err if any fails. */
static struct router **routers_new(struct gateway *gw, char *err, size_t errlen)
{
    struct router_limits lim = limits_of(&gw->cfg);
    struct router **r = calloc(gw->http.nworkers, sizeof *r);
    if (!r)
        return snprintf(err, errlen, "out of memory"), NULL;
    for (size_t i = 0; i < gw->http.nworkers; i++)
        if (!(r[i] = router_new(gw->cfg.script, gw->rt, gw->nt, &lim, err, errlen))) {
            routers_free(r, i);
            return NULL;
        }
    return r;
}

/* Scan the queues, reporting events queued for targets that are no
 * longer configured (backlog.c: they are kept, not dropped). */
static int gateway_backlog(struct gateway *gw, char *err, size_t errlen)
{
    struct backlog b = { 0 };
    const char **names = calloc(gw->nt ? gw->nt : 1, sizeof *names);
    if (!names)
        return snprintf(err, errlen, "out of memory"), -1;
    int rc = 0;
    *err = 0;
    for (size_t i = 0; i < gw->nq && !rc; i++) {
        size_t n = 0; /* the targets reading this directory */
        for (size_t j = 0; j < gw->nt; j++)
            if (gw->targets[j].q == gw->queues[i])
                names[n++] = gw->targets[j].conf->name;
        rc = backlog_register(&b, gw->queues[i], names, n);
    }
    free(names);
    for (size_t i = 0; i < gw->nq && !rc; i++)
        if (queue_start(gw->queues[i])) {
            snprintf(err, errlen, "cannot scan the queue in %s", queue_dir(gw->queues[i]));
            rc = -1;
        }
    if (rc && !*err)
        snprintf(err, errlen, "out of memory");
    backlog_report(&b, rc ? stderr : NULL);
    return rc;
}

int gateway_open(struct gateway *gw, char *err, size_t errlen)
{
    struct gw_config *cfg = &gw->cfg;
    gw->targets = calloc(cfg->ntargets ? cfg->ntargets : 1, sizeof *gw->targets);
    if (!gw->targets)
        return snprintf(err, errlen, "out of memory"), -1;
    for (size_t i = 0; i < cfg->ntargets; i++) {
        const char *dir = target_queue_dir(cfg, cfg->targets[i]);
        target_init(&gw->targets[i], cfg->targets[i], dir);
        gw->nt++;
        struct queue *q = queue_for(gw, dir, err, errlen);
        if (!q || target_attach(&gw->targets[i], q, err, errlen))
            return -1;
    }
    if (!cfg->ntargets && !queue_for(gw, cfg->queue_dir, err, errlen))
        return -1;
    if (gateway_backlog(gw, err, errlen))
        return -1;
    if (!(gw->rt = gateway_route_targets(cfg)))
        return snprintf(err, errlen, "out of memory"), -1;
    if (cfg->script)
        script_set_source(cfg->script);
    gw->http.nworkers = cfg->ingest_workers ? cfg->ingest_workers : 1;
    if (!(gw->routers = routers_new(gw, err, errlen)))
        return -1;
    loaded_now(gw);
    if (*cfg->auth_token)
        gw->http.auth_header = config_auth_header(cfg->auth_token);
    for (size_t i = 0; i < gw->nq; i++) {
        struct queue_stats st;
        queue_stats(gw->queues[i], &st);
        if (st.cut_records || st.cut_bytes)
            log_warn("queue", "%s: recovery skipped %llu corrupt record(s), %llu byte(s) cut",
                     queue_dir(gw->queues[i]), (unsigned long long)st.cut_records,
                     (unsigned long long)st.cut_bytes);
    }
    for (size_t i = 0; i < gw->nt; i++) {
        uint64_t n = queue_len(gw->targets[i].reader);
        if (n)
            log_info(gw->targets[i].conf->name, "%llu queued event(s) to deliver", (unsigned long long)n);
    }
    return 0;
}

int gateway_start(struct gateway *gw, char *err, size_t errlen)
{
    for (size_t i = 0; i < gw->nq; i++)
        if (queue_start_committer(gw->queues[i], gw->cfg.commit_window_us, ingest_on_durable, gw))
            return snprintf(err, errlen, "cannot start the queue committer"), -1;
    for (size_t i = 0; i < gw->nt; i++)
        if (delivery_start(&gw->targets[i]))
            return snprintf(err, errlen, "%s: cannot start its delivery", gw->targets[i].conf->name), -1;
    return 0;
}

static void reload_join(struct gateway *gw)
{
    if (gw->reload_joinable)
        pthread_join(gw->reload_thread, NULL);
    gw->reload_joinable = 0;
}

void gateway_close(struct gateway *gw)
{
    reload_join(gw); /* it hands states to the workers */
    script_watch_stop(gw->watch); /* after the reload thread: it adds files */
    gw->watch = NULL;
    for (size_t i = 0; i < gw->nt; i++)
        delivery_stop(&gw->targets[i]);
    for (size_t i = 0; i < gw->nq; i++)
        queue_wake(gw->queues[i]);
    for (size_t i = 0; i < gw->nt; i++) {
        delivery_join(&gw->targets[i]);
        target_destroy(&gw->targets[i]);
    }
    http_free(gw);
    for (size_t i = 0; i < gw->nq; i++)
        queue_close(gw->queues[i]);
    free(gw->queues);
    free(gw->targets);
    routers_free(gw->routers, gw->http.nworkers);
    free(gw->rt);
    free(gw->http.auth_header);
    if (gw->base)
        event_base_free(gw->base);
    config_free(&gw->cfg);
    memset(gw, 0, sizeof *gw);
}

static int reload_now(struct gateway *gw)
{
    char err[1024];
    if (gw->watch)
        script_watch_sync(gw->watch);
    struct router **r = routers_new(gw, err, sizeof err);
    if (!r) {
        atomic_fetch_add(&gw->reloads_failed, 1);
        atomic_store(&gw->script_reload_failed, 1);
        log_error("script", "reload failed, the previous script keeps running: %s", err);
        return -1;
    }
    log_info("script", "reloaded %s", router_script(r[0]));
    if (gw->watch)
        router_files(r[0], script_watch_add, gw->watch); /* before r[0] goes to its worker */
    loaded_now(gw);
    atomic_store(&gw->script_reload_failed, 0);
    /* each worker swaps its state between two of its own events */
    for (size_t i = 0; i < gw->http.nworkers; i++)
        http_give_router(gw, i, r[i]);
    free(r);
    atomic_fetch_add(&gw->reloads_ok, 1);
    return 0;
}

/* The new script's top level may run up to its budget, or fail: it runs
 * here, never on an ingest loop.  A SIGHUP during a reload asks for one
 * more after it (the file may have changed again). */
static void *reload_main(void *arg)
{
    struct gateway *gw = arg;
    pthread_setname_np(pthread_self(), "reload"); /* for top -H and /proc: best effort */
    for (;;) {
        atomic_store(&gw->reload_again, 0);
        reload_now(gw);
        if (atomic_load(&gw->reload_again))
            continue;
        atomic_store(&gw->reloading, 0);
        if (!atomic_load(&gw->reload_again) || atomic_exchange(&gw->reloading, 1))
            return NULL;
    }
}

int gateway_reload(struct gateway *gw)
{
    if (atomic_exchange(&gw->reloading, 1)) {
        atomic_store(&gw->reload_again, 1);
        return 0;
    }
    reload_join(gw); /* the last one ended: it cleared reloading */
    if (pthread_create(&gw->reload_thread, NULL, reload_main, gw)) {
        atomic_store(&gw->reloading, 0);
        log_error("script", "cannot start the reload thread: SIGHUP ignored");
        return -1;
    }
    gw->reload_joinable = 1;
    return 0;
}

static int arn_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void gateway_print_arns(struct gateway *gw, FILE *f)
{
    if (!gw->nt)
        return;
    char **arns = calloc(gw->nt, sizeof *arns);
    if (!arns)
        return;
    for (size_t i = 0; i < gw->nt; i++) {
        char arn[256];
        config_arn(gw->targets[i].conf, arn, sizeof arn);
        arns[i] = strdup(arn);
    }
    qsort(arns, gw->nt, sizeof *arns, arn_cmp);
    fputs("SQS ARNs: ", f);
    for (size_t i = 0; i < gw->nt; i++) {
        fprintf(f, "%s ", arns[i] ? arns[i] : "");
        free(arns[i]);
    }
    fputc('\n', f);
    fflush(f);
    free(arns);
}
