/* test_mysql.c -- the mysql driver against a real MariaDB (scripts/mariadb.sh
 * start): sends the sample events as MinIO's default route would
 * (Records-only, op delete for s3:ObjectRemoved:Delete) and checks from a
 * separate libmariadb connection that the tables hold what MinIO would have
 * written.  The test user's password contains '@', ':' and '/' on purpose. */
#include <mysql.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include "itest.h"
#include "targetconf.h"

extern const struct driver mysql_driver;

#define NS 60
static struct sample S[NS];
static size_t ns;
static MYSQL *admin;
static char port[16], password[64], dsn[256], base[256];
static int maria;

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static int script(const char *cmd)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s/mariadb.sh %s >/dev/null 2>&1", env_or("LUAGATE_SCRIPTS", "scripts"), cmd);
    return system(buf);
}

static int admin_connect(void)
{
    if (admin && !mysql_ping(admin))
        return 0;
    if (admin)
        mysql_close(admin);
    admin = mysql_init(NULL);
    unsigned proto = MYSQL_PROTOCOL_TCP, t = 5;
    mysql_options(admin, MYSQL_OPT_PROTOCOL, &proto);
    mysql_options(admin, MYSQL_OPT_CONNECT_TIMEOUT, &t);
    mysql_options(admin, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(admin, "127.0.0.1", "gw", password, "luagate", (unsigned)atoi(port), NULL, 0))
        return -1;
    maria = strstr(mysql_get_server_info(admin), "MariaDB") != NULL;
    return 0;
}

/* Rows of a query (caller frees), or NULL with a message. */
static MYSQL_RES *q(const char *sql)
{
    if (admin_connect() || mysql_query(admin, sql)) {
        printf("  # %s: %s\n", sql, mysql_error(admin));
        return NULL;
    }
    MYSQL_RES *r = mysql_store_result(admin);
    if (!r && mysql_field_count(admin))
        printf("  # %s: %s\n", sql, mysql_error(admin));
    return r;
}

static void exec_ok(const char *sql)
{
    MYSQL_RES *r = q(sql);
    if (r)
        mysql_free_result(r);
}

/* "a|b;c|d;" */
static char *rows(const char *sql)
{
    static char out[8192];
    out[0] = 0;
    MYSQL_RES *r = q(sql);
    if (!r)
        return strcpy(out, "(error)");
    MYSQL_ROW row;
    unsigned nf = mysql_num_fields(r);
    while ((row = mysql_fetch_row(r)))
        for (unsigned j = 0; j < nf; j++) {
            strncat(out, row[j] ? row[j] : "NULL", sizeof out - strlen(out) - 2);
            strcat(out, j + 1 < nf ? "|" : ";");
        }
    mysql_free_result(r);
    return out;
}

static struct target_conf *conf(const char *table, const char *format, const char *pool)
{
    return ITEST_CONF("mysql", "enable", "on", "dsn_string", dsn, "table", table, "format", format,
                      "max_open_connections", pool);
}

static void *open_target(struct target_conf *c) { return itest_open(&mysql_driver, c); }

static void fill(struct msg *m, const struct sample *s)
{
    itest_fill(m, s, s->records);
    m->op = strcmp(s->event_name, "s3:ObjectRemoved:Delete") ? OP_UPSERT : OP_DELETE;
}

