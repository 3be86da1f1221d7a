/* test_redis.c -- the redis driver against a real redis-server.
 *
 * Needs `scripts/redis.sh start` (or scripts/servers.sh start redis) on
 * REDIS_PORT, and is run from the repository root: the outage and password
 * tests stop/start servers with scripts/redis.sh.  What the driver wrote is
 * read back with a separate hiredis connection and compared byte for byte
 * with what MinIO would hold. */
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>
#include "itest.h"
#include "driver.h"
#include "targetconf.h"

extern const struct driver redis_driver;

#define NS_KEY "luagate:test:ns"
#define ACC_KEY "luagate:test:access"

static int port;
static char addr[64];
static redisContext *cli; /* the outside observer */
static struct sample S[64];
static size_t ns;
static char *acc[64]; /* access payloads, MinIO's [{"Event":[...],"EventTime":"..."}] */

static int cli_connect(void)
{
    if (cli)
        redisFree(cli);
    struct timeval tv = { 5, 0 };
    cli = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!cli || cli->err || redisSetTimeout(cli, tv) != REDIS_OK) {
        printf("  # cannot reach redis at 127.0.0.1:%d: start it with `scripts/redis.sh start`"
               " (or scripts/servers.sh start redis)\n", port);
        if (cli)
            redisFree(cli);
        cli = NULL;
        return -1;
    }
    return 0;
}

/* Run a command on the observer connection (reconnecting once). */
static redisReply *q(const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!cli && cli_connect())
            return NULL;
        va_list ap;
        va_start(ap, fmt);
        redisReply *r = redisvCommand(cli, fmt, ap);
        va_end(ap);
        if (r)
            return r;
        redisFree(cli);
        cli = NULL;
    }
    return NULL;
}

static void q0(const char *fmt, const char *arg)
{
    redisReply *r = q(fmt, arg);
    if (r)
        freeReplyObject(r);
}

static struct target_conf *conf(const char *address, const char *key, const char *format,
                                const char *user, const char *password)
{
    return ITEST_CONF("redis", "address", address, "key", key, "format", format, "user", user,
                      "password", password);
}

static void *drv_open(struct target_conf *c) { return itest_open(&redis_driver, c); }

/* The message the default route would queue for sample s (§1.4). */
static void shape(struct msg *m, size_t s, int access)
{
    itest_fill(m, &S[s], access ? acc[s] : S[s].records);
    m->op = !access && !strcmp(S[s].event_name, "s3:ObjectRemoved:Delete") ? OP_DELETE : OP_UPSERT;
}

static size_t count_status(const struct msg *m, size_t n, enum msg_status st)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += m[i].status == st;
    return k;
}

static int reply_is(const redisReply *r, const char *want)
{
    return r && r->type == REDIS_REPLY_STRING && r->len == strlen(want) &&
           !memcmp(r->str, want, r->len);
}

