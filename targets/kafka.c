/* kafka.c -- the Kafka target (MinIO notify_kafka) on librdkafka.
 *
 * One producer handle per target.  send() hands the whole batch to
 * librdkafka (it batches per partition and retries on its own), then polls
 * until every delivery report is in; message.timeout.ms bounds that wait.
 * Keys are placed with sarama's hash partitioner, so a key lands on the
 * partition MinIO would have chosen. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>
#include "clock.h"
#include "driver.h"
#include "kafka.h"
#include "targetconf.h"

#define KAFKA_MSG_TIMEOUT_MS 5000 /* sarama: producer timeout 5 s */
#define KAFKA_WAIT_MS 8000        /* delivery reports are due by then */
#define KAFKA_MAX_BATCH 1000

struct kafka {
    rd_kafka_conf_t *tmpl; /* kept to rebuild the handle after a fatal error */
    rd_kafka_t *rk;
    char *topic;
    struct msg *msgs;  /* the batch in flight, for the delivery callback */
    size_t n, pending;
    unsigned seq;      /* batch number, so late reports of an old batch are ignored */
    char last_err[256];
};

uint32_t kafka_fnv1a32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t h = 0x811c9dc5u;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x01000193u;
    }
    return h;
}

int32_t kafka_sarama_partition(const void *key, size_t len, int32_t n)
{
    if (n <= 0)
        return 0;
    int32_t p = (int32_t)kafka_fnv1a32(key, len) % n; /* C99 truncates, like Go */
    return p < 0 ? -p : p;
}

static int32_t sarama_partitioner(const rd_kafka_topic_t *rkt, const void *key, size_t len,
                                  int32_t cnt, void *rkt_opaque, void *msg_opaque)
{
    (void)rkt, (void)rkt_opaque, (void)msg_opaque;
    return kafka_sarama_partition(key ? key : "", key ? len : 0, cnt);
}

/* Errors that no retry can fix for this one message. */
static int permanent(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return 1;
    default:
        return 0;
    }
}

/* A timeout alone says little: the last client error (refused
 * connection, failed SASL...) says why. */
static void set_status(struct msg *m, rd_kafka_resp_err_t e, const char *what, const char *why)
{
    if (!e) {
        m->status = MSG_OK;
        m->error[0] = 0;
        return;
    }
    m->status = permanent(e) ? MSG_REJECT : MSG_RETRY;
    snprintf(m->error, sizeof m->error, "kafka: %s: %s%s%.180s", what, rd_kafka_err2str(e),
             *why && m->status == MSG_RETRY ? "; " : "", m->status == MSG_RETRY ? why : "");
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rm, void *opaque)
{
    (void)rk;
    struct kafka *k = opaque;
    uintptr_t tag = (uintptr_t)rm->_private;
    size_t i = tag & 0xffff;
    if ((unsigned)(tag >> 16) != (k->seq & 0xffff) || i >= k->n ||
        k->msgs[i].status != MSG_PENDING)
        return;
    set_status(&k->msgs[i], rm->err, "delivery", k->last_err);
    k->pending--;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    struct kafka *k = opaque;
    snprintf(k->last_err, sizeof k->last_err, "%s: %s", rd_kafka_err2name(err), reason);
}

/* librdkafka writes its log to stderr by default; drivers must not.
 * Errors that matter reach on_error. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;
}

/* ---- configuration ---- */

static const char *codec_of(const char *v)
{
    static const char *ok[] = { "none", "gzip", "snappy", "lz4", "zstd", NULL };
    if (!*v)
        return "none";
    for (int i = 0; ok[i]; i++)
        if (!strcasecmp(v, ok[i]))
            return ok[i];
    return NULL;
}

static const char *mechanism_of(const char *v)
{
    if (!*v || !strcasecmp(v, "plain"))
        return "PLAIN";
    if (!strcasecmp(v, "sha256") || !strcasecmp(v, "scram-sha-256"))
        return "SCRAM-SHA-256";
    if (!strcasecmp(v, "sha512") || !strcasecmp(v, "scram-sha-512"))
        return "SCRAM-SHA-512";
    return NULL;
}

/* "all"/"-1" -> "-1", "1" or unset -> "1"; acks=0 is refused: nothing
 * would confirm a delivery. */
