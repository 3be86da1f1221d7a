/* test_elasticsearch.c -- the Elasticsearch driver against tests/peers/es_peer.py.
 *
 * No Elasticsearch installs here, so this test starts the protocol-level
 * peer itself on ES_PORT (default 19200), restarting it where a test needs
 * another version, credentials or an outage, and checks from the peer's
 * own records every request the driver made and the documents it holds,
 * against what MinIO's notify_elasticsearch would have sent. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "itest.h"
#include "driver.h"
#include "targetconf.h"
#include "../../targets/highwayhash256.h"

#define NSAMPLES 60
#define DELETE_EVENT "s3:ObjectRemoved:Delete"
#define GIVE_UP() \
    do {          \
        CHECK(0); \
        return;   \
    } while (0)

static struct sample samples[NSAMPLES];
static size_t nsamples;
static struct msg msgs[NSAMPLES];
static char *payloads[NSAMPLES]; /* records + "\n", as the router shapes it */
static const struct driver *drv;
static char port[16] = "19200", base_url[64];
static pid_t peer_pid;

/* ---- the peer ---- */

struct rbuf {
    char *p;
    size_t len;
};

static size_t rb_write(char *p, size_t size, size_t n, void *arg)
{
    struct rbuf *b = arg;
    char *q = realloc(b->p, b->len + size * n + 1);
    if (!q)
        return 0;
    memcpy(q + b->len, p, size * n);
    b->p = q;
    b->len += size * n;
    q[b->len] = 0;
    return size * n;
}

/* A control request to the peer; the body (malloc'd, "" at worst) or NULL
 * when the peer did not answer. */
static char *peer(const char *method, const char *path, long *status)
{
    CURL *c = curl_easy_init();
    struct rbuf b = { calloc(1, 1), 0 };
    char url[512];
    long st = 0;
    snprintf(url, sizeof url, "%s%s", base_url, path);
    if (!c || !b.p) {
        curl_easy_cleanup(c);
        free(b.p);
        return NULL;
    }
    int bad = curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rb_write) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, &b) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L) != CURLE_OK;
    if (bad || curl_easy_perform(c) != CURLE_OK ||
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st) != CURLE_OK) {
        free(b.p);
        b.p = NULL;
    }
    curl_easy_cleanup(c);
    if (status)
        *status = st;
    return b.p;
}

static cJSON *peer_json(const char *path)
{
    char *body = peer("GET", path, NULL);
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    free(body);
    return j;
}

static int peer_ok(const char *method, const char *path)
{
    long st;
    char *body = peer(method, path, &st);
    free(body);
    return body && st == 200;
}

static void peer_stop(void)
{
    if (peer_pid <= 0)
        return;
    if (kill(peer_pid, SIGTERM) == 0)
        while (waitpid(peer_pid, NULL, 0) < 0 && errno == EINTR)
            ;
    peer_pid = 0;
}

/* Start es_peer.py with extra arguments (NULL-terminated); 0 once it answers. */
static int peer_start(const char *a1, const char *a2)
{
    const char *script = getenv("ES_PEER") ? getenv("ES_PEER") : "tests/peers/es_peer.py";
    if (access(script, R_OK)) {
        printf("  # %s not found: run from the repository root (or set ES_PEER)\n", script);
        return -1;
    }
    peer_stop();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
            close(fd);
        }
        execl("/usr/bin/python3", "python3", script, "--port", port, a1, a2, (char *)NULL);
        _exit(127);
    }
    peer_pid = pid;
    for (int i = 0; i < 200; i++) { /* 10 s */
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            peer_pid = 0;
            printf("  # es_peer exited at start: is port %s in use? (set ES_PORT)\n", port);
            return -1;
        }
        if (peer_ok("DELETE", "/__requests"))
            return 0;
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    printf("  # es_peer did not answer on 127.0.0.1:%s within 10 s\n", port);
    peer_stop();
    return -1;
}

static int peer_reset(void)
{
    return peer_ok("DELETE", "/__requests") && peer_ok("DELETE", "/__docs") &&
                   peer_ok("DELETE", "/__reject")
               ? 0
               : -1;
}

/* ---- the driver ---- */

