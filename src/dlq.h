/* dlq.h -- dead-letter queues: one JSON-lines file per target under
 * <queue_dir>/dlq/, for messages a target refused for good, and events a
 * script failed on (target "_script").  Each line is
 * {"time","target","error","attempts","event_name","key","event_time",
 *  "op","opts","payload"}. */
#ifndef LUAGATE_DLQ_H
#define LUAGATE_DLQ_H

#include <stdio.h>
#include "driver.h"

/* Append one entry and fdatasync it.  -1 with err on failure. */
int dlq_append(const char *queue_dir, const char *target, const struct msg *m, const char *why,
               unsigned attempts, char *err, size_t errlen);
/* The file of a target's dead letters. */
void dlq_path(const char *queue_dir, const char *target, char *out, size_t len);



/* `luagate dlq list|requeue`: print the entries of path, or append them
 * back to the target's queue in dir and empty the file.  Exit code. */
int dlq_command(const char *dir, const char *target, const char *path, int requeue, int configured);
#endif
