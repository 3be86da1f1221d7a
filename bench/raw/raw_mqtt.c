/* raw_mqtt.c -- paho.mqtt.c (MQTTAsync) baseline: QoS 1, sliding window.
 *
 *   raw_mqtt tcp://HOST:PORT TOPIC N [WINDOW] [QOS] [DRAIN_EVERY]
 *
 * MQTT 3.1.1, clean session, maxInflight = WINDOW (default 1024).  Keeps up
 * to WINDOW publishes unacknowledged (PUBACK), sending the next as soon as
 * one is acknowledged; counts a message only on its onSuccess.  Payload: the
 * sample envelopes, as MinIO sends to MQTT.  DRAIN_EVERY K (default 0: never)
 * waits for every outstanding PUBACK after each K messages, the way a batch
 * of a driver ends (to show what that costs against a broker without
 * TCP_NODELAY, e.g. Mosquitto's default set_tcp_nodelay false). */
#include <pthread.h>
#include <MQTTAsync.h>
#include "raw_common.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static size_t acked, failed;
static int connected = 0;

static void on_conn(void *c, MQTTAsync_successData *r)
{
    (void)c, (void)r;
    pthread_mutex_lock(&mu);
    connected = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}
static void on_conn_fail(void *c, MQTTAsync_failureData *r)
{
    (void)c;
    fprintf(stderr, "raw_mqtt: connect failed: %d\n", r ? r->code : -1);
    pthread_mutex_lock(&mu);
    connected = -1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}
static void on_ok(void *c, MQTTAsync_successData *r)
{
    (void)c, (void)r;
    pthread_mutex_lock(&mu);
    acked++;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}
static void on_fail(void *c, MQTTAsync_failureData *r)
{
    (void)c, (void)r;
    pthread_mutex_lock(&mu);
    failed++;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: raw_mqtt tcp://HOST:PORT TOPIC N [WINDOW] [QOS]\n");
        return 2;
    }
    const char *uri = argv[1], *topic = argv[2];
    size_t n = strtoul(argv[3], NULL, 10);
    int window = argc > 4 ? atoi(argv[4]) : 1024;
    int qos = argc > 5 ? atoi(argv[5]) : 1;
    size_t drain = argc > 6 ? strtoul(argv[6], NULL, 10) : 0;
    if (raw_load())
        return 2;
    MQTTAsync cl;
    char id[64];
    snprintf(id, sizeof id, "raw-bench-%d", (int)getpid());
    if (MQTTAsync_create(&cl, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTASYNC_SUCCESS)
        return 1;
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    co.keepAliveInterval = 30;
    co.cleansession = 1;
    co.maxInflight = window;
    co.MQTTVersion = MQTTVERSION_3_1_1;
    co.onSuccess = on_conn;
    co.onFailure = on_conn_fail;
    if (MQTTAsync_connect(cl, &co) != MQTTASYNC_SUCCESS)
        return 1;
    pthread_mutex_lock(&mu);
    while (!connected)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    if (connected < 0)
        return 1;

    size_t bytes = 0;
    raw_start();
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&mu);
        while (i - acked - failed >= (size_t)window || (drain && i % drain == 0 && acked + failed < i))
            pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        const char *p = raw_payload(i, 0);
        MQTTAsync_message pm = MQTTAsync_message_initializer;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        pm.payload = (void *)p;
        pm.payloadlen = (int)strlen(p);
        pm.qos = qos;
        ro.onSuccess = on_ok;
        ro.onFailure = on_fail;
        int rc = MQTTAsync_sendMessage(cl, topic, &pm, &ro);
        if (rc != MQTTASYNC_SUCCESS) {
            fprintf(stderr, "raw_mqtt: send: %s\n", MQTTAsync_strerror(rc));
            return 1;
        }
        bytes += (size_t)pm.payloadlen;
    }
    pthread_mutex_lock(&mu);
    while (acked + failed < n)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    char what[64];
    if (drain)
        snprintf(what, sizeof what, "mqtt-w%d-drain%zu", window, drain);
    else
        snprintf(what, sizeof what, "mqtt-w%d", window);
    raw_done(what, n, bytes);
    if (failed) {
        fprintf(stderr, "raw_mqtt: %zu publishes failed\n", failed);
        return 1;
    }
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(cl, &d);
    MQTTAsync_destroy(&cl);
    return 0;
}
