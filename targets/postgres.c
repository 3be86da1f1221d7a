/* postgres.c -- PostgreSQL target (MinIO's notify_postgres, ARN postgresql).
 *
 * Same table, DDL and statements as MinIO (reference §3.9).  Differences on
 * purpose: a batch is one transaction sent as one libpq pipeline, a message
 * the server refuses (bad JSON, key too long...) is rejected alone instead
 * of wedging the queue, and max_open_connections is a real pool: a batch is
 * split over up to N connections by a hash of the row key, so the messages
 * of one key stay in order on one connection while the connections run in
 * parallel on the server.  Every wait is bounded with poll(). */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wctype.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include "clock.h"
#include "driver.h"
#include "sqlpool.h"

#define PG_TIMEOUT_MS 5000
#define PG_MAX_CONNS SQLPOOL_MAX_CONNS
#define PG_MAX_BATCH 256

struct pg_ctx {
    char *conninfo;
    char *password; /* only to scrub it from error texts */
    char *table;
    int access;
    int table_ok; /* SELECT 1 / CREATE TABLE done */
    size_t nconn;
    PGconn *conn[PG_MAX_CONNS];
};

/* A connection's share of one batch. */
struct pg_part {
    size_t *idx; /* message indexes, in batch order */
    size_t n;
    int sent;
    int reused; /* its connection was open before this send() */
    int resent; /* already resent once on a fresh connection */
};

/* One line, blanks squeezed, the password (if any) masked.  libpq texts
 * name host and user but a malformed string can echo a fragment. */
static void clean_err(const char *pw, const char *src, char *dst, size_t len)
{
    char line[2048];
    size_t o = 0;
    int sp = 0;
    if (!len)
        return;
    for (const char *s = src ? src : ""; *s && o + 1 < sizeof line; s++) {
        if (isspace((unsigned char)*s)) {
            sp = o > 0;
            continue;
        }
        if (sp && o + 2 < sizeof line)
            line[o++] = ' ';
        sp = 0;
        line[o++] = *s;
    }
    line[o] = 0;
    tconf_mask(pw, line, sizeof line);
    snprintf(dst, len, "%s", line);
}

/* ---- table name rule (MinIO validatePsqlTableName) ---- */

/* Decode one UTF-8 sequence; -1 when invalid. */
static long utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    long c;
    int n;
    if (s[0] < 0x80)
        c = s[0], n = 0;
    else if ((s[0] & 0xE0) == 0xC0)
        c = s[0] & 0x1F, n = 1;
    else if ((s[0] & 0xF0) == 0xE0)
        c = s[0] & 0x0F, n = 2;
    else if ((s[0] & 0xF8) == 0xF0)
        c = s[0] & 0x07, n = 3;
    else
        return -1;
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        c = (c << 6) | (s[i] & 0x3F);
    }
    *p = s + n + 1;
    return c;
}

/* Go's unicode.IsLetter/IsDigit for non-ASCII runes, approximated by the
 * C.UTF-8 locale's classes (glibc files other scripts' digits as alpha). */
static int wide_alnum(long c)
{
    static locale_t loc;
    if (!loc)
        loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    return loc && iswalnum_l((wint_t)c, loc);
}

/* Either "..." with at least one character and no inner quote, or runes
 * that are letters, digits, _ or $ with a letter or _ first. */
static int pg_table_ok(const char *t)
{
    size_t len = strlen(t);
    if (len > 255) /* keeps every statement within its buffer */
        return 0;
    if (len >= 3 && t[0] == '"' && t[len - 1] == '"' && !memchr(t + 1, '"', len - 2))
        return 1;
    const unsigned char *p = (const unsigned char *)t;
    int first = 1;
    if (!*p)
        return 0;
    while (*p) {
        long c = utf8_next(&p);
        int letter = c >= 0x80 ? wide_alnum(c) : c >= 0 && isalpha((int)c);
        int digit = c >= 0 && c < 0x80 && isdigit((int)c);
        if (c < 0 || !(letter || c == '_' || (!first && (digit || c == '$'))))
            return 0;
        first = 0;
    }
    return 1;
}

