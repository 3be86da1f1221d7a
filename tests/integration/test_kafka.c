/* test_kafka.c -- the Kafka driver against librdkafka's mock cluster
 * (scripts/kafka.sh start; bootstrap in $BASE/kafka/bootstrap).  What the
 * broker holds is read back with a librdkafka consumer and compared byte
 * for byte with what MinIO writes: key bucket/object, value the Log
 * envelope, no headers, partition by sarama's hash partitioner.
 * Not testable here: SASL and TLS (the mock speaks neither); only the
 * refusal is checked. */
#include <signal.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include "clock.h"
#include "itest.h"
#include "targetconf.h"
#include "../../targets/kafka.h"

#define NS 60
static struct sample S[NS];
static size_t ns;
static char bs[256];
static char base[512];
static char topic_sfx[32];
static const struct driver *D; /* per run, so topics the mock auto-creates are fresh */

static int read_small(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = 0;
    buf[strcspn(buf, "\r\n")] = 0;
    return n ? 0 : -1;
}

static int mock_file(const char *name, char *buf, size_t len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/kafka/%s", base, name);
    return read_small(path, buf, len);
}

/* Signal the mock and wait until it says the fault is in place. */
static int mock_signal(int sig)
{
    char pid[32], before[32], now[32];
    if (mock_file("pid", pid, sizeof pid) || mock_file("bootstrap.ack", before, sizeof before))
        return -1;
    if (kill((pid_t)atoi(pid), sig))
        return -1;
    for (int i = 0; i < 100; i++) {
        if (!mock_file("bootstrap.ack", now, sizeof now) && strcmp(now, before))
            return 0;
        usleep(50000);
    }
    return -1;
}

static const char *topic(const char *name)
{
    static char buf[4][128];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s-%s", name, topic_sfx);
    return buf[i];
}

/* ---- the target ---- */

static struct target_conf *conf(const char *first, ...)
{
    struct target_conf *c = tconf_new(driver_kind("kafka"), "1");
    va_list ap;
    va_start(ap, first);
    for (const char *k = first; k; k = va_arg(ap, const char *))
        tconf_set(c, k, va_arg(ap, const char *));
    va_end(ap);
    return c;
}

static void *open_target(struct target_conf *c)
{
    return itest_open(D, c);
}

static void mk(struct msg *m, const struct sample *s, const char *opts)
{
    memset(m, 0, sizeof *m);
    m->payload = s->envelope;
    m->payload_len = strlen(s->envelope);
    m->event_name = s->event_name;
    m->key = s->key;
    m->event_time = s->event_time;
    m->opts = opts;
}

/* ---- reading back ---- */

struct rec {
    int32_t p;
    char *key, *val, *hdrs; /* hdrs: "name=value;..." or NULL */
    size_t klen, vlen;
};

static void quiet(const rd_kafka_t *rk, int l, const char *f, const char *b)
{
    (void)rk, (void)l, (void)f, (void)b;
}

static rd_kafka_t *consumer(void)
{
    char e[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", bs, e, sizeof e) ||
        rd_kafka_conf_set(c, "group.id", "luagate-test", e, sizeof e) ||
        rd_kafka_conf_set(c, "enable.auto.commit", "false", e, sizeof e) ||
        rd_kafka_conf_set(c, "enable.partition.eof", "true", e, sizeof e)) {
        printf("  # consumer conf: %s\n", e);
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(c, quiet);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, e, sizeof e);
    if (!rk) {
        printf("  # consumer: %s\n", e);
        rd_kafka_conf_destroy(c);
    }
    return rk;
}

static int partitions(rd_kafka_t *rk, const char *t)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, t, NULL);
    const struct rd_kafka_metadata *md;
    int n = -1;
    if (rkt && !rd_kafka_metadata(rk, 0, rkt, &md, 5000)) {
        if (md->topic_cnt == 1 && !md->topics[0].err)
            n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    return n;
}

