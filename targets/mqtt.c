/* mqtt.c -- MQTT target (MinIO notify_mqtt) on paho.mqtt.c's async client.
 *
 * A batch is pipelined (up to MQTT_WINDOW unacknowledged) and each message
 * is MSG_OK only once its PUBACK (qos 1) or PUBCOMP (qos 2) came back; qos 0
 * messages are OK once paho accepted them, as MQTT gives nothing more.
 * paho calls us back on its own threads, so completions are collected
 * under a mutex and matched to the batch by token.
 *
 * We do not use paho's automatic reconnect: the delivery thread calls
 * send()/health() on its own backoff (retry_min..retry_max), and each of
 * those reconnects when the connection is down, waiting at most 5 s. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <MQTTAsync.h>
#include <cjson/cJSON.h>
#include "clock.h"
#include "driver.h"

#define MQTT_MAX_BATCH 4096 /* each batch ends waiting for its last acks: pay that rarely */
#define MQTT_WAIT_MS 5000
#define MQTT_WINDOW 64    /* unacknowledged QoS 1 publishes at a time */
#define MQTT_WINDOW_QOS2 10 /* Mosquitto drops QoS 2 beyond its max_inflight 20 */

struct done {
    MQTTAsync_token token;
    int ok;
    char why[96];
};

struct mqtt {
    MQTTAsync client;
    char *uri, *topic, *username, *password;
    char name[64];
    int qos, keep_alive_s, tls;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* guarded by mu */
    int connecting;       /* a connect is in flight */
    int connect_result;   /* 0 pending, 1 ok, -1 failed */
    char connect_err[160];
    unsigned lost;        /* times the connection was lost */
    char lost_err[128];
    struct done *done;    /* completions of this batch's publishes */
    size_t ndone, capdone;
};

/* MinIO's schemes and the one paho understands for each. */
static const char *paho_scheme(const char *broker, size_t *skip)
{
    static const struct { const char *in, *out; } map[] = {
        { "tcp://", "tcp://" }, { "ssl://", "ssl://" }, { "tls://", "ssl://" },
        { "tcps://", "ssl://" }, { "ws://", "ws://" }, { "wss://", "wss://" },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t n = strlen(map[i].in);
        if (!strncasecmp(broker, map[i].in, n)) {
            *skip = n;
            return map[i].out;
        }
    }
    return NULL;
}

static int mqtt_validate(const struct target_conf *c, char *err, size_t errlen)
{
    size_t skip;
    const char *broker = tconf_str(c, "broker");
    if (!paho_scheme(broker, &skip) || !broker[skip]) {
        snprintf(err, errlen, "%s: key 'broker': unknown protocol in broker address '%s' "
                 "(use tcp, ssl, tls, tcps, ws or wss)", tconf_name(c), broker);
        return -1;
    }
    long long qos = tconf_int(c, "qos");
    if (qos > 2) {
        snprintf(err, errlen, "%s: key 'qos' must be 0, 1 or 2, not %lld", tconf_name(c), qos);
        return -1;
    }
    /* MinIO's own rule: with a queue, delivery must be confirmed.  luagate
     * always queues, but only an explicit queue_dir on the target makes
     * qos 0 an error, so a MinIO config that MinIO accepted is accepted
     * here too (and a script may use the module fire-and-forget). */
    if (qos == 0 && tconf_isset(c, "queue_dir")) {
        snprintf(err, errlen, "%s: key 'qos': qos should be set to 1 or 2 if queueDir is set",
                 tconf_name(c));
        return -1;
    }
    return 0;
}

