/* admin_dlq.h -- the dead letters of a running gateway (luagate dlq),
 * served by the ingest workers: /admin/dlq/TARGET[/list|requeue|purge]. */
#ifndef LUAGATE_ADMIN_DLQ_H
#define LUAGATE_ADMIN_DLQ_H

struct conn;

int admin_dlq_is(const struct conn *c);
int admin_dlq_handle(struct conn *c);

#endif
