/* kafka.h -- the pure pieces of the Kafka driver, for its unit test. */
#ifndef LUAGATE_KAFKA_H
#define LUAGATE_KAFKA_H

#include <stddef.h>
#include <stdint.h>

/* 32-bit FNV-1a of len bytes. */
uint32_t kafka_fnv1a32(const void *data, size_t len);
/* The partition MinIO's producer (sarama's hash partitioner) picks for a
 * key among n partitions: the hash as a signed int32, remainder by n,
 * negated if negative.  librdkafka's "fnv1a" uses the unsigned hash. */
int32_t kafka_sarama_partition(const void *key, size_t len, int32_t n);

#endif