static const char *acks_of(const char *v)
{
    if (!strcasecmp(v, "all") || !strcmp(v, "-1"))
        return "-1";
    if (!*v || !strcmp(v, "1"))
        return "1";
    return NULL;
}

/* sarama.ParseKafkaVersion: 0.a.b.c before 1.0, a.b.c after. */
static int version_ok(const char *v)
{
    int parts = 0;
    const char *p = v;
    for (;;) {
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
        parts++;
        if (!*p)
            break;
        if (*p++ != '.')
            return 0;
    }
    return v[0] == '0' && v[1] == '.' ? parts == 4 : parts == 3;
}

/* host[:port]; MinIO's xnet.ParseHost allows the port to be left out. */
static int kafka_validate(const struct target_conf *c, char *err, size_t errlen)
{
    const char *name = tconf_name(c);
    const char *b = tconf_str(c, "brokers");
    int any = 0;
    while (*b) {
        while (*b == ' ' || *b == ',')
            b++;
        size_t len = strcspn(b, ",");
        while (len && b[len - 1] == ' ')
            len--;
        if (len) {
            char why[160];
            if (tconf_check_hostport(b, len, 1, why, sizeof why)) {
                snprintf(err, errlen, "%s: key 'brokers': '%.*s' %s", name, (int)len, b, why);
                return -1;
            }
            any = 1;
        }
        b += strcspn(b, ",");
    }
    if (!any) {
        snprintf(err, errlen, "%s: kafka 'brokers' cannot be empty", name);
        return -1;
    }
    if (!mechanism_of(tconf_str(c, "sasl_mechanism"))) {
        snprintf(err, errlen, "%s: key 'sasl_mechanism' must be plain, sha256 or sha512, not '%s'",
                 name, tconf_str(c, "sasl_mechanism"));
        return -1;
    }
    if (!codec_of(tconf_str(c, "compression_codec"))) {
        snprintf(err, errlen,
                 "%s: key 'compression_codec' must be none, gzip, snappy, lz4 or zstd, not '%s'",
                 name, tconf_str(c, "compression_codec"));
        return -1;
    }
    const char *v = tconf_str(c, "version");
    if (*v && !version_ok(v)) {
        snprintf(err, errlen, "%s: key 'version' must be a Kafka version such as 2.8.0, not '%s'",
                 name, v);
        return -1;
    }
    const char *acks = tconf_str(c, "acks");
    if (!acks_of(acks)) {
        snprintf(err, errlen, "%s: key 'acks' must be 1 or all (-1), not '%s'", name, acks);
        return -1;
    }
    if (tconf_bool(c, "idempotence") && *acks && strcmp(acks_of(acks), "-1")) {
        snprintf(err, errlen, "%s: key 'acks' must be all when 'idempotence' is on", name);
        return -1;
    }
    if (tconf_isset(c, "client_tls_cert") != tconf_isset(c, "client_tls_key")) {
        snprintf(err, errlen, "%s: keys 'client_tls_cert' and 'client_tls_key' go together", name);
        return -1;
    }
    /* MinIO also wants queue_dir for these; luagate always queues. */
    if (tconf_ms(c, "batch_commit_timeout") > 0 && tconf_int(c, "batch_size") <= 1) {
        snprintf(err, errlen, "%s: key 'batch_commit_timeout' needs 'batch_size' > 1", name);
        return -1;
    }
    return 0;
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errlen)
{
    char e[256];
    if (rd_kafka_conf_set(conf, k, v, e, sizeof e) == RD_KAFKA_CONF_OK)
        return 0;
    snprintf(err, errlen, "kafka: %s: %.200s", k, e); /* e never holds the value */
    return -1;
}

/* Topic-level properties go on the default topic conf: set on the global
 * conf they would be dropped when that default is installed. */
static int tset(rd_kafka_topic_conf_t *tc, const char *k, const char *v, char *err, size_t errlen)
{
    char e[256];
    if (rd_kafka_topic_conf_set(tc, k, v, e, sizeof e) == RD_KAFKA_CONF_OK)
        return 0;
    snprintf(err, errlen, "kafka: %s: %.200s", k, e);
    return -1;
}