static struct target_conf *conf(const char *url, const char *index, const char *format,
                                const char *user, const char *pass)
{
    return ITEST_CONF("elasticsearch", "url", url, "index", index, "format", format, "username", user,
                      "password", pass);
}

static void *open_es(const char *url, const char *index, const char *format, const char *user,
                     const char *pass)
{
    struct target_conf *c = conf(url ? url : base_url, index, format, user, pass);
    void *ctx = itest_open(drv, c);
    tconf_free(c);
    return ctx;
}

static void doc_id(const char *key, char id[45]) { hh_es_doc_id(key, strlen(key), id); }

static int is_delete(size_t i) { return !strcmp(samples[i].event_name, DELETE_EVENT); }

/* Send msgs[from..to) in batches of `batch`; 0 if every one came back OK. */
static int send_all(void *ctx, size_t from, size_t to, size_t batch)
{
    int bad = 0;
    for (size_t i = from; i < to; i += batch) {
        size_t n = to - i < batch ? to - i : batch;
        int rc = drv->send(ctx, &msgs[i], n);
        for (size_t k = i; k < i + n; k++)
            if (msgs[k].status != MSG_OK) {
                printf("  # message %zu: status %d: %s\n", k, msgs[k].status, msgs[k].error);
                bad = 1;
            }
        if (rc)
            bad = 1;
    }
    return bad ? -1 : 0;
}

/* ---- expectations ---- */

struct expect {
    const char *method;
    char path[160];
    char *body; /* NULL: no body; owned */
    const char *ctype;
};

static struct expect exp_req[400];
static size_t nexp;

static void expect(const char *method, const char *path, char *body, const char *ctype)
{
    struct expect *e = &exp_req[nexp++];
    e->method = method;
    snprintf(e->path, sizeof e->path, "%s", path);
    e->body = body;
    e->ctype = ctype;
}

static void expect_start(const char *index, int create)
{
    char p[160];
    expect("GET", "/", NULL, NULL);
    snprintf(p, sizeof p, "/_resolve/index/%s", index);
    expect("GET", p, NULL, NULL);
    if (create) {
        snprintf(p, sizeof p, "/%s", index);
        expect("PUT", p, NULL, NULL);
    }
}

static void expect_free(void)
{
    for (size_t i = 0; i < nexp; i++)
        free(exp_req[i].body);
    nexp = 0;
}

static char *cat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 1);
    memcpy(p, a, la);
    memcpy(p + la, b, lb + 1);
    return p;
}

static const char *header(const cJSON *req, const char *name)
{
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(req, "headers"))
    {
        if (!strcasecmp(h->string, name) && cJSON_IsString(h))
            return h->valuestring;
    }
    return NULL;
}

/* The peer's records equal exp_req, request for request, byte for byte;
 * returns how many distinct client connections carried them. */
static int check_requests(void)
{
    cJSON *reqs = peer_json("/__requests");
    int bad = 0, n = cJSON_GetArraySize(reqs), conns = 0;
    int ports[400];
    if (n != (int)nexp) {
        printf("  # %d requests recorded, %zu expected\n", n, nexp);
        bad = 1;
    }
    for (int i = 0; i < n && i < (int)nexp && !bad; i++) {
        const cJSON *r = cJSON_GetArrayItem(reqs, i);
        const char *m = cJSON_GetObjectItemCaseSensitive(r, "method")->valuestring;
        const char *p = cJSON_GetObjectItemCaseSensitive(r, "path")->valuestring;
        const char *b = cJSON_GetObjectItemCaseSensitive(r, "body")->valuestring;
        const char *ct = header(r, "Content-Type");
        struct expect *e = &exp_req[i];
        if (strcmp(m, e->method) || strcmp(p, e->path)) {
            printf("  # request %d: %s %s, expected %s %s\n", i, m, p, e->method, e->path);
            bad = 1;
        } else if (strcmp(b, e->body ? e->body : "")) {
            printf("  # request %d (%s %s): body differs:\n  #   got  %.300s\n  #   want %.300s\n",
                   i, m, p, b, e->body ? e->body : "");
            bad = 1;
        } else if ((e->ctype && (!ct || strcmp(ct, e->ctype))) || (!e->ctype && ct)) {
            printf("  # request %d: Content-Type %s, expected %s\n", i, ct ? ct : "(none)",
                   e->ctype ? e->ctype : "(none)");
            bad = 1;
        }
        int port = cJSON_GetObjectItemCaseSensitive(r, "client_port")->valueint, seen = 0;
        for (int k = 0; k < conns; k++)
            seen |= ports[k] == port;
        if (!seen)
            ports[conns++] = port;
    }
    cJSON_Delete(reqs);
    expect_free();
    return bad ? -1 : conns;
}