TEST(server_reachable)
{
    CHECK(cli_connect() == 0);
    redisReply *r = q("PING");
    CHECK(r && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG"));
    if (r)
        freeReplyObject(r);
}

TEST(key_table)
{
    const struct driver *d = driver_find("redis");
    CHECK(d == &redis_driver);
    CHECK_INT(redis_driver.max_batch, 256);
    struct target_conf *c = conf(addr, "k", NULL, NULL, "pw");
    CHECK_STR(tconf_str(c, "format"), "namespace");
    CHECK_STR(tconf_printable(c, "password"), "***");
    CHECK(tconf_spec(c, "user") != NULL);
    tconf_free(c);
}

TEST(validation)
{
    char err[256];
    struct target_conf *c = conf(NULL, "k", NULL, NULL, NULL);
    CHECK(tconf_validate(c, err, sizeof err) == -1);
    CHECK(strstr(err, "redis:1") && strstr(err, "'address'"));
    tconf_free(c);
    c = conf(addr, NULL, NULL, NULL, NULL);
    CHECK(tconf_validate(c, err, sizeof err) == -1);
    CHECK(strstr(err, "'key'") != NULL);
    tconf_free(c);
    c = conf("localhost", "k", NULL, NULL, "hunter2");
    CHECK(tconf_validate(c, err, sizeof err) == -1);
    CHECK(strstr(err, "'address'") && !strstr(err, "hunter2"));
    tconf_free(c);
    c = conf(addr, "k", "json", NULL, NULL);
    CHECK(tconf_validate(c, err, sizeof err) == -1);
    CHECK_STR(err, "redis:1: key 'format' must be namespace or access, not 'json'");
    tconf_free(c);
    c = conf(addr, "k", "Access", NULL, NULL); /* MinIO validates lower-cased */
    CHECK(tconf_validate(c, err, sizeof err) == 0);
    tconf_free(c);
    c = conf(addr, "k", NULL, NULL, NULL);
    tconf_set(c, "bogus", "1");
    CHECK(tconf_validate(c, err, sizeof err) == -1);
    CHECK(strstr(err, "'bogus'") != NULL);
    tconf_free(c);
}

/* All 60 samples in batches of 7: the hash ends as MinIO's would, field by
 * field: later upserts win, s3:ObjectRemoved:Delete removes the field. */
TEST(namespace_samples)
{
    q0("DEL %s", NS_KEY);
    struct target_conf *c = conf(addr, NS_KEY, NULL, NULL, NULL);
    void *d = drv_open(c);
    CHECK(d != NULL);
    if (!d) {
        tconf_free(c);
        return;
    }
    struct msg m[64];
    for (size_t i = 0; i < ns; i++)
        shape(&m[i], i, 0);
    for (size_t i = 0; i < ns; i += 7) {
        size_t k = ns - i < 7 ? ns - i : 7;
        CHECK_INT(redis_driver.send(d, m + i, k), 0);
    }
    CHECK_INT(count_status(m, ns, MSG_OK), ns);

    /* MinIO's hash after these events: the last non-Delete record per key. */
    size_t nwant = 0, deleted = 0;
    for (size_t i = 0; i < ns; i++) {
        size_t j;
        for (j = 0; j < i; j++)
            if (!strcmp(S[j].key, S[i].key))
                break;
        if (j < i)
            continue; /* first occurrence decides the slot */
        const char *v = NULL;
        for (size_t k = i; k < ns; k++)
            if (!strcmp(S[k].key, S[i].key))
                v = strcmp(S[k].event_name, "s3:ObjectRemoved:Delete") ? S[k].records : NULL;
        if (!v) {
            deleted++;
            redisReply *r = q("HEXISTS %s %s", NS_KEY, S[i].key);
            CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 0);
            if (r)
                freeReplyObject(r);
            continue;
        }
        nwant++;
        redisReply *r = q("HGET %s %s", NS_KEY, S[i].key);
        if (!reply_is(r, v))
            printf("  # field '%s' differs\n", S[i].key);
        CHECK(reply_is(r, v));
        if (r)
            freeReplyObject(r);
    }
    CHECK(deleted >= 1); /* the samples delete a key they created before */
    redisReply *r = q("HLEN %s", NS_KEY);
    CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == (long long)nwant);
    if (r)
        freeReplyObject(r);
    /* A later upsert wins: media-eu/logs/app.log was Put then NoOP. */
    r = q("HGET %s %s", NS_KEY, "media-eu/logs/app.log");
    CHECK(r && r->type == REDIS_REPLY_STRING && strstr(r->str, "s3:ObjectRemoved:NoOP"));
    if (r)
        freeReplyObject(r);

    /* The driver's connection is named like MinIO's. */
    r = q("CLIENT LIST");
    CHECK(r && r->type == REDIS_REPLY_STRING && strstr(r->str, " name=MinIO "));
    if (r)
        freeReplyObject(r);
    char err[256];
    CHECK_INT(redis_driver.health(d, err, sizeof err), 0);
    redis_driver.close(d);
    tconf_free(c);
}

/* Access format: one batch of all 60, the list holds them in order. */
TEST(access_samples)
{
    q0("DEL %s", ACC_KEY);
    struct target_conf *c = conf(addr, ACC_KEY, "access", NULL, NULL);
    void *d = drv_open(c);
    CHECK(d != NULL);
    if (!d) {
        tconf_free(c);
        return;
    }
    struct msg m[64];
    for (size_t i = 0; i < ns; i++)
        shape(&m[i], i, 1);
    CHECK_INT(redis_driver.send(d, m, ns), 0);
    CHECK_INT(count_status(m, ns, MSG_OK), ns);
    redisReply *r = q("LRANGE %s 0 -1", ACC_KEY);
    CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == ns);
    if (r && r->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < r->elements && i < ns; i++) {
            if (!reply_is(r->element[i], acc[i]))
                printf("  # list item %zu differs\n", i);
            CHECK(reply_is(r->element[i], acc[i]));
        }
    if (r)
        freeReplyObject(r);
    redis_driver.close(d);
    tconf_free(c);
}