/* The producer settings, sarama's defaults where MinIO relies on them. */
static rd_kafka_conf_t *build_conf(const struct target_conf *c, struct kafka *k, char *err,
                                   size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_topic_conf_t *tc = rd_kafka_topic_conf_new();
    char num[32];
    int sasl = tconf_bool(c, "sasl"), tls = tconf_bool(c, "tls");
    int idem = tconf_bool(c, "idempotence");
    const char *acks = acks_of(tconf_str(c, "acks"));
    if (idem && !tconf_isset(c, "acks"))
        acks = "-1";
    long long level = tconf_int(c, "compression_level");
    if (!tconf_isset(c, "compression_level") || level < -1)
        level = -1;
    if (level > 12)
        level = 12;
    snprintf(num, sizeof num, "%lld", level);
    const char *proto = sasl ? (tls ? "SASL_SSL" : "SASL_PLAINTEXT") : (tls ? "SSL" : "PLAINTEXT");
    const char *v = tconf_str(c, "version");
    char tmo[16];
    snprintf(tmo, sizeof tmo, "%d", KAFKA_MSG_TIMEOUT_MS);

    if (set(conf, "bootstrap.servers", tconf_str(c, "brokers"), err, errlen) ||
        set(conf, "client.id", "sarama", err, errlen) ||
        set(conf, "security.protocol", proto, err, errlen) ||
        set(conf, "enable.idempotence", idem ? "true" : "false", err, errlen) ||
        /* without idempotence one request in flight keeps retries in order */
        set(conf, "max.in.flight.requests.per.connection", idem ? "5" : "1", err, errlen) ||
        set(conf, "socket.timeout.ms", "5000", err, errlen) ||
        set(conf, "socket.connection.setup.timeout.ms", "5000", err, errlen) ||
        set(conf, "socket.keepalive.enable", "true", err, errlen) ||
        set(conf, "reconnect.backoff.max.ms", "1000", err, errlen) ||
        set(conf, "linger.ms", "5", err, errlen) ||
        tset(tc, "acks", acks, err, errlen) ||
        tset(tc, "message.timeout.ms", tmo, err, errlen) ||
        tset(tc, "request.timeout.ms", "5000", err, errlen) || /* sarama Producer.Timeout */
        tset(tc, "compression.codec", codec_of(tconf_str(c, "compression_codec")), err, errlen) ||
        tset(tc, "compression.level", num, err, errlen))
        goto fail;
    if (*v) {
        /* Brokers before 0.10 cannot answer ApiVersionRequest. */
        int old = v[0] == '0' && v[1] == '.' && atoi(v + 2) < 10;
        if (set(conf, "broker.version.fallback", v, err, errlen) ||
            set(conf, "api.version.request", old ? "false" : "true", err, errlen))
            goto fail;
    }
    if (sasl &&
        (set(conf, "sasl.mechanism", mechanism_of(tconf_str(c, "sasl_mechanism")), err, errlen) ||
         set(conf, "sasl.username", tconf_str(c, "sasl_username"), err, errlen) ||
         set(conf, "sasl.password", tconf_str(c, "sasl_password"), err, errlen)))
        goto fail;
    if (tls) {
        if (tconf_bool(c, "tls_skip_verify") &&
            (set(conf, "enable.ssl.certificate.verification", "false", err, errlen) ||
             set(conf, "ssl.endpoint.identification.algorithm", "none", err, errlen)))
            goto fail;
        if (tconf_isset(c, "client_tls_cert") &&
            (set(conf, "ssl.certificate.location", tconf_str(c, "client_tls_cert"), err, errlen) ||
             set(conf, "ssl.key.location", tconf_str(c, "client_tls_key"), err, errlen)))
            goto fail;
    }
    rd_kafka_topic_conf_set_partitioner_cb(tc, sarama_partitioner);
    rd_kafka_conf_set_default_topic_conf(conf, tc);
    tc = NULL;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_opaque(conf, k);
    return conf;
fail:
    if (tc)
        rd_kafka_topic_conf_destroy(tc);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static int connect_rk(struct kafka *k, char *err, size_t errlen)
{
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(k->tmpl);
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!k->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "kafka: %.200s", e);
        return -1;
    }
    return 0;
}

static void kafka_close(void *ctx)
{
    struct kafka *k = ctx;
    if (!k)
        return;
    if (k->rk) {
        /* send() leaves nothing behind unless it timed out; drop that */
        rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        k->n = 0;
        rd_kafka_poll(k->rk, 0);
        rd_kafka_destroy(k->rk);
    }
    if (k->tmpl)
        rd_kafka_conf_destroy(k->tmpl);
    free(k->topic);
    free(k);
}

