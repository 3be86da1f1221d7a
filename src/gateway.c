/* gateway.c -- assemble and tear down the running gateway. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "delivery.h"
#include "gateway.h"
#include <event2/event.h>
#include "log.h"
#include "qdir.h"

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
        rt[i].shape = shape_for(rt[i].kind, rt[i].format);
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

int gateway_open(struct gateway *gw, char *err, size_t errlen)
{
    struct gw_config *cfg = &gw->cfg;
    gw->targets = calloc(cfg->ntargets ? cfg->ntargets : 1, sizeof *gw->targets);
    if (!gw->targets)
        return snprintf(err, errlen, "out of memory"), -1;
    for (size_t i = 0; i < cfg->ntargets; i++) {
        struct target *t = &gw->targets[i];
        struct target_conf *tc = cfg->targets[i];
        pthread_mutex_init(&t->lock, NULL);
        gw->nt++;
        t->conf = tc;
        t->drv = tc->kind->drv;
        t->max_attempts = (unsigned)tconf_int(tc, "max_attempts");
        t->retry_min_ms = tconf_ms(tc, "retry_min");
        t->retry_max_ms = tconf_ms(tc, "retry_max");
        if (t->retry_max_ms < t->retry_min_ms)
            t->retry_max_ms = t->retry_min_ms;
        const char *dir = target_queue_dir(cfg, tc);
        snprintf(t->dlq_dir, sizeof t->dlq_dir, "%s", dir);
        if (!(t->q = queue_for(gw, dir, err, errlen)))
            return -1;
        long long limit = tconf_int(tc, "queue_limit");
        t->reader = queue_reader(t->q, tc->name, limit > 0 ? (uint64_t)limit : 100000);
        if (!t->reader)
            return snprintf(err, errlen, "%s: cannot open its queue cursor in %s", tc->name, dir), -1;
        atomic_store(&t->state, TARGET_UNKNOWN);
    }
    if (!cfg->ntargets && !queue_for(gw, cfg->queue_dir, err, errlen))
        return -1;
    for (size_t i = 0; i < gw->nq; i++)
        if (queue_start(gw->queues[i]))
            return snprintf(err, errlen, "cannot scan the queue in %s", queue_dir(gw->queues[i])), -1;
    if (!(gw->rt = gateway_route_targets(cfg)))
        return snprintf(err, errlen, "out of memory"), -1;
    if (cfg->script)
        script_set_source(cfg->script);
    gw->http.nworkers = cfg->ingest_workers ? cfg->ingest_workers : 1;
    if (!(gw->routers = routers_new(gw, err, errlen)))
        return -1;
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
    for (size_t i = 0; i < gw->nt; i++)
        delivery_stop(&gw->targets[i]);
    for (size_t i = 0; i < gw->nq; i++)
        queue_wake(gw->queues[i]);
    for (size_t i = 0; i < gw->nt; i++) {
        delivery_join(&gw->targets[i]);
        pthread_mutex_destroy(&gw->targets[i].lock);
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
    struct router **r = routers_new(gw, err, sizeof err);
    if (!r) {
        atomic_fetch_add(&gw->reloads_failed, 1);
        log_error("script", "reload failed, the previous script keeps running: %s", err);
        return -1;
    }
    log_info("script", "reloaded %s", router_script(r[0]));
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
