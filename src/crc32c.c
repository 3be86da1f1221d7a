/* crc32c.c -- CRC-32C with the SSE4.2 crc32 instruction or a table. */
#include <string.h>
#include "crc32c.h"

#define POLY 0x82f63b78u /* Castagnoli, reflected */

static uint32_t table[256];

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc_table(uint32_t crc, const unsigned char *p, size_t len)
{
    while (len--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const unsigned char *p,
                                                           size_t len)
{
    uint64_t c = crc;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t crc32c(uint32_t crc, const void *data, size_t len)
{
    static int mode; /* 0 unknown, 1 hardware, 2 table */
    if (!mode) {
#if defined(__x86_64__)
        __builtin_cpu_init();
        mode = __builtin_cpu_supports("sse4.2") ? 1 : 2;
#else
        mode = 2;
#endif
        if (mode == 2)
            make_table();
    }
    crc = ~crc;
#if defined(__x86_64__)
    if (mode == 1)
        return ~crc_hw(crc, data, len);
#endif
    return ~crc_table(crc, data, len);
}