/* What MinIO leaves in the index after msgs[0..n): id -> records of the
 * last upsert, removed by ObjectRemoved:Delete. */
struct model {
    char id[NSAMPLES][45];
    int last[NSAMPLES]; /* sample index, -1 deleted */
    size_t n;
};

static int model_find(struct model *md, const char *id)
{
    for (size_t i = 0; i < md->n; i++)
        if (!strcmp(md->id[i], id))
            return (int)i;
    return -1;
}

/* Applies sample i; returns whether the doc existed before (for HEAD+DELETE). */
static int model_apply(struct model *md, size_t i)
{
    char id[45];
    doc_id(samples[i].key, id);
    int k = model_find(md, id);
    int existed = k >= 0 && md->last[k] >= 0;
    if (k < 0) {
        k = (int)md->n++;
        memcpy(md->id[k], id, sizeof id);
        md->last[k] = -1;
    }
    md->last[k] = is_delete(i) ? -1 : (int)i;
    return existed;
}

/* The peer's documents of index equal the model, source for source. */
static int check_docs_ns(const char *index, struct model *md)
{
    cJSON *all = peer_json("/__docs");
    const cJSON *docs = cJSON_GetObjectItemCaseSensitive(all, index);
    int bad = 0, want = 0;
    for (size_t k = 0; k < md->n; k++) {
        if (md->last[k] < 0)
            continue;
        want++;
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(docs, md->id[k]);
        char *exp = cat(samples[md->last[k]].records, "\n");
        if (!cJSON_IsString(d) ||
            (strcmp(d->valuestring, exp) && strcmp(d->valuestring, samples[md->last[k]].records))) {
            printf("  # doc %s: %.200s\n  #   want %.200s\n", md->id[k],
                   cJSON_IsString(d) ? d->valuestring : "(missing)", exp);
            bad = 1;
        }
        free(exp);
    }
    if (cJSON_GetArraySize(docs) != want) {
        printf("  # %d documents in %s, %d expected\n", cJSON_GetArraySize(docs), index, want);
        bad = 1;
    }
    cJSON_Delete(all);
    return bad ? -1 : 0;
}

/* The peer's documents of index are the records of samples[from..to), in order. */
static int check_docs_access(const char *index, size_t from, size_t to)
{
    cJSON *all = peer_json("/__docs");
    const cJSON *docs = cJSON_GetObjectItemCaseSensitive(all, index), *d;
    int bad = cJSON_GetArraySize(docs) != (int)(to - from);
    if (bad)
        printf("  # %d documents in %s, %zu expected\n", cJSON_GetArraySize(docs), index, to - from);
    size_t i = from;
    cJSON_ArrayForEach(d, docs)
    {
        if (bad || i >= to)
            break;
        char *exp = cat(samples[i].records, "\n");
        if (strcmp(d->valuestring, exp) && strcmp(d->valuestring, samples[i].records)) {
            printf("  # doc %zu: %.200s\n  #   want %.200s\n", i, d->valuestring, exp);
            bad = 1;
        }
        free(exp);
        i++;
    }
    cJSON_Delete(all);
    return bad ? -1 : 0;
}

/* ---- tests ---- */