/* A full batch (max_batch) in one pipeline, format given in upper case. */
TEST(full_batch)
{
    q0("DEL %s", ACC_KEY);
    struct target_conf *c = conf(addr, ACC_KEY, "ACCESS", NULL, NULL);
    void *d = drv_open(c);
    CHECK(d != NULL);
    if (!d) {
        tconf_free(c);
        return;
    }
    size_t n = redis_driver.max_batch;
    struct msg *m = calloc(n, sizeof *m);
    for (size_t i = 0; i < n; i++)
        shape(&m[i], i % ns, 1);
    CHECK_INT(redis_driver.send(d, m, n), 0);
    CHECK_INT(count_status(m, n, MSG_OK), n);
    redisReply *r = q("LRANGE %s 0 -1", ACC_KEY);
    CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == n);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == n)
        CHECK(reply_is(r->element[n - 1], acc[(n - 1) % ns]));
    if (r)
        freeReplyObject(r);
    free(m);
    redis_driver.close(d);
    tconf_free(c);
}

/* Full pipelines back to back: Redis reads 16 KB at a time and answers each
 * part as it goes, so the replies of one batch come in many pieces; every
 * batch must still be confirmed at once, without stalling on a part of the
 * answer.  Then a field and a value holding CRLF, RESP's own markers and
 * non-ASCII bytes arrive intact (the driver formats the RESP itself). */
TEST(pipelines_in_pieces)
{
    q0("DEL %s", NS_KEY);
    struct target_conf *c = conf(addr, NS_KEY, NULL, NULL, NULL);
    void *d = drv_open(c);
    CHECK(d != NULL);
    if (!d) {
        tconf_free(c);
        return;
    }
    /* 48 messages of ~1 KB: a pipeline the socket takes at once, answered
     * in 3-4 pieces */
    size_t n = 48, confirmed = 0;
    struct msg m[48];
    time_t t0 = time(NULL);
    for (int b = 0; b < 100; b++) {
        for (size_t i = 0; i < n; i++)
            shape(&m[i], (i + (size_t)b) % ns, 0);
        if (redis_driver.send(d, m, n) == 0)
            confirmed += count_status(m, n, MSG_OK);
    }
    CHECK_INT(confirmed, 100 * n);
    /* 16 MB in one pipeline: the first replies are there before the driver
     * has written it all, the rest come a few bytes at a time */
    size_t big = 64 * 1024, nbig = redis_driver.max_batch;
    char *value = malloc(big + 1);
    struct msg *mb = calloc(nbig, sizeof *mb);
    memset(value, 'v', big);
    value[big] = 0;
    for (size_t i = 0; i < nbig; i++) {
        shape(&mb[i], i % ns, 0);
        mb[i].op = OP_UPSERT;
        mb[i].payload = value, mb[i].payload_len = big;
    }
    CHECK_INT(redis_driver.send(d, mb, nbig), 0);
    CHECK_INT(count_status(mb, nbig, MSG_OK), nbig);
    free(mb);
    free(value);
    CHECK(time(NULL) - t0 < 4);
    struct msg x;
    shape(&x, 0, 0);
    x.op = OP_UPSERT;
    x.opts = "{\"key\":\"odd\\r\\nfield $3\\r\\n*1 \\u00e9\"}";
    x.payload = "-ERR not an error\r\n:1\r\n$-1\r\n\xc3\xa9";
    x.payload_len = strlen(x.payload);
    CHECK_INT(redis_driver.send(d, &x, 1), 0);
    CHECK_INT(x.status, MSG_OK);
    redisReply *r = q("HGET %s %s", NS_KEY, "odd\r\nfield $3\r\n*1 \xc3\xa9");
    CHECK(reply_is(r, x.payload));
    if (r)
        freeReplyObject(r);
    redis_driver.close(d);
    tconf_free(c);
}

