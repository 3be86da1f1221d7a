/* test_nsq.c -- the nsq driver against tests/peers/nsqd_peer.py, a
 * protocol-level nsqd stand-in (no nsqd is packaged here).  The test starts
 * the peer itself on NSQ_TCP_PORT / NSQ_HTTP_PORT, restarts it with other
 * options where needed, and checks what it recorded (GET /__messages). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include "clock.h"
#include "itest.h"
#include "driver.h"
#include "targetconf.h"
#include "../../targets/nsq_proto.h"

#define NSAMPLES 60

static struct sample samples[NSAMPLES];
static size_t nsamples;
static const char *tcp_port, *http_port, *base;
static char peer_script[PATH_MAX], addr[64];
static pid_t peer_pid = -1;
static const struct driver *drv;

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* ---- HTTP control port of the peer ---------------------------------- */

struct body {
    char *p;
    size_t len, cap;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct body *b = ud;
    size_t n = size * nmemb;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, ptr, n);
    b->len += n;
    b->p[b->len] = 0;
    return n;
}

/* The response body (malloc'd) of METHOD path, or NULL unless 200. */
static char *http(const char *method, const char *path)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%s%s", http_port, path);
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    struct body b = { 0 };
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    if (!strcmp(method, "POST"))
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || status != 200) {
        free(b.p);
        return NULL;
    }
    if (!b.p)
        b.p = strdup("");
    return b.p;
}

static int control(const char *method, const char *path)
{
    char *r = http(method, path);
    free(r);
    return r ? 0 : -1;
}

static cJSON *http_json(const char *path)
{
    char *r = http("GET", path);
    cJSON *j = r ? cJSON_Parse(r) : NULL;
    free(r);
    return j;
}

/* ---- the peer process ------------------------------------------------ */

static int port_open(const char *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

static void peer_stop(void)
{
    if (peer_pid <= 0)
        return;
    kill(peer_pid, SIGTERM);
    int st;
    while (waitpid(peer_pid, &st, 0) < 0 && errno == EINTR)
        ;
    peer_pid = -1;
}

/* Start the peer with extra arguments (NULL-terminated list). */
static int peer_start(const char *const *extra)
{
    peer_stop();
    if (port_open(tcp_port) || port_open(http_port)) {
        printf("  # port %s or %s on 127.0.0.1 is already in use (another nsqd_peer? set "
               "NSQ_TCP_PORT/NSQ_HTTP_PORT or PORT_OFFSET)\n", tcp_port, http_port);
        return -1;
    }
    const char *argv[16] = { "/usr/bin/python3", peer_script, tcp_port, http_port };
    int argc = 4;
    for (; extra && *extra && argc < 15; extra++)
        argv[argc++] = *extra;
    argv[argc] = NULL;
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/nsqd_peer.log", base);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int null = open("/dev/null", O_RDONLY);
        if (fd >= 0 && null >= 0) {
            dup2(null, 0);
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    peer_pid = pid;
    long long until = (long long)clock_mono_ms() + 20000;
    while ((long long)clock_mono_ms() < until) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            peer_pid = -1;
            break;
        }
        if (port_open(tcp_port) && control("GET", "/ping") == 0)
            return 0;
        sleep_ms(50);
    }
    printf("  # nsqd_peer did not start: /usr/bin/python3 %s %s %s (see %s)\n", peer_script,
           tcp_port, http_port, log);
    return -1;
}

/* ---- driver helpers ------------------------------------------------- */

static struct target_conf *conf(const char *topic, const char *tls, const char *skip)
{
    return ITEST_CONF("nsq", "enable", "on", "nsqd_address", addr, "topic", topic, "tls", tls,
                      "tls_skip_verify", skip);
}

static void *open_target(const char *topic)
{
    struct target_conf *c = conf(topic, NULL, NULL);
    void *ctx = itest_open(drv, c);
    tconf_free(c);
    return ctx;
}

static void fill(struct msg *m, size_t i, const char *opts)
{
    itest_fill(m, &samples[i % nsamples], samples[i % nsamples].envelope);
    m->opts = opts;
}

static size_t count_status(const struct msg *m, size_t n, enum msg_status st)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += m[i].status == st;
    return c;
}