TEST(validation)
{
    char err[256];
    struct target_conf *c = conf(NULL, "idx", NULL, NULL, NULL);
    CHECK(tconf_validate(c, err, sizeof err) == -1 && strstr(err, "'url'"));
    tconf_free(c);
    c = conf("ftp://u:topsecret@127.0.0.1:1", "idx", NULL, NULL, NULL);
    CHECK(tconf_validate(c, err, sizeof err) == -1 && strstr(err, "'url'"));
    CHECK(!strstr(err, "topsecret"));
    tconf_free(c);
    c = conf("http://127.0.0.1:1", NULL, NULL, NULL, NULL);
    CHECK(tconf_validate(c, err, sizeof err) == -1 && strstr(err, "'index'"));
    tconf_free(c);
    c = conf("http://127.0.0.1:1", "idx", "json", NULL, NULL);
    CHECK(tconf_validate(c, err, sizeof err) == -1 && strstr(err, "'format'"));
    tconf_free(c);
    c = conf("http://127.0.0.1:1", "idx", NULL, "elastic", NULL);
    CHECK(tconf_validate(c, err, sizeof err) == -1 && strstr(err, "'username'") &&
          strstr(err, "'password'"));
    tconf_free(c);
    c = conf("http://127.0.0.1:1", "idx", NULL, NULL, "hunter2");
    CHECK(tconf_validate(c, err, sizeof err) == -1 && strstr(err, "'password'"));
    CHECK(!strstr(err, "hunter2"));
    tconf_free(c);
    c = conf("https://u:p@es.example:9200/prefix/", "idx", "Access", "elastic", "hunter2");
    CHECK(tconf_validate(c, err, sizeof err) == 0);
    CHECK_STR(tconf_printable(c, "password"), "***");
    CHECK_STR(tconf_printable(c, "url"), "***");
    tconf_free(c);
}

/* One message per send: MinIO's own requests (PUT _doc / HEAD+DELETE). */
TEST(namespace_single)
{
    const char *idx = "minio-ns";
    struct model md = { .n = 0 };
    char path[160];
    CHECK(peer_reset() == 0);
    void *ctx = open_es(NULL, idx, "namespace", NULL, NULL);
    CHECK(ctx != NULL);
    if (!ctx)
        return;
    CHECK(send_all(ctx, 0, nsamples, 1) == 0);
    expect_start(idx, 1);
    for (size_t i = 0; i < nsamples; i++) {
        char id[45];
        doc_id(samples[i].key, id);
        CHECK(strlen(id) == 44 && id[43] == '=');
        snprintf(path, sizeof path, "/%s/_doc/%s", idx, id);
        int existed = model_apply(&md, i);
        if (is_delete(i)) {
            expect("HEAD", path, NULL, NULL);
            if (existed)
                expect("DELETE", path, NULL, NULL);
        } else {
            expect("PUT", path, cat(samples[i].records, "\n"), "application/json");
        }
    }
    int conns = check_requests();
    CHECK(conns >= 1);
    CHECK(conns <= 2); /* keep-alive: one connection (two if the peer closed one) */
    CHECK(check_docs_ns(idx, &md) == 0);

    /* a second instance finds the index and does not create it again */
    void *ctx2 = open_es(NULL, idx, "namespace", NULL, NULL);
    CHECK(peer_ok("DELETE", "/__requests"));
    CHECK(send_all(ctx2, 0, 1, 1) == 0);
    expect_start(idx, 0);
    char id0[45];
    doc_id(samples[0].key, id0);
    snprintf(path, sizeof path, "/%s/_doc/%s", idx, id0);
    expect("PUT", path, cat(samples[0].records, "\n"), "application/json");
    CHECK(check_requests() >= 1);
    drv->close(ctx2);
    drv->close(ctx);
}

/* Batches: one POST /_bulk each, ndjson, Records-only lines. */
TEST(namespace_bulk)
{
    const char *idx = "minio-ns-bulk";
    struct model md = { .n = 0 };
    CHECK(peer_reset() == 0);
    void *ctx = open_es(NULL, idx, "namespace", NULL, NULL);
    if (!ctx)
        GIVE_UP();
    CHECK(send_all(ctx, 0, nsamples, 25) == 0);
    expect_start(idx, 1);
    for (size_t i = 0; i < nsamples; i += 25) {
        char *body = strdup("");
        for (size_t k = i; k < nsamples && k < i + 25; k++) {
            char id[45], line[200], *t;
            doc_id(samples[k].key, id);
            model_apply(&md, k);
            snprintf(line, sizeof line, "{\"%s\":{\"_index\":\"%s\",\"_id\":\"%s\"}}\n",
                     is_delete(k) ? "delete" : "index", idx, id);
            t = cat(body, line);
            free(body);
            body = t;
            if (!is_delete(k)) {
                t = cat(body, samples[k].records);
                free(body);
                body = cat(t, "\n");
                free(t);
            }
        }
        expect("POST", "/_bulk", body, "application/x-ndjson");
    }
    CHECK(check_requests() == 1);
    CHECK(check_docs_ns(idx, &md) == 0);
    drv->close(ctx);
}

