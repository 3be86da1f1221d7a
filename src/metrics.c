/* metrics.c -- /metrics (Prometheus text format) and /health (JSON). */
#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "clock.h"
#include "gateway.h"
#include "heartbeat.h"
#include "json.h"
#include "latency.h"
#include "metrics.h"
#include "quarantine.h"
#include "tap.h"

static void counter(struct evbuffer *o, const char *name, const char *help)
{
    evbuffer_add_printf(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
}

static void gauge(struct evbuffer *o, const char *name, const char *help)
{
    evbuffer_add_printf(o, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* A label value as the text format wants it: backslash, quote and newline
 * escaped (a queue directory or a target id may hold any of them). */
static const char *label_value(struct buf *b, const char *s)
{
    b->len = 0;
    for (; *s; s++) {
        const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
        if (esc ? buf_puts(b, esc) : buf_put(b, s, 1))
            return "";
    }
    if (buf_put(b, "", 1))
        return "";
    return b->p;
}

typedef uint64_t (*target_value)(struct target *t);
static uint64_t v_routed(struct target *t) { return atomic_load(&t->routed); }
static uint64_t v_delivered(struct target *t) { return atomic_load(&t->delivered); }
static uint64_t v_failed(struct target *t) { return atomic_load(&t->failed); }
static uint64_t v_retried(struct target *t) { return atomic_load(&t->retried); }
static uint64_t v_dead(struct target *t) { return atomic_load(&t->dead_lettered); }
static uint64_t v_depth(struct target *t) { return queue_len(t->reader); }
static uint64_t v_online(struct target *t) { return atomic_load(&t->state) == TARGET_ONLINE; }
static uint64_t v_limit(struct target *t) { return queue_limit(t->reader); }
static uint64_t v_oldest_s(struct target *t)
{
    uint64_t enq = atomic_load(&t->oldest_enq_ms), now = clock_wall_ms();
    return enq && now > enq ? (now - enq) / 1000 : 0;
}

static void per_target(struct gateway *gw, struct evbuffer *o, const char *name, const char *help,
                       int is_counter, target_value fn)
{
    if (is_counter)
        counter(o, name, help);
    else
        gauge(o, name, help);
    struct buf b = { 0 };
    for (size_t i = 0; i < gw->nt; i++)
        evbuffer_add_printf(o, "%s{target=\"%s\"} %llu\n", name, label_value(&b, gw->targets[i].conf->name),
                            (unsigned long long)fn(&gw->targets[i]));
    buf_free(&b);
}

static void histogram(struct evbuffer *o, const char *name, const char *labels, const double *bounds,
                      atomic_uint_fast64_t *buckets, uint64_t count, double sum_s)
{
    uint64_t cum = 0;
    for (int b = 0; b < LATENCY_BUCKETS; b++) {
        cum += atomic_load(&buckets[b]);
        evbuffer_add_printf(o, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, *labels ? "," : "",
                            bounds[b] / 1000.0, (unsigned long long)cum);
    }
    evbuffer_add_printf(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, *labels ? "," : "",
                        (unsigned long long)count);
    const char *open = *labels ? "{" : "", *close = *labels ? "}" : "";
    evbuffer_add_printf(o, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n", name, open, labels, close, sum_s, name,
                        open, labels, close, (unsigned long long)count);
}

static void per_queue(struct gateway *gw, struct evbuffer *o, const char *name, int cut)
{
    struct buf b = { 0 };
    for (size_t i = 0; i < gw->nq; i++) {
        struct queue_stats st;
        queue_stats(gw->queues[i], &st);
        evbuffer_add_printf(o, "%s{dir=\"%s\"} %llu\n", name, label_value(&b, queue_dir(gw->queues[i])),
                            (unsigned long long)(cut ? st.cut_records : st.bytes));
    }
    buf_free(&b);
}

void metrics_render(struct gateway *gw, struct evbuffer *o)
{
    counter(o, "luagate_http_requests_total",
            "ingest HTTP requests by response code (not /health and /metrics: see luagate_http_monitor_requests_total)");
    for (int i = 0; i < HTTP_CODES; i++)
        evbuffer_add_printf(o, "luagate_http_requests_total{code=\"%d\"} %llu\n", http_code_list[i],
                            (unsigned long long)atomic_load(&gw->http.codes[i]));
    counter(o, "luagate_http_monitor_requests_total", "GET and HEAD requests of /health, /metrics, /live and /ready "
            "by response code");
    for (int m = 0; m < HTTP_MONITOR_PATHS; m++)
        for (int i = 0; i < HTTP_CODES; i++) {
            uint64_t v = atomic_load(&gw->http.monitor_codes[m][i]);
            if (v || (m < 2 && http_code_list[i] == 200)) /* the codes these paths answer with, once seen */
                evbuffer_add_printf(o, "luagate_http_monitor_requests_total{path=\"%s\",code=\"%d\"} %llu\n",
                                    http_monitor_paths[m], http_code_list[i], (unsigned long long)v);
        }
    counter(o, "luagate_ingest_worker_requests_total", "POST requests (of events) each ingest worker handled; "
            "GET /health, /metrics and other methods are not counted");
    for (size_t i = 0; i < gw->http.nworkers; i++)
        evbuffer_add_printf(o, "luagate_ingest_worker_requests_total{worker=\"%zu\"} %llu\n", i,
                            (unsigned long long)http_worker_requests(gw, i));
    counter(o, "luagate_events_received_total", "events accepted from request bodies");
    evbuffer_add_printf(o, "luagate_events_received_total %llu\n",
                        (unsigned long long)atomic_load(&gw->events_received));
    evbuffer_add_printf(o, "# HELP luagate_ingest_latency_seconds time from request to acknowledgement\n"
                           "# TYPE luagate_ingest_latency_seconds histogram\n");
    histogram(o, "luagate_ingest_latency_seconds", "", latency_bounds_ms, gw->http.latency_buckets,
              atomic_load(&gw->http.latency_count),
              (double)atomic_load(&gw->http.latency_us_sum) / 1e6);
    counter(o, "luagate_script_runs_total", "route() calls");
    evbuffer_add_printf(o, "luagate_script_runs_total %llu\n", (unsigned long long)atomic_load(&gw->script_runs));
    counter(o, "luagate_script_errors_total", "route() calls that failed (event dead-lettered)");
    evbuffer_add_printf(o, "luagate_script_errors_total %llu\n",
                        (unsigned long long)atomic_load(&gw->script_errors));
    counter(o, "luagate_script_seconds_total", "time spent in route()");
    evbuffer_add_printf(o, "luagate_script_seconds_total %.6f\n", (double)atomic_load(&gw->script_ns) / 1e9);
    evbuffer_add_printf(o, "# HELP luagate_script_seconds route() time of one request, all its events\n"
                           "# TYPE luagate_script_seconds histogram\n");
    histogram(o, "luagate_script_seconds", "", latency_script_bounds_ms, gw->script_req_buckets,
              atomic_load(&gw->script_reqs), (double)atomic_load(&gw->script_req_ns) / 1e9);
    counter(o, "luagate_script_state_rebuilds_total", "Lua states rebuilt after reaching script_memory");
    evbuffer_add_printf(o, "luagate_script_state_rebuilds_total %llu\n", (unsigned long long)script_rebuild_count());
    counter(o, "luagate_script_reloads_total", "script reloads by result");
    evbuffer_add_printf(o, "luagate_script_reloads_total{result=\"ok\"} %llu\n",
                        (unsigned long long)atomic_load(&gw->reloads_ok));
    evbuffer_add_printf(o, "luagate_script_reloads_total{result=\"failed\"} %llu\n",
                        (unsigned long long)atomic_load(&gw->reloads_failed));
    gauge(o, "luagate_script_loaded_timestamp_seconds", "when the running script was compiled (Unix time)");
    evbuffer_add_printf(o, "luagate_script_loaded_timestamp_seconds %.3f\n",
                        (double)atomic_load(&gw->script_loaded_ms) / 1e3);
    gauge(o, "luagate_script_reload_failed", "1 when the last reload failed and the previous script runs");
    evbuffer_add_printf(o, "luagate_script_reload_failed %d\n", atomic_load(&gw->script_reload_failed));
    counter(o, "luagate_worker_restarts_total", "worker processes the supervisor started again");
    evbuffer_add_printf(o, "luagate_worker_restarts_total %llu\n", (unsigned long long)heartbeat_restarts());
    counter(o, "luagate_script_quarantined_total",
            "events quarantined for running past script_timeout or crashing the worker");
    evbuffer_add_printf(o, "luagate_script_quarantined_total %llu\n",
                        (unsigned long long)heartbeat_quarantined());
    counter(o, "luagate_tap_dropped_total", "tap lines lost because a tapper read too slowly");
    evbuffer_add_printf(o, "luagate_tap_dropped_total %llu\n", (unsigned long long)tap_dropped_total());
    gauge(o, "luagate_tap_clients", "tappers connected to the admin listener");
    evbuffer_add_printf(o, "luagate_tap_clients %d\n", atomic_load(&tap_clients));
    per_target(gw, o, "luagate_events_routed_total", "messages queued for a target", 1, v_routed);
    per_target(gw, o, "luagate_events_delivered_total", "messages the target confirmed", 1, v_delivered);
    per_target(gw, o, "luagate_events_failed_total", "failed delivery attempts", 1, v_failed);
    per_target(gw, o, "luagate_events_retried_total", "messages scheduled for another attempt", 1, v_retried);
    per_target(gw, o, "luagate_events_dead_lettered_total", "messages moved to the dead-letter queue", 1, v_dead);
    per_target(gw, o, "luagate_queue_depth", "messages waiting in the target's queue", 0, v_depth);
    per_target(gw, o, "luagate_target_online", "1 when the target answered its last attempt", 0, v_online);
    per_target(gw, o, "luagate_queue_limit", "the target's queue_limit: at it, new events get 503", 0, v_limit);
    per_target(gw, o, "luagate_queue_oldest_seconds", "age of the oldest message waiting for the target (0: none)",
               0, v_oldest_s);
    evbuffer_add_printf(o, "# HELP luagate_delivery_latency_seconds time from enqueue to confirmation\n"
                           "# TYPE luagate_delivery_latency_seconds histogram\n");
    struct buf b = { 0 }, lb = { 0 };
    for (size_t i = 0; i < gw->nt; i++) {
        struct target *t = &gw->targets[i];
        lb.len = 0;
        if (buf_puts(&lb, "target=\"") || buf_puts(&lb, label_value(&b, t->conf->name)) || buf_put(&lb, "\"", 2))
            continue;
        histogram(o, "luagate_delivery_latency_seconds", lb.p, latency_bounds_ms,
                  t->latency_buckets, atomic_load(&t->latency_count),
                  (double)atomic_load(&t->latency_ms_sum) / 1e3);
    }
    buf_free(&b);
    buf_free(&lb);
    /* every sample of a family follows its own TYPE line: one pass per family */
    gauge(o, "luagate_queue_bytes", "journal bytes on disk per queue directory");
    per_queue(gw, o, "luagate_queue_bytes", 0);
    counter(o, "luagate_queue_cut_records_total", "corrupt or torn records skipped at recovery");
    per_queue(gw, o, "luagate_queue_cut_records_total", 1);
}

void metrics_health_render(struct gateway *gw, struct evbuffer *o, int *status)
{
    int ready = atomic_load(&gw->http.ready) && !atomic_load(&gw->http.stopping);
    int full = 0;
    struct buf b = { 0 };
    for (size_t i = 0; i < gw->nt; i++) {
        struct target *t = &gw->targets[i];
        uint64_t depth = queue_len(t->reader);
        full |= depth >= queue_limit(t->reader);
        int st = atomic_load(&t->state);
        char err[512];
        target_error(t, err, sizeof err);
        b.len = 0;
        json_quote(&b, t->conf->name, strlen(t->conf->name));
        evbuffer_add_printf(o, "%s%s:{\"state\":\"%s\",\"queue\":%llu,\"limit\":%llu", i ? "," : "{\"targets\":{",
                            b.p, st == TARGET_ONLINE ? "online" : st == TARGET_OFFLINE ? "offline" : "unknown",
                            (unsigned long long)depth, (unsigned long long)queue_limit(t->reader));
        if (*err) {
            b.len = 0;
            json_quote(&b, err, strlen(err));
            evbuffer_add_printf(o, ",\"error\":%s", b.p);
        }
        evbuffer_add(o, "}", 1);
    }
    if (!gw->nt)
        evbuffer_add_printf(o, "{\"targets\":{");
    const char *s = !ready ? (atomic_load(&gw->http.stopping) ? "stopping" : "starting") : full ? "full" : "ok";
    evbuffer_add_printf(o, "},\"worker\":{\"pid\":%d,\"restarts\":%llu,\"quarantined\":%zu}", (int)getpid(),
                        (unsigned long long)heartbeat_restarts(), quarantine_count());
    evbuffer_add_printf(o, ",\"status\":\"%s\"}\n", s);
    *status = ready && !full ? 200 : 503;
    buf_free(&b);
}
