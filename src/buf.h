/* buf.h -- a growable byte buffer, always NUL-terminated after its bytes,
 * shared by the JSON code, the drivers that format requests and dlq.c. */
#ifndef LUAGATE_BUF_H
#define LUAGATE_BUF_H

#include <stddef.h>

struct buf {
    char *p;
    size_t len, cap;
};
/* Room for n more bytes and a NUL after them, without writing anything. */
int buf_reserve(struct buf *b, size_t n);
int buf_put(struct buf *b, const void *s, size_t n);
int buf_puts(struct buf *b, const char *s);
void buf_free(struct buf *b);

#endif
