/* test_amqp.c -- the AMQP driver against a real RabbitMQ (scripts/rabbitmq.sh).
 *
 * What the driver published is read back from outside over a separate
 * rabbitmq-c connection with basic.get (body bytes, properties, headers,
 * routing key).  Exchange and queue names carry the pid so runs do not mix.
 * The outage test stops and starts RabbitMQ once (≈10 s). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#if defined(__has_include) && __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#endif
#include "itest.h"
#include "driver.h"
#include "targetconf.h"

#define NSAMPLES 60

extern const struct driver amqp_driver;

static struct sample S[NSAMPLES];
static size_t ns;
static int port, tls_port;
static amqp_connection_state_t adm; /* the outside observer */
static char tag[32];                /* per-run suffix of every name */

/* ---- the observer */

static int adm_connect(void)
{
    if (adm)
        amqp_destroy_connection(adm);
    adm = amqp_new_connection();
    amqp_socket_t *s = adm ? amqp_tcp_socket_new(adm) : NULL;
    struct timeval tv = { 5, 0 };
    if (!s || amqp_socket_open_noblock(s, "127.0.0.1", port, &tv) != AMQP_STATUS_OK)
        goto fail;
    amqp_set_rpc_timeout(adm, &tv);
    if (amqp_login(adm, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest").reply_type !=
        AMQP_RESPONSE_NORMAL)
        goto fail;
    amqp_channel_open(adm, 1);
    if (amqp_get_rpc_reply(adm).reply_type != AMQP_RESPONSE_NORMAL)
        goto fail;
    return 0;
fail:
    if (adm)
        amqp_destroy_connection(adm);
    adm = NULL;
    return -1;
}

static int adm_ok(void)
{
    return amqp_get_rpc_reply(adm).reply_type == AMQP_RESPONSE_NORMAL;
}

static int exchange(const char *name, const char *type, int durable)
{
    amqp_exchange_declare(adm, 1, amqp_cstring_bytes(name), amqp_cstring_bytes(type), 0, durable, 0,
                          0, amqp_empty_table);
    return adm_ok();
}

/* Declare queue and bind it to ex with key (and headers-exchange args). */
static int queue(const char *q, const char *ex, const char *key, int durable, const char *hbucket)
{
    amqp_queue_declare(adm, 1, amqp_cstring_bytes(q), 0, durable, 0, 0, amqp_empty_table);
    if (!adm_ok())
        return 0;
    amqp_table_entry_t e[2] = {
        { amqp_cstring_bytes("x-match"), { AMQP_FIELD_KIND_UTF8, { .bytes = amqp_cstring_bytes("all") } } },
        { amqp_cstring_bytes("minio-bucket"),
          { AMQP_FIELD_KIND_UTF8, { .bytes = amqp_cstring_bytes(hbucket ? hbucket : "") } } },
    };
    amqp_table_t args = hbucket ? (amqp_table_t){ 2, e } : amqp_empty_table;
    amqp_queue_bind(adm, 1, amqp_cstring_bytes(q), amqp_cstring_bytes(ex), amqp_cstring_bytes(key), args);
    return adm_ok();
}

static void cleanup(const char *q, const char *ex)
{
    if (q) {
        amqp_queue_delete(adm, 1, amqp_cstring_bytes(q), 0, 0);
        adm_ok();
    }
    if (ex) {
        amqp_exchange_delete(adm, 1, amqp_cstring_bytes(ex), 0);
        adm_ok();
    }
}

struct got {
    char *body;
    size_t len;
    char rk[256], ex[256], ctype[64], bucket[64], event[64], extra[64];
    int dmode; /* -1: property absent */
    int nheaders;
};

static const char *hdr(amqp_table_t *t, const char *name, char *out, size_t outlen)
{
    out[0] = 0;
    for (int i = 0; i < t->num_entries; i++) {
        amqp_table_entry_t *e = &t->entries[i];
        if (e->key.len == strlen(name) && !memcmp(e->key.bytes, name, e->key.len) &&
            e->value.kind == AMQP_FIELD_KIND_UTF8)
            snprintf(out, outlen, "%.*s", (int)e->value.value.bytes.len,
                     (char *)e->value.value.bytes.bytes);
    }
    return out;
}

/* basic.get one message; 1 got, 0 queue empty, -1 error. */
static int get(const char *q, struct got *g)
{
    memset(g, 0, sizeof *g);
    amqp_rpc_reply_t r = amqp_basic_get(adm, 1, amqp_cstring_bytes(q), 1);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        return -1;
    if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
        return 0;
    amqp_basic_get_ok_t *ok = r.reply.decoded;
    snprintf(g->rk, sizeof g->rk, "%.*s", (int)ok->routing_key.len, (char *)ok->routing_key.bytes);
    snprintf(g->ex, sizeof g->ex, "%.*s", (int)ok->exchange.len, (char *)ok->exchange.bytes);
    amqp_message_t m;
    if (amqp_read_message(adm, 1, &m, 0).reply_type != AMQP_RESPONSE_NORMAL)
        return -1;
    g->len = m.body.len;
    g->body = malloc(g->len + 1);
    memcpy(g->body, m.body.bytes, g->len);
    g->body[g->len] = 0;
    amqp_basic_properties_t *p = &m.properties;
    if (p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
        snprintf(g->ctype, sizeof g->ctype, "%.*s", (int)p->content_type.len,
                 (char *)p->content_type.bytes);
    g->dmode = (p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG) ? p->delivery_mode : -1;
    if (p->_flags & AMQP_BASIC_HEADERS_FLAG) {
        g->nheaders = p->headers.num_entries;
        hdr(&p->headers, "minio-bucket", g->bucket, sizeof g->bucket);
        hdr(&p->headers, "minio-event", g->event, sizeof g->event);
        hdr(&p->headers, "x-tenant", g->extra, sizeof g->extra);
    }
    amqp_destroy_message(&m);
    amqp_maybe_release_buffers(adm);
    return 1;
}

static int queue_len(const char *q)
{
    amqp_queue_declare_ok_t *ok =
        amqp_queue_declare(adm, 1, amqp_cstring_bytes(q), 1, 0, 0, 0, amqp_empty_table);
    return adm_ok() && ok ? (int)ok->message_count : -1;
}

/* ---- the driver */

static struct target_conf *conf(const char *const *kv)
{
    return itest_conf("amqp", kv);
}

static char url[128];

static void *open_with(const char *const *kv, struct target_conf **cp)
{
    char err[256] = "";
    struct target_conf *c = conf(kv);
    if (tconf_validate(c, err, sizeof err)) {
        printf("  # validate: %s\n", err);
        tconf_free(c);
        return NULL;
    }
    void *x = amqp_driver.open(c, err, sizeof err);
    if (!x)
        printf("  # open: %s\n", err);
    *cp = c;
    return x;
}

static void shut(void *x, struct target_conf *c)
{
    if (x)
        amqp_driver.close(x);
    tconf_free(c);
}

/* Messages for samples [from, from+n), Log envelope as MinIO's default route. */
static struct msg *batch(size_t from, size_t n)
{
    struct msg *m = calloc(n, sizeof *m);
    for (size_t i = 0; i < n; i++) {
        struct sample *s = &S[(from + i) % ns];
        m[i].payload = s->envelope;
        m[i].payload_len = strlen(s->envelope);
        m[i].event_name = s->event_name;
        m[i].key = s->key;
        m[i].event_time = s->event_time;
    }
    return m;
}

static size_t count(struct msg *m, size_t n, enum msg_status st)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += m[i].status == st;
    return k;
}

static size_t bucket_of(const char *key, char *out, size_t len)
{
    size_t b = strcspn(key, "/");
    snprintf(out, len, "%.*s", (int)b, key);
    return b;
}

/* Read n messages from q and compare each with samples [from, from+n). */
static int expect(const char *q, size_t from, size_t n, const char *rk, int dmode)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct sample *s = &S[(from + i) % ns];
        struct got g;
        if (get(q, &g) != 1) {
            printf("  # %s: message %zu missing\n", q, i);
            return 0;
        }
        char b[64];
        bucket_of(s->key, b, sizeof b);
        if (g.len != strlen(s->envelope) || memcmp(g.body, s->envelope, g.len) ||
            strcmp(g.ctype, "application/json") || g.dmode != dmode || strcmp(g.bucket, b) ||
            strcmp(g.event, s->event_name) || (rk && strcmp(g.rk, rk)) || g.nheaders != 2) {
            if (!bad++)
                printf("  # %s: message %zu differs: ctype '%s' dmode %d bucket '%s' event '%s' rk "
                       "'%s' headers %d body %.60s\n",
                       q, i, g.ctype, g.dmode, g.bucket, g.event, g.rk, g.nheaders, g.body);
        }
        free(g.body);
    }
    struct got g;
    if (get(q, &g) != 0) {
        printf("  # %s: more messages than expected\n", q);
        free(g.body);
        return 0;
    }
    return !bad;
}

