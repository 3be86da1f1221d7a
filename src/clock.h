/* clock.h -- the two clocks of the gateway: monotonic for durations and
 * timeouts, wall (CLOCK_REALTIME) for times that are stored (a record's
 * enqueue time) and compared across restarts; and absolute deadlines for
 * timed waits (pthread_cond_timedwait waits on CLOCK_REALTIME). */
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
static inline uint64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The time ms milliseconds from now on clock clk, as an absolute timespec. */
static inline struct timespec clock_after(clockid_t clk, long long ms)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
#endif
