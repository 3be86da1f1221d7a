/* msg.c -- what a driver reads of a queued message beyond its fields
 * (driver.h): the key's bytes and its bucket. */
#include <string.h>
#include "driver.h"

size_t msg_key_len(const struct msg *m)
{
    return m->key_len ? m->key_len : m->key ? strlen(m->key) : 0;
}

size_t msg_bucket(const struct msg *m, const char **start)
{
    const char *k = m->key ? m->key : "";
    const char *slash = strchr(k, '/');
    *start = k;
    return slash ? (size_t)(slash - k) : strlen(k);
}