/* ---- tests */

TEST(config_validation)
{
    char err[256];
    struct { const char *k, *v, *want; } bad[] = {
        { "url", "", "key 'url' is required" },
        { "url", "http://guest:s3cr3tpw@localhost:5672", "key 'url'" },
        { "url", "amqp://guest:s3cr3tpw@localhost:notaport/", "key 'url'" },
        { "url", "amqp://guest:s3cr3tpw@localhost/v%zz", "key 'url'" },
        { "exchange_type", "bogus", "key 'exchange_type'" },
        { "delivery_mode", "-1", "key 'delivery_mode'" },
        { "delivery_mode", "300", "key 'delivery_mode'" },
        { "mandatory", "maybe", "key 'mandatory'" },
        { "publisher_confirms", "sometimes", "key 'publisher_confirms'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *kv[] = { "url", "amqp://guest:s3cr3tpw@localhost:5672", bad[i].k, bad[i].v, NULL };
        struct target_conf *c = conf(kv);
        int rc = tconf_validate(c, err, sizeof err);
        CHECK(rc == -1);
        if (rc == -1 && (!strstr(err, bad[i].want) || !strstr(err, "amqp:1") || strstr(err, "s3cr3tpw"))) {
            printf("  # %s=%s gave: %s\n", bad[i].k, bad[i].v, err);
            CHECK(0);
        }
        tconf_free(c);
    }
    const char *good[] = { "url", "amqps://u%40x:p%3Aw@localhost/%2f?cacertfile=/x.pem",
                           "exchange_type", "x-consistent-hash", "delivery_mode", "2",
                           "mandatory", "on", NULL };
    struct target_conf *c = conf(good);
    CHECK(tconf_validate(c, err, sizeof err) == 0);
    const struct key_spec *k = tconf_spec(c, "publisher_confirms");
    CHECK(k && k->env && !strcmp(k->env, "PUBLISHING_CONFIRMS") && k->type == KEY_BOOL);
    k = tconf_spec(c, "url");
    CHECK(k && (k->flags & KEY_SECRET) && (k->flags & KEY_REQUIRED));
    k = tconf_spec(c, "immediate");
    CHECK(k && (k->flags & KEY_ENV_ONLY));
    k = tconf_spec(c, "arguments");
    CHECK(k && (k->flags & KEY_ENV_ONLY) && (k->flags & KEY_HIDDEN));
    CHECK(amqp_driver.max_batch == 256);
    tconf_free(c);
}

/* MinIO's default route to a topic exchange: 60 envelopes, byte for byte. */
TEST(default_route_topic)
{
    char ex[64], q[64];
    snprintf(ex, sizeof ex, "lg-topic-%s", tag);
    snprintf(q, sizeof q, "lg-topic-q-%s", tag);
    const char *kv[] = { "url", url, "exchange", ex, "exchange_type", "topic", "routing_key",
                         "minio.events", NULL };
    struct target_conf *c;
    void *x = open_with(kv, &c);
    CHECK(x != NULL);
    if (!x)
        return;
    char err[256];
    CHECK(amqp_driver.health(x, err, sizeof err) == 0); /* declares the exchange */
    CHECK(queue(q, ex, "minio.#", 0, NULL));
    struct msg *m = batch(0, ns);
    CHECK(amqp_driver.send(x, m, ns) == 0);
    CHECK_INT(count(m, ns, MSG_OK), ns);
    CHECK(expect(q, 0, ns, "minio.events", -1));
    /* a second batch on the same connection and channel */
    CHECK(amqp_driver.send(x, m, 5) == 0 && count(m, 5, MSG_OK) == 5);
    CHECK(expect(q, 0, 5, "minio.events", -1));
    free(m);
    cleanup(q, ex);
    shut(x, c);
}

/* A headers exchange routing on minio-bucket; confirms on: all acked. */
TEST(headers_exchange_confirms)
{
    char ex[64], qi[64], ql[64];
    snprintf(ex, sizeof ex, "lg-hdr-%s", tag);
    snprintf(qi, sizeof qi, "lg-hdr-images-%s", tag);
    snprintf(ql, sizeof ql, "lg-hdr-logs-%s", tag);
    CHECK(exchange(ex, "headers", 0));
    CHECK(queue(qi, ex, "", 0, "images"));
    CHECK(queue(ql, ex, "", 0, "logs"));
    const char *kv[] = { "url", url, "exchange", ex, "exchange_type", "headers",
                         "publisher_confirms", "on", "delivery_mode", "1", NULL };
    struct target_conf *c;
    void *x = open_with(kv, &c);
    CHECK(x != NULL);
    if (!x)
        return;
    struct msg *m = batch(0, ns);
    CHECK(amqp_driver.send(x, m, ns) == 0);
    CHECK_INT(count(m, ns, MSG_OK), ns);
    int bad = 0;
    for (int w = 0; w < 2; w++) {
        const char *want = w ? "logs" : "images", *qn = w ? ql : qi;
        for (size_t i = 0; i < ns; i++) {
            char b[64];
            bucket_of(S[i].key, b, sizeof b);
            if (strcmp(b, want))
                continue;
            struct got g;
            if (get(qn, &g) != 1 || strcmp(g.bucket, want) || g.len != strlen(S[i].envelope) ||
                memcmp(g.body, S[i].envelope, g.len) || g.dmode != 1)
                bad++;
            free(g.body);
        }
        CHECK_INT(queue_len(qn), 0);
    }
    CHECK_INT(bad, 0);
    free(m);
    cleanup(qi, NULL);
    cleanup(ql, ex);
    shut(x, c);
}

/* mandatory: an unroutable message comes back and is rejected, the others
 * are delivered; with and without publisher confirms. */
TEST(mandatory_unroutable_rejected)
{
    for (int confirms = 0; confirms < 2; confirms++) {
        char ex[64], q[64];
        snprintf(ex, sizeof ex, "lg-mand%d-%s", confirms, tag);
        snprintf(q, sizeof q, "lg-mand%d-q-%s", confirms, tag);
        CHECK(exchange(ex, "direct", 0));
        CHECK(queue(q, ex, "good", 0, NULL));
        const char *kv[] = { "url", url, "exchange", ex, "exchange_type", "direct", "routing_key",
                             "good", "mandatory", "on", "publisher_confirms",
                             confirms ? "on" : "off", NULL };
        struct target_conf *c;
        void *x = open_with(kv, &c);
        CHECK(x != NULL);
        if (!x)
            return;
        struct msg *m = batch(0, 10);
        m[3].opts = "{\"routing_key\":\"nowhere\"}";
        m[7].opts = "{\"routing_key\":\"nowhere\"}";
        CHECK(amqp_driver.send(x, m, 10) == 0);
        CHECK_INT(count(m, 10, MSG_OK), 8);
        CHECK(m[3].status == MSG_REJECT && strstr(m[3].error, "NO_ROUTE"));
        CHECK(m[7].status == MSG_REJECT && strstr(m[7].error, "NO_ROUTE"));
        if (m[3].status == MSG_REJECT)
            printf("  # confirms=%d: %s\n", confirms, m[3].error);
        CHECK_INT(queue_len(q), 8);
        free(m);
        cleanup(q, ex);
        shut(x, c);
    }
}

/* opts from a script: another exchange, routing key, extra headers; an
 * exchange that does not exist and a broken opts reject only their message. */
TEST(opts_overrides)
{
    char ex[64], ex2[64], q[64], q2[64], opt_ok[256];
    snprintf(ex, sizeof ex, "lg-opts-%s", tag);
    snprintf(ex2, sizeof ex2, "lg-opts2-%s", tag);
    snprintf(q, sizeof q, "lg-opts-q-%s", tag);
    snprintf(q2, sizeof q2, "lg-opts2-q-%s", tag);
    CHECK(exchange(ex, "direct", 0) && exchange(ex2, "direct", 0));
    CHECK(queue(q, ex, "k", 0, NULL) && queue(q2, ex2, "other", 0, NULL));
    snprintf(opt_ok, sizeof opt_ok,
             "{\"exchange\":\"%s\",\"routing_key\":\"other\",\"headers\":{\"x-tenant\":\"a\","
             "\"minio-event\":\"custom\"}}", ex2);
    const char *kv[] = { "url", url, "exchange", ex, "exchange_type", "direct", "routing_key", "k",
                         "publisher_confirms", "on", NULL };
    struct target_conf *c;
    void *x = open_with(kv, &c);
    CHECK(x != NULL);
    if (!x)
        return;
    struct msg *m = batch(0, 6);
    m[1].opts = opt_ok;
    m[2].opts = "{\"exchange\":\"lg-no-such-exchange\"}";
    m[3].opts = "not json";
    m[4].opts = "{\"headers\":{\"n\":1}}";
    CHECK(amqp_driver.send(x, m, 6) == 0);
    CHECK(m[0].status == MSG_OK && m[1].status == MSG_OK && m[5].status == MSG_OK);
    CHECK(m[2].status == MSG_REJECT && strstr(m[2].error, "404"));
    CHECK(m[3].status == MSG_REJECT && m[4].status == MSG_REJECT);
    CHECK_INT(queue_len(q), 2);
    struct got g;
    CHECK(get(q2, &g) == 1 && !strcmp(g.extra, "a") && !strcmp(g.event, "custom") &&
          !strcmp(g.rk, "other") && !strcmp(g.ex, ex2) && g.nheaders == 3);
    free(g.body);
    /* the channel reopened after the 404 still works */
    CHECK(amqp_driver.send(x, m, 1) == 0 && m[0].status == MSG_OK);
    free(m);
    cleanup(q, ex);
    cleanup(q2, ex2);
    shut(x, c);
}

/* Declaring an existing exchange with another type: 406, said clearly. */
TEST(exchange_type_mismatch)
{
    char ex[64], err[256] = "";
    snprintf(ex, sizeof ex, "lg-mismatch-%s", tag);
    CHECK(exchange(ex, "fanout", 0));
    const char *kv[] = { "url", url, "exchange", ex, "exchange_type", "topic", NULL };
    struct target_conf *c;
    void *x = open_with(kv, &c);
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK(amqp_driver.health(x, err, sizeof err) == -1);
    CHECK(strstr(err, "406") && strstr(err, "PRECONDITION_FAILED") && strstr(err, ex));
    printf("  # %s\n", err);
    struct msg *m = batch(0, 3);
    CHECK(amqp_driver.send(x, m, 3) == -1);
    CHECK_INT(count(m, 3, MSG_RETRY), 3);
    CHECK(strstr(m[0].error, "406") != NULL);
    free(m);
    cleanup(NULL, ex);
    shut(x, c);
}

/* durable, auto_deleted and no_wait reach the broker: an equivalent
 * declare from outside succeeds, a different one gets 406. */
TEST(declare_flags)
{
    char ex[64], err[256];
    snprintf(ex, sizeof ex, "lg-flags-%s", tag);
    const char *kv[] = { "url", url, "exchange", ex, "exchange_type", "fanout", "durable", "on",
                         "auto_deleted", "on", "no_wait", "on", NULL };
    struct target_conf *c;
    void *x = open_with(kv, &c);
    CHECK(x && amqp_driver.health(x, err, sizeof err) == 0);
    amqp_exchange_declare(adm, 1, amqp_cstring_bytes(ex), amqp_cstring_bytes("fanout"), 0, 1, 1, 0,
                          amqp_empty_table);
    CHECK(adm_ok());
    amqp_exchange_declare(adm, 1, amqp_cstring_bytes(ex), amqp_cstring_bytes("fanout"), 0, 0, 1, 0,
                          amqp_empty_table);
    CHECK(!adm_ok()); /* 406 closed the observer's channel: reopen it */
    amqp_channel_close_ok_t ok = { 0 };
    amqp_send_method(adm, 1, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    amqp_channel_open(adm, 1);
    CHECK(adm_ok());
    cleanup(NULL, ex);
    shut(x, c);
}

/* Wrong password, unknown vhost, nothing listening: clear errors, no secret. */
TEST(bad_credentials_and_unreachable)
{
    char u[256], err[256] = "";
    snprintf(u, sizeof u, "amqp://guest:wr0ngs3cret@127.0.0.1:%d", port);
    const char *kv[] = { "url", u, "exchange", "lg-x", "exchange_type", "topic", NULL };
    struct target_conf *c;
    void *x = open_with(kv, &c);
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK(amqp_driver.health(x, err, sizeof err) == -1);
    printf("  # %s\n", err);
    CHECK(strstr(err, "ACCESS_REFUSED") || strstr(err, "login"));
    CHECK(!strstr(err, "wr0ngs3cret"));
    struct msg *m = batch(0, 2);
    CHECK(amqp_driver.send(x, m, 2) == -1 && count(m, 2, MSG_RETRY) == 2);
    CHECK(!strstr(m[0].error, "wr0ngs3cret"));
    shut(x, c);

    snprintf(u, sizeof u, "amqp://guest:guest@127.0.0.1:%d/no-such-vhost", port);
    x = open_with(kv, &c);
    CHECK(x && amqp_driver.health(x, err, sizeof err) == -1 && strstr(err, "no-such-vhost"));
    printf("  # %s\n", err);
    shut(x, c);

    snprintf(u, sizeof u, "amqp://guest:guest@127.0.0.1:1/");
    x = open_with(kv, &c);
    CHECK(x && amqp_driver.health(x, err, sizeof err) == -1 && strstr(err, "cannot connect"));
    printf("  # %s\n", err);
    CHECK(amqp_driver.send(x, m, 2) == -1 && count(m, 2, MSG_RETRY) == 2);
    free(m);
    shut(x, c);
}

/* A connection the broker dropped while we were idle (heartbeat=1 s, no
 * traffic for 3.5 s) is replaced inside the next send, not failed. */
TEST(idle_connection_replaced)
{
    char u[256], ex[64], q[64], err[256];
    snprintf(ex, sizeof ex, "lg-idle-%s", tag);
    snprintf(q, sizeof q, "lg-idle-q-%s", tag);
    snprintf(u, sizeof u, "%s?heartbeat=1", url);
    const char *kv[] = { "url", u, "exchange", ex, "exchange_type", "fanout", NULL };
    struct target_conf *c;
    void *x = open_with(kv, &c);
    CHECK(x && amqp_driver.health(x, err, sizeof err) == 0);
    if (!x)
        return;
    CHECK(queue(q, ex, "", 0, NULL));
    usleep(3500 * 1000);
    struct msg *m = batch(0, 3);
    CHECK(amqp_driver.send(x, m, 3) == 0 && count(m, 3, MSG_OK) == 3);
    CHECK(expect(q, 0, 3, NULL, -1));
    free(m);
    cleanup(q, ex);
    shut(x, c);
}

/* amqps with the test CA of scripts/rabbitmq.sh; and refused without it. */
TEST(amqps)
{
    const char *base = getenv("BASE");
    char u[512], ex[64], q[64], err[256];
    snprintf(ex, sizeof ex, "lg-tls-%s", tag);
    snprintf(q, sizeof q, "lg-tls-q-%s", tag);
    snprintf(u, sizeof u, "amqps://guest:guest@localhost:%d/?cacertfile=%s/rabbitmq/tls/ca.pem",
             tls_port, base ? base : "/tmp/luagate-test");
    const char *kv[] = { "url", u, "exchange", ex, "exchange_type", "fanout", "publisher_confirms",
                         "on", NULL };
    struct target_conf *c;
    void *x = open_with(kv, &c);
    CHECK(x != NULL);
    if (!x)
        return;
    int h = amqp_driver.health(x, err, sizeof err);
    if (h)
        printf("  # %s\n", err);
    CHECK(h == 0);
    CHECK(queue(q, ex, "", 0, NULL));
    struct msg *m = batch(10, 5);
    CHECK(amqp_driver.send(x, m, 5) == 0 && count(m, 5, MSG_OK) == 5);
    CHECK(expect(q, 10, 5, NULL, -1));
    shut(x, c);
    /* the system CAs do not know the test CA */
    snprintf(u, sizeof u, "amqps://guest:guest@localhost:%d/", tls_port);
    x = open_with(kv, &c);
    CHECK(x && amqp_driver.health(x, err, sizeof err) == -1);
    printf("  # without the CA: %s\n", err);
    free(m);
    cleanup(q, ex);
    shut(x, c);
}

static int rabbit(const char *what)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "scripts/rabbitmq.sh %s >/dev/null 2>&1", what);
    return system(cmd);
}