/* Parse the libpq string (key=value or URI); returns the password copy
 * through pw when asked.  -1 with a scrubbed reason. */
static int pg_parse_conninfo(const char *ci, char **pw, char *err, size_t len)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(ci, &perr);
    if (!opts) {
        /* the reason quotes pieces of the string: keep only what's outside quotes */
        char tmp[256];
        size_t o = 0;
        int q = 0;
        for (const char *s = perr ? perr : "out of memory"; *s && o + 4 < sizeof tmp; s++) {
            if (*s == '"') {
                if (!q)
                    tmp[o++] = '"', tmp[o++] = '.', tmp[o++] = '.', tmp[o++] = '"';
                q = !q;
            } else if (!q)
                tmp[o++] = *s;
        }
        tmp[o] = 0;
        clean_err(NULL, tmp, err, len);
        PQfreemem(perr);
        return -1;
    }
    if (pw) {
        *pw = NULL;
        for (PQconninfoOption *o = opts; o->keyword; o++)
            if (!strcmp(o->keyword, "password") && o->val)
                *pw = strdup(o->val);
    }
    PQconninfoFree(opts);
    return 0;
}

static int pg_validate(const struct target_conf *c, char *err, size_t errlen)
{
    int access;
    char why[200];
    const char *t = tconf_str(c, "table");
    if (*t && !pg_table_ok(t)) {
        snprintf(err, errlen, "%s: key 'table': invalid PostgreSQL table '%s' (a name of letters, digits, _ or $, or a \"quoted\" name; no schema prefix: use options='-c search_path=...' in connection_string)",
                 tconf_name(c), t);
        return -1;
    }
    if (tconf_access_format(c, &access, err, errlen))
        return -1;
    if (tconf_isset(c, "connection_string") &&
        pg_parse_conninfo(tconf_str(c, "connection_string"), NULL, why, sizeof why)) {
        snprintf(err, errlen, "%s: key 'connection_string' is not a valid libpq connection string: %s",
                 tconf_name(c), why);
        return -1;
    }
    return 0;
}

/* ---- bounded waits on a non-blocking connection ---- */

static int pg_poll(PGconn *pg, short ev, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - (int64_t)clock_mono_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = { PQsocket(pg), ev, 0 };
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return (p.revents & POLLIN) ? 1 : 0;
        if (r == 0 || errno != EINTR)
            return -1;
    }
}

static int pg_flush(PGconn *pg, int64_t deadline)
{
    int r;
    while ((r = PQflush(pg)) == 1) {
        int ev = pg_poll(pg, POLLIN | POLLOUT, deadline);
        if (ev < 0 || (ev == 1 && !PQconsumeInput(pg)))
            return -1;
    }
    return r;
}

/* Next result, or NULL at the end of a query.  *lost set on timeout or a
 * dead connection (the result then is NULL too). */
static PGresult *pg_next(PGconn *pg, int64_t deadline, int *lost)
{
    while (PQisBusy(pg)) {
        if (pg_poll(pg, POLLIN, deadline) < 0 || !PQconsumeInput(pg)) {
            *lost = 1;
            return NULL;
        }
    }
    return PQgetResult(pg);
}

/* Run one statement outside a pipeline; 0 when it succeeded. */
static int pg_exec(struct pg_ctx *x, PGconn *pg, const char *sql, char *err, size_t len)
{
    int64_t deadline = (int64_t)clock_mono_ms() + PG_TIMEOUT_MS;
    int lost = 0, rc = 0;
    PGresult *r;
    if (!PQsendQueryParams(pg, sql, 0, NULL, NULL, NULL, NULL, 0) || pg_flush(pg, deadline)) {
        clean_err(x->password, PQerrorMessage(pg), err, len);
        return -1;
    }
    while ((r = pg_next(pg, deadline, &lost))) {
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !rc) {
            clean_err(x->password, PQresultErrorMessage(r), err, len);
            rc = -1;
        }
        PQclear(r);
    }
    if (lost) {
        snprintf(err, len, "no answer from PostgreSQL within %d s", PG_TIMEOUT_MS / 1000);
        return -1;
    }
    return rc;
}

