/* crc32c.h -- CRC-32C (Castagnoli), the checksum of queue records: the
 * SSE4.2 instruction where the CPU has it (about 0.2 cycles per byte),
 * a table otherwise. */
#ifndef LUAGATE_CRC32C_H
#define LUAGATE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *data, size_t len);

#endif