/* High watermarks now, so a rerun against the same mock reads only its own. */
static int watermarks(const char *t, int64_t *hi, int max)
{
    rd_kafka_t *rk = consumer();
    int n = rk ? partitions(rk, t) : -1;
    for (int p = 0; p < n && p < max; p++) {
        int64_t lo;
        if (rd_kafka_query_watermark_offsets(rk, t, p, &lo, &hi[p], 5000))
            n = -1;
    }
    if (rk)
        rd_kafka_destroy(rk);
    return n;
}

/* Everything in topic t from offsets from[] (NULL: the beginning), in
 * partition order then offset order. */
static size_t consume(const char *t, const int64_t *from, struct rec *out, size_t max)
{
    rd_kafka_t *rk = consumer();
    if (!rk)
        return 0;
    int n = partitions(rk, t);
    size_t got = 0;
    if (n <= 0 || n > 16) {
        printf("  # topic %s: no metadata\n", t);
        rd_kafka_destroy(rk);
        return 0;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++)
        rd_kafka_topic_partition_list_add(l, t, p)->offset =
            from ? from[p] : RD_KAFKA_OFFSET_BEGINNING;
    if (rd_kafka_assign(rk, l))
        printf("  # assign failed\n");
    rd_kafka_topic_partition_list_destroy(l);
    struct rec *parts[16] = { 0 };
    size_t cnt[16] = { 0 };
    int eof[16] = { 0 }, eofs = 0;
    long long until = (long long)clock_mono_ms() + 10000;
    while (eofs < n && (long long)clock_mono_ms() < until) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        int32_t p = m->partition;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (p >= 0 && p < n && !eof[p])
                eof[p] = 1, eofs++;
        } else if (m->err) {
            printf("  # consume: %s\n", rd_kafka_message_errstr(m));
        } else if (p >= 0 && p < n) {
            parts[p] = realloc(parts[p], (cnt[p] + 1) * sizeof **parts);
            struct rec *r = &parts[p][cnt[p]++];
            r->p = p;
            r->key = calloc(1, m->key_len + 1); /* whole: a key may hold a NUL */
            if (r->key && m->key)
                memcpy(r->key, m->key, m->key_len);
            r->klen = m->key_len;
            r->val = strndup(m->payload ? m->payload : "", m->len);
            r->vlen = m->len;
            r->hdrs = NULL;
            rd_kafka_headers_t *h;
            if (!rd_kafka_message_headers(m, &h)) {
                char buf[512] = "";
                const char *name;
                const void *v;
                size_t vl;
                for (size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &v, &vl); i++)
                    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s=%.*s;", name,
                             (int)vl, (const char *)v);
                r->hdrs = strdup(buf);
            }
        }
        rd_kafka_message_destroy(m);
    }
    if (eofs < n)
        printf("  # consume %s: timed out\n", t);
    for (int p = 0; p < n; p++) {
        for (size_t i = 0; i < cnt[p]; i++)
            if (got < max)
                out[got++] = parts[p][i];
            else
                free(parts[p][i].key), free(parts[p][i].val), free(parts[p][i].hdrs);
        free(parts[p]);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return got;
}

static void recs_free(struct rec *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(r[i].key), free(r[i].val), free(r[i].hdrs);
}

/* The broker holds exactly samples idx[0..n-1] (sent in that order): each
 * on sarama's partition, in send order within a partition, bytes equal. */
static int holds_exactly(const struct rec *r, size_t nr, const size_t *idx, size_t n, int nparts)
{
    int ok = nr == n;
    if (!ok)
        printf("  # broker holds %zu records, expected %zu\n", nr, n);
    size_t k = 0;
    for (int p = 0; p < nparts && ok; p++)
        for (size_t i = 0; i < n && ok; i++) {
            const struct sample *s = &S[idx[i]];
            if (kafka_sarama_partition(s->key, strlen(s->key), nparts) != p)
                continue;
            const struct rec *x = &r[k++];
            if (x->p != p || x->klen != strlen(s->key) || memcmp(x->key, s->key, x->klen) ||
                x->vlen != strlen(s->envelope) || memcmp(x->val, s->envelope, x->vlen) ||
                x->hdrs) {
                printf("  # record %zu (partition %d): got key '%s' on %d, expected sample %zu "
                       "key '%s'%s\n",
                       k - 1, p, x->key, x->p, idx[i], s->key, x->hdrs ? " (has headers)" : "");
                ok = 0;
            }
        }
    return ok;
}