static int pg_prepare(struct pg_ctx *x, PGconn *pg, const char *name, const char *fmt, int nparams,
                      char *err, size_t len)
{
    char sql[512];
    int64_t deadline = (int64_t)clock_mono_ms() + PG_TIMEOUT_MS;
    int lost = 0, rc = 0;
    PGresult *r;
    snprintf(sql, sizeof sql, fmt, x->table);
    if (!PQsendPrepare(pg, name, sql, nparams, NULL) || pg_flush(pg, deadline)) {
        clean_err(x->password, PQerrorMessage(pg), err, len);
        return -1;
    }
    while ((r = pg_next(pg, deadline, &lost))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !rc) {
            clean_err(x->password, PQresultErrorMessage(r), err, len);
            rc = -1;
        }
        PQclear(r);
    }
    if (lost && !rc)
        snprintf(err, len, "no answer from PostgreSQL within %d s", PG_TIMEOUT_MS / 1000);
    return lost ? -1 : rc;
}

static void pg_quiet(void *arg, const char *message)
{
    (void)arg, (void)message;
}

static void pg_drop(struct pg_ctx *x, size_t i)
{
    if (x->conn[i])
        PQfinish(x->conn[i]);
    x->conn[i] = NULL;
}

/* Connect connection i if needed: check/create the table once (MinIO's
 * SELECT then CREATE, with LIMIT 1 so a big table is not read whole) and
 * prepare the statements of this format on the connection. */
static int pg_ready(struct pg_ctx *x, size_t i, char *err, size_t len)
{
    char sql[512];
    if (x->conn[i] && PQstatus(x->conn[i]) == CONNECTION_OK)
        return 0;
    pg_drop(x, i);
    /* ours first: expand_dbname lets the user's string override them */
    const char *kw[] = { "connect_timeout", "client_encoding", "keepalives_idle",
                         "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                         "dbname", NULL };
    const char *val[] = { "5", "UTF8", "10", "5", "2", "10000", x->conninfo, NULL };
    PGconn *pg = PQconnectdbParams(kw, val, 1);
    if (!pg) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    if (PQstatus(pg) != CONNECTION_OK) {
        clean_err(x->password, PQerrorMessage(pg), err, len);
        PQfinish(pg);
        return -1;
    }
    x->conn[i] = pg;
    PQsetNoticeProcessor(pg, pg_quiet, NULL); /* drivers never print */
    if (PQsetnonblocking(pg, 1)) {
        clean_err(x->password, PQerrorMessage(pg), err, len);
        pg_drop(x, i);
        return -1;
    }
    if (!x->table_ok) {
        snprintf(sql, sizeof sql, "SELECT 1 FROM %s LIMIT 1;", x->table);
        if (pg_exec(x, pg, sql, err, len)) {
            snprintf(sql, sizeof sql,
                     x->access ? "CREATE TABLE %s (event_time TIMESTAMP WITH TIME ZONE NOT NULL, event_data JSONB);"
                               : "CREATE TABLE %s (key VARCHAR PRIMARY KEY, value JSONB);",
                     x->table);
            if (pg_exec(x, pg, sql, err, len)) {
                pg_drop(x, i);
                return -1;
            }
        }
        x->table_ok = 1;
    }
    int rc = x->access
                 ? pg_prepare(x, pg, "lg_insert", "INSERT INTO %s (event_time, event_data) VALUES ($1, $2);", 2, err, len)
                 : pg_prepare(x, pg, "lg_upsert", "INSERT INTO %s (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;", 2, err, len) ||
                       pg_prepare(x, pg, "lg_delete", "DELETE FROM %s WHERE key = $1;", 1, err, len);
    if (rc) {
        pg_drop(x, i);
        return -1;
    }
    return 0;
}

static void *pg_open(const struct target_conf *c, char *err, size_t errlen)
{
    char why[200];
    struct pg_ctx *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        return NULL;
    }
    x->conninfo = strdup(tconf_str(c, "connection_string"));
    x->table = strdup(tconf_str(c, "table"));
    if (!x->conninfo || !x->table) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        goto fail;
    }
    if (!*x->table || !pg_table_ok(x->table)) {
        snprintf(err, errlen, "%s: key 'table': invalid PostgreSQL table '%s'", tconf_name(c), x->table);
        goto fail;
    }
    if (tconf_access_format(c, &x->access, err, errlen))
        goto fail;
    if (pg_parse_conninfo(x->conninfo, &x->password, why, sizeof why)) {
        snprintf(err, errlen, "%s: key 'connection_string' is not a valid libpq connection string: %s",
                 tconf_name(c), why);
        goto fail;
    }
    long long n = tconf_int(c, "max_open_connections");
    x->nconn = n <= 0 ? 2 : n > PG_MAX_CONNS ? PG_MAX_CONNS : (size_t)n;
    return x;
