/* test_mqtt.c -- the MQTT driver against a real Mosquitto (scripts/mosquitto.sh).
 *
 * Deliveries are checked from outside with a python3-paho-mqtt subscriber
 * that is subscribed before anything is published and prints each message
 * as "<qos> <retain> <topic>\t<payload>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "itest.h"
#include "driver.h"
#include "targetconf.h"

#define NSAMPLES 60

extern const struct driver mqtt_driver;

static struct sample S[NSAMPLES];
static size_t ns;
static int port, auth_port;

static const char *SUB_PY =
    "import sys, threading, paho.mqtt.client as mqtt\n"
    "port, topic, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])\n"
    "out = sys.stdout.buffer\n"
    "got = 0\n"
    "def on_connect(c, u, f, rc): c.subscribe(topic, 2)\n"
    "def on_subscribe(c, u, mid, q):\n"
    "    out.write(b'READY\\n'); out.flush()\n"
    "def on_message(c, u, m):\n"
    "    global got\n"
    "    out.write(b'%d %d %s\\t' % (m.qos, m.retain, m.topic.encode()) + m.payload + b'\\n')\n"
    "    out.flush(); got += 1\n"
    "    if got >= count: c.disconnect()\n"
    "c = mqtt.Client()\n"
    "c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message\n"
    "threading.Timer(20, c.disconnect).start()\n"
    "c.connect('127.0.0.1', port)\n"
    "c.loop_forever()\n"
    "import os; os._exit(0)\n";

/* Start a subscriber to topic for count messages; returns once subscribed. */
static FILE *subscribe(const char *topic, int count)
{
    char path[] = "/tmp/luagate-mqtt-sub.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    if (write(fd, SUB_PY, strlen(SUB_PY)) != (ssize_t)strlen(SUB_PY)) {
        close(fd);
        return NULL;
    }
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %d '%s' %d; rm -f %s", path, port, topic,
             count, path);
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = getline(&line, &cap, f);
    int ready = len > 0 && !strcmp(line, "READY\n");
    free(line);
    if (!ready) {
        printf("  # subscriber did not start (python3-paho-mqtt installed?)\n");
        pclose(f);
        return NULL;
    }
    return f;
}

/* Read count messages; check each is "<qos> 0 <topic>\t<envelope>" in order. */
static int expect(FILE *f, const char *topic, int qos, size_t from, size_t count)
{
    char *line = NULL;
    size_t cap = 0, got = 0, bad = 0;
    ssize_t len;
    while (got < count && (len = getline(&line, &cap, f)) > 0) {
        line[len - 1] = 0;
        char want_head[300];
        snprintf(want_head, sizeof want_head, "%d 0 %s\t", qos, topic);
        size_t hl = strlen(want_head);
        const char *env = S[(from + got) % ns].envelope;
        if (strncmp(line, want_head, hl) || strcmp(line + hl, env)) {
            if (!bad++)
                printf("  # message %zu differs:\n  #  got %.160s\n  # want %s%.100s\n", got,
                       line, want_head, env);
        }
        got++;
    }
    free(line);
    pclose(f);
    if (got != count)
        printf("  # received %zu of %zu messages on %s\n", got, count, topic);
    return got == count && !bad;
}

static struct target_conf *conf(const char *broker, const char *topic, const char *qos)
{
    struct target_conf *c = tconf_new(driver_kind("mqtt"), "1");
    tconf_set(c, "enable", "on");
    tconf_set(c, "broker", broker);
    tconf_set(c, "topic", topic);
    tconf_set(c, "qos", qos);
    return c;
}

static char *broker_url(int p)
{
    static char buf[2][64];
    static int i;
    i ^= 1;
    snprintf(buf[i], sizeof buf[i], "tcp://127.0.0.1:%d", p);
    return buf[i];
}

static void *open_conf(struct target_conf *c) { return itest_open(&mqtt_driver, c); }

static void fill(struct msg *m, size_t n, size_t from)
{
    for (size_t i = 0; i < n; i++)
        itest_fill(&m[i], &S[(from + i) % ns], S[(from + i) % ns].envelope);
}