TEST(access_single_and_bulk)
{
    const char *idx = "minio-access";
    char path[64];
    CHECK(peer_reset() == 0);
    void *ctx = open_es(NULL, idx, "access", NULL, NULL);
    if (!ctx)
        GIVE_UP();
    CHECK(send_all(ctx, 0, nsamples, 1) == 0);
    expect_start(idx, 1);
    snprintf(path, sizeof path, "/%s/_doc", idx);
    for (size_t i = 0; i < nsamples; i++)
        expect("POST", path, cat(samples[i].records, "\n"), "application/json");
    CHECK(check_requests() >= 1);
    CHECK(check_docs_access(idx, 0, nsamples) == 0);

    CHECK(peer_reset() == 0);
    CHECK(send_all(ctx, 0, nsamples, 500) == 0);
    char *body = strdup("");
    for (size_t i = 0; i < nsamples; i++) {
        char line[100], *t;
        snprintf(line, sizeof line, "{\"index\":{\"_index\":\"%s\"}}\n", idx);
        t = cat(body, line);
        free(body);
        body = cat(t, samples[i].records);
        free(t);
        t = cat(body, "\n");
        free(body);
        body = t;
    }
    expect("POST", "/_bulk", body, "application/x-ndjson");
    CHECK(check_requests() == 1);
    CHECK(check_docs_access(idx, 0, nsamples) == 0);
    drv->close(ctx);
}

/* opts {"key","index"} pick the document id source and the index. */
TEST(opts_override)
{
    char id[45], path[160];
    CHECK(peer_reset() == 0);
    void *ctx = open_es(NULL, "minio-opts", "namespace", NULL, NULL);
    if (!ctx)
        GIVE_UP();
    msgs[0].opts = "{\"key\":\"other/key\",\"index\":\"idx-override\"}";
    msgs[1].opts = msgs[0].opts;
    CHECK(send_all(ctx, 0, 1, 1) == 0);
    CHECK(send_all(ctx, 0, 2, 2) == 0);
    msgs[0].opts = msgs[1].opts = NULL;
    doc_id("other/key", id);
    expect_start("minio-opts", 1);
    snprintf(path, sizeof path, "/idx-override/_doc/%s", id);
    expect("PUT", path, cat(samples[0].records, "\n"), "application/json");
    char *b1 = cat("{\"index\":{\"_index\":\"idx-override\",\"_id\":\"", id);
    char *b2 = cat(b1, "\"}}\n");
    char *b3 = cat(b2, samples[0].records);
    char *b4 = cat(b3, "\n");
    char *b5 = cat(b4, b2);
    char *b6 = cat(b5, samples[1].records);
    expect("POST", "/_bulk", cat(b6, "\n"), "application/x-ndjson");
    free(b1), free(b2), free(b3), free(b4), free(b5), free(b6);
    CHECK(check_requests() >= 1);
    cJSON *all = peer_json("/__docs");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(all, "idx-override"), id);
    CHECK(cJSON_IsString(d) && !strcmp(d->valuestring, samples[1].records));
    cJSON_Delete(all);
    drv->close(ctx);
}

/* opts.key "a\0x" set by a script is the record's key whole (key_len): two
 * keys that differ after the NUL are two documents, not one "a". */
TEST(opts_key_nul)
{
    CHECK(peer_reset() == 0);
    void *ctx = open_es(NULL, "minio-nul", "namespace", NULL, NULL);
    if (!ctx)
        GIVE_UP();
    struct msg m[2] = { msgs[0], msgs[1] };
    m[0].key = "a\0x", m[0].key_len = 3, m[0].opts = "{\"key\":\"a\\u0000x\"}";
    m[1].key = "a\0y", m[1].key_len = 3, m[1].opts = "{\"key\":\"a\\u0000y\"}";
    CHECK(drv->send(ctx, m, 2) == 0);
    CHECK(m[0].status == MSG_OK && m[1].status == MSG_OK);
    char id0[45], id1[45];
    hh_es_doc_id("a\0x", 3, id0);
    hh_es_doc_id("a\0y", 3, id1);
    cJSON *all = peer_json("/__docs");
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(all, "minio-nul");
    CHECK(strcmp(id0, id1) != 0);
    CHECK(cJSON_GetObjectItemCaseSensitive(idx, id0) != NULL);
    CHECK(cJSON_GetObjectItemCaseSensitive(idx, id1) != NULL);
    cJSON_Delete(all);
    drv->close(ctx);
}

