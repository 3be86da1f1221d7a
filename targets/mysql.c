/* mysql.c -- MySQL/MariaDB target (MinIO's notify_mysql, ARN mysql).
 *
 * Same table, DDL and statements as MinIO (reference §3.8), with a
 * go-sql-driver DSN (mysql_dsn.c).  On MariaDB, which refuses MinIO's
 * namespace DDL, the same columns get a UNIQUE KEY on key_hash (ERRATA).
 * Differences on purpose: `table` must be a plain identifier (MinIO pastes
 * it into SQL unchecked), a batch is one transaction, a row the server
 * refuses is rejected alone (InnoDB undoes only the failing statement, so
 * the others still commit), and max_open_connections is a real pool: a
 * batch is split over up to N connections by a hash of the row key and the
 * parts run in parallel threads, one key's messages in order on one
 * connection. */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include "clock.h"
#include "driver.h"
#include "sqlpool.h"
#include "mysql_dsn.h"

#define MY_TIMEOUT_S 5
#define MY_MAX_CONNS SQLPOOL_MAX_CONNS
#define MY_MAX_BATCH 256
#define MY_TABLE_MAX 64

struct my_conn {
    MYSQL *db;
    MYSQL_STMT *upsert, *del, *insert;
};

struct my_ctx {
    struct mysql_dsn dsn;
    char table[MY_TABLE_MAX + 1];
    int access;
    int table_ok; /* written only by the thread calling send/health */
    size_t nconn;
    struct my_conn conn[MY_MAX_CONNS];
};

/* A connection's share of one batch, run by one thread. */
struct my_part {
    struct my_ctx *x;
    size_t c;
    struct msg *msgs;
    const char **keys;
    size_t *idx;
    size_t n;
    int table_gone;
};

static pthread_once_t my_once = PTHREAD_ONCE_INIT;
static int my_lib_rc;

static void my_lib_init(void)
{
    my_lib_rc = mysql_library_init(0, NULL, NULL);
}

/* One line, the password masked: server texts never carry it, but a DSN
 * mistake might put it where a message quotes. */
static void clean_err(const char *pw, const char *src, char *dst, size_t len)
{
    char line[2048];
    size_t o = 0;
    for (const char *s = src ? src : ""; *s && o + 1 < sizeof line; s++)
        line[o++] = (*s == '\n' || *s == '\r' || *s == '\t') ? ' ' : *s;
    line[o] = 0;
    tconf_mask(pw, line, sizeof line);
    if (len)
        snprintf(dst, len, "%s", line);
}