static void *kafka_open(const struct target_conf *c, char *err, size_t errlen)
{
    struct kafka *k = calloc(1, sizeof *k);
    if (!k || !(k->topic = strdup(tconf_str(c, "topic")))) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        free(k);
        return NULL;
    }
    char e[256];
    k->tmpl = build_conf(c, k, e, sizeof e);
    if (!k->tmpl || connect_rk(k, e, sizeof e)) {
        snprintf(err, errlen, "%s: %.200s", tconf_name(c), e);
        kafka_close(k);
        return NULL;
    }
    return k;
}

/* ---- delivery ---- */

/* The script's overrides: topic, key and headers {name: string}. */
static int parse_opts(const struct msg *m, cJSON **doc, const char **topic, const char **key,
                      size_t *keylen, rd_kafka_headers_t **hdrs, char *err, size_t errlen)
{
    *doc = cJSON_Parse(m->opts);
    if (!cJSON_IsObject(*doc)) {
        snprintf(err, errlen, "kafka: opts is not a JSON object");
        return -1;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(*doc, "topic");
    const cJSON *ky = cJSON_GetObjectItemCaseSensitive(*doc, "key");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(*doc, "headers");
    if ((t && !cJSON_IsString(t)) || (ky && !cJSON_IsString(ky)) || (h && !cJSON_IsObject(h))) {
        snprintf(err, errlen, "kafka: opts topic and key must be strings, headers an object");
        return -1;
    }
    if (t)
        *topic = t->valuestring;
    if (ky) {
        /* the record's key when it is opts.key: whole, where valuestring
         * ends at a NUL */
        if (!(m->key && !strcmp(m->key, ky->valuestring))) {
            *key = ky->valuestring;
            *keylen = strlen(ky->valuestring);
        }
    }
    if (h && cJSON_GetArraySize(h) > 0) {
        *hdrs = rd_kafka_headers_new((size_t)cJSON_GetArraySize(h));
        const cJSON *e;
        cJSON_ArrayForEach(e, h)
        {
            if (!cJSON_IsString(e)) {
                snprintf(err, errlen, "kafka: opts header '%s' must be a string", e->string);
                return -1;
            }
            if (rd_kafka_header_add(*hdrs, e->string, -1, e->valuestring, -1)) {
                snprintf(err, errlen, "kafka: cannot add header '%s'", e->string);
                return -1;
            }
        }
    }
    return 0;
}

/* Queue one message; librdkafka copies it.  Waits while its queue is full. */
static rd_kafka_resp_err_t produce(struct kafka *k, struct msg *m, size_t i, long long deadline,
                                   char *err, size_t errlen)
{
    const char *topic = k->topic, *key = m->key ? m->key : "";
    size_t keylen = m->key ? msg_key_len(m) : 0; /* an object name with %00 is sent whole */
    rd_kafka_headers_t *hdrs = NULL;
    cJSON *doc = NULL;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (m->opts && parse_opts(m, &doc, &topic, &key, &keylen, &hdrs, err, errlen)) {
        e = RD_KAFKA_RESP_ERR__INVALID_ARG;
        goto out;
    }
    if (!*topic) {
        snprintf(err, errlen, "kafka: no topic (set 'topic' or opts.topic)");
        e = RD_KAFKA_RESP_ERR__INVALID_ARG;
        goto out;
    }
    void *tag = (void *)(uintptr_t)(((uintptr_t)(k->seq & 0xffff) << 16) | i);
    for (;;) {
        if (hdrs)
            e = rd_kafka_producev(k->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, keylen),
                                  RD_KAFKA_V_VALUE((void *)m->payload, m->payload_len),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(tag), RD_KAFKA_V_END);
        else
            e = rd_kafka_producev(k->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, keylen),
                                  RD_KAFKA_V_VALUE((void *)m->payload, m->payload_len),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(tag),
                                  RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || (long long)clock_mono_ms() >= deadline)
            break;
        rd_kafka_poll(k->rk, 50);
    }
    if (!e)
        hdrs = NULL; /* librdkafka owns them now */
    else
        snprintf(err, errlen, "kafka: produce: %s", rd_kafka_err2str(e));