static void on_lost(void *context, char *cause)
{
    struct mqtt *m = context;
    pthread_mutex_lock(&m->mu);
    m->lost++;
    snprintf(m->lost_err, sizeof m->lost_err, "connection lost%s%s", cause ? ": " : "",
             cause ? cause : "");
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

/* paho insists on one; we never subscribe. */
static int on_message(void *context, char *topic, int topic_len, MQTTAsync_message *msg)
{
    (void)context, (void)topic_len;
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

static const char *connack_text(int code)
{
    switch (code) {
    case 1: return "unacceptable protocol version";
    case 2: return "client identifier rejected";
    case 3: return "server unavailable";
    case 4: return "bad user name or password";
    case 5: return "not authorized";
    default: return code < 0 ? MQTTAsync_strerror(code) : "refused";
    }
}

static void on_connect_ok(void *context, MQTTAsync_successData *r)
{
    (void)r;
    struct mqtt *m = context;
    pthread_mutex_lock(&m->mu);
    m->connecting = 0;
    m->connect_result = 1;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

static void on_connect_fail(void *context, MQTTAsync_failureData *r)
{
    struct mqtt *m = context;
    pthread_mutex_lock(&m->mu);
    m->connecting = 0;
    m->connect_result = -1;
    int code = r ? r->code : MQTTASYNC_FAILURE;
    if (code >= 1 && code <= 5) /* a CONNACK refusal */
        snprintf(m->connect_err, sizeof m->connect_err, "connection refused: %s",
                 connack_text(code));
    else if (r && r->message)
        snprintf(m->connect_err, sizeof m->connect_err, "%s (code %d)", r->message, code);
    else
        snprintf(m->connect_err, sizeof m->connect_err, "%s", connack_text(code));
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

static void record(struct mqtt *m, MQTTAsync_token token, int ok, const char *why)
{
    pthread_mutex_lock(&m->mu);
    if (m->ndone == m->capdone) {
        size_t cap = m->capdone ? m->capdone * 2 : 64;
        struct done *d = realloc(m->done, cap * sizeof *d);
        if (!d) { /* the message then times out and is retried */
            pthread_mutex_unlock(&m->mu);
            return;
        }
        m->done = d;
        m->capdone = cap;
    }
    struct done *d = &m->done[m->ndone++];
    d->token = token;
    d->ok = ok;
    snprintf(d->why, sizeof d->why, "%s", why ? why : "");
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

static void on_pub_ok(void *context, MQTTAsync_successData *r)
{
    record(context, r ? r->token : 0, 1, NULL);
}

static void on_pub_fail(void *context, MQTTAsync_failureData *r)
{
    char why[96];
    snprintf(why, sizeof why, "publish failed: %s", r && r->message ? r->message
             : connack_text(r ? r->code : -1));
    record(context, r ? r->token : 0, 0, why);
}

/* Connect unless connected, waiting up to 5 s.  A connect that times out
 * stays in flight and the next call waits for it rather than starting
 * another one. */
static int ensure_connected(struct mqtt *m, char *err, size_t errlen)
{
    if (MQTTAsync_isConnected(m->client))
        return 0;
    pthread_mutex_lock(&m->mu);
    if (!m->connecting) {
        MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
        MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
        co.keepAliveInterval = m->keep_alive_s;
        co.cleansession = 1;
        co.maxInflight = 4 * MQTT_MAX_BATCH; /* our window is smaller; leaves room */
        co.MQTTVersion = MQTTVERSION_3_1_1;
        co.connectTimeout = MQTT_WAIT_MS / 1000;
        co.username = m->username;
        co.password = m->password;
        co.onSuccess = on_connect_ok;
        co.onFailure = on_connect_fail;
        co.context = m;
        if (m->tls) {
            /* The system trust store, as MinIO uses its root CAs. */
            ssl.enableServerCertAuth = 1;
            ssl.verify = 1;
            co.ssl = &ssl;
        }
        m->connecting = 1;
        m->connect_result = 0;
        pthread_mutex_unlock(&m->mu);
        int rc = MQTTAsync_connect(m->client, &co);
        pthread_mutex_lock(&m->mu);
        if (rc != MQTTASYNC_SUCCESS) {
            m->connecting = 0;
            pthread_mutex_unlock(&m->mu);
            snprintf(err, errlen, "%s: cannot connect to %s: %s", m->name, m->uri,
                     MQTTAsync_strerror(rc));
            return -1;
        }
    }
    struct timespec until = clock_after(CLOCK_MONOTONIC, MQTT_WAIT_MS);
    while (m->connecting && pthread_cond_timedwait(&m->cv, &m->mu, &until) != ETIMEDOUT)
        ;
    int res = m->connecting ? 0 : m->connect_result;
    if (res < 0)
        snprintf(err, errlen, "%s: cannot connect to %s: %s", m->name, m->uri, m->connect_err);
    else if (res == 0)
        snprintf(err, errlen, "%s: not connected: no answer from %s within 5s", m->name, m->uri);
    pthread_mutex_unlock(&m->mu);
    return res == 1 && MQTTAsync_isConnected(m->client) ? 0 : -1;
}

static void mqtt_close(void *ctx);

static void *mqtt_open(const struct target_conf *c, char *err, size_t errlen)
{
    struct mqtt *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        return NULL;
    }
    snprintf(m->name, sizeof m->name, "%s", tconf_name(c));
    size_t skip;
    const char *broker = tconf_str(c, "broker");
    const char *scheme = paho_scheme(broker, &skip);
    if (!scheme) {
        snprintf(err, errlen, "%s: key 'broker': unknown protocol in broker address", m->name);
        free(m);
        return NULL;
    }
    size_t len = strlen(scheme) + strlen(broker + skip) + 1;
    m->uri = malloc(len);
    m->topic = strdup(tconf_str(c, "topic"));
    m->username = tconf_isset(c, "username") ? strdup(tconf_str(c, "username")) : NULL;
    /* Like MinIO's client, a password without a user name is not sent. */
    int pw = tconf_isset(c, "username") && tconf_isset(c, "password");
    m->password = pw ? strdup(tconf_str(c, "password")) : NULL;
    if (!m->uri || !m->topic || (tconf_isset(c, "username") && !m->username) ||
        (pw && !m->password)) {
        snprintf(err, errlen, "%s: out of memory", m->name);
        goto fail;
    }
    snprintf(m->uri, len, "%s%s", scheme, broker + skip);
    m->tls = !strcmp(scheme, "ssl://") || !strcmp(scheme, "wss://");
    m->qos = (int)tconf_int(c, "qos");
    long long ka = tconf_ms(c, "keep_alive_interval");
    m->keep_alive_s = ka > 0 ? (int)((ka + 999) / 1000) : 10;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
        pthread_cond_init(&m->cv, &ca)) {
        snprintf(err, errlen, "%s: cannot create a condition variable", m->name);
        goto fail;
    }
    pthread_condattr_destroy(&ca);
    if (pthread_mutex_init(&m->mu, NULL)) {
        pthread_cond_destroy(&m->cv);
        snprintf(err, errlen, "%s: cannot create a mutex", m->name);
        goto fail;
    }
    /* MinIO's client id: the Unix-nanosecond time in lower-case hex. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char id[32];
    snprintf(id, sizeof id, "%llx",
             (unsigned long long)now.tv_sec * 1000000000ULL + (unsigned long long)now.tv_nsec);
    int rc = MQTTAsync_create(&m->client, m->uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
    if (rc == MQTTASYNC_SUCCESS)
        rc = MQTTAsync_setCallbacks(m->client, m, on_lost, on_message, NULL);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(err, errlen, "%s: key 'broker': %s: %s", m->name, m->uri, MQTTAsync_strerror(rc));
        mqtt_close(m);
        return NULL;
    }
    return m;
fail:
    free(m->uri);
    free(m->topic);
    free(m->username);
    free(m->password);
    free(m);
    return NULL;
}

/* The script's per-message overrides: topic, qos, retain. */
struct pubopts {
    char topic[256];
    int qos, retain;
};

static int parse_opts(const struct mqtt *m, const struct msg *msg, struct pubopts *po)
{
    snprintf(po->topic, sizeof po->topic, "%s", m->topic);
    po->qos = m->qos;
    po->retain = 0;
    if (!msg->opts)
        return 0;
    cJSON *o = cJSON_Parse(msg->opts);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return -1;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "topic");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "qos");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "retain");
    int bad = 0;
    if (cJSON_IsString(t) && strlen(t->valuestring) < sizeof po->topic)
        snprintf(po->topic, sizeof po->topic, "%s", t->valuestring);
    else if (t)
        bad = 1;
    if (cJSON_IsNumber(q) && q->valueint >= 0 && q->valueint <= 2)
        po->qos = q->valueint;
    else if (q)
        bad = 1;
    if (cJSON_IsBool(r))
        po->retain = cJSON_IsTrue(r);
    else if (r)
        bad = 1;
    cJSON_Delete(o);
    return bad ? -1 : 0;
}

/* Take the acknowledgements that came in; when none has, wait for one,
 * 5 s at most.  -1 with the reason when the connection was lost or the
 * broker said nothing for 5 s. */
static int collect(struct mqtt *m, struct msg *msgs, MQTTAsync_token *tokens, size_t sent,
                   size_t *inflight, unsigned lost, char *err, size_t errlen)
{
    struct timespec until = clock_after(CLOCK_MONOTONIC, MQTT_WAIT_MS);
    int rc = 0, timed_out = 0;
    pthread_mutex_lock(&m->mu);
    for (;;) {
        size_t before = *inflight;
        for (size_t d = 0; d < m->ndone; d++)
            for (size_t i = 0; i < sent; i++)
                if (tokens[i] && tokens[i] == m->done[d].token) {
                    msgs[i].status = m->done[d].ok ? MSG_OK : MSG_RETRY;
                    if (!m->done[d].ok)
                        snprintf(msgs[i].error, sizeof msgs[i].error, "%s: %s", m->name,
                                 m->done[d].why);
                    tokens[i] = 0;
                    (*inflight)--;
                }
        m->ndone = 0;
        if (*inflight < before || !*inflight)
            break;
        if (m->lost != lost || timed_out) {
            snprintf(err, errlen, "%s: %s", m->name,
                     m->lost != lost ? m->lost_err : "no acknowledgement within 5s");
            rc = -1;
            break;
        }
        timed_out = pthread_cond_timedwait(&m->cv, &m->mu, &until) == ETIMEDOUT;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* Publish in order with at most MQTT_WINDOW unacknowledged messages.  MQTT
 * 3.1.1 has no way for a broker to say how many it takes, and Mosquitto
 * (max_inflight_messages 20) silently drops QoS 2 messages beyond its
 * limit, though it acknowledges them. */
static int mqtt_send(void *ctx, struct msg *msgs, size_t n)
{
    struct mqtt *m = ctx;
    char err[256] = "";
    if (n > MQTT_MAX_BATCH)
        n = MQTT_MAX_BATCH;
    for (size_t i = 0; i < n; i++)
        msgs[i].status = MSG_PENDING;
    if (ensure_connected(m, err, sizeof err)) {
        for (size_t i = 0; i < n; i++) {
            msgs[i].status = MSG_RETRY;
            snprintf(msgs[i].error, sizeof msgs[i].error, "%s", err);
        }
        return -1;
    }
    static _Thread_local MQTTAsync_token tokens[MQTT_MAX_BATCH];
    memset(tokens, 0, n * sizeof tokens[0]);
    pthread_mutex_lock(&m->mu);
    m->ndone = 0; /* completions of earlier, abandoned batches */
    unsigned lost = m->lost;
    pthread_mutex_unlock(&m->mu);

    size_t sent = 0, inflight = 0;
    int failed = 0;
    for (; sent < n; sent++) {
        struct msg *g = &msgs[sent];
        struct pubopts po;
        if (parse_opts(m, g, &po)) {
            g->status = MSG_REJECT;
            snprintf(g->error, sizeof g->error, "%s: bad opts (topic string, qos 0-2, retain "
                     "boolean): %.100s", m->name, g->opts);
            continue;
        }
        while (inflight >= (po.qos == 2 ? MQTT_WINDOW_QOS2 : MQTT_WINDOW) && !failed)
            failed = collect(m, msgs, tokens, sent, &inflight, lost, err, sizeof err) != 0;
        if (failed)
            break;
        MQTTAsync_message pm = MQTTAsync_message_initializer;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        pm.payload = (void *)g->payload;
        pm.payloadlen = (int)g->payload_len;
        pm.qos = po.qos;
        pm.retained = po.retain;
        ro.onSuccess = on_pub_ok;
        ro.onFailure = on_pub_fail;
        ro.context = m;
        int rc = MQTTAsync_sendMessage(m->client, po.topic, &pm, &ro);
        if (rc == MQTTASYNC_BAD_UTF8_STRING || rc == MQTTASYNC_BAD_QOS) {
            g->status = MSG_REJECT;
            snprintf(g->error, sizeof g->error, "%s: topic '%.100s' refused: %s", m->name,
                     po.topic, MQTTAsync_strerror(rc));
            continue;
        }
        if (rc != MQTTASYNC_SUCCESS) {
            snprintf(err, sizeof err, "%s: publish to %s: %s", m->name, m->uri,
                     MQTTAsync_strerror(rc));
            failed = 1;
            break;
        }
        if (po.qos == 0) {
            g->status = MSG_OK;
        } else {
            tokens[sent] = ro.token;
            inflight++;
        }
    }
    while (inflight && !failed)
        failed = collect(m, msgs, tokens, sent, &inflight, lost, err, sizeof err) != 0;

    /* Everything from the first unconfirmed message on is retried, so the
     * order holds (at-least-once: a few may arrive twice). */
    size_t first = 0;
    while (first < n && (msgs[first].status == MSG_OK || msgs[first].status == MSG_REJECT))
        first++;
    const char *why = first < n && msgs[first].status == MSG_RETRY ? msgs[first].error : err;
    char reason[sizeof msgs[0].error];
    snprintf(reason, sizeof reason, "%s", *why ? why : "not confirmed");
    for (size_t i = first; i < n; i++)
        if (msgs[i].status != MSG_REJECT) {
            msgs[i].status = MSG_RETRY;
            snprintf(msgs[i].error, sizeof msgs[i].error, "%s", reason);
        }
    if (failed && inflight && MQTTAsync_isConnected(m->client)) {
        /* A silent broker is treated as gone: dropping the session means
         * late acknowledgements cannot be taken for a later batch's. */
        MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
        dopt.timeout = 0;
        MQTTAsync_disconnect(m->client, &dopt);
    }
    return failed ? -1 : 0;
}

static int mqtt_health(void *ctx, char *err, size_t errlen)
{
    return ensure_connected(ctx, err, errlen);
}

static void mqtt_close(void *ctx)
{
    struct mqtt *m = ctx;
    if (!m)
        return;
    if (m->client) {
        if (MQTTAsync_isConnected(m->client)) {
            MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
            dopt.timeout = 1000;
            MQTTAsync_disconnect(m->client, &dopt);
        }
        MQTTAsync_destroy(&m->client); /* no callbacks after this */
    }
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m->done);
    free(m->uri);
    free(m->topic);
    free(m->username);
    free(m->password);
    free(m);
}

/* check --connect: MQTT has no destination to look for (a topic exists
 * when published to); connect only, telling a refused login apart. */
static int mqtt_probe(void *ctx, struct probe_result *p)
{
    if (mqtt_health(ctx, p->error, sizeof p->error) == 0) {
        p->reachable = p->authenticated = PROBE_YES;
        return 0;
    }
    int auth = strstr(p->error, "not authorized") || strstr(p->error, "user name or password");
    p->reachable = auth ? PROBE_YES : PROBE_NO;
    p->authenticated = auth ? PROBE_NO : PROBE_UNCHECKED;
    return -1;
}

static const struct key_spec mqtt_keys[] = {
    { "broker", KEY_URL, NULL, KEY_REQUIRED, NULL,
      "MQTT server endpoint, e.g. tcp://localhost:1883 (tcp, ssl, tls, tcps, ws, wss)" },
    { "topic", KEY_STR, NULL, 0, NULL, "name of the MQTT topic to publish to" },
    { "username", KEY_STR, NULL, 0, NULL, "MQTT username" },
    { "password", KEY_STR, NULL, KEY_SECRET, NULL, "MQTT password" },
    { "qos", KEY_UINT, "0", 0, NULL, "quality of service: 0, 1 or 2 (1 or 2 when queue_dir is set)" },
    { "keep_alive_interval", KEY_DURATION, "10s", 0, NULL, "keep-alive interval of the MQTT connection" },
    { "reconnect_interval", KEY_DURATION, "10m", 0, NULL,
      "accepted for MinIO compatibility; reconnects follow retry_min/retry_max" },
    { 0 }
};

/* What send(target, payload, opts) may set for this kind, beyond key and op. */
static const struct send_opt mqtt_send_opts[] = {
    { "topic", SOPT_STRING, 1, 255, "topic of this message instead of the configured one" },
    { "qos", SOPT_INTEGER, 0, 2, "QoS of this message instead of the configured one" },
    { "retain", SOPT_BOOLEAN, 0, 0, "publish this message with the retain flag" },
    { 0 },
};

const struct driver mqtt_driver = {
    .kind = "mqtt",
    .keys = mqtt_keys,
    .max_batch = MQTT_MAX_BATCH,
    .send_opts = mqtt_send_opts,
    .validate = mqtt_validate,
    .open = mqtt_open,
    .send = mqtt_send,
    .health = mqtt_health,
    .probe = mqtt_probe,
    .close = mqtt_close,
};