/* The peer holds exactly these payloads for topic, in this order. */
static int holds(const char *topic, const char *const *want, size_t n)
{
    char path[128];
    snprintf(path, sizeof path, "/__messages?topic=%s", topic);
    cJSON *all = http_json(path);
    int ok = cJSON_IsArray(all) && (size_t)cJSON_GetArraySize(all) == n;
    if (!ok)
        printf("  # topic %s: %d messages, expected %zu\n", topic,
               all ? cJSON_GetArraySize(all) : -1, n);
    for (size_t i = 0; ok && i < n; i++) {
        const cJSON *b = cJSON_GetObjectItem(cJSON_GetArrayItem(all, (int)i), "body");
        if (!cJSON_IsString(b) || strcmp(b->valuestring, want[i])) {
            printf("  # topic %s: message %zu differs\n", topic, i);
            ok = 0;
        }
    }
    cJSON_Delete(all);
    return ok;
}

static int holds_samples(const char *topic, size_t from, size_t n)
{
    const char **want = malloc(n * sizeof *want);
    for (size_t i = 0; i < n; i++)
        want[i] = samples[(from + i) % nsamples].envelope;
    int ok = holds(topic, want, n);
    free(want);
    return ok;
}

/* How many commands of this kind the peer saw (count: their message total). */
static int commands(const char *cmd, int *msgs)
{
    cJSON *all = http_json("/__commands");
    int n = 0, m = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, all)
    {
        const cJSON *k = cJSON_GetObjectItem(c, "cmd");
        if (cJSON_IsString(k) && !strcmp(k->valuestring, cmd)) {
            n++;
            m += cJSON_GetObjectItem(c, "count") ? cJSON_GetObjectItem(c, "count")->valueint : 0;
        }
    }
    cJSON_Delete(all);
    if (msgs)
        *msgs = m;
    return n;
}

static void reset_peer(void)
{
    control("DELETE", "/__messages");
}

/* ---- tests ------------------------------------------------------------ */

static int validate_err(const char *key, const char *val, const char *want)
{
    char err[256] = "";
    struct target_conf *c = conf("events", NULL, NULL);
    if (val)
        tconf_set(c, key, val);
    else
        tconf_set(c, key, "");
    int rc = tconf_validate(c, err, sizeof err);
    tconf_free(c);
    if (rc == 0 || !strstr(err, want)) {
        printf("  # %s=%s: got '%s'\n", key, val ? val : "", err);
        return 0;
    }
    return 1;
}

TEST(config_validation)
{
    char err[256] = "";
    struct target_conf *c = conf("events", NULL, NULL);
    CHECK_INT(tconf_validate(c, err, sizeof err), 0);
    tconf_free(c);
    c = conf("a.b_c-D#ephemeral", "on", "on");
    CHECK_INT(tconf_validate(c, err, sizeof err), 0);
    tconf_free(c);
    CHECK(validate_err("nsqd_address", NULL, "'nsqd_address' is required"));
    CHECK(validate_err("nsqd_address", "localhost", "'nsqd_address' must be host:port"));
    CHECK(validate_err("topic", NULL, "'topic' is required"));
    CHECK(validate_err("topic", "bad topic", "nsq:1: key 'topic' must match"));
    CHECK(validate_err("topic", "a#b", "key 'topic'"));
    CHECK(validate_err("topic", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                       "1..64"));
    CHECK(validate_err("tls", "maybe", "key 'tls' must be a boolean"));
    CHECK(validate_err("tls_skip_verify", "x", "key 'tls_skip_verify'"));
    const struct key_spec *s = tconf_spec(c = conf("t", NULL, NULL), "nsqd_address");
    CHECK(s && (s->flags & KEY_REQUIRED));
    tconf_free(c);
    CHECK_INT(drv->max_batch, 256);
    CHECK_STR(driver_kind("nsq")->arn_kind, "nsq");
}

