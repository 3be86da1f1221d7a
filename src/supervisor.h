/* supervisor.h -- `luagate run` as two processes, in the nginx / PostgreSQL
 * shape: a small parent that holds the listening sockets and the
 * configuration, and a worker it forks that does all of the gateway's work.
 * The parent restarts a worker that died, kills one whose event has been
 * routing longer than script_timeout, and quarantines the event a worker
 * died on (quarantine.h), so that MinIO's retry of it cannot do it again. */
#ifndef LUAGATE_SUPERVISOR_H
#define LUAGATE_SUPERVISOR_H

#include "config.h"

/* The worker: run the gateway on the listening sockets fds (one per ingest
 * worker, then the admin listener's, -1 without admin_listen), return the
 * process's exit code.  It runs in the forked child. */
typedef int (*supervisor_worker_fn)(struct gw_config *cfg, int *fds);

/* Bind the listeners, then supervise workers until SIGTERM/SIGINT.  The
 * exit code of the gateway: the worker's on a clean stop, or the first
 * worker's if it never became ready (bad configuration: 2). */
int supervisor_run(struct gw_config *cfg, supervisor_worker_fn worker);

/* The worker's signals: SIGUSR1 from the parent means drain and stop
 * (SIGTERM/SIGINT reached the parent), SIGUSR2 stop now (the second one). */
#define SUPERVISOR_SIG_DRAIN SIGUSR1
#define SUPERVISOR_SIG_STOP_NOW SIGUSR2
/* The worker, once its own signal handlers are in place: take the signals
 * that waited blocked since the fork. */
void supervisor_worker_signals_ready(void);

#endif