static int all_status(const struct msg *m, size_t n, enum msg_status st)
{
    for (size_t i = 0; i < n; i++)
        if (m[i].status != st) {
            printf("  # msg %zu: status %d, expected %d (%s)\n", i, m[i].status, st, m[i].error);
            return 0;
        }
    return 1;
}

/* ---- tests ---- */

static const char *verr(struct target_conf *c)
{
    static char err[256];
    err[0] = 0;
    if (!tconf_validate(c, err, sizeof err))
        snprintf(err, sizeof err, "(accepted)");
    tconf_free(c);
    printf("  # %s\n", err);
    return err;
}

TEST(validation_names_the_key)
{
    CHECK(strstr(verr(conf("topic", "t", NULL)), "'brokers'"));
    CHECK(strstr(verr(conf("brokers", " , ", NULL)), "kafka 'brokers' cannot be empty"));
    CHECK(strstr(verr(conf("brokers", "h:99999", NULL)), "'brokers'"));
    CHECK(strstr(verr(conf("brokers", "h:1", "compression_codec", "brotli", NULL)),
                 "'compression_codec'"));
    CHECK(strstr(verr(conf("brokers", "h:1", "sasl_mechanism", "gssapi", NULL)),
                 "'sasl_mechanism'"));
    CHECK(strstr(verr(conf("brokers", "h:1", "version", "2.x", NULL)), "'version'"));
    CHECK(strstr(verr(conf("brokers", "h:1", "acks", "0", NULL)), "'acks'"));
    CHECK(strstr(verr(conf("brokers", "h:1", "acks", "1", "idempotence", "on", NULL)), "'acks'"));
    CHECK(strstr(verr(conf("brokers", "h:1", "client_tls_cert", "/dev/null", NULL)),
                 "'client_tls_key'"));
    CHECK(strstr(verr(conf("brokers", "h:1", "batch_commit_timeout", "10s", NULL)),
                 "'batch_commit_timeout'"));
    CHECK(strstr(verr(conf("brokers", "h:1", "compression_level", "high", NULL)),
                 "'compression_level'"));
    const char *e = verr(conf("brokers", "h:1", "sasl_password", "hunter2", "acks", "x", NULL));
    CHECK(!strstr(e, "hunter2"));
    CHECK_STR(verr(conf("brokers", "a:1, b:2,c", "compression_codec", "ZSTD", "sasl_mechanism",
                        "SHA512", "version", "2.8.0", "acks", "all", "idempotence", "on",
                        "tls_client_auth", "0", "batch_size", "10", "batch_commit_timeout",
                        "5s", "compression_level", "3", NULL)),
              "(accepted)");
    CHECK_STR(verr(conf("brokers", "h:1", "version", "0.10.2.1", NULL)), "(accepted)");
}

TEST(samples_as_minio_writes_them)
{
    int64_t from[16];
    int np = watermarks("notify", from, 16);
    CHECK_INT(np, 3);
    struct target_conf *c = conf("brokers", bs, "topic", "notify", NULL);
    void *t = open_target(c);
    CHECK(t);
    if (!t || np != 3)
        goto out;
    char err[256];
    CHECK(D->health(t, err, sizeof err) == 0);
    struct msg m[NS];
    size_t idx[NS];
    for (size_t i = 0; i < ns; i++)
        mk(&m[i], &S[i], NULL), idx[i] = i;
    CHECK_INT(D->send(t, m, ns), 0);
    CHECK(all_status(m, ns, MSG_OK));
    static struct rec r[NS + 8];
    size_t nr = consume("notify", from, r, NS + 8);
    CHECK(holds_exactly(r, nr, idx, ns, 3));
    int used[3] = { 0 };
    for (size_t i = 0; i < nr; i++)
        used[r[i].p] = 1;
    CHECK(used[0] && used[1] && used[2]);
    recs_free(r, nr);
    D->close(t);
out:
    tconf_free(c);
}