/* Script payloads: pretty-printed JSON is folded onto one bulk line, a
 * payload that is not JSON is rejected alone. */
TEST(script_payloads)
{
    CHECK(peer_reset() == 0);
    void *ctx = open_es(NULL, "minio-script", "access", NULL, NULL);
    if (!ctx)
        GIVE_UP();
    struct msg m[3] = { msgs[0], msgs[1], msgs[2] };
    m[0].payload = "{\n  \"a\": 1,\r\n  \"b\": \"x\"\n}";
    m[0].payload_len = strlen(m[0].payload);
    m[1].payload = "not json\n";
    m[1].payload_len = strlen(m[1].payload);
    CHECK(drv->send(ctx, m, 3) == 0);
    CHECK_INT(m[0].status, MSG_OK);
    CHECK_INT(m[1].status, MSG_REJECT);
    CHECK_INT(m[2].status, MSG_OK);
    cJSON *all = peer_json("/__docs");
    const cJSON *docs = cJSON_GetObjectItemCaseSensitive(all, "minio-script");
    CHECK_INT(cJSON_GetArraySize(docs), 2);
    if (cJSON_GetArraySize(docs) == 2) {
        CHECK_STR(docs->child->valuestring, "{   \"a\": 1,    \"b\": \"x\" }");
        CHECK_STR(docs->child->next->valuestring, samples[2].records);
    }
    cJSON_Delete(all);
    drv->close(ctx);
}

/* First upsert samples from `from` (skipping deletes) into out. */
static size_t upserts(size_t from, size_t *out, size_t want)
{
    size_t n = 0;
    for (size_t i = from; i < nsamples && n < want; i++)
        if (!is_delete(i))
            out[n++] = i;
    return n;
}

static void use(const size_t *idx, size_t n, struct msg *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = msgs[idx[i]];
}

TEST(rejected_item)
{
    size_t pick[10];
    struct msg m[10];
    char id[45], q[128];
    CHECK(peer_reset() == 0);
    CHECK(upserts(0, pick, 10) == 10);
    use(pick, 10, m);
    doc_id(m[4].key, id);
    snprintf(q, sizeof q, "/__reject?id=%s", id);
    CHECK(peer_ok("POST", q));
    void *ctx = open_es(NULL, "minio-reject", "namespace", NULL, NULL);
    if (!ctx)
        GIVE_UP();
    CHECK(drv->send(ctx, m, 10) == 0);
    for (size_t i = 0; i < 10; i++) {
        CHECK_INT(m[i].status, i == 4 ? MSG_REJECT : MSG_OK);
        if (i == 4)
            CHECK(strstr(m[i].error, "mapper_parsing_exception") != NULL);
    }
    /* alone, through the _doc API */
    CHECK(drv->send(ctx, &m[4], 1) == 0);
    CHECK_INT(m[4].status, MSG_REJECT);
    CHECK(strstr(m[4].error, "mapper_parsing_exception") && strstr(m[4].error, "400"));
    CHECK(strstr(m[4].error, "elasticsearch:1") != NULL);
    /* an item refused with 429: it and everything after it are retried,
     * those before it are done */
    CHECK(peer_ok("DELETE", "/__reject"));
    doc_id(m[2].key, id);
    snprintf(q, sizeof q, "/__reject?id=%s&status=429", id);
    CHECK(peer_ok("POST", q));
    CHECK(drv->send(ctx, m, 5) == 0);
    for (size_t i = 0; i < 5; i++)
        CHECK_INT(m[i].status, i < 2 ? MSG_OK : MSG_RETRY);
    CHECK(strstr(m[2].error, "429") && strstr(m[2].error, "es_rejected_execution_exception"));
    CHECK(peer_ok("DELETE", "/__reject"));
    CHECK(drv->send(ctx, m + 2, 3) == 0);
    for (size_t i = 2; i < 5; i++)
        CHECK_INT(m[i].status, MSG_OK);
    cJSON *all = peer_json("/__docs");
    /* all ten: the refused one went through once the refusal was lifted */
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(all, "minio-reject")), 10);
    cJSON_Delete(all);
    drv->close(ctx);
}