static int send_samples(void *x, size_t from, size_t to, size_t batch, int *ok)
{
    struct msg m[NS];
    int rc = 0;
    *ok = 0;
    for (size_t i = from; i < to; i += batch) {
        size_t k = to - i < batch ? to - i : batch;
        for (size_t j = 0; j < k; j++)
            fill(&m[j], &S[i + j]);
        if (mysql_driver.send(x, m, k))
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

/* MariaDB stores JSON text as given: byte for byte; MySQL normalises it. */
static int same_json(const char *got, const char *want)
{
    if (maria)
        return !strcmp(got, want);
    cJSON *x = cJSON_Parse(got), *y = cJSON_Parse(want);
    int eq = x && y && cJSON_Compare(x, y, 1);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return eq;
}

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
    snprintf(sql, sizeof sql, "SELECT key_name, value, key_hash = SHA2(key_name, 256) FROM %s", table);
    MYSQL_RES *r = q(sql);
    if (!r)
        return 0;
    int good = mysql_num_rows(r) == n;
    if (!good)
        printf("  # %s: %llu rows, expected %zu\n", table, (unsigned long long)mysql_num_rows(r), n);
    MYSQL_ROW row;
    size_t seen = 0;
    while ((row = mysql_fetch_row(r))) {
        size_t i;
        for (i = 0; i < n && strcmp(key[i], row[0]); i++)
            ;
        if (i == n) {
            printf("  # %s: unexpected key '%s'\n", table, row[0]);
            good = 0;
        } else if (!row[1] || !same_json(row[1], val[i]) || strcmp(row[2], "1")) {
            printf("  # %s: row of '%s' differs\n", table, key[i]);
            good = 0;
        } else
            seen++;
    }
    mysql_free_result(r);
    return good && seen == n;
}

TEST(server_reachable)
{
    if (admin_connect()) {
        printf("  # MariaDB not reachable on 127.0.0.1:%s (%s): start it with "
               "scripts/mariadb.sh start (BASE=... as for this run)\n",
               port, mysql_error(admin));
        CHECK(0);
        return;
    }
    CHECK(maria);
    exec_ok("DROP TABLE IF EXISTS lg_ns, lg_acc, lg_acc1, lg_rej, lg_rejns, lg_out, lg_big, lg_hang, lg_sock");
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
    CHECK_STR(rows("SELECT column_name, column_type, is_nullable, extra, generation_expression "
                   "FROM information_schema.columns WHERE table_schema = 'luagate' AND "
                   "table_name = 'lg_ns' ORDER BY ordinal_position"),
              "key_name|varchar(3072)|NO||NULL;key_hash|char(64)|YES|STORED GENERATED|sha2(`key_name`,256);"
              "value|longtext|YES||NULL;");
    CHECK_STR(rows("SELECT index_name, non_unique, column_name FROM information_schema.statistics "
                   "WHERE table_schema = 'luagate' AND table_name = 'lg_ns'"),
              "key_hash|0|key_hash;");
    CHECK_STR(rows("SELECT table_collation, row_format FROM information_schema.tables "
                   "WHERE table_schema = 'luagate' AND table_name = 'lg_ns'"),
              "utf8mb4_bin|Dynamic;");
    CHECK_STR(rows("SELECT check_clause FROM information_schema.check_constraints "
                   "WHERE constraint_schema = 'luagate' AND table_name = 'lg_ns'"),
              "json_valid(`value`);");
    /* replaying everything (at-least-once) leaves the same table */
    CHECK_INT(send_samples(x, 0, ns, 60, &ok), 0);
    CHECK(check_ns_table("lg_ns"));
    mysql_driver.close(x);
out:
    tconf_free(c);
}

/* Rows in `order`: event_time is the eventTime truncated to the second
 * (what MariaDB makes of go-sql-driver's "2006-01-02 15:04:05.123"). */
static int check_access(const char *table, const char *order)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT DATE_FORMAT(event_time, '%%Y-%%m-%%dT%%H:%%i:%%s'), event_data FROM %s %s",
             table, order);
    MYSQL_RES *r = q(sql);
    if (!r)
        return 0;
    int good = mysql_num_rows(r) == ns;
    if (!good)
        printf("  # %s: %llu rows, expected %zu\n", table, (unsigned long long)mysql_num_rows(r), ns);
    MYSQL_ROW row;
    for (size_t i = 0; good && (row = mysql_fetch_row(r)); i++)
        if (strncmp(row[0], S[i].event_time, 19) || !same_json(row[1], S[i].records)) {
            printf("  # %s row %zu: %s differs from %s\n", table, i, row[0], S[i].event_time);
            good = 0;
        }
    mysql_free_result(r);
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
    CHECK(check_access("lg_acc", "ORDER BY event_time, JSON_VALUE(event_data, '$.Records[0].eventTime')"));
    CHECK_STR(rows("SELECT column_name, column_type, is_nullable FROM information_schema.columns "
                   "WHERE table_schema = 'luagate' AND table_name = 'lg_acc' ORDER BY ordinal_position"),
              "event_time|datetime|NO;event_data|longtext|YES;");
    CHECK_STR(rows("SELECT row_format FROM information_schema.tables "
                   "WHERE table_schema = 'luagate' AND table_name = 'lg_acc'"),
              "Dynamic;");
    mysql_driver.close(x);
