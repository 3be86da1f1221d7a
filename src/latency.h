/* latency.h -- the bucket bounds of the gateway's latency histograms, in
 * one place so that what is counted (ingest.c, delivery.c) and what is
 * printed (metrics.c) cannot disagree. */
#ifndef LUAGATE_LATENCY_H
#define LUAGATE_LATENCY_H

#define LATENCY_BUCKETS 12

/* Upper bounds (ms): request-to-acknowledgement and delivery latency. */
extern const double latency_bounds_ms[LATENCY_BUCKETS];
/* Upper bounds (ms): route() time per request (luagate_script_seconds). */
extern const double latency_script_bounds_ms[LATENCY_BUCKETS];

/* The first bucket of bounds that holds ms, or -1 past the last bound
 * (counted only in +Inf, the total). */
int latency_bucket(const double *bounds, double ms);

#endif