TEST(injected_429)
{
    CHECK(peer_reset() == 0);
    void *ctx = open_es(NULL, "minio-429", "access", NULL, NULL);
    if (!ctx)
        GIVE_UP();
    char err[256];
    CHECK(drv->health(ctx, err, sizeof err) == 0);
    CHECK(peer_ok("POST", "/__fail?status=429&count=1"));
    CHECK(drv->send(ctx, msgs, 3) == -1);
    for (int i = 0; i < 3; i++)
        CHECK_INT(msgs[i].status, MSG_RETRY);
    CHECK(strstr(msgs[0].error, "429") != NULL);
    CHECK(send_all(ctx, 0, 3, 3) == 0);
    CHECK(peer_ok("POST", "/__fail?status=503&count=1"));
    CHECK(drv->send(ctx, msgs + 3, 1) == -1);
    CHECK_INT(msgs[3].status, MSG_RETRY);
    CHECK(strstr(msgs[3].error, "503") != NULL);
    CHECK(send_all(ctx, 3, 4, 1) == 0);
    /* a bulk refused as a whole (here 413) is sent again one by one */
    CHECK(peer_ok("POST", "/__fail?status=413&count=1&path=/_bulk"));
    CHECK(send_all(ctx, 4, 7, 3) == 0);
    CHECK(check_docs_access("minio-429", 0, 7) == 0);
    drv->close(ctx);
}

TEST(version6_refused)
{
    char err[256] = "";
    const char *want =
        "Elasticsearch version '6.8.23' is not supported! Please use at least version 7.x.";
    if (peer_start("--version", "6.8.23"))
        GIVE_UP();
    void *ctx = open_es(NULL, "minio-v6", "namespace", NULL, NULL);
    if (!ctx)
        GIVE_UP();
    CHECK(drv->send(ctx, msgs, 2) == -1);
    CHECK_INT(msgs[0].status, MSG_RETRY);
    CHECK_INT(msgs[1].status, MSG_RETRY);
    CHECK(strstr(msgs[0].error, want) != NULL);
    CHECK(drv->health(ctx, err, sizeof err) == -1);
    CHECK(strstr(err, want) != NULL);
    cJSON *reqs = peer_json("/__requests"), *r;
    cJSON_ArrayForEach(r, reqs) /* nothing but GET / */
    {
        CHECK_STR(cJSON_GetObjectItemCaseSensitive(r, "path")->valuestring, "/");
    }
    cJSON_Delete(reqs);
    drv->close(ctx);
}

TEST(basic_auth)
{
    char err[256] = "", url[128];
    if (peer_start("--auth", "elastic:s3cret-pw"))
        GIVE_UP();
    void *ctx = open_es(NULL, "minio-auth", "access", "elastic", "s3cret-pw");
    if (!ctx)
        GIVE_UP();
    CHECK(drv->health(ctx, err, sizeof err) == 0);
    CHECK(send_all(ctx, 0, 1, 1) == 0);
    drv->close(ctx);
    cJSON *reqs = peer_json("/__requests"), *r;
    CHECK(cJSON_GetArraySize(reqs) >= 4);
    cJSON_ArrayForEach(r, reqs)
    {
        const char *a = header(r, "Authorization");
        CHECK(a && !strcmp(a, "Basic ZWxhc3RpYzpzM2NyZXQtcHc=")); /* elastic:s3cret-pw */
    }
    cJSON_Delete(reqs);

    snprintf(url, sizeof url, "http://elastic:s3cret-pw@127.0.0.1:%s", port);
    ctx = open_es(url, "minio-auth", "access", NULL, NULL);
    if (!ctx)
        GIVE_UP();
    CHECK(drv->health(ctx, err, sizeof err) == 0);
    CHECK(send_all(ctx, 1, 3, 2) == 0);
    drv->close(ctx);

    ctx = open_es(NULL, "minio-auth", "access", "elastic", "wrong-pw-123");
    if (!ctx)
        GIVE_UP();
    CHECK(drv->health(ctx, err, sizeof err) == -1);
    CHECK(strstr(err, "401") && strstr(err, "authentication failed"));
    CHECK(!strstr(err, "wrong-pw-123"));
    printf("  # health: %s\n", err);
    CHECK(drv->send(ctx, msgs, 2) == -1);
    CHECK_INT(msgs[0].status, MSG_RETRY);
    CHECK(strstr(msgs[0].error, "401") && !strstr(msgs[0].error, "wrong-pw-123"));
    drv->close(ctx);
    CHECK(check_docs_access("minio-auth", 0, 3) == 0);
}