/* opts.key replaces the hash field; unusable opts reject that message only. */
TEST(opts_and_reject)
{
    q0("DEL %s", NS_KEY);
    struct target_conf *c = conf(addr, NS_KEY, NULL, NULL, NULL);
    void *d = drv_open(c);
    CHECK(d != NULL);
    if (!d) {
        tconf_free(c);
        return;
    }
    struct msg m[3];
    shape(&m[0], 0, 0);
    shape(&m[1], 1, 0);
    m[1].opts = "{\"key\":5}";
    shape(&m[2], 2, 0);
    m[2].opts = "{\"key\":\"custom/field\",\"op\":\"upsert\"}";
    CHECK_INT(redis_driver.send(d, m, 3), 0);
    CHECK_INT(m[0].status, MSG_OK);
    CHECK_INT(m[1].status, MSG_REJECT);
    CHECK(strstr(m[1].error, "opts.key") != NULL);
    CHECK_INT(m[2].status, MSG_OK);
    redisReply *r = q("HGET %s %s", NS_KEY, "custom/field");
    CHECK(reply_is(r, S[2].records));
    if (r)
        freeReplyObject(r);
    r = q("HLEN %s", NS_KEY);
    CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 2);
    if (r)
        freeReplyObject(r);
    redis_driver.close(d);
    tconf_free(c);
}

/* The key holds the wrong type: a clear error, messages kept for retry. */
TEST(type_mismatch)
{
    q0("DEL %s", "luagate:test:str");
    redisReply *r = q("SET luagate:test:str x");
    if (r)
        freeReplyObject(r);
    struct target_conf *c = conf(addr, "luagate:test:str", NULL, NULL, NULL);
    void *d = drv_open(c);
    CHECK(d != NULL);
    if (!d) {
        tconf_free(c);
        return;
    }
    const char *want = "redis:1: key 'luagate:test:str' holds a string, expected a hash for format namespace";
    char err[256];
    CHECK_INT(redis_driver.health(d, err, sizeof err), -1);
    CHECK_STR(err, want);
    struct msg m[2];
    shape(&m[0], 0, 0);
    shape(&m[1], 1, 0);
    CHECK_INT(redis_driver.send(d, m, 2), -1);
    CHECK_INT(m[0].status, MSG_RETRY);
    CHECK_INT(m[1].status, MSG_RETRY);
    CHECK_STR(m[0].error, want);
    /* The operator fixes it: the next attempt reconnects and delivers. */
    q0("DEL %s", "luagate:test:str");
    CHECK_INT(redis_driver.send(d, m, 2), 0);
    CHECK_INT(count_status(m, 2, MSG_OK), 2);
    redis_driver.close(d);
    tconf_free(c);

    q0("DEL %s", NS_KEY);
    r = q("HSET %s f v", NS_KEY);
    if (r)
        freeReplyObject(r);
    c = conf(addr, NS_KEY, "access", NULL, NULL);
    d = drv_open(c);
    CHECK_INT(redis_driver.health(d, err, sizeof err), -1);
    CHECK_STR(err, "redis:1: key '" NS_KEY "' holds a hash, expected a list for format access");
    redis_driver.close(d);
    tconf_free(c);
}

/* The key changes type under a live connection: WRONGTYPE keeps the
 * messages (RETRY) and the reconnect explains the problem. */
TEST(wrongtype_live)
{
    q0("DEL %s", NS_KEY);
    struct target_conf *c = conf(addr, NS_KEY, NULL, NULL, NULL);
    void *d = drv_open(c);
    CHECK(d != NULL);
    if (!d) {
        tconf_free(c);
        return;
    }
    struct msg m[3];
    for (int i = 0; i < 3; i++)
        shape(&m[i], (size_t)i, 0);
    CHECK_INT(redis_driver.send(d, m, 1), 0);
    q0("DEL %s", NS_KEY);
    redisReply *r = q("SET %s x", NS_KEY);
    if (r)
        freeReplyObject(r);
    CHECK_INT(redis_driver.send(d, m, 3), -1);
    CHECK_INT(count_status(m, 3, MSG_RETRY), 3);
    CHECK(strstr(m[0].error, "WRONGTYPE") && strstr(m[0].error, "no longer a hash"));
    char err[256];
    CHECK_INT(redis_driver.health(d, err, sizeof err), -1);
    CHECK(strstr(err, "holds a string, expected a hash") != NULL);
    q0("DEL %s", NS_KEY);
    CHECK_INT(redis_driver.send(d, m, 3), 0);
    CHECK_INT(count_status(m, 3, MSG_OK), 3);
    redis_driver.close(d);
    tconf_free(c);
}

