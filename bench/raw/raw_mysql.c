/* raw_mysql.c -- libmariadb baseline: one connection, multi-row statements,
 * one transaction per batch.
 *
 *   raw_mysql HOST PORT USER PASSWORD DB TABLE N [BATCH]
 *
 * Recreates TABLE with the DDL the driver uses on MariaDB (key_name, key_hash
 * generated SHA2 with a UNIQUE KEY, value JSON), then for every BATCH (256)
 * messages: one multi-row INSERT ... VALUES (...),(...) ON DUPLICATE KEY
 * UPDATE value=VALUES(value) of the upserts, one DELETE ... WHERE key_hash IN
 * (SHA2(...), ...) of the s3:ObjectRemoved:Delete ones, COMMIT.  Payloads are
 * {"Records":[r]} of the samples with unique keys, as in bench/drivers.c. */
#include <mysql.h>
#include "raw_common.h"

static MYSQL *db;

static void q(const char *sql, size_t len)
{
    if (mysql_real_query(db, sql, (unsigned long)len)) {
        fprintf(stderr, "raw_mysql: %.80s: %s\n", sql, mysql_error(db));
        exit(1);
    }
}

struct buf {
    char *p;
    size_t n, cap;
};
static void put(struct buf *b, const char *s, size_t len)
{
    if (b->n + len + 1 > b->cap) {
        b->cap = (b->n + len + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = 0;
}
static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }
static void put_lit(struct buf *b, const char *s)
{
    size_t len = strlen(s);
    if (b->n + 2 * len + 3 > b->cap) {
        b->cap = (b->n + 2 * len + 3) * 2;
        b->p = realloc(b->p, b->cap);
    }
    b->p[b->n++] = '\'';
    b->n += mysql_real_escape_string(db, b->p + b->n, s, (unsigned long)len);
    b->p[b->n++] = '\'';
    b->p[b->n] = 0;
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: raw_mysql HOST PORT USER PASSWORD DB TABLE N [BATCH]\n");
        return 2;
    }
    const char *t = argv[6];
    size_t n = strtoul(argv[7], NULL, 10), batch = argc > 8 ? strtoul(argv[8], NULL, 10) : 256;
    if (raw_load())
        return 2;
    db = mysql_init(NULL);
    if (!mysql_real_connect(db, argv[1], argv[3], argv[4], argv[5], (unsigned)atoi(argv[2]), NULL,
                            0)) {
        fprintf(stderr, "raw_mysql: connect: %s\n", mysql_error(db));
        return 1;
    }
    mysql_set_character_set(db, "utf8mb4");
    char sql[1024];
    int l = snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", t);
    q(sql, (size_t)l);
    l = snprintf(sql, sizeof sql,
                 "CREATE TABLE %s (key_name VARCHAR(3072) NOT NULL, key_hash CHAR(64) GENERATED "
                 "ALWAYS AS (SHA2(key_name, 256)) STORED, value JSON, UNIQUE KEY (key_hash)) "
                 "CHARACTER SET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = Dynamic", t);
    q(sql, (size_t)l);
    mysql_autocommit(db, 0);

    struct buf up = { 0 }, del = { 0 };
    size_t bytes = 0;
    char key[512];
    raw_start();
    for (size_t off = 0; off < n; off += batch) {
        size_t k = n - off < batch ? n - off : batch, nu = 0, nd = 0;
        up.n = del.n = 0;
        l = snprintf(sql, sizeof sql, "INSERT INTO %s (key_name, value) VALUES ", t);
        put(&up, sql, (size_t)l);
        l = snprintf(sql, sizeof sql, "DELETE FROM %s WHERE key_hash IN (", t);
        put(&del, sql, (size_t)l);
        for (size_t i = off; i < off + k; i++) {
            const struct sample *s = raw_sample(i);
            raw_key(i, key, sizeof key);
            const char *v = raw_payload(i, 1);
            bytes += strlen(v);
            if (!strcmp(s->event_name, "s3:ObjectRemoved:Delete")) {
                puts_(&del, nd++ ? ",SHA2(" : "SHA2(");
                put_lit(&del, key);
                puts_(&del, ",256)");
            } else {
                puts_(&up, nu++ ? ",(" : "(");
                put_lit(&up, key);
                puts_(&up, ",");
                put_lit(&up, v);
                puts_(&up, ")");
            }
        }
        puts_(&up, " ON DUPLICATE KEY UPDATE value=VALUES(value)");
        puts_(&del, ")");
        if (nu)
            q(up.p, up.n);
        if (nd)
            q(del.p, del.n);
        if (mysql_commit(db)) {
            fprintf(stderr, "raw_mysql: commit: %s\n", mysql_error(db));
            return 1;
        }
    }
    raw_done("mysql", n, bytes);
    mysql_close(db);
    return 0;
}