out:
    if (hdrs)
        rd_kafka_headers_destroy(hdrs);
    cJSON_Delete(doc);
    return e;
}

static int kafka_send(void *ctx, struct msg *msgs, size_t n)
{
    struct kafka *k = ctx;
    char e[256] = "";
    if (n > KAFKA_MAX_BATCH)
        n = KAFKA_MAX_BATCH;
    for (size_t i = 0; i < n; i++)
        msgs[i].status = MSG_PENDING, msgs[i].error[0] = 0;
    if (k->rk && rd_kafka_fatal_error(k->rk, e, sizeof e)) {
        /* e.g. an idempotence sequence break: the handle is unusable */
        rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        k->n = 0;
        rd_kafka_poll(k->rk, 0);
        rd_kafka_destroy(k->rk);
        k->rk = NULL;
    }
    if (!k->rk && connect_rk(k, e, sizeof e)) {
        for (size_t i = 0; i < n; i++) {
            msgs[i].status = MSG_RETRY;
            snprintf(msgs[i].error, sizeof msgs[i].error, "%s", e);
        }
        return -1;
    }
    k->seq++;
    k->msgs = msgs;
    k->n = n;
    k->pending = 0;
    long long deadline = (long long)clock_mono_ms() + KAFKA_WAIT_MS;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t r = produce(k, &msgs[i], i, deadline, e, sizeof e);
        if (!r) {
            k->pending++;
            continue;
        }
        msgs[i].status = permanent(r) ? MSG_REJECT : MSG_RETRY;
        snprintf(msgs[i].error, sizeof msgs[i].error, "%s", e);
    }
    /* flush, not poll: it sends at once instead of waiting out linger.ms */
    while (k->pending && (long long)clock_mono_ms() < deadline)
        rd_kafka_flush(k->rk, 50);
    if (k->pending) {
        /* Should not happen (message.timeout.ms is shorter): give up on
         * them now; the reports of the purge come back as RETRY. */
        rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        long long until = (long long)clock_mono_ms() + 1000;
        while (k->pending && (long long)clock_mono_ms() < until)
            rd_kafka_poll(k->rk, 50);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (msgs[i].status == MSG_PENDING) {
            msgs[i].status = MSG_RETRY;
            snprintf(msgs[i].error, sizeof msgs[i].error,
                     "kafka: no delivery report within %d ms", KAFKA_WAIT_MS);
        }
        if (msgs[i].status == MSG_RETRY)
            rc = -1;
    }
    k->msgs = NULL;
    k->n = 0;
    if (!rc)
        k->last_err[0] = 0; /* the client recovered from it */
    return rc;
}

/* MinIO's liveness is "the client knows a broker"; we ask one for
 * metadata, which also proves the connection (and SASL/TLS) works. */
static int kafka_health(void *ctx, char *err, size_t errlen)
{
    struct kafka *k = ctx;
    char e[256];
    if (!k->rk && connect_rk(k, e, sizeof e)) {
        snprintf(err, errlen, "%s", e);
        return -1;
    }
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t r = rd_kafka_metadata(k->rk, 0, NULL, &md, 5000);
    rd_kafka_poll(k->rk, 0); /* collect errors for last_err */
    if (r || !md || md->broker_cnt == 0) {
        if (md)
            rd_kafka_metadata_destroy(md);
        snprintf(err, errlen, "kafka: no broker answers: %s%s%s",
                 r ? rd_kafka_err2str(r) : "no brokers in metadata", k->last_err[0] ? "; " : "",
                 k->last_err);
        return -1;
    }
    rd_kafka_metadata_destroy(md);
    k->last_err[0] = 0;
    return 0;
}

/* check --connect: the brokers' metadata (reachable, and with SASL the
 * login), then the topic in the list of all topics: asking for the one
 * topic could make a broker with auto-create on create it. */
