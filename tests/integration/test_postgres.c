/* test_postgres.c -- the postgres driver against a real PostgreSQL
 * (scripts/postgres.sh start): sends the sample events as MinIO's default
 * route would (Records-only, op delete for s3:ObjectRemoved:Delete) and
 * checks from a separate libpq connection that the tables hold what MinIO
 * would have written. */
#include <libpq-fe.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include "itest.h"
#include "targetconf.h"

extern const struct driver postgres_driver;

#define NS 60
/* Insertion order: transaction, then command within it (ctid is not). */
#define INSERT_ORDER "xmin::text::bigint, cmin::text::bigint"
static struct sample S[NS];
static size_t ns;
static PGconn *admin;
static char port[16], password[64], conninfo[256];

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static int script(const char *cmd)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s/postgres.sh %s >/dev/null 2>&1", env_or("LUAGATE_SCRIPTS", "scripts"), cmd);
    return system(buf);
}

static void quiet(void *arg, const char *message)
{
    (void)arg, (void)message;
}

static int admin_connect(void)
{
    if (admin && PQstatus(admin) == CONNECTION_OK)
        return 0;
    if (admin)
        PQfinish(admin);
    admin = PQconnectdb(conninfo);
    PQsetNoticeProcessor(admin, quiet, NULL);
    return PQstatus(admin) == CONNECTION_OK ? 0 : -1;
}

