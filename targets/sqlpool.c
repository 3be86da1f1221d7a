/* sqlpool.c -- row keys and their connection, for postgres.c and mysql.c. */
#include "sqlpool.h"

const char *sqlpool_rowkey(const struct msg *m, cJSON **doc)
{
    *doc = NULL;
    if (m->opts) {
        *doc = cJSON_Parse(m->opts);
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(*doc, "key");
        if (cJSON_IsString(k) && *k->valuestring)
            return k->valuestring;
    }
    return m->key ? m->key : "";
}

size_t sqlpool_conn(const char *key, size_t nconn)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *s = key; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return nconn ? h % nconn : 0;
}