TEST(validation)
{
    struct target_conf *c = tconf_new(driver_kind("mqtt"), "1");
    tconf_set(c, "topic", "t");
    CHECK(itest_refused(c, "'broker'", "required"));
    CHECK(itest_refused(conf("http://127.0.0.1:1883", "t", "1"), "'broker'",
                  "unknown protocol in broker address"));
    CHECK(itest_refused(conf("127.0.0.1:1883", "t", "1"), "'broker'", NULL));
    CHECK(itest_refused(conf("tcp://127.0.0.1:1883", "t", "3"), "'qos'", "0, 1 or 2"));
    CHECK(itest_refused(conf("tcp://127.0.0.1:1883", "t", "-1"), "'qos'", NULL));
    c = conf("tcp://127.0.0.1:1883", "t", "0");
    tconf_set(c, "queue_dir", "/tmp/luagate-q");
    CHECK(itest_refused(c, "'qos'", "qos should be set to 1 or 2 if queueDir is set"));
    c = conf("tcp://127.0.0.1:1883", "t", "1");
    tconf_set(c, "keep_alive_interval", "ten");
    CHECK(itest_refused(c, "'keep_alive_interval'", NULL));
    const char *ok[] = { "tcp://h:1", "ssl://h:1", "tls://h:1", "tcps://h:1", "ws://h:1/mqtt",
                         "wss://h:1/mqtt", "TCP://h:1" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char err[256] = "";
        c = conf(ok[i], "t", i ? "1" : "0"); /* qos 0 fine without queue_dir */
        tconf_set(c, "reconnect_interval", "1m");
        int rc = tconf_validate(c, err, sizeof err);
        if (rc)
            printf("  # %s: %s\n", ok[i], err);
        CHECK(rc == 0);
        void *ctx = rc ? NULL : mqtt_driver.open(c, err, sizeof err);
        CHECK(ctx != NULL);
        if (ctx)
            mqtt_driver.close(ctx);
        tconf_free(c);
    }
    CHECK_INT(mqtt_driver.max_batch, 4096);
}

/* The 60 samples at one qos: all confirmed, received byte for byte in order. */
static void deliver_qos(int qos)
{
    char topic[64], q[4];
    snprintf(topic, sizeof topic, "luagate/test/qos%d", qos);
    snprintf(q, sizeof q, "%d", qos);
    struct target_conf *c = conf(broker_url(port), topic, q);
    void *ctx = open_conf(c);
    CHECK(ctx != NULL);
    if (!ctx) {
        tconf_free(c);
        return;
    }
    FILE *sub = subscribe(topic, (int)ns);
    CHECK(sub != NULL);
    struct msg m[NSAMPLES];
    fill(m, ns, 0);
    CHECK_INT(mqtt_driver.send(ctx, m, ns), 0);
    CHECK(itest_all_ok(m, ns));
    if (sub)
        CHECK(expect(sub, topic, qos, 0, ns));
    mqtt_driver.close(ctx);
    tconf_free(c);
}

TEST(samples_qos0) { deliver_qos(0); }
TEST(samples_qos1) { deliver_qos(1); }
TEST(samples_qos2) { deliver_qos(2); }

/* Batches in a row on one connection, with a health check between. */
TEST(batches_and_health)
{
    struct target_conf *c = conf(broker_url(port), "luagate/test/batches", "1");
    void *ctx = open_conf(c);
    CHECK(ctx != NULL);
    if (!ctx)
        goto out;
    char err[256] = "";
    CHECK_INT(mqtt_driver.health(ctx, err, sizeof err), 0);
    FILE *sub = subscribe("luagate/test/batches", (int)ns);
    CHECK(sub != NULL);
    struct msg m[NSAMPLES];
    for (size_t from = 0; from < ns; from += 7) {
        size_t k = ns - from < 7 ? ns - from : 7;
        fill(m, k, from);
        CHECK_INT(mqtt_driver.send(ctx, m, k), 0);
        CHECK(itest_all_ok(m, k));
    }
    if (sub)
        CHECK(expect(sub, "luagate/test/batches", 1, 0, ns));
    mqtt_driver.close(ctx);
out:
    tconf_free(c);
}

/* opts may override topic/qos/retain; unusable opts reject only that message. */
TEST(opts_and_reject)
{
    struct target_conf *c = conf(broker_url(port), "luagate/test/main", "1");
    void *ctx = open_conf(c);
    CHECK(ctx != NULL);
    if (!ctx)
        goto out;
    FILE *main_sub = subscribe("luagate/test/main", 2);
    FILE *other = subscribe("luagate/test/other", 1);
    CHECK(main_sub && other);
    struct msg m[4];
    fill(m, 4, 0);
    m[1].opts = "{\"topic\":\"luagate/test/other\",\"qos\":2,\"retain\":false}";
    m[2].opts = "{\"qos\":7}";
    CHECK_INT(mqtt_driver.send(ctx, m, 4), 0);
    CHECK_INT(m[0].status, MSG_OK);
    CHECK_INT(m[1].status, MSG_OK);
    CHECK_INT(m[2].status, MSG_REJECT);
    CHECK(itest_has(m[2].error, "opts"));
    CHECK_INT(m[3].status, MSG_OK);
    if (other)
        CHECK(expect(other, "luagate/test/other", 2, 1, 1));
    if (main_sub) { /* messages 0 and 3 */
        char *line = NULL;
        size_t cap = 0;
        int n = 0;
        const size_t want[] = { 0, 3 };
        while (n < 2 && getline(&line, &cap, main_sub) > 0) {
            char *tab = strchr(line, '\t');
            CHECK(tab && !strncmp(tab + 1, S[want[n]].envelope, strlen(S[want[n]].envelope)));
            n++;
        }
        CHECK_INT(n, 2);
        free(line);
        pclose(main_sub);
    }
    mqtt_driver.close(ctx);
out:
    tconf_free(c);
}

