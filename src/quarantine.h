/* quarantine.h -- events that took a worker down, recorded durably so that
 * MinIO's retry of one goes to the "_script" dead-letter queue instead of
 * running the script again.
 *
 * One text file, <queue_dir>/quarantine, appended to and never rewritten:
 *   "<16 hex digits> Q <reason>"   the supervisor quarantined that event
 *   "<16 hex digits> D"            a worker dead-lettered its retry
 * The supervisor appends Q lines while no worker runs; a worker reads the
 * file once at start and appends D lines. */
#ifndef LUAGATE_QUARANTINE_H
#define LUAGATE_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>

/* The supervisor: append a Q line and fsync it.  -1 with err. */
int quarantine_add(const char *queue_dir, uint64_t event, const char *reason, char *err, size_t errlen);

/* The worker, once before it serves: read the list (none is fine). */
int quarantine_load(const char *queue_dir, char *err, size_t errlen);
void quarantine_free(void);
size_t quarantine_count(void);
/* The reason event was quarantined, or NULL (the common case, cheap when
 * the list is empty).  *dead_lettered says a worker already dead-lettered it. */
const char *quarantine_reason(uint64_t event, int *dead_lettered);
/* Record that event went to the dead-letter queue (any thread; 1 if another
 * thread did already, -1 if the list could not be written). */
int quarantine_dead_lettered(uint64_t event);

#endif
