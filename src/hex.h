/* hex.h -- the value of one hexadecimal digit, for the %XX and \uXXXX
 * decoders (URLs, DSNs, JSON, chunk sizes).  Locale-free on purpose. */
#ifndef LUAGATE_HEX_H
#define LUAGATE_HEX_H

/* 0..15, or -1 when c is not a hex digit (any case). */
static inline int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