/* Run sql; returns the result (caller clears) or NULL with a message. */
static PGresult *q(const char *sql)
{
    if (admin_connect())
        return NULL;
    PGresult *r = PQexec(admin, sql);
    if (PQstatus(admin) != CONNECTION_OK) { /* the server restarted: once more */
        PQclear(r);
        if (admin_connect())
            return NULL;
        r = PQexec(admin, sql);
    }
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        printf("  # %s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

static void exec_ok(const char *sql)
{
    PGresult *r = q(sql);
    PQclear(r);
}

/* "a|b|c" of every row's columns, rows joined by ';'. */
static char *rows(const char *sql)
{
    static char out[8192];
    out[0] = 0;
    PGresult *r = q(sql);
    if (!r)
        return strcpy(out, "(error)");
    for (int i = 0; i < PQntuples(r); i++)
        for (int j = 0; j < PQnfields(r); j++) {
            strncat(out, PQgetvalue(r, i, j), sizeof out - strlen(out) - 2);
            strcat(out, j + 1 < PQnfields(r) ? "|" : ";");
        }
    PQclear(r);
    return out;
}

static struct target_conf *conf(const char *table, const char *format, const char *pool)
{
    return ITEST_CONF("postgres", "enable", "on", "connection_string", conninfo, "table", table,
                      "format", format, "max_open_connections", pool);
}

static void *open_target(struct target_conf *c) { return itest_open(&postgres_driver, c); }

static void fill(struct msg *m, const struct sample *s)
{
    itest_fill(m, s, s->records);
    m->op = strcmp(s->event_name, "s3:ObjectRemoved:Delete") ? OP_UPSERT : OP_DELETE;
}

/* Send samples [from, to) in batches of `batch`; counts statuses. */
static int send_samples(void *x, size_t from, size_t to, size_t batch, int *ok)
{
    struct msg m[NS];
    int rc = 0;
    *ok = 0;
    for (size_t i = from; i < to; i += batch) {
        size_t k = to - i < batch ? to - i : batch;
        for (size_t j = 0; j < k; j++)
            fill(&m[j], &S[i + j]);
        if (postgres_driver.send(x, m, k))
            rc = -1;
        for (size_t j = 0; j < k; j++) {
            if (m[j].status == MSG_OK)
                (*ok)++;
            else
                printf("  # msg %zu: status %d %s\n", i + j, m[j].status, m[j].error);
        }
    }
    return rc;
}

static int json_equal(const char *a, const char *b)
{
    cJSON *x = cJSON_Parse(a), *y = cJSON_Parse(b);
    int eq = x && y && cJSON_Compare(x, y, 1);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return eq;
}

/* What MinIO leaves in a namespace table after the samples: last value per
 * key, keys of s3:ObjectRemoved:Delete removed.  Returns the count. */
static size_t expected_ns(const char **key, const char **val)
{
    size_t n = 0;
    for (size_t i = 0; i < ns; i++) {
        size_t j;
        for (j = 0; j < n && strcmp(key[j], S[i].key); j++)
            ;
        if (!strcmp(S[i].event_name, "s3:ObjectRemoved:Delete")) {
            if (j < n) {
                memmove(key + j, key + j + 1, (n - j - 1) * sizeof *key);
                memmove(val + j, val + j + 1, (n - j - 1) * sizeof *val);
                n--;
            }
            continue;
        }
        if (j == n)
            n++;
        key[j] = S[i].key;
        val[j] = S[i].records;
    }
    return n;
}

static int check_ns_table(const char *table)
{
    const char *key[NS], *val[NS];
    size_t n = expected_ns(key, val);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT key, value::text FROM %s", table);
    PGresult *r = q(sql);
    if (!r)
        return 0;
    int good = (size_t)PQntuples(r) == n;
    if (!good)
        printf("  # %s: %d rows, expected %zu\n", table, PQntuples(r), n);
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (int j = 0; j < PQntuples(r); j++)
            if (!strcmp(PQgetvalue(r, j, 0), key[i])) {
                found = 1;
                if (!json_equal(PQgetvalue(r, j, 1), val[i])) {
                    printf("  # %s: value of '%s' differs\n", table, key[i]);
                    good = 0;
                }
            }
        if (!found) {
            printf("  # %s: key '%s' missing\n", table, key[i]);
            good = 0;
        }
    }
    PQclear(r);
    return good;
}

TEST(server_reachable)
{
    if (admin_connect()) {
        char why[256];
        snprintf(why, sizeof why, "%s", PQerrorMessage(admin));
        for (char *p = why; *p; p++)
            if (*p == '\n')
                *p = ' ';
        printf("  # PostgreSQL not reachable on 127.0.0.1:%s (%s): start it with "
               "scripts/postgres.sh start (BASE=... as for this run)\n",
               port, why);
        CHECK(0);
        return;
    }
    exec_ok("DROP TABLE IF EXISTS lg_ns, lg_acc, lg_acc1, lg_rej, lg_out, lg_big, lg_hang, \"lg quoted\", lg_é");
}

TEST(namespace_format)
{
    int ok = 0;
    struct target_conf *c = conf("lg_ns", NULL, NULL);
    void *x = open_target(c);
    CHECK(x);
    if (!x)
        goto out;
    CHECK_INT(send_samples(x, 0, ns, 7, &ok), 0);
    CHECK_INT(ok, ns);
    CHECK(check_ns_table("lg_ns"));
    CHECK_STR(rows("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                   "WHERE table_name = 'lg_ns' ORDER BY ordinal_position"),
              "key|character varying|NO;value|jsonb|YES;");
    CHECK_STR(rows("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                   "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'lg_ns'::regclass AND i.indisprimary"),
              "key;");
    /* replaying everything (at-least-once) leaves the same table */
    CHECK_INT(send_samples(x, 0, ns, 60, &ok), 0);
    CHECK(check_ns_table("lg_ns"));
    postgres_driver.close(x);
out:
    tconf_free(c);
}

/* Access rows ordered by event_time must be the samples, in order, with
 * event_time equal to the record's eventTime. */
static int check_access(const char *table, const char *order)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
             "event_data::text FROM %s ORDER BY %s",
             table, order);
    PGresult *r = q(sql);
    if (!r)
        return 0;
    int good = (size_t)PQntuples(r) == ns;
    if (!good)
        printf("  # %s: %d rows, expected %zu\n", table, PQntuples(r), ns);
    for (size_t i = 0; good && i < ns; i++) {
        if (strcmp(PQgetvalue(r, (int)i, 0), S[i].event_time) ||
            !json_equal(PQgetvalue(r, (int)i, 1), S[i].records)) {
            printf("  # %s row %zu: %s differs from %s\n", table, i, PQgetvalue(r, (int)i, 0),
                   S[i].event_time);
            good = 0;
        }
    }
    PQclear(r);
    return good;
}

TEST(access_format)
{
    int ok = 0;
    struct target_conf *c = conf("lg_acc", "access", "3");
    void *x = open_target(c);
    CHECK(x);
    if (!x)
        goto out;
    CHECK_INT(send_samples(x, 0, ns, 16, &ok), 0);
    CHECK_INT(ok, ns);
    CHECK(check_access("lg_acc", "event_time"));
    CHECK_STR(rows("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                   "WHERE table_name = 'lg_acc' ORDER BY ordinal_position"),
              "event_time|timestamp with time zone|NO;event_data|jsonb|YES;");
    postgres_driver.close(x);
out:
    tconf_free(c);
}

/* One connection: the physical insertion order is the send order. */
TEST(access_order_one_connection)
{
    int ok = 0;
    struct target_conf *c = conf("lg_acc1", "ACCESS", "1");
    void *x = open_target(c);
    CHECK(x);
    if (!x)
        goto out;
    CHECK_INT(send_samples(x, 0, ns, 9, &ok), 0);
    CHECK_INT(ok, ns);
    CHECK(check_access("lg_acc1", INSERT_ORDER));
    postgres_driver.close(x);
out:
    tconf_free(c);
}

TEST(reject_bad_json)
{
    struct target_conf *c = conf("lg_rej", "access", NULL);
    void *x = open_target(c);
    struct msg m[8];
    CHECK(x);
    if (!x)
        goto out;
    for (int i = 0; i < 8; i++)
        fill(&m[i], &S[i]);
    m[2].payload = "{not json";
    m[2].payload_len = strlen(m[2].payload);
    m[6].payload = "[1,2";
    m[6].payload_len = strlen(m[6].payload);
    m[5].event_time = "yesterday-ish";
    CHECK_INT(postgres_driver.send(x, m, 8), 0);
    for (int i = 0; i < 8; i++) {
        int bad = i == 2 || i == 5 || i == 6;
        CHECK_INT(m[i].status, bad ? MSG_REJECT : MSG_OK);
    }
    printf("  # rejected: %s\n", m[2].error);
    CHECK(strstr(m[2].error, "invalid input syntax for type json"));
    CHECK(strstr(m[5].error, "22007") || strstr(m[5].error, "22008"));
    CHECK_STR(rows("SELECT count(*) FROM lg_rej"), "5;");
    postgres_driver.close(x);
out:
    tconf_free(c);
}

TEST(outage_and_recovery)
{
    int ok = 0;
    char err[512] = "";
    struct target_conf *c = conf("lg_out", "access", "1");
    void *x = open_target(c);
    CHECK(x);
    if (!x)
        goto out;
    CHECK_INT(send_samples(x, 0, 20, 10, &ok), 0);
    CHECK_INT(ok, 20);
    CHECK_INT(script("stop"), 0);
    struct msg m[10];
    for (int i = 0; i < 10; i++)
        fill(&m[i], &S[20 + i]);
    CHECK_INT(postgres_driver.send(x, m, 10), -1);
    for (int i = 0; i < 10; i++)
        CHECK_INT(m[i].status, MSG_RETRY);
    printf("  # while down: %s\n", m[0].error);
    CHECK(m[0].error[0]);
    CHECK_INT(postgres_driver.health(x, err, sizeof err), -1);
    CHECK_INT(script("up"), 0);
    CHECK_INT(postgres_driver.health(x, err, sizeof err), 0);
    CHECK_INT(send_samples(x, 20, ns, 10, &ok), 0);
    CHECK_INT(ok, ns - 20);
    CHECK(check_access("lg_out", INSERT_ORDER));
    postgres_driver.close(x);
out:
    tconf_free(c);
}

/* The server restarts while the target is idle: the stale connection must
 * not cost a failed batch. */
TEST(restart_while_idle)
{
    int ok = 0;
    struct target_conf *c = conf("lg_ns", NULL, NULL);
    void *x = open_target(c);
    CHECK(x);
    if (!x)
        goto out;
    CHECK_INT(send_samples(x, 0, 10, 10, &ok), 0);
    CHECK_INT(script("stop"), 0);
    CHECK_INT(script("up"), 0);
    CHECK_INT(send_samples(x, 10, ns, 50, &ok), 0);
    CHECK_INT(ok, ns - 10);
    CHECK(check_ns_table("lg_ns"));
    postgres_driver.close(x);
out:
    tconf_free(c);
}

/* One full batch of big rows: the pipeline is much larger than a socket
 * buffer, so sending has to interleave with reading. */
TEST(large_batch)
{
    enum { N = 256, PAD = 16000 };
    static struct msg m[N];
    char *body = malloc(PAD + 64);
    struct target_conf *c = conf("lg_big", "access", "1");
    void *x = open_target(c);
    CHECK(x && body);
    if (!x || !body)
        goto out;
    strcpy(body, "{\"pad\":\"");
    memset(body + 8, 'x', PAD);
    strcpy(body + 8 + PAD, "\"}");
    for (int i = 0; i < N; i++) {
        fill(&m[i], &S[i % ns]);
        m[i].payload = body;
        m[i].payload_len = strlen(body);
    }
    CHECK_INT(postgres_driver.max_batch >= N, 1);
    CHECK_INT(postgres_driver.send(x, m, N), 0);
    int okc = 0;
    for (int i = 0; i < N; i++)
        okc += m[i].status == MSG_OK;
    CHECK_INT(okc, N);
    CHECK_STR(rows("SELECT count(*) FROM lg_big"), "256;");
    postgres_driver.close(x);
out:
    free(body);
    tconf_free(c);
}

TEST(wrong_password)
{
    char ci[300], err[512] = "";
    snprintf(ci, sizeof ci, "host=127.0.0.1 port=%s dbname=luagate user=gw password=WrongPw-77 sslmode=disable",
             port);
    struct target_conf *c = conf("lg_ns", NULL, NULL);
    tconf_set(c, "connection_string", ci);
    void *x = open_target(c);
    CHECK(x);
    if (!x)
        goto out;
    CHECK_INT(postgres_driver.health(x, err, sizeof err), -1);
    printf("  # health: %s\n", err);
    CHECK(strstr(err, "password authentication failed"));
    CHECK(!strstr(err, "WrongPw-77"));
    struct msg m[2];
    fill(&m[0], &S[0]);
    fill(&m[1], &S[1]);
    CHECK_INT(postgres_driver.send(x, m, 2), -1);
    CHECK_INT(m[0].status, MSG_RETRY);
    CHECK_INT(m[1].status, MSG_RETRY);
    CHECK(strstr(m[1].error, "password authentication failed") && !strstr(m[1].error, "WrongPw-77"));
    postgres_driver.close(x);
out:
    tconf_free(c);
}

/* Names MinIO accepts beyond the plain ones really work as tables. */
TEST(quoted_and_unicode_tables)
{
    const char *tables[] = { "\"lg quoted\"", "lg_é" };
    for (int t = 0; t < 2; t++) {
        int ok = 0;
        struct target_conf *c = conf(tables[t], NULL, NULL);
        void *x = open_target(c);
        CHECK(x);
        if (!x) {
            tconf_free(c);
            continue;
        }
        CHECK_INT(send_samples(x, 0, 5, 5, &ok), 0);
        CHECK_INT(ok, 5);
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[t]);
        CHECK_STR(rows(sql), "5;");
        postgres_driver.close(x);
        tconf_free(c);
    }
}

static int refused(const char *key, const char *val, const char *want, const char *secret)
{
    char err[512] = "";
    struct target_conf *c = conf("lg_ns", NULL, NULL);
    if (val)
        tconf_set(c, key, val);
    else
        tconf_set(c, key, "");
    int rc = tconf_validate(c, err, sizeof err);
    tconf_free(c);
    char quoted[64];
    snprintf(quoted, sizeof quoted, "'%s'", key);
    if (rc != -1 || !strstr(err, quoted) || (want && !strstr(err, want)) ||
        (secret && strstr(err, secret))) {
        printf("  # %s=%s: rc %d, '%s'\n", key, val ? val : "(empty)", rc, err);
        return 0;
    }
    return 1;
}

static int accepted(const char *key, const char *val)
{
    char err[512] = "";
    struct target_conf *c = conf("lg_ns", NULL, NULL);
    tconf_set(c, key, val);
    int rc = tconf_validate(c, err, sizeof err);
    tconf_free(c);
    if (rc)
        printf("  # %s=%s refused: %s\n", key, val, err);
    return rc == 0;
}

TEST(config_validation)
{
    CHECK(refused("table", "public.events", "invalid PostgreSQL table", NULL));
    CHECK(refused("table", "1abc", "invalid PostgreSQL table", NULL));
    CHECK(refused("table", "a-b", "invalid PostgreSQL table", NULL));
    CHECK(refused("table", "x; DROP TABLE y", "invalid PostgreSQL table", NULL));
    CHECK(refused("table", "\"\"", "invalid PostgreSQL table", NULL));
    CHECK(refused("table", "\"a\"b\"", "invalid PostgreSQL table", NULL));
    CHECK(refused("table", "$abc", "invalid PostgreSQL table", NULL));
    CHECK(refused("table", NULL, "required", NULL));
    CHECK(accepted("table", "_t$1"));
    CHECK(accepted("table", "\"my.schema table\""));
    CHECK(accepted("table", "Événements"));
    CHECK(refused("connection_string", NULL, "required", NULL));
    CHECK(refused("connection_string", "host=x password=Sekr1tPw oops", "connection_string", "Sekr1tPw"));
    CHECK(refused("connection_string", "host=x password='Sekr1tPw", "connection_string", "Sekr1tPw"));
    CHECK(refused("connection_string", "host=x Sekr1tPw", "connection_string", "Sekr1tPw"));
    CHECK(refused("connection_string", "postgres://gw:Sekr1tPw@host/db?Sekr1tPw=1", "connection_string", "Sekr1tPw"));
    CHECK(accepted("connection_string", "postgresql://gw:pw@127.0.0.1:5432/db?sslmode=disable"));
    CHECK(refused("format", "json", "namespace or access", NULL));
    CHECK(refused("max_open_connections", "-1", NULL, NULL));
    CHECK(refused("max_open_connections", "two", NULL, NULL));
}

TEST(keys_and_registration)
{
    const struct kind_info *k = driver_kind("postgresql");
    CHECK(k && k->drv == &postgres_driver);
    CHECK_STR(k->kind, "postgres");
    CHECK_STR(k->env_kind, "POSTGRES");
    struct target_conf *c = conf("lg_ns", NULL, NULL);
    CHECK_STR(tconf_printable(c, "connection_string"), "***");
    CHECK_STR(tconf_str(c, "max_open_connections"), "2");
    tconf_free(c);
}

/* A server that accepts but never answers (postmaster and backends
 * stopped): send gives up within the timeouts instead of hanging. */
TEST(hung_server_times_out)
{
    int ok = 0, pids[17] = { 0 }, np = 0;
    struct target_conf *c = conf("lg_hang", "access", "1");
    void *x = open_target(c);
    CHECK(x);
    if (!x)
        goto out;
    CHECK_INT(send_samples(x, 0, 1, 1, &ok), 0);
    PGresult *r = q("SELECT pid FROM pg_stat_activity WHERE usename = 'gw' AND pid <> pg_backend_pid()");
    for (int i = 0; r && i < PQntuples(r) && np < 16; i++)
        pids[np++] = atoi(PQgetvalue(r, i, 0));
    PQclear(r);
    CHECK(np >= 1);
    char path[300];
    snprintf(path, sizeof path, "%s/postgres/pid", env_or("BASE", "/tmp/luagate-test"));
    FILE *f = fopen(path, "r");
    CHECK(f && fscanf(f, "%d", &pids[np]) == 1 && pids[np] > 1);
    if (f)
        fclose(f);
    if (pids[np] > 1)
        np++;
    PQfinish(admin); /* it would hang on the stopped server */
    admin = NULL;
    for (int i = 0; i < np; i++)
        kill(pids[i], SIGSTOP);
    struct msg m[2];
    fill(&m[0], &S[1]);
    fill(&m[1], &S[2]);
    time_t t0 = time(NULL);
    CHECK_INT(postgres_driver.send(x, m, 2), -1);
    long took = (long)(time(NULL) - t0);
    for (int i = 0; i < np; i++)
        kill(pids[i], SIGCONT);
    printf("  # gave up after %ld s: %s\n", took, m[0].error);
    CHECK_INT(m[0].status, MSG_RETRY);
    CHECK_INT(m[1].status, MSG_RETRY);
    CHECK(took >= 4 && took <= 8);
    CHECK_INT(send_samples(x, 3, 5, 2, &ok), 0); /* and it recovers */
    postgres_driver.close(x);
out:
    tconf_free(c);
}

int main(void)
{
    snprintf(port, sizeof port, "%s", env_or("PG_PORT", "15432"));
    snprintf(password, sizeof password, "%s", env_or("PG_PASSWORD", "gw-pg-s3cret"));
    snprintf(conninfo, sizeof conninfo,
             "host=127.0.0.1 port=%s dbname=luagate user=gw password=%s sslmode=disable", port, password);
    ns = unit_samples(S, NS);
    if (ns != NS)
        printf("  # expected %d samples, got %zu\n", NS, ns);
    RUN(keys_and_registration);
    RUN(config_validation);
    RUN(server_reachable);
    if (admin_connect() == 0) {
        RUN(namespace_format);
        RUN(access_format);
        RUN(access_order_one_connection);
        RUN(reject_bad_json);
        RUN(large_batch);
        RUN(wrong_password);
        RUN(quoted_and_unicode_tables);
        RUN(outage_and_recovery);
        RUN(restart_while_idle);
        RUN(hung_server_times_out);
    }
    if (admin)
        PQfinish(admin);
    unit_samples_free(S, ns);
    return unit_done();
}
