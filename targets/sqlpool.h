/* sqlpool.h -- what the PostgreSQL and MySQL drivers share to spread a
 * batch over their connection pool without breaking per-key order. */
#ifndef LUAGATE_SQLPOOL_H
#define LUAGATE_SQLPOOL_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include "driver.h"

/* The row key of a message: the script's opts.key, else bucket/object
 * ("" when that holds a NUL byte: the caller refuses the message).
 * *doc receives the parsed opts (free it with cJSON_Delete), or NULL. */
const char *sqlpool_rowkey(const struct msg *m, cJSON **doc);
/* The connection of a row key: rows of one key always share one. */
size_t sqlpool_conn(const char *key, size_t nconn);

#endif