/* A memory alarm blocks publishers: the batch fails (RETRY, -1) within the
 * 5 s timeout instead of hanging, and goes through once the alarm clears. */
TEST(resource_alarm)
{
    char ex[64], q[64], err[256];
    snprintf(ex, sizeof ex, "lg-alarm-%s", tag);
    snprintf(q, sizeof q, "lg-alarm-q-%s", tag);
    const char *kv[] = { "url", url, "exchange", ex, "exchange_type", "fanout", NULL };
    struct target_conf *c;
    void *x = open_with(kv, &c);
    CHECK(x && amqp_driver.health(x, err, sizeof err) == 0);
    if (!x)
        return;
    CHECK(queue(q, ex, "", 0, NULL));
    CHECK(rabbit("ctl set_vm_memory_high_watermark 0.00001") == 0);
    usleep(1500 * 1000); /* the memory monitor notices within ~1 s */
    struct msg *m = batch(0, 4);
    struct timeval t0, t1;
    gettimeofday(&t0, NULL);
    CHECK(amqp_driver.send(x, m, 4) == -1 && count(m, 4, MSG_RETRY) == 4);
    gettimeofday(&t1, NULL);
    CHECK(t1.tv_sec - t0.tv_sec <= 7);
    printf("  # alarm: %s\n", m[0].error);
    CHECK(rabbit("ctl set_vm_memory_high_watermark 0.4") == 0);
    usleep(1500 * 1000);
    CHECK(amqp_driver.send(x, m, 4) == 0 && count(m, 4, MSG_OK) == 4);
    int n = queue_len(q);
    CHECK(n >= 4); /* at-most-once without confirms: the stuck ones may arrive too */
    free(m);
    cleanup(q, ex);
    shut(x, c);
}