/* The peer itself behaves like nsqd on what the driver never sends. */
TEST(peer_speaks_nsq)
{
    const char *cases[][2] = {
        { "  V2PUB bad*topic\n", "E_BAD_TOPIC" },
        { "  V1", "E_BAD_PROTOCOL" },
        { "  V2BOGUS\n", "E_INVALID" },
        { "  V2PUB ok\n\x00\x00\x00\x00", "E_BAD_MESSAGE" },
        { "  V2NOP\nCLS\n", "CLOSE_WAIT" },
    };
    size_t lens[] = { 18, 4, 10, 15, 12 };
    for (size_t i = 0; i < 5; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)atoi(tcp_port)) };
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        struct timeval tv = { 5, 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
        CHECK(write(fd, cases[i][0], lens[i]) == (ssize_t)lens[i]);
        char buf[512];
        size_t len = 0;
        struct nsqp_frame f = { 0 };
        char err[96];
        long r = 0;
        while (len < sizeof buf && (r = nsqp_parse(buf, len, sizeof buf, &f, err, sizeof err)) == 0) {
            ssize_t got = read(fd, buf + len, sizeof buf - len);
            if (got <= 0)
                break;
            len += (size_t)got;
        }
        close(fd);
        CHECK(r > 0);
        if (r > 0 && (f.len < strlen(cases[i][1]) ||
                      memcmp(f.data, cases[i][1], strlen(cases[i][1])))) {
            printf("  # %s: got '%.*s'\n", cases[i][1], (int)f.len, f.data);
            CHECK(0);
        }
    }
}

TEST(health_and_identify)
{
    void *t = open_target("events");
    CHECK(t != NULL);
    if (!t)
        return;
    char err[256] = "";
    CHECK_INT(drv->health(t, err, sizeof err), 0);
    CHECK_INT(drv->health(t, err, sizeof err), 0); /* reuses the connection */
    cJSON *cmds = http_json("/__commands");
    const cJSON *c, *id = NULL;
    cJSON_ArrayForEach(c, cmds)
        if (!strcmp(cJSON_GetObjectItem(c, "cmd")->valuestring, "IDENTIFY") && !id)
            id = cJSON_GetObjectItem(c, "body");
    CHECK(id != NULL);
    if (id) {
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(id, "feature_negotiation")));
        CHECK_INT(cJSON_GetObjectItem(id, "heartbeat_interval")->valueint, 30000);
        CHECK(cJSON_IsFalse(cJSON_GetObjectItem(id, "tls_v1")));
        CHECK(!strncmp(cJSON_GetObjectItem(id, "user_agent")->valuestring, "luagate/", 8));
        CHECK(cJSON_IsString(cJSON_GetObjectItem(id, "client_id")));
        CHECK(cJSON_IsString(cJSON_GetObjectItem(id, "hostname")));
    }
    cJSON_Delete(cmds);
    CHECK_INT(commands("IDENTIFY", NULL), 1);
    CHECK(commands("NOP", NULL) >= 1);
    drv->close(t);
    reset_peer();
}

TEST(sixty_single_pubs)
{
    void *t = open_target("singles");
    if (!t)
        { CHECK(0); return; }
    for (size_t i = 0; i < nsamples; i++) {
        struct msg m;
        fill(&m, i, NULL);
        CHECK_INT(drv->send(t, &m, 1), 0);
        CHECK_INT(m.status, MSG_OK);
    }
    CHECK(holds_samples("singles", 0, nsamples));
    int n;
    CHECK_INT(commands("PUB", &n), (int)nsamples);
    CHECK_INT(commands("MPUB", NULL), 0);
    CHECK_INT(commands("IDENTIFY", NULL), 1);
    drv->close(t);
    reset_peer();
}

TEST(sixty_in_mpub_batches)
{
    void *t = open_target("batches");
    if (!t)
        { CHECK(0); return; }
    struct msg m[NSAMPLES];
    size_t sizes[] = { 25, 1, 34 }, from = 0;
    for (size_t b = 0; b < 3; b++) {
        for (size_t i = 0; i < sizes[b]; i++)
            fill(&m[from + i], from + i, NULL);
        CHECK_INT(drv->send(t, m + from, sizes[b]), 0);
        CHECK_INT(count_status(m + from, sizes[b], MSG_OK), sizes[b]);
        from += sizes[b];
    }
    CHECK(holds_samples("batches", 0, nsamples));
    int n;
    CHECK_INT(commands("MPUB", &n), 2);
    CHECK_INT(n, 59);
    CHECK_INT(commands("PUB", NULL), 1);
    drv->close(t);
    reset_peer();
}

