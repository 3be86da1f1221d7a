/* raw_pg.c -- libpq baseline: one connection, pipeline mode, one
 * transaction per batch.
 *
 *   raw_pg CONNINFO TABLE N [BATCH]
 *
 * Recreates TABLE with MinIO's namespace DDL (key VARCHAR PRIMARY KEY,
 * value JSONB), prepares MinIO's statements (INSERT ... ON CONFLICT (key) DO
 * UPDATE, DELETE ... WHERE key = $1), then for every BATCH (256) messages
 * queues BEGIN, one prepared statement per message ({"Records":[r]} of the
 * samples, unique keys, deletes for s3:ObjectRemoved:Delete as the driver
 * does), COMMIT and a sync, and reads every result.  This is the fastest
 * confirmed way libpq offers for row-by-row upserts on one connection (a
 * pgbench script would pay one round trip per statement). */
#include <libpq-fe.h>
#include "raw_common.h"

static void die(PGconn *pg, const char *what)
{
    fprintf(stderr, "raw_pg: %s: %s\n", what, PQerrorMessage(pg));
    exit(1);
}

static void exec(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        die(pg, sql);
    PQclear(r);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: raw_pg CONNINFO TABLE N [BATCH]\n");
        return 2;
    }
    const char *t = argv[2];
    size_t n = strtoul(argv[3], NULL, 10), batch = argc > 4 ? strtoul(argv[4], NULL, 10) : 256;
    if (raw_load())
        return 2;
    PGconn *pg = PQconnectdb(argv[1]);
    if (PQstatus(pg) != CONNECTION_OK)
        die(pg, "connect");
    char sql[512];
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", t);
    exec(pg, sql);
    snprintf(sql, sizeof sql, "CREATE TABLE %s (key VARCHAR PRIMARY KEY, value JSONB)", t);
    exec(pg, sql);
    snprintf(sql, sizeof sql,
             "INSERT INTO %s (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = "
             "EXCLUDED.value;", t);
    PGresult *r = PQprepare(pg, "up", sql, 2, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die(pg, "prepare");
    PQclear(r);
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE key = $1;", t);
    r = PQprepare(pg, "del", sql, 1, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die(pg, "prepare");
    PQclear(r);

    size_t bytes = 0;
    char key[512];
    raw_start();
    for (size_t off = 0; off < n; off += batch) {
        size_t k = n - off < batch ? n - off : batch;
        if (!PQenterPipelineMode(pg) || !PQsendQueryParams(pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
            die(pg, "begin");
        for (size_t i = off; i < off + k; i++) {
            const struct sample *s = raw_sample(i);
            const char *v[2] = { raw_key(i, key, sizeof key), raw_payload(i, 1) };
            bytes += strlen(v[1]);
            int ok = !strcmp(s->event_name, "s3:ObjectRemoved:Delete")
                         ? PQsendQueryPrepared(pg, "del", 1, v, NULL, NULL, 0)
                         : PQsendQueryPrepared(pg, "up", 2, v, NULL, NULL, 0);
            if (!ok)
                die(pg, "send");
        }
        if (!PQsendQueryParams(pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) || !PQpipelineSync(pg))
            die(pg, "commit");
        /* k + 2 results (each followed by a NULL), then the sync */
        for (size_t q = 0; q < k + 2; q++) {
            r = PQgetResult(pg);
            if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
                die(pg, "result");
            PQclear(r);
            if ((r = PQgetResult(pg)))
                die(pg, "extra result");
        }
        r = PQgetResult(pg);
        if (!r || PQresultStatus(r) != PGRES_PIPELINE_SYNC)
            die(pg, "sync");
        PQclear(r);
        if (!PQexitPipelineMode(pg))
            die(pg, "exit pipeline");
    }
    raw_done("postgres", n, bytes);
    PQfinish(pg);
    return 0;
}