/* Small batches, zstd, idempotence; the topic is auto-created with 4
 * partitions, so the callback is checked with n = 4 too. */
TEST(batches_compression_idempotence)
{
    const char *tp = topic("batch");
    struct target_conf *c = conf("brokers", bs, "topic", tp, "compression_codec", "ZSTD",
                                 "compression_level", "5", "idempotence", "on", NULL);
    void *t = open_target(c);
    CHECK(t);
    if (!t)
        goto out;
    struct msg m[NS];
    size_t idx[NS], done = 0;
    for (size_t i = 0; i < ns; i++)
        mk(&m[i], &S[i], NULL), idx[i] = i;
    for (size_t step = 1; done < ns; step += 3) {
        size_t k = done + step > ns ? ns - done : step;
        CHECK_INT(D->send(t, m + done, k), 0);
        CHECK(all_status(m + done, k, MSG_OK));
        done += k;
    }
    static struct rec r[NS + 8];
    size_t nr = consume(tp, NULL, r, NS + 8);
    CHECK(holds_exactly(r, nr, idx, ns, 4));
    recs_free(r, nr);
    D->close(t);
out:
    tconf_free(c);
}

TEST(opts_topic_key_headers)
{
    const char *tp = topic("opts");
    char o1[256], o2[256];
    snprintf(o1, sizeof o1, "{\"topic\":\"%s\",\"key\":\"k-1\",\"headers\":{\"x-a\":\"1\",\"x-b\":\"two\"}}", tp);
    snprintf(o2, sizeof o2, "{\"topic\":\"%s\",\"headers\":{\"x-a\":3}}", tp);
    struct target_conf *c = conf("brokers", bs, "topic", "notify", NULL);
    void *t = open_target(c);
    CHECK(t);
    if (!t)
        goto out;
    struct msg m[3];
    mk(&m[0], &S[0], o1);
    mk(&m[1], &S[1], o2);   /* header value not a string: refused */
    mk(&m[2], &S[2], "[1]"); /* not an object */
    CHECK_INT(D->send(t, m, 3), 0);
    CHECK_INT(m[0].status, MSG_OK);
    CHECK_INT(m[1].status, MSG_REJECT);
    CHECK_INT(m[2].status, MSG_REJECT);
    printf("  # %s | %s\n", m[1].error, m[2].error);
    struct rec r[4];
    size_t nr = consume(tp, NULL, r, 4);
    CHECK_INT(nr, 1);
    if (nr == 1) {
        CHECK_STR(r[0].key, "k-1");
        CHECK_STR(r[0].hdrs, "x-a=1;x-b=two;");
        CHECK_STR(r[0].val, S[0].envelope);
        CHECK_INT(r[0].p, kafka_sarama_partition("k-1", 3, 4));
    }
    recs_free(r, nr);
    D->close(t);
out:
    tconf_free(c);
}

/* A key holding a NUL (an object name with %00, or opts.key "a\0x" from a
 * script) is sent whole, its partition from all of its bytes. */
TEST(key_with_nul)
{
    const char *tp = topic("nul");
    char o[160];
    snprintf(o, sizeof o, "{\"topic\":\"%s\",\"key\":\"a\\u0000x\"}", tp);
    struct target_conf *c = conf("brokers", bs, "topic", tp, NULL);
    void *t = open_target(c);
    CHECK(t);
    if (!t)
        goto out;
    struct msg m[2];
    mk(&m[0], &S[0], o);
    m[0].key = "a\0x", m[0].key_len = 3;
    mk(&m[1], &S[1], NULL);
    m[1].key = "b\0y", m[1].key_len = 3;
    CHECK_INT(D->send(t, m, 2), 0);
    CHECK_INT(m[0].status, MSG_OK);
    CHECK_INT(m[1].status, MSG_OK);
    struct rec r[4];
    size_t nr = consume(tp, NULL, r, 4);
    CHECK_INT(nr, 2);
    int seen = 0;
    for (size_t i = 0; i < nr; i++) {
        const char *want = r[i].klen == 3 && !memcmp(r[i].key, "a\0x", 3) ? "a\0x"
                           : r[i].klen == 3 && !memcmp(r[i].key, "b\0y", 3) ? "b\0y" : NULL;
        if (!want)
            printf("  # record %zu: key of %zu bytes '%s'\n", i, r[i].klen, r[i].key);
        else if (r[i].p == kafka_sarama_partition(want, 3, 4))
            seen++;
    }
    CHECK_INT(seen, 2);
    recs_free(r, nr);
    D->close(t);
out:
    tconf_free(c);
}