TEST(opts_topic)
{
    void *t = open_target("events");
    if (!t)
        { CHECK(0); return; }
    struct msg m[6];
    const char *opts[] = { NULL, "{\"topic\":\"other\"}", "{\"topic\":\"other\"}", "{\"topic\":\"bad topic\"}",
                           "not json", "{\"key\":\"x\"}" };
    for (int i = 0; i < 6; i++)
        fill(&m[i], (size_t)i, opts[i]);
    CHECK_INT(drv->send(t, m, 6), 0);
    CHECK_INT(m[0].status, MSG_OK);
    CHECK_INT(m[1].status, MSG_OK);
    CHECK_INT(m[2].status, MSG_OK);
    CHECK_INT(m[3].status, MSG_REJECT);
    CHECK(strstr(m[3].error, "opts.topic 'bad topic'") != NULL);
    CHECK_INT(m[4].status, MSG_REJECT);
    CHECK_INT(m[5].status, MSG_OK);
    const char *ev[] = { samples[0].envelope, samples[5].envelope };
    const char *ot[] = { samples[1].envelope, samples[2].envelope };
    CHECK(holds("events", ev, 2));
    CHECK(holds("other", ot, 2));
    drv->close(t);
    reset_peer();
}

/* Batches over nsqd's 5 MiB MPUB body are split; a message over 1 MiB goes
 * alone and is rejected by the server; so is an empty one. */
TEST(limits_split_and_reject)
{
    void *t = open_target("big");
    if (!t)
        { CHECK(0); return; }
    size_t len = 900 * 1024;
    char *big[8];
    struct msg m[11];
    for (int i = 0; i < 8; i++) {
        big[i] = malloc(len + 1);
        memset(big[i], 'a' + i, len);
        big[i][len] = 0;
        fill(&m[i], 0, NULL);
        m[i].payload = big[i];
        m[i].payload_len = len;
    }
    char *huge = malloc(8 * 1024 * 1024 + 1);
    memset(huge, 'z', 8 * 1024 * 1024);
    huge[8 * 1024 * 1024] = 0;
    fill(&m[8], 0, NULL);
    m[8].payload = huge;
    m[8].payload_len = 8 * 1024 * 1024;
    fill(&m[9], 9, NULL);
    m[9].payload = "";
    m[9].payload_len = 0;
    fill(&m[10], 10, NULL);
    CHECK_INT(drv->send(t, m, 11), 0);
    CHECK_INT(count_status(m, 8, MSG_OK), 8);
    CHECK_INT(m[8].status, MSG_REJECT);
    CHECK(strstr(m[8].error, "E_BAD_MESSAGE") != NULL);
    CHECK_INT(m[9].status, MSG_REJECT);
    CHECK(strstr(m[9].error, "E_BAD_MESSAGE") != NULL);
    CHECK_INT(m[10].status, MSG_OK);
    const char *want[9];
    for (int i = 0; i < 8; i++)
        want[i] = big[i];
    want[8] = samples[10].envelope;
    CHECK(holds("big", want, 9));
    int n;
    CHECK_INT(commands("MPUB", &n), 2); /* 5 + 3 */
    CHECK_INT(n, 8);
    for (int i = 0; i < 8; i++)
        free(big[i]);
    free(huge);
    drv->close(t);
    reset_peer();
}