out:
    tconf_free(c);
}

/* One connection: InnoDB's hidden row id keeps insertion order. */
TEST(access_order_one_connection)
{
    int ok = 0;
    struct target_conf *c = conf("lg_acc1", "Access", "1");
    void *x = open_target(c);
    CHECK(x);
    if (!x)
        goto out;
    CHECK_INT(send_samples(x, 0, ns, 9, &ok), 0);
    CHECK_INT(ok, ns);
    CHECK(check_access("lg_acc1", ""));
    mysql_driver.close(x);
out:
    tconf_free(c);
}

TEST(reject_bad_rows)
{
    struct msg m[8];
    struct target_conf *c = conf("lg_rej", "access", NULL);
    void *x = open_target(c);
    CHECK(x);
    if (!x)
        goto out;
    for (int i = 0; i < 8; i++)
        fill(&m[i], &S[i]);
    m[2].payload = "{not json";
    m[2].payload_len = strlen(m[2].payload);
    m[6].payload = "[1,2";
    m[6].payload_len = strlen(m[6].payload);
    m[5].event_time = "2026-11-21T08:00:02Z";
    CHECK_INT(mysql_driver.send(x, m, 8), 0);
    for (int i = 0; i < 8; i++)
        CHECK_INT(m[i].status, (i == 2 || i == 5 || i == 6) ? MSG_REJECT : MSG_OK);
    printf("  # rejected: %s | %s\n", m[2].error, m[5].error);
    CHECK(strstr(m[2].error, "4025") && strstr(m[2].error, "CONSTRAINT"));
    CHECK(strstr(m[5].error, "invalid eventTime"));
    CHECK_STR(rows("SELECT count(*) FROM lg_rej"), "5;");
    mysql_driver.close(x);
    tconf_free(c);

    /* namespace: a bad upsert is rejected, the rest of the batch lands */
    c = conf("lg_rejns", NULL, "1");
    x = open_target(c);
    CHECK(x);
    if (!x)
        goto out;
    for (int i = 0; i < 4; i++)
        fill(&m[i], &S[i]);
    m[1].payload = "not json at all";
    m[1].payload_len = strlen(m[1].payload);
    CHECK_INT(mysql_driver.send(x, m, 4), 0);
    for (int i = 0; i < 4; i++)
        CHECK_INT(m[i].status, i == 1 ? MSG_REJECT : MSG_OK);
    CHECK_STR(rows("SELECT count(*) FROM lg_rejns"), "3;");
    mysql_driver.close(x);
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
    CHECK_INT(mysql_driver.send(x, m, 10), -1);
    for (int i = 0; i < 10; i++)
        CHECK_INT(m[i].status, MSG_RETRY);
    printf("  # while down: %s\n", m[0].error);
    CHECK(m[0].error[0]);
    CHECK_INT(mysql_driver.health(x, err, sizeof err), -1);
    CHECK_INT(script("up"), 0);
    CHECK_INT(mysql_driver.health(x, err, sizeof err), 0);
    CHECK_INT(send_samples(x, 20, ns, 10, &ok), 0);
    CHECK_INT(ok, ns - 20);
    CHECK(check_access("lg_out", ""));
    mysql_driver.close(x);
out:
    tconf_free(c);
}

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
    mysql_driver.close(x);
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
    CHECK_INT(mysql_driver.max_batch >= N, 1);
    CHECK_INT(mysql_driver.send(x, m, N), 0);
    int okc = 0;
    for (int i = 0; i < N; i++)
        okc += m[i].status == MSG_OK;
    CHECK_INT(okc, N);
    CHECK_STR(rows("SELECT count(*) FROM lg_big"), "256;");
    mysql_driver.close(x);
out:
    free(body);
    tconf_free(c);
}