/* MinIO does not check the name at all; we take a plain identifier only. */
static int my_table_ok(const char *t)
{
    size_t n = strlen(t);
    if (!n || n > MY_TABLE_MAX || !(isalpha((unsigned char)t[0]) || t[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '$'))
            return 0;
    return 1;
}

static int my_validate(const struct target_conf *c, char *err, size_t errlen)
{
    int access;
    char why[256];
    struct mysql_dsn d;
    const char *t = tconf_str(c, "table");
    if (*t && !my_table_ok(t)) {
        snprintf(err, errlen, "%s: key 'table' must be a plain table name ([A-Za-z_][A-Za-z0-9_$]*, at most 64), not '%s'",
                 tconf_name(c), t);
        return -1;
    }
    if (tconf_access_format(c, &access, err, errlen))
        return -1;
    if (tconf_isset(c, "dsn_string")) {
        if (mysql_dsn_parse(tconf_str(c, "dsn_string"), &d, why, sizeof why)) {
            snprintf(err, errlen, "%s: key 'dsn_string': %s", tconf_name(c), why);
            return -1;
        }
        mysql_dsn_free(&d);
    }
    return 0;
}

static unsigned secs(long long ms)
{
    return ms <= 0 ? MY_TIMEOUT_S : (unsigned)((ms + 999) / 1000);
}

static void my_drop(struct my_ctx *x, size_t i)
{
    struct my_conn *c = &x->conn[i];
    if (c->upsert)
        mysql_stmt_close(c->upsert);
    if (c->del)
        mysql_stmt_close(c->del);
    if (c->insert)
        mysql_stmt_close(c->insert);
    if (c->db)
        mysql_close(c->db);
    memset(c, 0, sizeof *c);
}

static int my_query(struct my_ctx *x, MYSQL *db, const char *sql, char *err, size_t len)
{
    if (mysql_query(db, sql)) {
        clean_err(x->dsn.passwd, mysql_error(db), err, len);
        return -1;
    }
    MYSQL_RES *r = mysql_store_result(db); /* a SELECT's rows must be read */
    if (r)
        mysql_free_result(r);
    else if (mysql_field_count(db)) {
        clean_err(x->dsn.passwd, mysql_error(db), err, len);
        return -1;
    }
    return 0;
}

/* MinIO's check and DDL; MariaDB gets a UNIQUE KEY instead of the PRIMARY
 * KEY on the generated column (and no NOT NULL on it), per ERRATA. */
static int my_create_table(struct my_ctx *x, MYSQL *db, char *err, size_t len)
{
    char sql[640];
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s LIMIT 1;", x->table);
    if (!my_query(x, db, sql, err, len))
        return 0;
    if (x->access) {
        snprintf(sql, sizeof sql,
                 "CREATE TABLE %s (event_time DATETIME NOT NULL, event_data JSON) ROW_FORMAT = Dynamic;",
                 x->table);
        return my_query(x, db, sql, err, len);
    }
    int maria = strstr(mysql_get_server_info(db), "MariaDB") != NULL;
    if (!maria) {
        snprintf(sql, sizeof sql,
                 "CREATE TABLE %s (key_name VARCHAR(3072) NOT NULL, key_hash CHAR(64) GENERATED ALWAYS AS (SHA2(key_name, 256)) STORED NOT NULL PRIMARY KEY, value JSON) CHARACTER SET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = Dynamic;",
                 x->table);
        if (!my_query(x, db, sql, err, len))
            return 0;
        unsigned e = mysql_errno(db);
        if (e != ER_PARSE_ERROR && e != ER_PRIMARY_KEY_BASED_ON_GENERATED_COLUMN &&
            e != ER_UNSUPPORTED_ACTION_ON_GENERATED_COLUMN)
            return -1;
    }
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s (key_name VARCHAR(3072) NOT NULL, key_hash CHAR(64) GENERATED ALWAYS AS (SHA2(key_name, 256)) STORED, value JSON, UNIQUE KEY (key_hash)) CHARACTER SET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = Dynamic;",
             x->table);
    return my_query(x, db, sql, err, len);
}

static MYSQL_STMT *my_prepare(struct my_ctx *x, MYSQL *db, const char *fmt, char *err, size_t len)
{
    char sql[512];
    MYSQL_STMT *st = mysql_stmt_init(db);
    if (!st) {
        snprintf(err, len, "out of memory");
        return NULL;
    }
    int n = snprintf(sql, sizeof sql, fmt, x->table);
    if (mysql_stmt_prepare(st, sql, (unsigned long)n)) {
        clean_err(x->dsn.passwd, mysql_stmt_error(st), err, len);
        mysql_stmt_close(st);
        return NULL;
    }
    return st;
}

static int word_ok(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return 0;
    return n > 0 && n <= 64;
}