TEST(pub_failed_then_retry)
{
    void *t = open_target("failing");
    if (!t)
        { CHECK(0); return; }
    struct msg m[4];
    CHECK_INT(control("POST", "/__fail?cmd=PUB&error=E_PUB_FAILED&count=1"), 0);
    fill(&m[0], 0, NULL);
    CHECK_INT(drv->send(t, m, 1), 0);
    CHECK_INT(m[0].status, MSG_RETRY);
    CHECK(strstr(m[0].error, "E_PUB_FAILED") != NULL);
    CHECK_INT(drv->send(t, m, 1), 0);
    CHECK_INT(m[0].status, MSG_OK);

    CHECK_INT(control("POST", "/__fail?cmd=MPUB&error=E_MPUB_FAILED&count=1"), 0);
    for (size_t i = 0; i < 3; i++)
        fill(&m[1 + i], 1 + i, NULL);
    CHECK_INT(drv->send(t, m + 1, 3), 0);
    CHECK_INT(count_status(m + 1, 3, MSG_RETRY), 3);
    CHECK(strstr(m[3].error, "E_MPUB_FAILED") != NULL);
    CHECK_INT(drv->send(t, m + 1, 3), 0);
    CHECK_INT(count_status(m + 1, 3, MSG_OK), 3);
    CHECK(holds_samples("failing", 0, 4));
    drv->close(t);
    reset_peer();
}

/* nsqd answers a bad topic with E_BAD_TOPIC; validation keeps it out of the
 * config, so if it happens the server disagrees: keep the messages. */
TEST(bad_topic_from_server)
{
    void *t = open_target("events");
    if (!t)
        { CHECK(0); return; }
    struct msg m[3];
    for (size_t i = 0; i < 3; i++)
        fill(&m[i], i, NULL);
    CHECK_INT(control("POST", "/__fail?cmd=any&error=E_BAD_TOPIC&count=1"), 0);
    CHECK_INT(drv->send(t, m, 3), 0);
    CHECK_INT(count_status(m, 3, MSG_RETRY), 3);
    CHECK(strstr(m[0].error, "refused topic 'events'") != NULL);
    CHECK(strstr(m[0].error, "E_BAD_TOPIC") != NULL);
    CHECK_INT(drv->send(t, m, 3), 0);
    CHECK_INT(count_status(m, 3, MSG_OK), 3);
    CHECK(holds_samples("events", 0, 3));
    drv->close(t);
    reset_peer();
}

/* The peer drops the connection at the second of three commands. */
TEST(connection_dropped_mid_batch)
{
    void *t = open_target("ta");
    if (!t)
        { CHECK(0); return; }
    struct msg m[10];
    const char *b = "{\"topic\":\"tb\"}";
    for (size_t i = 0; i < 10; i++)
        fill(&m[i], 20 + i, i >= 4 && i <= 6 ? b : NULL);
    CHECK_INT(drv->health(t, (char[64]){ 0 }, 64), 0);
    CHECK_INT(control("POST", "/__drop?skip=1&count=1"), 0);
    CHECK_INT(drv->send(t, m, 10), -1);
    CHECK_INT(count_status(m, 4, MSG_OK), 4);
    CHECK_INT(count_status(m + 4, 6, MSG_RETRY), 6);
    CHECK(strstr(m[4].error, "closed") != NULL);
    CHECK_INT(drv->send(t, m + 4, 6), 0);
    CHECK_INT(count_status(m + 4, 6, MSG_OK), 6);
    const char *ta[] = { samples[20].envelope, samples[21].envelope, samples[22].envelope,
                         samples[23].envelope, samples[27].envelope, samples[28].envelope,
                         samples[29].envelope };
    CHECK(holds("ta", ta, 7));
    CHECK(holds_samples("tb", 24, 3));
    CHECK_INT(commands("IDENTIFY", NULL), 2);
    drv->close(t);
    reset_peer();
}

/* A server with a smaller --max-msg-size refuses an MPUB: the driver finds
 * the culprits with single PUBs, rejects them and delivers the rest. */
TEST(smaller_server_limit)
{
    const char *args[] = { "--max-msg-size", "1100", NULL };
    if (peer_start(args))
        { CHECK(0); return; }
    void *t = open_target("small");
    if (!t)
        { CHECK(0); return; }
    struct msg m[20];
    const char *want[20];
    size_t nwant = 0, big = 0;
    for (size_t i = 0; i < 20; i++) {
        fill(&m[i], i, NULL);
        if (m[i].payload_len <= 1100)
            want[nwant++] = m[i].payload;
        else
            big++;
    }
    CHECK(big > 0 && nwant > 0);
    CHECK_INT(drv->send(t, m, 20), 0);
    for (size_t i = 0; i < 20; i++)
        CHECK_INT(m[i].status, m[i].payload_len <= 1100 ? MSG_OK : MSG_REJECT);
    CHECK(holds("small", want, nwant));
    drv->close(t);
}

