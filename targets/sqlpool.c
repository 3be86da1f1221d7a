/* sqlpool.c -- row keys and their connection, for postgres.c and mysql.c. */
#include <string.h>
#include "sqlpool.h"

const char *sqlpool_rowkey(const struct msg *m, cJSON **doc)
{
    *doc = NULL;
    if (m->opts) {
        *doc = cJSON_Parse(m->opts);
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(*doc, "key");
        /* opts.key "a\0x" is the record's key whole; its valuestring "a"
         * would be another row: refused below like an object name with %00 */
        if (cJSON_IsString(k) && *k->valuestring && !(m->key && !strcmp(m->key, k->valuestring)))
            return k->valuestring;
    }
    /* SQL text cannot hold a NUL (PostgreSQL refuses it): an object name
     * with %00 is refused, never cut short onto another object's row */
    return m->key && msg_key_len(m) == strlen(m->key) ? m->key : "";
}

size_t sqlpool_conn(const char *key, size_t nconn)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *s = key; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return nconn ? h % nconn : 0;
}