static int script(const char *what)
{
    char cmd[256];
    const char *dir = getenv("LUAGATE_SCRIPTS");
    snprintf(cmd, sizeof cmd, "%s/mosquitto.sh %s >/dev/null 2>&1", dir ? dir : "scripts", what);
    return system(cmd);
}

/* Server down: RETRY and -1; back up: everything arrives, in order. */
TEST(outage)
{
    struct target_conf *c = conf(broker_url(port), "luagate/test/outage", "1");
    void *ctx = open_conf(c);
    CHECK(ctx != NULL);
    if (!ctx)
        goto out;
    struct msg m[NSAMPLES];
    fill(m, 3, 0);
    CHECK_INT(mqtt_driver.send(ctx, m, 3), 0);
    CHECK_INT(script("stop"), 0);
    fill(m, 5, 0);
    CHECK_INT(mqtt_driver.send(ctx, m, 5), -1);
    for (int i = 0; i < 5; i++)
        CHECK_INT(m[i].status, MSG_RETRY);
    printf("  # while down: %s\n", m[0].error);
    char err[256] = "";
    CHECK_INT(mqtt_driver.health(ctx, err, sizeof err), -1);
    CHECK(itest_has(err, "mqtt:1"));
    CHECK_INT(script("start"), 0);
    FILE *sub = subscribe("luagate/test/outage", (int)ns);
    CHECK(sub != NULL);
    fill(m, ns, 0);
    CHECK_INT(mqtt_driver.send(ctx, m, ns), 0);
    CHECK(itest_all_ok(m, ns));
    if (sub)
        CHECK(expect(sub, "luagate/test/outage", 1, 0, ns));
    mqtt_driver.close(ctx);
out:
    tconf_free(c);
}

/* Against the listener with a password file. */
TEST(credentials)
{
    struct target_conf *c = conf(broker_url(auth_port), "luagate/test/auth", "1");
    tconf_set(c, "username", "luagate");
    tconf_set(c, "password", "not-the-password");
    void *ctx = open_conf(c);
    CHECK(ctx != NULL);
    if (ctx) {
        char err[256] = "";
        CHECK_INT(mqtt_driver.health(ctx, err, sizeof err), -1);
        printf("  # wrong password: %s\n", err);
        CHECK(strstr(err, "user name or password") || strstr(err, "not authorized"));
        CHECK(!strstr(err, "not-the-password"));
        struct msg m[1];
        fill(m, 1, 0);
        CHECK_INT(mqtt_driver.send(ctx, m, 1), -1);
        CHECK_INT(m[0].status, MSG_RETRY);
        CHECK(!strstr(m[0].error, "not-the-password"));
        mqtt_driver.close(ctx);
    }
    tconf_set(c, "password", "luagate-pw");
    ctx = open_conf(c);
    CHECK(ctx != NULL);
    if (ctx) {
        char err[256] = "";
        CHECK_INT(mqtt_driver.health(ctx, err, sizeof err), 0);
        struct msg m[2];
        fill(m, 2, 0);
        CHECK_INT(mqtt_driver.send(ctx, m, 2), 0);
        CHECK(itest_all_ok(m, 2));
        mqtt_driver.close(ctx);
    }
    tconf_free(c);
}

int main(void)
{
    const char *p = getenv("MQTT_PORT");
    port = p ? atoi(p) : 11883;
    p = getenv("MQTT_AUTH_PORT");
    auth_port = p ? atoi(p) : port + 1;
    ns = unit_samples(S, NSAMPLES);
    if (ns != NSAMPLES) {
        printf("not ok - samples (loaded %zu)\n", ns);
        return 1;
    }
    RUN(validation);
    struct target_conf *c = conf(broker_url(port), "t", "1");
    void *ctx = open_conf(c);
    char err[256] = "";
    if (!ctx || mqtt_driver.health(ctx, err, sizeof err)) {
        printf("not ok - mosquitto reachable on 127.0.0.1:%d (%s); start it with "
               "scripts/servers.sh start mosquitto\n", port, err);
        if (ctx)
            mqtt_driver.close(ctx);
        tconf_free(c);
        unit_samples_free(S, ns);
        return 1;
    }
    mqtt_driver.close(ctx);
    tconf_free(c);
    RUN(samples_qos0);
    RUN(samples_qos1);
    RUN(samples_qos2);
    RUN(batches_and_health);
    RUN(opts_and_reject);
    RUN(outage);
    RUN(credentials);
    unit_samples_free(S, ns);
    return unit_done();
}