TEST(too_large_is_rejected_others_delivered)
{
    const char *tp = topic("reject");
    struct target_conf *c = conf("brokers", bs, "topic", tp, NULL);
    struct target_conf *c2 = conf("brokers", bs, NULL); /* no topic */
    void *t = open_target(c), *t2 = open_target(c2);
    CHECK(t && t2);
    if (!t || !t2)
        goto out;
    size_t big = 1500000;
    char *huge = malloc(big);
    memset(huge, 'x', big);
    struct msg m[5];
    size_t idx[4] = { 10, 11, 13, 14 };
    for (size_t i = 0; i < 5; i++)
        mk(&m[i], &S[10 + i], NULL);
    m[2].payload = huge;
    m[2].payload_len = big;
    CHECK_INT(D->send(t, m, 5), 0);
    CHECK_INT(m[2].status, MSG_REJECT);
    printf("  # %s\n", m[2].error);
    CHECK(strstr(m[2].error, "too large") || strstr(m[2].error, "size"));
    CHECK(m[0].status == MSG_OK && m[1].status == MSG_OK && m[3].status == MSG_OK &&
          m[4].status == MSG_OK);
    static struct rec r[8];
    size_t nr = consume(tp, NULL, r, 8);
    CHECK(holds_exactly(r, nr, idx, 4, 4));
    recs_free(r, nr);
    mk(&m[0], &S[0], NULL);
    CHECK_INT(D->send(t2, m, 1), 0);
    CHECK_INT(m[0].status, MSG_REJECT);
    CHECK(strstr(m[0].error, "topic"));
    free(huge);
out:
    if (t)
        D->close(t);
    if (t2)
        D->close(t2);
    tconf_free(c);
    tconf_free(c2);
}

/* The mock fails the next 3 Produce requests with NOT_LEADER_FOR_PARTITION;
 * librdkafka retries: everything arrives, once. */
TEST(injected_produce_errors_retried)
{
    const char *tp = topic("inject");
    struct target_conf *c = conf("brokers", bs, "topic", tp, NULL);
    void *t = open_target(c);
    CHECK(t);
    if (!t)
        goto out;
    struct msg m[20];
    size_t idx[20];
    for (size_t i = 0; i < 20; i++)
        mk(&m[i], &S[20 + i], NULL), idx[i] = 20 + i;
    CHECK(mock_signal(SIGHUP) == 0);
    CHECK_INT(D->send(t, m, 10), 0);
    CHECK(all_status(m, 10, MSG_OK));
    CHECK_INT(D->send(t, m + 10, 10), 0);
    CHECK(all_status(m + 10, 10, MSG_OK));
    static struct rec r[32];
    size_t nr = consume(tp, NULL, r, 32);
    CHECK(holds_exactly(r, nr, idx, 20, 4));
    recs_free(r, nr);
    D->close(t);
out:
    tconf_free(c);
}