/* user + password through an ACL user on the main server. */
TEST(auth_acl_user)
{
    redisReply *r = q("ACL SETUSER luagate-u on >s3cret-Pw ~* &* +@all");
    CHECK(r && r->type == REDIS_REPLY_STATUS);
    if (r)
        freeReplyObject(r);
    q0("DEL %s", NS_KEY);
    struct target_conf *c = conf(addr, NS_KEY, NULL, "luagate-u", "s3cret-Pw");
    void *d = drv_open(c);
    char err[256];
    CHECK_INT(redis_driver.health(d, err, sizeof err), 0);
    struct msg m[1];
    shape(&m[0], 0, 0);
    CHECK_INT(redis_driver.send(d, m, 1), 0);
    CHECK_INT(m[0].status, MSG_OK);
    r = q("CLIENT LIST");
    CHECK(r && r->type == REDIS_REPLY_STRING && strstr(r->str, "name=MinIO") &&
          strstr(r->str, "user=luagate-u"));
    if (r)
        freeReplyObject(r);
    redis_driver.close(d);
    tconf_free(c);

    c = conf(addr, NS_KEY, NULL, "luagate-u", "wrong-Pw-xyz");
    d = drv_open(c);
    CHECK_INT(redis_driver.health(d, err, sizeof err), -1);
    printf("  # %s\n", err);
    CHECK(strstr(err, "authentication as luagate-u") && strstr(err, "WRONGPASS"));
    CHECK(!strstr(err, "wrong-Pw-xyz"));
    CHECK_INT(redis_driver.send(d, m, 1), -1);
    CHECK_INT(m[0].status, MSG_RETRY);
    CHECK(strstr(m[0].error, "WRONGPASS") && !strstr(m[0].error, "wrong-Pw-xyz"));
    redis_driver.close(d);
    tconf_free(c);
    r = q("ACL DELUSER luagate-u");
    if (r)
        freeReplyObject(r);
}

/* A second server with --requirepass: AUTH <password>, wrong and missing. */
TEST(auth_requirepass)
{
    int p2 = port + 1;
    char cmd[256], a2[64];
    snprintf(cmd, sizeof cmd, "scripts/redis.sh start redis-auth %d --requirepass 'pAss-W0rd' >/dev/null", p2);
    int rc = system(cmd);
    CHECK_INT(rc, 0);
    if (rc) {
        printf("  # could not start a second redis on %d (run from the repository root)\n", p2);
        return;
    }
    snprintf(a2, sizeof a2, "127.0.0.1:%d", p2);
    char err[256];
    struct target_conf *c = conf(a2, NS_KEY, NULL, NULL, "pAss-W0rd");
    void *d = drv_open(c);
    CHECK_INT(redis_driver.health(d, err, sizeof err), 0);
    struct msg m[1];
    shape(&m[0], 0, 0);
    CHECK_INT(redis_driver.send(d, m, 1), 0);
    redis_driver.close(d);
    tconf_free(c);

    c = conf(a2, NS_KEY, NULL, NULL, "pAss-W0rd-not");
    d = drv_open(c);
    CHECK_INT(redis_driver.health(d, err, sizeof err), -1);
    printf("  # %s\n", err);
    CHECK(strstr(err, "authentication at") && !strstr(err, "pAss-W0rd"));
    redis_driver.close(d);
    tconf_free(c);

    c = conf(a2, NS_KEY, NULL, NULL, NULL);
    d = drv_open(c);
    CHECK_INT(redis_driver.health(d, err, sizeof err), -1);
    printf("  # %s\n", err);
    CHECK(strstr(err, "requires a password (key 'password')") != NULL);
    redis_driver.close(d);
    tconf_free(c);
    snprintf(cmd, sizeof cmd, "scripts/redis.sh stop redis-auth %d", p2);
    CHECK_INT(system(cmd), 0);
}

/* The server stops: RETRY and -1; it comes back: delivered, in order.  The
 * test server keeps nothing across a restart, so only what was sent after it
 * is there to see. */
