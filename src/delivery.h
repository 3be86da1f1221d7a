/* delivery.h -- the delivery thread of a target. */
#ifndef LUAGATE_DELIVERY_H
#define LUAGATE_DELIVERY_H

#include "target.h"

/* Open the driver and start draining the target's queue. */
int delivery_start(struct target *t);
/* Ask the thread to stop after its current batch (call queue_wake too). */
void delivery_stop(struct target *t);
/* Wait for it and close the driver. */
void delivery_join(struct target *t);

#endif
