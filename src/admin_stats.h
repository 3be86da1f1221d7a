/* admin_stats.h -- GET /admin/stats: the gateway's counters as one JSON
 * object, what `luagate top` reads every second (rates and percentiles are
 * the client's, from the difference of two snapshots). */
#ifndef LUAGATE_ADMIN_STATS_H
#define LUAGATE_ADMIN_STATS_H

struct gateway;
struct evbuffer;
struct evhttp_request;

void admin_stats_render(struct gateway *gw, struct evbuffer *out);
void admin_stats_serve(struct gateway *gw, struct evhttp_request *req);

#endif