TEST(outage)
{
    char err[256] = "";
    if (peer_start(NULL, NULL))
        GIVE_UP();
    void *ctx = open_es(NULL, "minio-outage", "access", NULL, NULL);
    if (!ctx)
        GIVE_UP();
    CHECK(send_all(ctx, 0, 2, 2) == 0);
    peer_stop();
    CHECK(drv->send(ctx, msgs + 2, 5) == -1);
    for (int i = 2; i < 7; i++)
        CHECK_INT(msgs[i].status, MSG_RETRY);
    CHECK(strstr(msgs[2].error, "not connected") != NULL);
    CHECK(drv->send(ctx, msgs + 2, 1) == -1);
    CHECK_INT(msgs[2].status, MSG_RETRY);
    CHECK(drv->health(ctx, err, sizeof err) == -1 && *err);
    printf("  # health while down: %s\n", err);
    void *fresh = open_es(NULL, "minio-outage", "access", NULL, NULL); /* never started */
    CHECK(fresh && drv->send(fresh, msgs + 2, 1) == -1 && msgs[2].status == MSG_RETRY);
    if (peer_start(NULL, NULL))
        GIVE_UP();
    CHECK(drv->health(ctx, err, sizeof err) == 0);
    CHECK(send_all(ctx, 2, 7, 5) == 0);
    CHECK(send_all(ctx, 7, 8, 1) == 0);
    CHECK(check_docs_access("minio-outage", 2, 8) == 0);
    if (fresh) {
        CHECK(drv->health(fresh, err, sizeof err) == 0);
        drv->close(fresh);
    }
    drv->close(ctx);
}

int main(void)
{
    const char *p = getenv("ES_PORT");
    if (p && *p)
        snprintf(port, sizeof port, "%s", p);
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%s", port);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    drv = driver_find("elasticsearch");
    nsamples = unit_samples(samples, NSAMPLES);
    if (!drv || nsamples != NSAMPLES) {
        printf("not ok - setup (driver %s, %zu samples)\n", drv ? "found" : "missing", nsamples);
        return 1;
    }
    for (size_t i = 0; i < nsamples; i++) {
        payloads[i] = cat(samples[i].records, "\n");
        msgs[i] = (struct msg){ .payload = payloads[i],
                                .payload_len = strlen(payloads[i]),
                                .event_name = samples[i].event_name,
                                .key = samples[i].key,
                                .event_time = samples[i].event_time,
                                .op = is_delete(i) ? OP_DELETE : OP_UPSERT };
    }
    RUN(validation);
    if (peer_start(NULL, NULL)) {
        printf("not ok - es_peer: cannot start /usr/bin/python3 tests/peers/es_peer.py on port %s "
               "(run from the repository root; ES_PORT picks the port)\n", port);
        return 1;
    }
    RUN(namespace_single);
    RUN(namespace_bulk);
    RUN(access_single_and_bulk);
    RUN(opts_override);
    RUN(opts_key_nul);
    RUN(rejected_item);
    RUN(script_payloads);
    RUN(injected_429);
    RUN(version6_refused);
    RUN(basic_auth);
    RUN(outage);
    peer_stop();
    for (size_t i = 0; i < nsamples; i++)
        free(payloads[i]);
    unit_samples_free(samples, nsamples);
    curl_global_cleanup();
    return unit_done();
}
