/* test_workers.c -- ingest_workers = 2 end to end: luagate (LUAGATE_BIN)
 * listens on an ephemeral port (listen "127.0.0.1:0") with two workers;
 * many keep-alive connections are served by both, every acknowledged event
 * reaches the file target exactly once, SIGHUP reloads the script in both
 * workers (a broken one keeps the old everywhere), SIGTERM drains, and
 * ingest_workers outside 1..16 is refused.  Run from the repository root. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "unit.h"

#define CONNS 64
#define ROUNDS 8
#define SPREAD 32 /* connections that must reach both workers */

static const char *bin;
static char dir[256];
static char tmpl[4096]; /* the first sample envelope: its object key is made unique */
static int port;
static pid_t gw_pid;
static int next_id;

/* ---- files -------------------------------------------------------------------- */

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static int write_file(const char *name, const char *text)
{
    char p[512];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static char *read_file(const char *name)
{
    char p[512];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return strdup("");
    char *s = NULL;
    size_t cap = 0, len = 0, n;
    char chunk[4096];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            s = realloc(s, cap);
        }
        memcpy(s + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!s)
        return strdup("");
    s[len] = 0;
    return s;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static size_t lines_of(const char *name)
{
    char *s = read_file(name);
    size_t n = count_of(s, "\n");
    free(s);
    return n;
}

static int wait_lines(const char *name, size_t n, int seconds)
{
    for (int i = 0; i < seconds * 20; i++) {
        if (lines_of(name) >= n)
            return 1;
        usleep(50000);
    }
    return lines_of(name) >= n;
}

/* The body of event id: the template with its object key made unique. */
static void body_of(int id, char *out, size_t len)
{
    char key[32];
    snprintf(key, sizeof key, "w-%06d.jpg", id);
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 32 < len;) {
        if (!strncmp(p, "photo.jpg", 9)) {
            o += (size_t)snprintf(out + o, len - o, "%s", key);
            p += 9;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = 0;
}

/* Does file name hold the body of every id in [from, to) exactly once? */
static int holds_once(const char *name, int from, int to)
{
    char *s = read_file(name);
    int ok = 1;
    for (int id = from; id < to && ok; id++) {
        char line[4200];
        body_of(id, line, sizeof line - 2);
        strcat(line, "\n");
        if (count_of(s, line) != 1) {
            printf("  # %s holds event %d %zu times\n", name, id, count_of(s, line));
            ok = 0;
        }
    }
    free(s);
    return ok;
}

/* ---- the gateway ------------------------------------------------------------- */

static int gw_start(const char *conf)
{
    char cpath[512], lpath[512];
    path_of(cpath, sizeof cpath, conf);
    path_of(lpath, sizeof lpath, "gw.log");
    long start = 0;
    FILE *lf = fopen(lpath, "a");
    if (lf) {
        start = ftell(lf);
        fclose(lf);
    }
    fflush(stdout); /* or the child's copy of the buffer is written twice */
    gw_pid = fork();
    if (gw_pid < 0)
        return -1;
    if (gw_pid == 0) {
        if (!freopen(lpath, "a", stdout) || !freopen(lpath, "a", stderr))
            _exit(127);
        unsetenv("LUAGATE_INGEST_WORKERS"); /* the config file says */
        execl(bin, bin, "-c", cpath, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) { /* 20 s: the log line names the port */
        char *log = read_file("gw.log");
        const char *p = strstr(log + start, "listening on http://127.0.0.1:");
        port = p ? atoi(p + strlen("listening on http://127.0.0.1:")) : 0;
        free(log);
        if (port > 0)
            return 0;
        if (waitpid(gw_pid, NULL, WNOHANG) == gw_pid) {
            gw_pid = 0;
            return -1;
        }
        usleep(50000);
    }
    return -1;
}

/* Signal the gateway (0: no signal) and wait (15 s) for its exit status,
 * -1 if it had to be killed. */
static int gw_stop(int sig)
{
    if (gw_pid <= 0)
        return -1;
    if (sig)
        kill(gw_pid, sig);
    int st;
    for (int i = 0; i < 300; i++) {
        if (waitpid(gw_pid, &st, WNOHANG) == gw_pid) {
            gw_pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        usleep(50000);
    }
    kill(gw_pid, SIGKILL);
    waitpid(gw_pid, &st, 0);
    gw_pid = 0;
    return -1;
}

/* ---- HTTP --------------------------------------------------------------------- */

static int gw_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_post(int fd, int id)
{
    char body[4200], head[256];
    body_of(id, body, sizeof body);
    int hl = snprintf(head, sizeof head, "POST / HTTP/1.1\r\nHost: luagate\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n", strlen(body));
    return send_all(fd, head, (size_t)hl) || send_all(fd, body, strlen(body)) ? -1 : 0;
}

/* One response: its status, and its body in out (NUL-terminated, cut at
 * cap).  -1 when the connection failed. */
static int read_response(int fd, char *out, size_t cap)
{
    static char buf[1 << 20];
    size_t len = 0;
    char *end = NULL;
    while (!(end = len ? memmem(buf, len, "\r\n\r\n", 4) : NULL)) {
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
    }
    buf[len] = 0;
    int code = strncmp(buf, "HTTP/1.1 ", 9) ? -1 : atoi(buf + 9);
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    size_t want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
    while (len < want && len < sizeof buf - 1) {
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
    }
    if (out)
        snprintf(out, cap, "%.*s", (int)(want - (size_t)(end + 4 - buf)), end + 4);
    return code;
}

/* GET /metrics; the value of one sample, -1 if missing. */
static long long metric(const char *name)
{
    int fd = gw_connect();
    if (fd < 0)
        return -1;
    static char body[1 << 20];
    const char req[] = "GET /metrics HTTP/1.1\r\nHost: luagate\r\nConnection: close\r\n\r\n";
    long long v = -1;
    if (!send_all(fd, req, sizeof req - 1) && read_response(fd, body, sizeof body) == 200) {
        char key[256];
        snprintf(key, sizeof key, "\n%s ", name);
        const char *p = strstr(body, key);
        if (p)
            v = atoll(p + strlen(key));
    }
    close(fd);
    return v;
}

static long long worker_requests(int w)
{
    char name[96];
    snprintf(name, sizeof name, "luagate_ingest_worker_requests_total{worker=\"%d\"}", w);
    return metric(name);
}

/* n fresh connections, one POST each, all sent before any answer is read.
 * Returns how many got 200; the ids used start at *id. */
static int post_spread(int n, int *id)
{
    int fds[CONNS], ok = 0;
    for (int i = 0; i < n; i++) {
        fds[i] = gw_connect();
        if (fds[i] >= 0 && send_post(fds[i], *id + i))
            close(fds[i]), fds[i] = -1;
    }
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) {
            ok += read_response(fds[i], NULL, 0) == 200;
            close(fds[i]);
        }
    *id += n;
    return ok;
}

/* ---- the tests ------------------------------------------------------------------- */

static void write_conf(const char *name, const char *extra)
{
    char conf[2048];
    snprintf(conf, sizeof conf,
             "listen = \"127.0.0.1:0\"\nqueue_dir = \"%s/queue\"\nscript = \"%s/routes.lua\"\n"
             "ingest_workers = 2\n%s\ntargets = {\n  [\"file:a\"] = { path = \"%s/a.jsonl\" },\n"
             "  [\"file:b\"] = { path = \"%s/b.jsonl\" },\n}\n", dir, dir, extra, dir, dir);
    write_file(name, conf);
}

TEST(many_connections_both_workers_exactly_once)
{
    write_file("routes.lua", "return function(event, send) send(\"file:a\", event) end\n");
    write_conf("gw.lua", "");
    CHECK(gw_start("gw.lua") == 0);
    if (!gw_pid)
        return;
    char *log = read_file("gw.log");
    CHECK(strstr(log, "2 ingest workers") != NULL);
    free(log);
    int fds[CONNS], acked = 0, failed = 0, first = next_id;
    for (int i = 0; i < CONNS; i++)
        CHECK((fds[i] = gw_connect()) >= 0);
    for (int r = 0; r < ROUNDS; r++) { /* every connection keeps one request in flight */
        for (int i = 0; i < CONNS; i++)
            if (fds[i] >= 0 && send_post(fds[i], first + r * CONNS + i))
                failed++;
        for (int i = 0; i < CONNS; i++)
            if (fds[i] >= 0) {
                int code = read_response(fds[i], NULL, 0);
                acked += code == 200;
                failed += code != 200;
            }
    }
    for (int i = 0; i < CONNS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    next_id += CONNS * ROUNDS;
    CHECK_INT(acked, CONNS * ROUNDS);
    CHECK_INT(failed, 0);
    CHECK(wait_lines("a.jsonl", (size_t)acked, 30));
    usleep(300000); /* anything delivered twice would show now */
    CHECK_INT(lines_of("a.jsonl"), acked);
    CHECK(holds_once("a.jsonl", first, next_id));
    long long w0 = worker_requests(0), w1 = worker_requests(1);
    printf("  # requests per worker: %lld %lld\n", w0, w1);
    CHECK(w0 > 0 && w1 > 0);
    /* the POSTs, and maybe the two GET /metrics */
    CHECK(w0 + w1 >= CONNS * ROUNDS && w0 + w1 <= CONNS * ROUNDS + 2);
}

/* Both workers must have served some of n fresh connections: each
 * worker's count grows by at least 2 (one GET /metrics may be its own). */
static int spread_on_both(int *id, int n, int *acked)
{
    long long b0 = worker_requests(0), b1 = worker_requests(1);
    *acked = post_spread(n, id);
    long long d0 = worker_requests(0) - b0, d1 = worker_requests(1) - b1;
    printf("  # %d connections: worker 0 +%lld, worker 1 +%lld\n", n, d0, d1);
    return d0 >= 2 && d1 >= 2;
}

TEST(sighup_reloads_every_worker)
{
    if (!gw_pid)
        return;
    size_t a0 = lines_of("a.jsonl"), b0 = lines_of("b.jsonl");
    write_file("routes.lua", "return function(event, send) send(\"file:b\", event) end\n");
    kill(gw_pid, SIGHUP);
    for (int i = 0; i < 100 && metric("luagate_script_reloads_total{result=\"ok\"}") < 1; i++)
        usleep(50000);
    CHECK_INT(metric("luagate_script_reloads_total{result=\"ok\"}"), 1);
    int first = next_id, acked;
    CHECK(spread_on_both(&next_id, SPREAD, &acked));
    CHECK_INT(acked, SPREAD);
    CHECK(wait_lines("b.jsonl", b0 + SPREAD, 20));
    usleep(300000);
    CHECK_INT(lines_of("a.jsonl"), a0); /* no worker kept the old script */
    CHECK(holds_once("b.jsonl", first, next_id));
}

TEST(broken_script_keeps_the_old_one_everywhere)
{
    if (!gw_pid)
        return;
    size_t a0 = lines_of("a.jsonl"), b0 = lines_of("b.jsonl");
    write_file("routes.lua", "return function(event, send) send(\"file:a\", event end\n");
    kill(gw_pid, SIGHUP);
    for (int i = 0; i < 100 && metric("luagate_script_reloads_total{result=\"failed\"}") < 1; i++)
        usleep(50000);
    CHECK_INT(metric("luagate_script_reloads_total{result=\"failed\"}"), 1);
    CHECK_INT(metric("luagate_script_reloads_total{result=\"ok\"}"), 1);
    char *log = read_file("gw.log");
    CHECK_INT(count_of(log, "reload failed"), 1); /* logged once, not once per worker */
    CHECK(strstr(log, "routes.lua:1:") != NULL);
    free(log);
    int first = next_id, acked;
    CHECK(spread_on_both(&next_id, SPREAD, &acked));
    CHECK_INT(acked, SPREAD);
    CHECK(wait_lines("b.jsonl", b0 + SPREAD, 20));
    usleep(300000);
    CHECK_INT(lines_of("a.jsonl"), a0);
    CHECK(holds_once("b.jsonl", first, next_id));
    CHECK_INT(gw_stop(SIGTERM), 0);
}

/* Requests waiting for a slow group commit on both workers when SIGTERM
 * comes: every one is answered 200, the process exits 0, and the events
 * are delivered (after a restart if the stop came first). */
TEST(sigterm_drains_both_workers)
{
    write_file("routes.lua", "return function(event, send) send(\"file:a\", event) end\n");
    write_conf("slow.lua", "commit_window = \"300ms\"\nshutdown_timeout = \"10s\"\n");
    char *before = read_file("gw.log");
    size_t from = strlen(before); /* this run's lines only */
    free(before);
    CHECK(gw_start("slow.lua") == 0);
    if (!gw_pid)
        return;
    /* a commit now: the requests below wait for the next, a window later
     * (an append after a quiet spell is committed at once) */
    int primer = next_id++;
    CHECK_INT(post_spread(1, &primer), 1);
    int fds[SPREAD], first = next_id, acked = 0;
    for (int i = 0; i < SPREAD; i++)
        if ((fds[i] = gw_connect()) >= 0 && send_post(fds[i], first + i))
            close(fds[i]), fds[i] = -1;
    next_id += SPREAD;
    usleep(100000); /* parsed and appended, waiting for the commit */
    long long w0 = worker_requests(0), w1 = worker_requests(1);
    CHECK(w0 >= 2 && w1 >= 2); /* both hold waiting requests (one GET may be theirs) */
    kill(gw_pid, SIGTERM);
    for (int i = 0; i < SPREAD; i++)
        if (fds[i] >= 0) {
            acked += read_response(fds[i], NULL, 0) == 200;
            close(fds[i]);
        }
    CHECK_INT(acked, SPREAD);
    CHECK_INT(gw_stop(0), 0);
    char *log = read_file("gw.log");
    const char *run = strlen(log) >= from ? log + from : "";
    CHECK(strstr(run, "SIGTERM: finishing") != NULL);
    CHECK(strstr(run, "finishing 0 in-flight") == NULL); /* the stop did find requests waiting */
    CHECK(strstr(run, "shutdown deadline reached") == NULL);
    free(log);
    CHECK(gw_start("slow.lua") == 0); /* deliver what the stop left queued */
    CHECK(wait_lines("a.jsonl", (size_t)(CONNS * ROUNDS + 1 + SPREAD), 20));
    usleep(300000);
    CHECK(holds_once("a.jsonl", first - 1, next_id));
    CHECK_INT(gw_stop(SIGTERM), 0);
}

static int refused(const char *how, char *out, size_t outlen)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd %s && %s %s >cfg.out 2>&1", dir, how, bin);
    int st = system(cmd);
    char *o = read_file("cfg.out");
    snprintf(out, outlen, "%s", o);
    free(o);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(ingest_workers_out_of_range_is_refused)
{
    char out[1024], conf[512];
    snprintf(conf, sizeof conf, "listen = \"127.0.0.1:0\"\nqueue_dir = \"%s/q0\"\ningest_workers = 0\n", dir);
    write_file("zero.lua", conf);
    char how[600];
    snprintf(how, sizeof how, "env -u LUAGATE_INGEST_WORKERS sh -c '\"$0\" -c zero.lua'");
    CHECK_INT(refused(how, out, sizeof out), 2);
    CHECK(strstr(out, "key 'ingest_workers' must be an integer from 1 to 16, not '0'") != NULL);
    snprintf(how, sizeof how, "LUAGATE_INGEST_WORKERS=17 LUAGATE_LISTEN=127.0.0.1:0 LUAGATE_QUEUE_DIR=q17");
    CHECK_INT(refused(how, out, sizeof out), 2);
    CHECK(strstr(out, "LUAGATE_INGEST_WORKERS: key 'ingest_workers' must be an integer from 1 to 16, not '17'"));
    if (unit_cur_failed)
        printf("  # %s\n", out);
}

/* Under ASan (make asan) every gateway run above wrote its reports here. */
TEST(no_sanitizer_report_in_the_log)
{
    char *log = read_file("gw.log");
    CHECK(!strstr(log, "Sanitizer") && !strstr(log, "runtime error"));
    free(log);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    char cwd[1024];
    static char binbuf[1200];
    bin = getenv("LUAGATE_BIN");
    if (!bin && getcwd(cwd, sizeof cwd)) {
        snprintf(binbuf, sizeof binbuf, "%s/build/release/luagate", cwd);
        bin = binbuf;
    }
    struct sample s[1];
    if (!bin || access(bin, X_OK) || unit_samples(s, 1) != 1) {
        printf("not ok - setup: need LUAGATE_BIN and LUAGATE_EVENTS\n");
        return 1;
    }
    snprintf(tmpl, sizeof tmpl, "%s", s[0].envelope);
    unit_samples_free(s, 1);
    if (!strstr(tmpl, "photo.jpg")) {
        printf("not ok - setup: the first sample event no longer names photo.jpg\n");
        return 1;
    }
    const char *base = getenv("BASE");
    snprintf(dir, sizeof dir, "%s/luagate-workers.XXXXXX", base && *base ? base : "/tmp");
    char mk[300];
    snprintf(mk, sizeof mk, "mkdir -p '%s'", base && *base ? base : "/tmp");
    if (system(mk) || !mkdtemp(dir)) {
        printf("not ok - setup: cannot create %s\n", dir);
        return 1;
    }
    RUN(many_connections_both_workers_exactly_once);
    RUN(sighup_reloads_every_worker);
    RUN(broken_script_keeps_the_old_one_everywhere);
    RUN(sigterm_drains_both_workers);
    RUN(ingest_workers_out_of_range_is_refused);
    RUN(no_sanitizer_report_in_the_log);
    if (gw_pid)
        gw_stop(SIGKILL);
    if (unit_failed) {
        printf("  # kept %s; its gw.log:\n", dir);
        char *log = read_file("gw.log");
        fputs(log, stdout);
        free(log);
    } else {
        char rm[300];
        snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
        if (system(rm))
            printf("  # could not remove %s\n", dir);
    }
    return unit_done();
}