/* Heartbeats every second: answered while idle-waiting for an OK, and an
 * idle connection closed by the server is replaced transparently. */
TEST(heartbeats)
{
    const char *args[] = { "--heartbeat-ms", "1000", NULL };
    if (peer_start(args))
        { CHECK(0); return; }
    void *t = open_target("hb");
    if (!t)
        { CHECK(0); return; }
    struct msg m[3];
    for (size_t i = 0; i < 3; i++)
        fill(&m[i], i, NULL);
    CHECK_INT(drv->send(t, m, 1), 0);
    CHECK_INT(m[0].status, MSG_OK);
    sleep_ms(3500); /* > 2 intervals: the peer closes the silent connection */
    CHECK_INT(drv->send(t, m + 1, 1), 0);
    CHECK_INT(m[1].status, MSG_OK);
    CHECK_INT(commands("IDENTIFY", NULL), 2); /* reconnected, nothing lost */
    /* the OK comes 2.5 s late: heartbeats arrive between PUB and OK */
    CHECK_INT(control("POST", "/__delay?ms=2500&count=1"), 0);
    CHECK_INT(drv->send(t, m + 2, 1), 0);
    CHECK_INT(m[2].status, MSG_OK);
    int nops = 0;
    for (int i = 0; i < 20 && (nops = commands("NOP", NULL)) < 2; i++)
        sleep_ms(50);
    CHECK(nops >= 2);
    CHECK(holds_samples("hb", 0, 3));
    char err[256];
    CHECK_INT(drv->health(t, err, sizeof err), 0);
    drv->close(t);
}

TEST(reply_timeout)
{
    if (peer_start(NULL))
        { CHECK(0); return; }
    void *t = open_target("slow");
    if (!t)
        { CHECK(0); return; }
    struct msg m;
    fill(&m, 0, NULL);
    CHECK_INT(control("POST", "/__delay?ms=6500&count=1"), 0);
    long long t0 = (long long)clock_mono_ms();
    CHECK_INT(drv->send(t, &m, 1), -1);
    long long took = (long long)clock_mono_ms() - t0;
    CHECK_INT(m.status, MSG_RETRY);
    CHECK(strstr(m.error, "timeout") != NULL);
    CHECK(took >= 4900 && took < 6400);
    CHECK_INT(drv->send(t, &m, 1), 0); /* at least once: the peer now has it twice */
    CHECK_INT(m.status, MSG_OK);
    drv->close(t);
    reset_peer();
}

TEST(outage_and_recovery)
{
    void *t = open_target("outage");
    if (!t)
        { CHECK(0); return; }
    struct msg m[5];
    for (size_t i = 0; i < 5; i++)
        fill(&m[i], 30 + i, NULL);
    CHECK_INT(drv->send(t, m, 2), 0);
    peer_stop();
    char err[256] = "";
    CHECK_INT(drv->send(t, m + 2, 3), -1);
    CHECK_INT(count_status(m + 2, 3, MSG_RETRY), 3);
    CHECK(strstr(m[2].error, "nsqd") != NULL);
    CHECK_INT(drv->health(t, err, sizeof err), -1);
    CHECK(strstr(err, "cannot connect to nsqd") != NULL);
    if (peer_start(NULL))
        { CHECK(0); return; }
    CHECK_INT(drv->health(t, err, sizeof err), 0);
    CHECK_INT(drv->send(t, m + 2, 3), 0);
    CHECK_INT(count_status(m + 2, 3, MSG_OK), 3);
    CHECK(holds_samples("outage", 32, 3));
    drv->close(t);
    reset_peer();
}