TEST(outage_retry_then_delivered)
{
    const char *tp = topic("outage");
    struct target_conf *c = conf("brokers", bs, "topic", tp, NULL);
    void *t = open_target(c);
    CHECK(t);
    if (!t)
        goto out;
    char err[256];
    CHECK(D->health(t, err, sizeof err) == 0);
    struct msg m[5];
    size_t idx[5];
    for (size_t i = 0; i < 5; i++)
        mk(&m[i], &S[40 + i], NULL), idx[i] = 40 + i;
    CHECK(mock_signal(SIGUSR1) == 0);
    long long t0 = (long long)clock_mono_ms();
    CHECK_INT(D->send(t, m, 5), -1);
    long long took = (long long)clock_mono_ms() - t0;
    printf("  # send with brokers down: %lld ms, %s\n", took, m[0].error);
    CHECK(took < 10000);
    CHECK(all_status(m, 5, MSG_RETRY));
    CHECK(D->health(t, err, sizeof err) == -1);
    printf("  # health: %s\n", err);
    CHECK(mock_signal(SIGUSR2) == 0);
    CHECK_INT(D->send(t, m, 5), 0);
    CHECK(all_status(m, 5, MSG_OK));
    CHECK(D->health(t, err, sizeof err) == 0);
    static struct rec r[16];
    size_t nr = consume(tp, NULL, r, 16);
    CHECK(holds_exactly(r, nr, idx, 5, 4)); /* nothing lost, nothing twice */
    recs_free(r, nr);
    D->close(t);
out:
    tconf_free(c);
}

/* The mock has no SASL: the refusal must be clear and the password unsaid. */
TEST(sasl_refused_and_unreachable)
{
    struct target_conf *c = conf("brokers", bs, "topic", "notify", "sasl", "on", "sasl_username",
                                 "u", "sasl_password", "hunter2", "sasl_mechanism", "sha256",
                                 NULL);
    struct target_conf *c2 = conf("brokers", "127.0.0.1:1", "topic", "notify", NULL);
    void *t = open_target(c), *t2 = open_target(c2);
    CHECK(t && t2);
    char err[256];
    if (t) {
        CHECK(D->health(t, err, sizeof err) == -1);
        printf("  # sasl: %s\n", err);
        CHECK(strstr(err, "SASL") || strstr(err, "uthenticat"));
        CHECK(!strstr(err, "hunter2"));
        struct msg m[1];
        mk(&m[0], &S[0], NULL);
        CHECK_INT(D->send(t, m, 1), -1);
        CHECK_INT(m[0].status, MSG_RETRY);
        CHECK(strstr(m[0].error, "SASL"));
        CHECK(!strstr(m[0].error, "hunter2"));
        printf("  # sasl send: %s\n", m[0].error);
        D->close(t);
    }
    if (t2) {
        long long t0 = (long long)clock_mono_ms();
        CHECK(D->health(t2, err, sizeof err) == -1);
        printf("  # unreachable (%lld ms): %s\n", (long long)clock_mono_ms() - t0, err);
        D->close(t2);
    }
    tconf_free(c);
    tconf_free(c2);
}

int main(void)
{
    const char *b = getenv("BASE");
    snprintf(base, sizeof base, "%s", b && *b ? b : "/tmp/luagate-test");
    snprintf(topic_sfx, sizeof topic_sfx, "%ld-%d", (long)time(NULL), (int)getpid());
    ns = unit_samples(S, NS);
    D = driver_find("kafka");
    RUN(validation_names_the_key);
    char pid[32];
    if (mock_file("bootstrap", bs, sizeof bs) || mock_file("pid", pid, sizeof pid) ||
        kill((pid_t)atoi(pid), 0)) {
        printf("not ok - kafka mock not running: no %s/kafka/bootstrap "
               "(start it: BASE=%s scripts/kafka.sh start)\n", base, base);
        unit_failed++;
        unit_samples_free(S, ns);
        return unit_done();
    }
    if (ns != NS) {
        printf("not ok - samples: got %zu, expected %d\n", ns, NS);
        unit_failed++;
    }
    RUN(samples_as_minio_writes_them);
    RUN(batches_compression_idempotence);
    RUN(opts_topic_key_headers);
    RUN(key_with_nul);
    RUN(too_large_is_rejected_others_delivered);
    RUN(injected_produce_errors_retried);
    RUN(outage_retry_then_delivered);
    RUN(sasl_refused_and_unreachable);
    unit_samples_free(S, ns);
    return unit_done();
}
