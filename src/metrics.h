/* metrics.h -- the gateway seen from outside: Prometheus text for
 * /metrics and the JSON of /health, rendered from its counters. */
#ifndef LUAGATE_METRICS_H
#define LUAGATE_METRICS_H

struct evbuffer;
struct gateway;

void metrics_render(struct gateway *gw, struct evbuffer *out);
/* *status: 200, or 503 when ingest would refuse events (see README). */
void metrics_health_render(struct gateway *gw, struct evbuffer *out, int *status);

#endif