static int kafka_probe(void *ctx, struct probe_result *p)
{
    struct kafka *k = ctx;
    const struct rd_kafka_metadata *md = NULL;
    if (kafka_health(k, p->error, sizeof p->error)) {
        int auth = strstr(p->error, "SASL") || strstr(p->error, "uthentic");
        p->reachable = auth ? PROBE_YES : PROBE_NO;
        p->authenticated = auth ? PROBE_NO : PROBE_UNCHECKED;
        return -1;
    }
    p->reachable = p->authenticated = PROBE_YES;
    snprintf(p->dest, sizeof p->dest, "topic \"%s\"", k->topic);
    rd_kafka_resp_err_t r = rd_kafka_metadata(k->rk, 1, NULL, &md, 5000);
    if (r || !md) {
        snprintf(p->error, sizeof p->error, "cannot list the topics: %s", rd_kafka_err2str(r));
        return -1;
    }
    p->destination = PROBE_NO;
    for (int i = 0; i < md->topic_cnt; i++)
        if (!strcmp(md->topics[i].topic, k->topic) && !md->topics[i].err)
            p->destination = PROBE_YES;
    rd_kafka_metadata_destroy(md);
    if (p->destination == PROBE_NO)
        snprintf(p->error, sizeof p->error, "the brokers have no topic %s", k->topic);
    return p->destination == PROBE_NO ? -1 : 0;
}

static const struct key_spec kafka_keys[] = {
    { "brokers", KEY_CSV, NULL, KEY_REQUIRED, NULL, "comma separated list of Kafka broker addresses host:port" },
    { "topic", KEY_STR, NULL, 0, NULL, "Kafka topic used for bucket notifications" },
    { "sasl", KEY_BOOL, "off", 0, NULL, "set to 'on' to enable SASL authentication" },
    { "sasl_username", KEY_STR, NULL, 0, NULL, "username for SASL/PLAIN or SASL/SCRAM authentication" },
    { "sasl_password", KEY_STR, NULL, KEY_SECRET, NULL, "password for SASL/PLAIN or SASL/SCRAM authentication" },
    { "sasl_mechanism", KEY_STR, "plain", 0, NULL, "sasl authentication mechanism: plain, sha256 or sha512" },
    { "tls", KEY_BOOL, "off", 0, NULL, "set to 'on' to enable TLS" },
    { "tls_skip_verify", KEY_BOOL, "off", 0, NULL, "trust server TLS without verification" },
    { "tls_client_auth", KEY_INT, "0", KEY_HIDDEN, NULL, "clientAuth determines the Kafka server's policy for TLS client auth (unused by a client)" },
    { "client_tls_cert", KEY_PATH, NULL, 0, NULL, "path to client certificate for mTLS auth" },
    { "client_tls_key", KEY_PATH, NULL, 0, NULL, "path to client key for mTLS auth" },
    { "version", KEY_STR, NULL, 0, NULL, "specify the version of the Kafka cluster, e.g. 2.8.0 (empty: negotiated)" },
    { "batch_size", KEY_UINT, "0", 0, NULL, "batch size of the events; MinIO's store batching (accepted, luagate batches by itself)" },
    { "batch_commit_timeout", KEY_DURATION, "0s", 0, NULL, "commit timeout set for the batch (accepted, needs batch_size > 1)" },
    { "compression_codec", KEY_STR, NULL, 0, "PRODUCER_COMPRESSION_CODEC", "compression codec: none, gzip, snappy, lz4 or zstd" },
    { "compression_level", KEY_INT, NULL, 0, "PRODUCER_COMPRESSION_LEVEL", "compression level of the codec (-1: its default; clamped to 12)" },
    { "acks", KEY_STR, NULL, 0, NULL, "luagate extension: acks the producer waits for: 1 or all (-1); default 1, all with idempotence" },
    { "idempotence", KEY_BOOL, "off", 0, NULL, "luagate extension: idempotent producer (implies acks=all)" },
    { 0 }
};

/* What send(target, payload, opts) may set for this kind, beyond key and op. */
static const struct send_opt kafka_send_opts[] = {
    { "topic", SOPT_STRING, 1, 249, "topic of this message instead of the configured one" },
    { "headers", SOPT_HEADERS, 1, 255, "Kafka record headers: { name = \"value\" }" },
    { 0 },
};

const struct driver kafka_driver = {
    .kind = "kafka",
    .keys = kafka_keys,
    .max_batch = KAFKA_MAX_BATCH,
    .send_opts = kafka_send_opts,
    .validate = kafka_validate,
    .open = kafka_open,
    .send = kafka_send,
    .health = kafka_health,
    .probe = kafka_probe,
    .close = kafka_close,
};
