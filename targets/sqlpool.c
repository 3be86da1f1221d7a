/* sqlpool.c -- row keys, their connection, and a batch split over the
 * pool, for postgres.c and mysql.c. */
#include <stdio.h>
#include <stdlib.h>
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

static void set_status(struct msg *m, enum msg_status st, const char *why)
{
    m->status = st;
    snprintf(m->error, sizeof m->error, "%s", why ? why : "");
}

int sqlpool_split(struct sqlpool_split *s, struct msg *msgs, size_t n, size_t pool, int access)
{
    memset(s, 0, sizeof *s);
    s->keys = calloc(n ? n : 1, sizeof *s->keys);
    s->docs = calloc(n ? n : 1, sizeof *s->docs);
    s->slots = malloc((n ? n : 1) * sizeof *s->slots);
    if (!s->keys || !s->docs || !s->slots) {
        for (size_t i = 0; i < n; i++)
            set_status(&msgs[i], MSG_RETRY, "out of memory");
        sqlpool_split_free(s, 0);
        return -1;
    }
    s->nconn = pool < n ? pool : n;
    if (s->nconn > SQLPOOL_MAX_CONNS)
        s->nconn = SQLPOOL_MAX_CONNS;
    if (access && s->nconn > 1)
        s->nconn = 1;
    size_t cnt[SQLPOOL_MAX_CONNS] = { 0 }, at = 0;
    for (size_t i = 0; i < n; i++) {
        set_status(&msgs[i], MSG_PENDING, NULL);
        s->keys[i] = sqlpool_rowkey(&msgs[i], &s->docs[i]);
        if (!access && !*s->keys[i])
            set_status(&msgs[i], MSG_REJECT,
                       "namespace format needs a key (bucket/object or opts.key) without NUL bytes");
        else
            cnt[sqlpool_conn(s->keys[i], s->nconn)]++;
    }
    for (size_t c = 0; c < s->nconn; c++) {
        s->idx[c] = s->slots + at;
        at += cnt[c];
    }
    for (size_t i = 0; i < n; i++)
        if (msgs[i].status == MSG_PENDING) {
            size_t c = sqlpool_conn(s->keys[i], s->nconn);
            s->idx[c][s->n[c]++] = i;
        }
    return 0;
}

void sqlpool_split_free(struct sqlpool_split *s, size_t n)
{
    for (size_t i = 0; s->docs && i < n; i++)
        cJSON_Delete(s->docs[i]);
    free(s->keys), free(s->docs), free(s->slots);
    s->keys = NULL, s->docs = NULL, s->slots = NULL;
}
