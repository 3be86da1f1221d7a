/* admin_stats.c -- GET /admin/stats (admin_stats.h).
 *
 * {"time_ms":..,"events":..,"ingest_latency":{"bounds_ms":[..],"buckets":[..]},
 *  "script":{"runs":..,"errors":..,"seconds":..}, "restarts":..,"tap_dropped":..,
 *  "targets":[{"name":..,"state":..,"error":..,"routed":..,"delivered":..,"failed":..,
 *              "retried":..,"dead_lettered":..,"queue":..,"limit":..,"oldest_s":..}]} */
#include <event2/buffer.h>
#include <event2/http.h>
#include <string.h>
#include "admin.h"
#include "admin_stats.h"
#include "clock.h"
#include "gateway.h"
#include "heartbeat.h"
#include "json.h"
#include "tap.h"

static const double ingest_bounds_ms[12] = { 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 30000 };

static void quoted(struct evbuffer *o, struct buf *b, const char *s)
{
    b->len = 0;
    if (json_quote(b, s, strlen(s)))
        evbuffer_add(o, "\"\"", 2);
    else
        evbuffer_add(o, b->p, b->len);
}

static void render_target(struct evbuffer *o, struct buf *b, struct target *t)
{
    int st = atomic_load(&t->state);
    char err[640];
    target_error(t, err, sizeof err);
    uint64_t enq = atomic_load(&t->oldest_enq_ms), now = clock_wall_ms();
    evbuffer_add(o, "{\"name\":", 8);
    quoted(o, b, t->conf->name);
    evbuffer_add_printf(o, ",\"state\":\"%s\",\"error\":",
                        st == TARGET_ONLINE ? "online" : st == TARGET_OFFLINE ? "offline" : "unknown");
    quoted(o, b, err);
    evbuffer_add_printf(o, ",\"routed\":%llu,\"delivered\":%llu,\"failed\":%llu,\"retried\":%llu,"
                        "\"dead_lettered\":%llu,\"queue\":%llu,\"limit\":%llu,\"oldest_s\":%.1f}",
                        (unsigned long long)atomic_load(&t->routed), (unsigned long long)atomic_load(&t->delivered),
                        (unsigned long long)atomic_load(&t->failed), (unsigned long long)atomic_load(&t->retried),
                        (unsigned long long)atomic_load(&t->dead_lettered),
                        (unsigned long long)queue_len(t->reader), (unsigned long long)queue_limit(t->reader),
                        enq && now > enq ? (double)(now - enq) / 1000.0 : 0.0);
}

void admin_stats_render(struct gateway *gw, struct evbuffer *o)
{
    struct buf b = { 0 };
    evbuffer_add_printf(o, "{\"time_ms\":%llu,\"events\":%llu,\"ingest_latency\":{\"bounds_ms\":[",
                        (unsigned long long)clock_mono_ms(), (unsigned long long)atomic_load(&gw->events_received));
    for (int i = 0; i < 12; i++)
        evbuffer_add_printf(o, "%s%g", i ? "," : "", ingest_bounds_ms[i]);
    evbuffer_add(o, "],\"buckets\":[", 13);
    for (int i = 0; i < 12; i++)
        evbuffer_add_printf(o, "%s%llu", i ? "," : "", (unsigned long long)atomic_load(&gw->http.latency_buckets[i]));
    evbuffer_add_printf(o, "],\"count\":%llu},\"script\":{\"runs\":%llu,\"errors\":%llu,\"seconds\":%.6f},"
                        "\"restarts\":%llu,\"tap_dropped\":%llu,\"targets\":[",
                        (unsigned long long)atomic_load(&gw->http.latency_count),
                        (unsigned long long)atomic_load(&gw->script_runs),
                        (unsigned long long)atomic_load(&gw->script_errors), (double)atomic_load(&gw->script_ns) / 1e9,
                        (unsigned long long)heartbeat_restarts(), (unsigned long long)tap_dropped_total());
    for (size_t i = 0; i < gw->nt; i++) {
        if (i)
            evbuffer_add(o, ",", 1);
        render_target(o, &b, &gw->targets[i]);
    }
    evbuffer_add(o, "]}\n", 3);
    buf_free(&b);
}

void admin_stats_serve(struct gateway *gw, struct evhttp_request *req)
{
    struct evbuffer *o = evbuffer_new();
    if (!o) {
        admin_reply_error(req, 500, "out of memory");
        return;
    }
    admin_stats_render(gw, o);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, 200, "OK", o);
    evbuffer_free(o);
}