TEST(outage)
{
    q0("DEL %s", ACC_KEY);
    struct target_conf *c = conf(addr, ACC_KEY, "access", NULL, NULL);
    void *d = drv_open(c);
    struct msg m[10];
    for (size_t i = 0; i < 10; i++)
        shape(&m[i], i, 1);
    CHECK_INT(redis_driver.send(d, m, 5), 0);
    CHECK_INT(system("scripts/redis.sh stop"), 0);
    CHECK_INT(redis_driver.send(d, m + 5, 5), -1);
    CHECK_INT(count_status(m + 5, 5, MSG_RETRY), 5);
    printf("  # %s\n", m[5].error);
    CHECK(strstr(m[5].error, "redis:1: ") != NULL);
    char err[256];
    CHECK_INT(redis_driver.health(d, err, sizeof err), -1);
    CHECK(strstr(err, "cannot connect to 127.0.0.1") != NULL);
    CHECK_INT(redis_driver.send(d, m + 5, 5), -1); /* still down */
    CHECK_INT(system("scripts/redis.sh start >/dev/null"), 0);
    CHECK_INT(redis_driver.send(d, m + 5, 5), 0);
    CHECK_INT(count_status(m + 5, 5, MSG_OK), 5);
    CHECK_INT(redis_driver.health(d, err, sizeof err), 0);
    redisReply *r = q("LRANGE %s 0 -1", ACC_KEY);
    CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 5);
    if (r && r->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < r->elements && i < 5; i++)
            CHECK(reply_is(r->element[i], acc[5 + i]));
    if (r)
        freeReplyObject(r);
    redis_driver.close(d);
    tconf_free(c);
}

/* A server that stops answering: the send gives up after the timeout. */
TEST(timeout)
{
    q0("DEL %s", NS_KEY);
    struct target_conf *c = conf(addr, NS_KEY, NULL, NULL, NULL);
    void *d = drv_open(c);
    struct msg m[2];
    shape(&m[0], 0, 0);
    shape(&m[1], 1, 0);
    CHECK_INT(redis_driver.send(d, m, 1), 0);
    redisReply *r = q("CLIENT PAUSE 8000 WRITE");
    CHECK(r && r->type == REDIS_REPLY_STATUS);
    if (r)
        freeReplyObject(r);
    time_t t0 = time(NULL);
    CHECK_INT(redis_driver.send(d, m, 2), -1);
    time_t took = time(NULL) - t0;
    CHECK(took >= 4 && took <= 7);
    CHECK_INT(count_status(m, 2, MSG_RETRY), 2);
    printf("  # %s\n", m[0].error);
    CHECK(strstr(m[0].error, "timeout") != NULL);
    r = q("CLIENT UNPAUSE");
    if (r)
        freeReplyObject(r);
    CHECK_INT(redis_driver.send(d, m, 2), 0);
    CHECK_INT(count_status(m, 2, MSG_OK), 2);
    redis_driver.close(d);
    tconf_free(c);
}

int main(void)
{
    const char *p = getenv("REDIS_PORT");
    port = p && *p ? atoi(p) : 16379;
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    ns = unit_samples(S, 64);
    for (size_t i = 0; i < ns; i++) {
        size_t len = strlen(S[i].record) + strlen(S[i].event_time) + 64;
        acc[i] = malloc(len);
        snprintf(acc[i], len, "[{\"Event\":[%s],\"EventTime\":\"%s\"}]", S[i].record,
                 S[i].event_time);
    }
    RUN(server_reachable);
    if (ns != 60 || !cli) {
        printf("not ok - setup (%zu samples, server %s)\n", ns, cli ? "up" : "unreachable");
        unit_failed++;
    } else {
        RUN(key_table);
        RUN(validation);
        RUN(namespace_samples);
        RUN(access_samples);
        RUN(full_batch);
        RUN(pipelines_in_pieces);
        RUN(opts_and_reject);
        RUN(type_mismatch);
        RUN(wrongtype_live);
        RUN(auth_acl_user);
        RUN(auth_requirepass);
        RUN(outage);
        RUN(timeout);
        q0("DEL %s", NS_KEY);
        q0("DEL %s", ACC_KEY);
    }
    if (cli)
        redisFree(cli);
    for (size_t i = 0; i < ns; i++)
        free(acc[i]);
    unit_samples_free(S, ns);
    return unit_done();
}
