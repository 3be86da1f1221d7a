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

#define SQLPOOL_MAX_CONNS 16

/* One batch spread over the pool: each message's row key (and parsed
 * opts), and for each connection the indexes of its messages in batch
 * order, so one key's rows stay in order on one connection. */
struct sqlpool_split {
    const char **keys;
    cJSON **docs;
    size_t *slots;                   /* the storage of idx[] */
    size_t nconn;                    /* connections used: 1 for an access table */
    size_t *idx[SQLPOOL_MAX_CONNS];
    size_t n[SQLPOOL_MAX_CONNS];
};

/* Split msgs[0..n) over up to pool connections: every status reset to
 * MSG_PENDING, a namespace message without a row key MSG_REJECT.  An
 * access table is an event log whose rows keep the queue's order: one
 * connection.  -1 when out of memory (every message MSG_RETRY). */
int sqlpool_split(struct sqlpool_split *s, struct msg *msgs, size_t n, size_t pool, int access);
void sqlpool_split_free(struct sqlpool_split *s, size_t n);

#endif
