/* clock.h -- the two clocks of the gateway, in milliseconds: monotonic for
 * durations and timeouts, wall (CLOCK_REALTIME) for times that are stored
 * (a record's enqueue time) and compared across restarts. */
#ifndef LUAGATE_CLOCK_H
#define LUAGATE_CLOCK_H
#include <stdint.h>
#include <time.h>

static inline uint64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline uint64_t clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
#endif