TEST(wrong_password)
{
    char d[300], err[512] = "";
    snprintf(d, sizeof d, "gw:WrongPw-77@tcp(127.0.0.1:%s)/luagate", port);
    struct target_conf *c = conf("lg_ns", NULL, NULL);
    tconf_set(c, "dsn_string", d);
    void *x = open_target(c);
    CHECK(x);
    if (!x)
        goto out;
    CHECK_INT(mysql_driver.health(x, err, sizeof err), -1);
    printf("  # health: %s\n", err);
    CHECK(strstr(err, "Access denied") && !strstr(err, "WrongPw-77"));
    struct msg m[2];
    fill(&m[0], &S[0]);
    fill(&m[1], &S[1]);
    CHECK_INT(mysql_driver.send(x, m, 2), -1);
    CHECK_INT(m[0].status, MSG_RETRY);
    CHECK_INT(m[1].status, MSG_RETRY);
    CHECK(strstr(m[1].error, "Access denied") && !strstr(m[1].error, "WrongPw-77"));
    mysql_driver.close(x);
out:
    tconf_free(c);
}

/* unix(/path) with no password (root@localhost has none in the test db). */
TEST(unix_socket)
{
    int ok = 0;
    char d[400];
    snprintf(d, sizeof d, "root@unix(%s/mariadb/mysqld.sock)/luagate?timeout=3s&charset=utf8mb4&collation=utf8mb4_bin&parseTime=true&foo=bar",
             base);
    struct target_conf *c = conf("lg_sock", NULL, NULL);
    tconf_set(c, "dsn_string", d);
    void *x = open_target(c);
    CHECK(x);
    if (!x)
        goto out;
    CHECK_INT(send_samples(x, 0, 5, 5, &ok), 0);
    CHECK_INT(ok, 5);
    CHECK_STR(rows("SELECT count(*) FROM lg_sock"), "5;");
    mysql_driver.close(x);
out:
    tconf_free(c);
}

/* The test server has no TLS: preferred falls back, skip-verify refuses. */
TEST(tls_modes)
{
    char d[300], err[512] = "";
    snprintf(d, sizeof d, "gw:%s@tcp(127.0.0.1:%s)/luagate?tls=preferred", password, port);
    struct target_conf *c = conf("lg_ns", NULL, NULL);
    tconf_set(c, "dsn_string", d);
    void *x = open_target(c);
    CHECK(x);
    if (x) {
        CHECK_INT(mysql_driver.health(x, err, sizeof err), 0);
        mysql_driver.close(x);
    }
    snprintf(d, sizeof d, "gw:%s@tcp(127.0.0.1:%s)/luagate?tls=true", password, port);
    tconf_set(c, "dsn_string", d);
    x = open_target(c);
    CHECK(x);
    if (x) {
        CHECK_INT(mysql_driver.health(x, err, sizeof err), -1);
        printf("  # tls=true: %s\n", err);
        CHECK(err[0] && !strstr(err, password));
        mysql_driver.close(x);
    }
    snprintf(d, sizeof d, "gw:%s@tcp(127.0.0.1:%s)/luagate?tls=skip-verify", password, port);
    tconf_set(c, "dsn_string", d);
    x = open_target(c);
    CHECK(x);
    if (x) {
        CHECK_INT(mysql_driver.health(x, err, sizeof err), -1);
        printf("  # tls=skip-verify: %s\n", err);
        CHECK(strstr(err, "TLS requested but server does not support TLS"));
        mysql_driver.close(x);
    }
    tconf_free(c);
}