static int my_connect(struct my_ctx *x, struct my_conn *c, char *err, size_t len)
{
    const struct mysql_dsn *d = &x->dsn;
    if (!(c->db = mysql_init(NULL))) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    unsigned ct = secs(d->timeout_ms), rt = secs(d->read_timeout_ms), wt = secs(d->write_timeout_ms);
    unsigned proto = d->socket ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
    my_bool on = 1, off = 0;
    int rc = mysql_options(c->db, MYSQL_OPT_CONNECT_TIMEOUT, &ct) ||
             mysql_options(c->db, MYSQL_OPT_READ_TIMEOUT, &rt) ||
             mysql_options(c->db, MYSQL_OPT_WRITE_TIMEOUT, &wt) ||
             mysql_options(c->db, MYSQL_OPT_PROTOCOL, &proto) ||
             mysql_options(c->db, MYSQL_SET_CHARSET_NAME, d->charset ? d->charset : "utf8mb4");
    if (!rc && d->tls != DSN_TLS_OFF) {
        /* true: verified against the system CAs; skip-verify / preferred:
         * encrypted without verification (preferred falls back to plain) */
        rc = mysql_ssl_set(c->db, NULL, NULL, NULL, NULL, NULL) ||
             mysql_options(c->db, MYSQL_OPT_SSL_ENFORCE, d->tls == DSN_TLS_PREFERRED ? &off : &on) ||
             mysql_options(c->db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, d->tls == DSN_TLS_VERIFY ? &on : &off);
        if (!rc && d->tls == DSN_TLS_VERIFY)
            rc = mysql_options(c->db, MYSQL_OPT_SSL_CAPATH, "/etc/ssl/certs");
    }
    if (rc) {
        snprintf(err, len, "cannot set connection options");
        return -1;
    }
    if (!mysql_real_connect(c->db, d->socket ? NULL : d->host, d->user, d->passwd,
                            *d->dbname ? d->dbname : NULL, d->port, d->socket, 0)) {
        clean_err(d->passwd, mysql_error(c->db), err, len);
        return -1;
    }
    /* READ COMMITTED: under REPEATABLE READ the gap locks that upserts and
     * deletes of new keys take on the unique key_hash index deadlock the
     * pool's parallel transactions (InnoDB error 1213) */
    if (my_query(x, c->db, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", err, len))
        return -1;
    /* go-sql-driver's collation param: SET NAMES <charset> COLLATE <collation> */
    if (d->collation) {
        char sql[200];
        if (!word_ok(d->collation) || (d->charset && !word_ok(d->charset))) {
            snprintf(err, len, "invalid charset or collation in dsn_string");
            return -1;
        }
        snprintf(sql, sizeof sql, "SET NAMES %s COLLATE %s", d->charset ? d->charset : "utf8mb4",
                 d->collation);
        if (my_query(x, c->db, sql, err, len))
            return -1;
    }
    /* libmariadb quietly goes on in plain text unless it must verify */
    if (d->tls != DSN_TLS_OFF && !d->allow_fallback && !mysql_get_ssl_cipher(c->db)) {
        snprintf(err, len, "TLS requested but server does not support TLS");
        return -1;
    }
    return 0;
}

/* Connect connection i if needed, check/create the table once (MinIO's
 * SELECT then CREATE, with LIMIT 1 so a big table is not read whole), and
 * prepare this format's statements on the connection. */
static int my_ready(struct my_ctx *x, size_t i, char *err, size_t len)
{
    struct my_conn *c = &x->conn[i];
    if (c->db && x->table_ok)
        return 0;
    if (!c->db && my_connect(x, c, err, len))
        goto fail;
    if (!x->table_ok) {
        if (my_create_table(x, c->db, err, len))
            goto fail;
        x->table_ok = 1;
    }
    if (c->insert || c->upsert)
        return 0;
    if (x->access) {
        if (!(c->insert = my_prepare(x, c->db, "INSERT INTO %s (event_time, event_data) VALUES (?, ?);", err, len)))
            goto fail;
    } else if (!(c->upsert = my_prepare(x, c->db, "INSERT INTO %s (key_name, value) VALUES (?, ?) ON DUPLICATE KEY UPDATE value=VALUES(value);", err, len)) ||
               !(c->del = my_prepare(x, c->db, "DELETE FROM %s WHERE key_hash = SHA2(?, 256);", err, len)))
        goto fail;
    return 0;
fail:
    my_drop(x, i);
    return -1;
}

static void *my_open(const struct target_conf *c, char *err, size_t errlen)
{
    char why[256];
    pthread_once(&my_once, my_lib_init);
    if (my_lib_rc) {
        snprintf(err, errlen, "%s: cannot initialise libmariadb", tconf_name(c));
        return NULL;
    }
    struct my_ctx *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        return NULL;
    }
    const char *t = tconf_str(c, "table");
    if (!my_table_ok(t)) {
        snprintf(err, errlen, "%s: key 'table' must be a plain table name, not '%s'", tconf_name(c), t);
        goto fail;
    }
    strcpy(x->table, t);
    if (tconf_access_format(c, &x->access, err, errlen))
        goto fail;
    if (mysql_dsn_parse(tconf_str(c, "dsn_string"), &x->dsn, why, sizeof why)) {
        snprintf(err, errlen, "%s: key 'dsn_string': %s", tconf_name(c), why);
        goto fail;
    }
    long long n = tconf_int(c, "max_open_connections");
    x->nconn = n <= 0 ? 2 : n > MY_MAX_CONNS ? MY_MAX_CONNS : (size_t)n;
    return x;
fail:
    free(x);
    return NULL;
}

static void my_close(void *ctx)
{
    struct my_ctx *x = ctx;
    if (!x)
        return;
    for (size_t i = 0; i < MY_MAX_CONNS; i++)
        my_drop(x, i);
    mysql_dsn_free(&x->dsn);
    free(x);
}

static int my_health(void *ctx, char *err, size_t errlen)
{
    struct my_ctx *x = ctx;
    if (my_ready(x, 0, err, errlen))
        return -1;
    if (mysql_ping(x->conn[0].db)) {
        clean_err(x->dsn.passwd, mysql_error(x->conn[0].db), err, errlen);
        my_drop(x, 0);
        return -1;
    }
    return 0;
}

/* ---- sending ---- */

static int my_exec(MYSQL_STMT *st, const char *a, size_t al, const char *b, size_t bl)
{
    MYSQL_BIND bind[2];
    unsigned long len[2] = { (unsigned long)al, (unsigned long)bl };
    memset(bind, 0, sizeof bind);
    bind[0].buffer_type = MYSQL_TYPE_STRING;
    bind[0].buffer = (void *)a;
    bind[0].buffer_length = len[0];
    bind[0].length = &len[0];
    bind[1].buffer_type = MYSQL_TYPE_STRING;
    bind[1].buffer = (void *)b;
    bind[1].buffer_length = len[1];
    bind[1].length = &len[1];
    return mysql_stmt_bind_param(st, bind) || mysql_stmt_execute(st) ? -1 : 0;
}

/* Errors that blame the row: data exceptions and integrity violations
 * (MariaDB's JSON CHECK constraint is 4025/23000). */
static int blames_row(unsigned e, const char *state)
{
    return (state && (!strncmp(state, "22", 2) || !strncmp(state, "23", 2))) ||
           e == ER_TRUNCATED_WRONG_VALUE_FOR_FIELD || e == ER_CONSTRAINT_FAILED;
}

static int conn_gone(unsigned e)
{
    return (e >= CR_MIN_ERROR && e <= CR_MAX_ERROR) || e == ER_CONNECTION_KILLED ||
           e == ER_SERVER_SHUTDOWN || e == ER_NET_READ_INTERRUPTED || e == ER_NET_WRITE_INTERRUPTED;
}

static void set_status(struct msg *m, enum msg_status st, const char *err)
{
    size_t n = err ? strlen(err) : 0;
    if (n >= sizeof m->error)
        n = sizeof m->error - 1;
    m->status = st;
    memcpy(m->error, err ? err : "", n);
    m->error[n] = 0;
}

/* One part on its connection: START TRANSACTION, one execute per message,
 * COMMIT.  A refused row is rejected and the rest go on (InnoDB undid only
 * that statement).  Returns 1 when nothing was decided because the
 * connection was gone (the caller may resend on a fresh one), else 0. */
static int my_part_once(struct my_part *p, int may_resend)
{
    struct my_ctx *x = p->x;
    struct my_conn *c = &x->conn[p->c];
    char err[256] = "", when[40];
    unsigned e = 0;
    size_t j;
    int64_t started = (int64_t)clock_mono_ms();
    if (my_ready(x, p->c, err, sizeof err))
        goto retry_all;
    if (mysql_query(c->db, "START TRANSACTION")) {
        e = mysql_errno(c->db);
        clean_err(x->dsn.passwd, mysql_error(c->db), err, sizeof err);
        goto rollback;
    }
    for (j = 0; j < p->n; j++) {
        struct msg *m = &p->msgs[p->idx[j]];
        const char *key = p->keys[p->idx[j]];
        MYSQL_STMT *st;
        int rc;
        if (m->status != MSG_PENDING) /* rejected in an earlier attempt */
            continue;
        if (x->access) {
            if (mysql_event_time(m->event_time, when, sizeof when)) {
                char bad[300];
                snprintf(bad, sizeof bad, "invalid eventTime '%.40s' (want 2006-01-02T15:04:05.000Z)",
                         m->event_time ? m->event_time : "");
                set_status(m, MSG_REJECT, bad);
                continue;
            }
            st = c->insert;
            rc = my_exec(st, when, strlen(when), m->payload, m->payload_len);
        } else if (m->op == OP_DELETE) {
            st = c->del;
            rc = my_exec(st, key, strlen(key), "", 0);
        } else {
            st = c->upsert;
            rc = my_exec(st, key, strlen(key), m->payload, m->payload_len);
        }
        if (!rc)
            continue;
        e = mysql_stmt_errno(st);
        clean_err(x->dsn.passwd, mysql_stmt_error(st), err, sizeof err);
        if (!conn_gone(e) && blames_row(e, mysql_stmt_sqlstate(st))) {
            char msg[300];
            snprintf(msg, sizeof msg, "%u (%.5s): %s", e, mysql_stmt_sqlstate(st), err);
            set_status(m, MSG_REJECT, msg);
            continue;
        }
        if (e == ER_NO_SUCH_TABLE)
            p->table_gone = 1;
        goto rollback;
    }
    if (mysql_commit(c->db)) {
        e = mysql_errno(c->db);
        clean_err(x->dsn.passwd, mysql_error(c->db), err, sizeof err);
        goto rollback;
    }
    for (j = 0; j < p->n; j++)
        if (p->msgs[p->idx[j]].status == MSG_PENDING)
            set_status(&p->msgs[p->idx[j]], MSG_OK, NULL);
    return 0;
rollback:
    if (conn_gone(e) || p->table_gone || mysql_rollback(c->db))
        my_drop(x, p->c);
retry_all:
    if (may_resend && conn_gone(e) && !c->db && (int64_t)clock_mono_ms() - started < 1000)
        return 1; /* undecided rows stay pending; rejected ones stay rejected */
    for (j = 0; j < p->n; j++)
        if (p->msgs[p->idx[j]].status == MSG_PENDING)
            set_status(&p->msgs[p->idx[j]], MSG_RETRY, err);
    return 0;
}

static void *my_part_run(void *arg)
{
    struct my_part *p = arg;
    int threaded = p->c != 0;
    if (threaded)
        mysql_thread_init();
    /* a connection idle since the last batch may be stale (server
     * restarted): when it fails at once, one resend on a fresh connection
     * (not after a timeout: that server is hung, not restarted) */
    int reused = p->x->conn[p->c].db != NULL;
    if (my_part_once(p, reused))
        my_part_once(p, 0);
    if (threaded)
        mysql_thread_end();
    return NULL;
}

static int my_send(void *ctx, struct msg *msgs, size_t n)
{
    struct my_ctx *x = ctx;
    struct my_part parts[MY_MAX_CONNS];
    pthread_t th[MY_MAX_CONNS];
    int started[MY_MAX_CONNS] = { 0 };
    struct sqlpool_split s;
    int any_retry = 0;
    if (sqlpool_split(&s, msgs, n, x->nconn, x->access))
        return -1;
    size_t nconn = s.nconn;
    memset(parts, 0, sizeof parts);
    for (size_t c = 0; c < nconn; c++)
        parts[c] = (struct my_part){ .x = x, .c = c, .msgs = msgs, .keys = s.keys, .idx = s.idx[c], .n = s.n[c] };
    /* the table is created once, before the parts run in parallel */
    if (!x->table_ok && nconn) {
        char err[256] = "";
        if (my_ready(x, 0, err, sizeof err)) {
            for (size_t i = 0; i < n; i++)
                if (msgs[i].status == MSG_PENDING)
                    set_status(&msgs[i], MSG_RETRY, err);
            nconn = 0;
        }
    }
    for (size_t c = 1; c < nconn; c++)
        if (parts[c].n)
            started[c] = pthread_create(&th[c], NULL, my_part_run, &parts[c]) == 0;
    for (size_t c = 0; c < nconn; c++)
        if (parts[c].n && !started[c])
            my_part_run(&parts[c]);
    for (size_t c = 1; c < nconn; c++)
        if (started[c])
            pthread_join(th[c], NULL);
    for (size_t c = 0; c < nconn; c++)
        if (parts[c].table_gone)
            x->table_ok = 0;
    for (size_t i = 0; i < n; i++)
        any_retry |= msgs[i].status == MSG_RETRY;
    sqlpool_split_free(&s, n);
    return any_retry ? -1 : 0;
}

/* check --connect: connect and log in (no CREATE TABLE), then look for
 * the table with a query that reads no row. */
static int my_probe(void *ctx, struct probe_result *p)
{
    struct my_ctx *x = ctx;
    struct my_conn *c = &x->conn[0];
    char sql[256];
    snprintf(p->dest, sizeof p->dest, "table %s", x->table);
    if (!c->db && my_connect(x, c, p->error, sizeof p->error)) {
        unsigned e = c->db ? mysql_errno(c->db) : 0;
        /* 1044/1045/1698: access denied, 1049: unknown database */
        int refused = e == 1044 || e == 1045 || e == 1698 || e == 1049 ||
                      strstr(p->error, "Access denied") || strstr(p->error, "Unknown database");
        p->reachable = refused ? PROBE_YES : PROBE_NO;
        p->authenticated = refused ? PROBE_NO : PROBE_UNCHECKED;
        my_drop(x, 0);
        return -1;
    }
    p->reachable = p->authenticated = PROBE_YES;
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s LIMIT 0", x->table);
    if (mysql_query(c->db, sql) == 0) {
        MYSQL_RES *res = mysql_store_result(c->db);
        if (res)
            mysql_free_result(res);
        p->destination = PROBE_YES;
        return 0;
    }
    unsigned e = mysql_errno(c->db);
    p->destination = e == 1146 ? PROBE_CREATED : PROBE_NO; /* 1146: no such table */
    if (e != 1146)
        clean_err(x->dsn.passwd, mysql_error(c->db), p->error, sizeof p->error);
    return p->destination == PROBE_NO ? -1 : 0;
}

static const struct key_spec mysql_keys[] = {
    { "dsn_string", KEY_STR, NULL, KEY_REQUIRED | KEY_SECRET, NULL,
      "go-sql-driver DSN: [user[:password]@][tcp(host:port)|unix(/path)]/dbname[?param=value&...]" },
    { "table", KEY_STR, NULL, KEY_REQUIRED, NULL, "table name ([A-Za-z_][A-Za-z0-9_$]*); created if it does not exist" },
    { "format", KEY_STR, "namespace", 0, NULL, "'namespace' (one row per object, upserted/deleted) or 'access' (one row per event)" },
    { "max_open_connections", KEY_UINT, "2", 0, NULL, "connections used in parallel for namespace tables (a batch is split by object key; access tables keep the queue order on one)" },
    { 0 }
};

/* What send(target, payload, opts) may set for this kind, beyond key and op. */
static const struct send_opt mysql_send_opts[] = {
    { 0 },
};

const struct driver mysql_driver = {
    .kind = "mysql",
    .keys = mysql_keys,
    .shape = { SHAPE_RECORDS, SHAPE_RECORDS },
    .max_batch = MY_MAX_BATCH,
    .send_opts = mysql_send_opts,
    .validate = my_validate,
    .open = my_open,
    .send = my_send,
    .health = my_health,
    .close = my_close,
    .probe = my_probe,
};
