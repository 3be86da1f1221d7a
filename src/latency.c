/* latency.c -- the latency histogram buckets (latency.h). */
#include "latency.h"

const double latency_bounds_ms[LATENCY_BUCKETS] = { 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 30000 };
const double latency_script_bounds_ms[LATENCY_BUCKETS] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 100, 1000, 10000 };

int latency_bucket(const double *bounds, double ms)
{
    for (int b = 0; b < LATENCY_BUCKETS; b++)
        if (ms <= bounds[b])
            return b;
    return -1;
}