/* TLS after IDENTIFY (the peer uses Python's ssl with a throwaway cert). */
TEST(tls)
{
    char err[256] = "";
    /* tls on, server without TLS: refused, not sent in the clear */
    struct target_conf *c = conf("sec", "on", "on");
    void *t = drv->open(c, err, sizeof err);
    tconf_free(c);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_INT(drv->health(t, err, sizeof err), -1);
    CHECK(strstr(err, "did not negotiate TLS") != NULL);
    drv->close(t);

    char crt[PATH_MAX], key[PATH_MAX], cmd[3 * PATH_MAX];
    snprintf(crt, sizeof crt, "%s/nsq-peer.crt", base);
    snprintf(key, sizeof key, "%s/nsq-peer.key", base);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
             "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout %s -out %s "
             ">/dev/null 2>&1", key, crt);
    CHECK_INT(system(cmd), 0);
    const char *args[] = { "--tls-cert", crt, "--tls-key", key, NULL };
    if (peer_start(args))
        { CHECK(0); return; }
    struct msg m[3];
    for (size_t i = 0; i < 3; i++)
        fill(&m[i], 40 + i, NULL);

    c = conf("sec", "on", "on"); /* skip verify */
    t = drv->open(c, err, sizeof err);
    tconf_free(c);
    CHECK_INT(drv->send(t, m, 2), 0);
    CHECK_INT(count_status(m, 2, MSG_OK), 2);
    CHECK_INT(drv->health(t, err, sizeof err), 0);
    drv->close(t);

    c = conf("sec", "on", "off"); /* verify a self-signed cert: refused */
    t = drv->open(c, err, sizeof err);
    tconf_free(c);
    CHECK_INT(drv->health(t, err, sizeof err), -1);
    CHECK(strstr(err, "certificate verify failed") != NULL);
    CHECK_INT(drv->send(t, m + 2, 1), -1);
    CHECK_INT(m[2].status, MSG_RETRY);
    drv->close(t);

    setenv("SSL_CERT_FILE", crt, 1); /* now trusted: verify name and chain */
    c = conf("sec", "on", "off");
    t = drv->open(c, err, sizeof err);
    tconf_free(c);
    CHECK_INT(drv->send(t, m + 2, 1), 0);
    CHECK_INT(m[2].status, MSG_OK);
    drv->close(t);
    unsetenv("SSL_CERT_FILE");

    c = conf("sec", NULL, NULL); /* tls off: plain text still works */
    t = drv->open(c, err, sizeof err);
    tconf_free(c);
    struct msg p;
    fill(&p, 43, NULL);
    CHECK_INT(drv->send(t, &p, 1), 0);
    CHECK_INT(p.status, MSG_OK);
    drv->close(t);
    CHECK(holds_samples("sec", 40, 4));
    peer_stop();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    tcp_port = getenv("NSQ_TCP_PORT") ? getenv("NSQ_TCP_PORT") : "14150";
    http_port = getenv("NSQ_HTTP_PORT") ? getenv("NSQ_HTTP_PORT") : "14151";
    base = getenv("BASE") ? getenv("BASE") : "/tmp";
    mkdir(base, 0755);
    snprintf(peer_script, sizeof peer_script, "%s",
             getenv("NSQD_PEER") ? getenv("NSQD_PEER") : "tests/peers/nsqd_peer.py");
    snprintf(addr, sizeof addr, "127.0.0.1:%s", tcp_port);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    drv = driver_find("nsq");
    nsamples = unit_samples(samples, NSAMPLES);
    if (!drv || nsamples != NSAMPLES || peer_start(NULL)) {
        printf("not ok - setup (driver %s, %zu samples, peer %s; run from the repository root "
               "or set NSQD_PEER)\n", drv ? "ok" : "missing", nsamples,
               peer_pid > 0 ? "up" : "down");
        peer_stop();
        return 1;
    }
    RUN(config_validation);
    RUN(peer_speaks_nsq);
    RUN(health_and_identify);
    RUN(sixty_single_pubs);
    RUN(sixty_in_mpub_batches);
    RUN(opts_topic);
    RUN(limits_split_and_reject);
    RUN(pub_failed_then_retry);
    RUN(bad_topic_from_server);
    RUN(connection_dropped_mid_batch);
    RUN(smaller_server_limit);
    RUN(heartbeats);
    RUN(reply_timeout);
    RUN(outage_and_recovery);
    RUN(tls);
    peer_stop();
    unit_samples_free(samples, nsamples);
    curl_global_cleanup();
    return unit_done();
}