static int refused(const char *key, const char *val, const char *want, const char *secret)
{
    char err[512] = "";
    struct target_conf *c = conf("lg_ns", NULL, NULL);
    tconf_set(c, key, val ? val : "");
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
    CHECK(refused("table", "luagate.events", "plain table name", NULL));
    CHECK(refused("table", "t; DROP TABLE users", "plain table name", NULL));
    CHECK(refused("table", "`t`", "plain table name", NULL));
    CHECK(refused("table", "1abc", "plain table name", NULL));
    CHECK(refused("table", "événements", "plain table name", NULL));
    CHECK(refused("table", "a2345678901234567890123456789012345678901234567890123456789012345", "plain table name", NULL));
    CHECK(accepted("table", "a234567890123456789012345678901234567890123456789012345678901234"));
    CHECK(accepted("table", "_minio$events"));
    CHECK(refused("table", NULL, "required", NULL));
    CHECK(refused("dsn_string", NULL, "required", NULL));
    CHECK(refused("dsn_string", "gw:Sekr1tPw@tcp(127.0.0.1:3306)luagate",
                  "invalid DSN: missing the slash separating the database name", "Sekr1tPw"));
    CHECK(refused("dsn_string", "gw:Sekr1tPw@tcp(127.0.0.1:3306/luagate",
                  "invalid DSN: network address not terminated (missing closing brace)", "Sekr1tPw"));
    CHECK(refused("dsn_string", "gw:Sekr1tPw@tcp(h)/db?tls=mine", "invalid value / unknown config name: mine",
                  "Sekr1tPw"));
    CHECK(refused("dsn_string", "gw:Sekr1tPw@tcp(h)/db?timeout=5", "time: missing unit in duration \"5\"",
                  "Sekr1tPw"));
    CHECK(refused("dsn_string", "gw:Sekr1tPw@tcp(h)/db?parseTime=on", "invalid bool value: on", "Sekr1tPw"));
    CHECK(accepted("dsn_string", "gw:p@ss@tcp(db:3307)/x?timeout=5s&tls=false&sql_mode=ANSI"));
    CHECK(accepted("dsn_string", "gw@unix(/run/mysqld/mysqld.sock)/x"));
    CHECK(refused("format", "json", "namespace or access", NULL));
    CHECK(refused("max_open_connections", "-2", NULL, NULL));
}

TEST(keys_and_registration)
{
    const struct kind_info *k = driver_kind("mysql");
    CHECK(k && k->drv == &mysql_driver);
    CHECK_STR(k->arn_kind, "mysql");
    CHECK_STR(k->env_kind, "MYSQL");
    struct target_conf *c = conf("lg_ns", NULL, NULL);
    CHECK_STR(tconf_printable(c, "dsn_string"), "***");
    CHECK_STR(tconf_str(c, "format"), "namespace");
    CHECK_STR(tconf_str(c, "max_open_connections"), "2");
    tconf_free(c);
}

/* The whole server stopped (accepts, never answers): send gives up within
 * the read/connect timeouts instead of hanging. */
TEST(hung_server_times_out)
{
    int ok = 0;
    char path[300];
    long pid = 0;
    struct target_conf *c = conf("lg_hang", "access", "1");
    void *x = open_target(c);
    CHECK(x);
    if (!x)
        goto out;
    CHECK_INT(send_samples(x, 0, 1, 1, &ok), 0);
    snprintf(path, sizeof path, "%s/mariadb/pid", base);
    FILE *f = fopen(path, "r");
    CHECK(f && fscanf(f, "%ld", &pid) == 1 && pid > 1);
    if (f)
        fclose(f);
    if (pid <= 1)
        goto done;
    mysql_close(admin); /* the stopped server would hang its ping */
    admin = NULL;
    kill((pid_t)pid, SIGSTOP);
    struct msg m[2];
    fill(&m[0], &S[1]);
    fill(&m[1], &S[2]);
    time_t t0 = time(NULL);
    CHECK_INT(mysql_driver.send(x, m, 2), -1);
    long took = (long)(time(NULL) - t0);
    kill((pid_t)pid, SIGCONT);
    printf("  # gave up after %ld s: %s\n", took, m[0].error);
    CHECK_INT(m[0].status, MSG_RETRY);
    CHECK_INT(m[1].status, MSG_RETRY);
    CHECK(took >= 4 && took <= 8);
    CHECK_INT(send_samples(x, 3, 5, 2, &ok), 0);
done:
    mysql_driver.close(x);
out:
    tconf_free(c);
}

int main(void)
{
    snprintf(port, sizeof port, "%s", env_or("MYSQL_PORT", "13306"));
    snprintf(password, sizeof password, "%s", env_or("MYSQL_PASSWORD", "g@te:pw/1"));
    snprintf(base, sizeof base, "%s", env_or("BASE", "/tmp/luagate-test"));
    snprintf(dsn, sizeof dsn, "gw:%s@tcp(127.0.0.1:%s)/luagate?timeout=5s", password, port);
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
        RUN(reject_bad_rows);
        RUN(large_batch);
        RUN(wrong_password);
        RUN(unix_socket);
        RUN(tls_modes);
        RUN(outage_and_recovery);
        RUN(restart_while_idle);
        RUN(hung_server_times_out);
    }
    if (admin)
        mysql_close(admin);
    unit_samples_free(S, ns);
    return unit_done();
}