/* RabbitMQ stops: RETRY and -1; it comes back: the same messages go
 * through, and with a durable exchange and queue and delivery_mode 2
 * nothing published before the outage is lost, all in order. */
TEST(outage)
{
    char ex[64], q[64], err[256];
    snprintf(ex, sizeof ex, "lg-outage-%s", tag);
    snprintf(q, sizeof q, "lg-outage-q-%s", tag);
    const char *kv[] = { "url", url, "exchange", ex, "exchange_type", "topic", "durable", "on",
                         "delivery_mode", "2", "routing_key", "r", "publisher_confirms", "on", NULL };
    struct target_conf *c;
    void *x = open_with(kv, &c);
    CHECK(x != NULL);
    if (!x)
        return;
    CHECK(amqp_driver.health(x, err, sizeof err) == 0);
    CHECK(queue(q, ex, "#", 1, NULL));
    struct msg *a = batch(0, 20), *b = batch(20, 20);
    CHECK(amqp_driver.send(x, a, 20) == 0 && count(a, 20, MSG_OK) == 20);

    CHECK(rabbit("stop") == 0);
    CHECK(amqp_driver.send(x, b, 20) == -1);
    CHECK_INT(count(b, 20, MSG_RETRY), 20);
    printf("  # down: %s\n", b[0].error);
    CHECK(amqp_driver.health(x, err, sizeof err) == -1);

    CHECK(rabbit("start") == 0);
    CHECK(amqp_driver.send(x, b, 20) == 0);
    CHECK_INT(count(b, 20, MSG_OK), 20);
    CHECK(adm_connect() == 0);
    CHECK(expect(q, 0, 40, "r", 2));
    free(a);
    free(b);
    cleanup(q, ex);
    shut(x, c);
}