fail:
    free(x->conninfo);
    free(x->table);
    free(x);
    return NULL;
}

static void pg_close(void *ctx)
{
    struct pg_ctx *x = ctx;
    if (!x)
        return;
    for (size_t i = 0; i < PG_MAX_CONNS; i++)
        pg_drop(x, i);
    if (x->password)
        memset(x->password, 0, strlen(x->password));
    free(x->password);
    free(x->conninfo);
    free(x->table);
    free(x);
}

static int pg_health(void *ctx, char *err, size_t errlen)
{
    struct pg_ctx *x = ctx;
    if (pg_ready(x, 0, err, errlen))
        return -1;
    if (pg_exec(x, x->conn[0], "SELECT 1", err, errlen)) {
        if (PQstatus(x->conn[0]) != CONNECTION_OK)
            pg_drop(x, 0);
        return -1;
    }
    return 0;
}

/* ---- sending ---- */

/* Queue BEGIN, one prepared statement per message, COMMIT and a sync. */
static int pg_pipe_send(struct pg_ctx *x, PGconn *pg, struct msg *msgs, const char **keys,
                        const struct pg_part *p, int64_t deadline)
{
    if (!PQenterPipelineMode(pg) || !PQsendQueryParams(pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
        return -1;
    for (size_t j = 0; j < p->n; j++) {
        const struct msg *m = &msgs[p->idx[j]];
        const char *v[2];
        int ok;
        if (x->access) {
            v[0] = m->event_time ? m->event_time : "";
            v[1] = m->payload;
            ok = PQsendQueryPrepared(pg, "lg_insert", 2, v, NULL, NULL, 0);
        } else if (m->op == OP_DELETE) {
            v[0] = keys[p->idx[j]];
            ok = PQsendQueryPrepared(pg, "lg_delete", 1, v, NULL, NULL, 0);
        } else {
            v[0] = keys[p->idx[j]];
            v[1] = m->payload;
            ok = PQsendQueryPrepared(pg, "lg_upsert", 2, v, NULL, NULL, 0);
        }
        if (!ok)
            return -1;
    }
    if (!PQsendQueryParams(pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) || !PQpipelineSync(pg))
        return -1;
    return pg_flush(pg, deadline);
}

/* SQLSTATE classes that blame the one row: data exception, integrity
 * constraint violation, program limit exceeded (key too long to index). */
static int blames_row(const char *state)
{
    return state && (!strncmp(state, "22", 2) || !strncmp(state, "23", 2) ||
                     !strncmp(state, "54", 2));
}

/* Read the results of one pipeline.  Returns 0 when committed; 1 when the
 * statement *bad (index into the part) was refused for its own data; -1
 * when the whole part must be retried (err says why; *dead when the
 * connection is gone). */
static int pg_pipe_collect(struct pg_ctx *x, PGconn *pg, size_t k, int64_t deadline, size_t *bad,
                           int *dead, char *err, size_t len)
{
    int lost = 0, rc = 0;
    size_t q = 0; /* 0 = BEGIN, 1..k = messages, k+1 = COMMIT */
    for (;;) {
        PGresult *r = pg_next(pg, deadline, &lost);
        if (lost)
            break;
        if (!r) { /* end of one query's results */
            q++;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (st == PGRES_FATAL_ERROR && !rc) {
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            const char *prim = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
            const char *det = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
            char tmp[512];
            if (prim)
                snprintf(tmp, sizeof tmp, "%s %s%s%s", state ? state : "", prim, det ? ": " : "",
                         det ? det : "");
            else
                snprintf(tmp, sizeof tmp, "%s", PQresultErrorMessage(r));
            clean_err(x->password, tmp, err, len);
            if (q >= 1 && q <= k && blames_row(state)) {
                *bad = q - 1;
                rc = 1;
            } else {
                rc = -1;
                if (state && !strcmp(state, "42P01")) /* table dropped under us */
                    x->table_ok = 0, *dead = 1;
            }
        }
        PQclear(r);
    }
    if (lost || PQstatus(pg) != CONNECTION_OK) {
        if (!rc || rc == 1)
            clean_err(x->password, PQstatus(pg) != CONNECTION_OK ? PQerrorMessage(pg) : "", err, len);
        if (!*err)
            snprintf(err, len, "no answer from PostgreSQL within %d s", PG_TIMEOUT_MS / 1000);
        *dead = 1;
        return -1;
    }
    if (!PQexitPipelineMode(pg)) {
        *dead = 1;
        if (!rc)
            clean_err(x->password, PQerrorMessage(pg), err, len);
        return -1;
    }
    if (PQtransactionStatus(pg) != PQTRANS_IDLE) {
        char e2[64];
        if (pg_exec(x, pg, "ROLLBACK", e2, sizeof e2))
            *dead = 1;
    }
    return rc;
}

static void set_status(struct msg *m, enum msg_status st, const char *err)
{
    m->status = st;
    snprintf(m->error, sizeof m->error, "%s", err ? err : "");
}

/* A part failed with the connection: a connection that sat idle may just
 * be stale (server restarted), so when it failed at once reconnect and
 * resend once before giving the messages back for retry (not after a
 * timeout: that server is hung, not restarted). */
static int pg_part_failed(struct pg_ctx *x, struct msg *msgs, struct pg_part *p, size_t c,
                          const char *err, int64_t started)
{
    pg_drop(x, c);
    if (p->reused && !p->resent && (int64_t)clock_mono_ms() - started < 1000) {
        p->resent = 1;
        return 1;
    }
    for (size_t j = 0; j < p->n; j++)
        set_status(&msgs[p->idx[j]], MSG_RETRY, err);
    p->n = 0;
    return 0;
}

static int pg_send(void *ctx, struct msg *msgs, size_t n)
{
    struct pg_ctx *x = ctx;
    struct pg_part parts[PG_MAX_CONNS] = { 0 };
    struct sqlpool_split s;
    int any_retry = 0;
    if (sqlpool_split(&s, msgs, n, x->nconn, x->access))
        return -1;
    size_t nconn = s.nconn;
    const char **keys = s.keys;
    for (size_t c = 0; c < nconn; c++) {
        parts[c].idx = s.idx[c];
        parts[c].n = s.n[c];
        parts[c].reused = x->conn[c] != NULL;
    }

    /* Each round sends every connection's pending share at once, then reads
     * the answers; a row the server refuses is rejected and its part goes
     * again without it, so a round decides a part or removes one row. */
    for (int pending = 1; pending;) {
        int64_t started = (int64_t)clock_mono_ms(), deadline = started + PG_TIMEOUT_MS + 20 * (int64_t)n;
        pending = 0;
        for (size_t c = 0; c < nconn; c++) {
            struct pg_part *p = &parts[c];
            char err[256] = "";
            p->sent = 0;
            if (!p->n)
                continue;
            if (pg_ready(x, c, err, sizeof err) == 0) {
                if (pg_pipe_send(x, x->conn[c], msgs, keys, p, deadline) == 0) {
                    p->sent = 1;
                    continue;
                }
                clean_err(x->password, PQerrorMessage(x->conn[c]), err, sizeof err);
            }
            pending |= pg_part_failed(x, msgs, p, c, err, started);
        }
        for (size_t c = 0; c < nconn; c++) {
            struct pg_part *p = &parts[c];
            char err[256] = "";
            size_t bad = 0;
            int dead = 0;
            if (!p->sent)
                continue;
            int rc = pg_pipe_collect(x, x->conn[c], p->n, deadline, &bad, &dead, err, sizeof err);
            if (rc == 1) {
                if (dead)
                    pg_drop(x, c);
                set_status(&msgs[p->idx[bad]], MSG_REJECT, err);
                memmove(p->idx + bad, p->idx + bad + 1, (p->n - bad - 1) * sizeof *p->idx);
                p->n--;
                pending |= p->n > 0;
            } else if (rc && dead) {
                pending |= pg_part_failed(x, msgs, p, c, err, started);
            } else {
                for (size_t j = 0; j < p->n; j++)
                    set_status(&msgs[p->idx[j]], rc ? MSG_RETRY : MSG_OK, rc ? err : NULL);
                p->n = 0;
            }
            p->reused = 0; /* the connection answered: no longer suspect */
        }
    }
    for (size_t i = 0; i < n; i++)
        any_retry |= msgs[i].status == MSG_RETRY;
    sqlpool_split_free(&s, n);
    return any_retry ? -1 : 0;
}

/* check --connect: connect (without the start's CREATE TABLE) and look
 * for the table with a query that reads no row. */
static int pg_probe(void *ctx, struct probe_result *p)
{
    struct pg_ctx *x = ctx;
    char sql[512];
    int had = x->table_ok;
    x->table_ok = 1;
    int rc = pg_ready(x, 0, p->error, sizeof p->error);
    x->table_ok = had;
    snprintf(p->dest, sizeof p->dest, "table %s", x->table);
    if (rc && strstr(p->error, "relation") && strstr(p->error, "does not exist")) {
        /* connected, then preparing its statements found no table */
        p->reachable = p->authenticated = PROBE_YES;
        p->destination = PROBE_CREATED;
        *p->error = 0;
        return 0;
    }
    if (rc) {
        int refused = strstr(p->error, "authentication") || strstr(p->error, "password") ||
                      strstr(p->error, "does not exist") || strstr(p->error, "not permitted");
        p->reachable = refused ? PROBE_YES : PROBE_NO;
        p->authenticated = refused ? PROBE_NO : PROBE_UNCHECKED;
        return -1;
    }
    p->reachable = p->authenticated = PROBE_YES;
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s LIMIT 0;", x->table);
    if (pg_exec(x, x->conn[0], sql, p->error, sizeof p->error) == 0) {
        p->destination = PROBE_YES;
        return 0;
    }
    p->destination = strstr(p->error, "does not exist") ? PROBE_CREATED : PROBE_NO;
    if (p->destination == PROBE_CREATED)
        *p->error = 0;
    return p->destination == PROBE_NO ? -1 : 0;
}

static const struct key_spec postgres_keys[] = {
    { "connection_string", KEY_STR, NULL, KEY_REQUIRED | KEY_SECRET, NULL,
      "libpq connection string, e.g. \"host=db port=5432 dbname=minio user=minio password=... sslmode=disable\" or postgres://..." },
    { "table", KEY_STR, NULL, KEY_REQUIRED, NULL,
      "table name (letters, digits, _ and $, or \"quoted\"); created if it does not exist" },
    { "format", KEY_STR, "namespace", 0, NULL, "'namespace' (one row per object, upserted/deleted) or 'access' (one row per event)" },
    { "max_open_connections", KEY_UINT, "2", 0, NULL, "connections used in parallel for namespace tables (a batch is split by object key; access tables keep the queue order on one)" },
    { 0 }
};

/* What send(target, payload, opts) may set for this kind, beyond key and op. */
static const struct send_opt postgres_send_opts[] = {
    { 0 },
};

const struct driver postgres_driver = {
    .kind = "postgres",
    .keys = postgres_keys,
    .shape = { SHAPE_RECORDS, SHAPE_RECORDS },
    .max_batch = PG_MAX_BATCH,
    .send_opts = postgres_send_opts,
    .validate = pg_validate,
    .open = pg_open,
    .send = pg_send,
    .health = pg_health,
    .close = pg_close,
    .probe = pg_probe,
};