int main(void)
{
    const char *p = getenv("AMQP_PORT"), *tp = getenv("AMQPS_PORT"), *off = getenv("PORT_OFFSET");
    int o = off ? atoi(off) : 0;
    port = p ? atoi(p) : 16672 + o;
    tls_port = tp ? atoi(tp) : 16674 + o;
    snprintf(tag, sizeof tag, "%d", (int)getpid());
    snprintf(url, sizeof url, "amqp://guest:guest@127.0.0.1:%d/", port);
    ns = unit_samples(S, NSAMPLES);
    if (ns != NSAMPLES) {
        printf("not ok - samples: loaded %zu of %d\n", ns, NSAMPLES);
        return 1;
    }
    RUN(config_validation);
    if (adm_connect()) {
        printf("not ok - rabbitmq is not running on 127.0.0.1:%d: start it with "
               "`BASE=... scripts/rabbitmq.sh start` (or scripts/servers.sh start)\n", port);
        unit_failed++;
        unit_samples_free(S, ns);
        return unit_done();
    }
    RUN(default_route_topic);
    RUN(headers_exchange_confirms);
    RUN(mandatory_unroutable_rejected);
    RUN(opts_overrides);
    RUN(exchange_type_mismatch);
    RUN(declare_flags);
    RUN(bad_credentials_and_unreachable);
    RUN(idle_connection_replaced);
    RUN(amqps);
    RUN(resource_alarm);
    RUN(outage);
    if (adm)
        amqp_destroy_connection(adm);
    unit_samples_free(S, ns);
    return unit_done();
}
