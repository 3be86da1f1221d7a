/* webhook.c -- MinIO's webhook target (reference §3.1) over libcurl:
 * POST of the payload with Content-Type: application/json and MinIO's
 * Authorization rule; any 2xx is success.  One keep-alive connection,
 * requests in order.  4xx other than 408/429 means the receiver refused
 * that message (it counts toward max_attempts); 5xx, 408, 429, timeouts
 * and connection failures mean the receiver is unavailable (retried,
 * never dead-lettered). */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "driver.h"

#define WEBHOOK_ANSWER_MAX 512

struct webhook {
    CURL *curl;
    char *endpoint;
    const struct target_conf *conf; /* for the TLS files of the health check */
    char *auth;          /* full Authorization header line, or NULL */
    char *agent;         /* full User-Agent header line */
    struct curl_slist *headers;
    long timeout_ms;
    char name[128];
    char answer[WEBHOOK_ANSWER_MAX + 1]; /* the start of the last response body */
    size_t answer_len;
};

/* MinIO drains and ignores the response body; its first bytes are kept
 * because they are the receiver's own reason, worth a dead letter. */
static size_t keep_answer(char *p, size_t size, size_t n, void *ud)
{
    struct webhook *w = ud;
    size_t len = size * n, room = WEBHOOK_ANSWER_MAX - w->answer_len;
    size_t take = len < room ? len : room;
    memcpy(w->answer + w->answer_len, p, take);
    w->answer_len += take;
    w->answer[w->answer_len] = 0;
    return len;
}

static int webhook_validate(const struct target_conf *c, char *err, size_t errlen)
{
    const char *ep = tconf_str(c, "endpoint");
    if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) {
        snprintf(err, errlen, "%s: key 'endpoint' must be an http:// or https:// URL, not '%s'",
                 tconf_name(c), ep);
        return -1;
    }
    if (tconf_isset(c, "client_cert") != tconf_isset(c, "client_key")) {
        snprintf(err, errlen, "%s: keys 'client_cert' and 'client_key' must be specified as a pair",
                 tconf_name(c));
        return -1;
    }
    const char *tok = tconf_str(c, "auth_token");
    char *h = *tok ? config_auth_header(tok) : NULL;
    if (*tok && !h) {
        snprintf(err, errlen, "%s: key 'auth_token' must be one word (sent as Bearer) or two words "
                 "(sent as they are); MinIO would send no header at all", tconf_name(c));
        return -1;
    }
    free(h);
    for (const char *p = tconf_str(c, "user_agent"); *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "%s: key 'user_agent' must not hold control characters (it is "
                     "sent as one header line)", tconf_name(c));
            return -1;
        }
    return 0;
}

static void webhook_close(void *ctx)
{
    struct webhook *w = ctx;
    if (!w)
        return;
    if (w->curl)
        curl_easy_cleanup(w->curl);
    curl_slist_free_all(w->headers);
    free(w->endpoint);
    free(w->auth);
    free(w->agent);
    free(w);
}

static void *webhook_open(const struct target_conf *c, char *err, size_t errlen)
{
    struct webhook *w = calloc(1, sizeof *w);
    if (!w || !(w->curl = curl_easy_init()) || !(w->endpoint = strdup(tconf_str(c, "endpoint")))) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        webhook_close(w);
        return NULL;
    }
    snprintf(w->name, sizeof w->name, "%s", tconf_name(c));
    w->conf = c;
    w->timeout_ms = tconf_ms(c, "timeout");
    const char *tok = tconf_str(c, "auth_token");
    char *h = *tok ? config_auth_header(tok) : NULL;
    if (h) {
        if (asprintf(&w->auth, "Authorization: %s", h) < 0)
            w->auth = NULL;
        free(h);
    }
    /* MinIO's request as Go's client writes it: its User-Agent, no Accept,
     * no Expect: 100-continue, no Accept-Encoding (MinIO disables
     * compression) */
    if (asprintf(&w->agent, "User-Agent: %s", tconf_str(c, "user_agent")) < 0) {
        w->agent = NULL;
        snprintf(err, errlen, "%s: out of memory", w->name);
        webhook_close(w);
        return NULL;
    }
    const char *base[] = { "Content-Type: application/json", "Accept:", "Expect:", w->agent, w->auth };
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        if (!base[i])
            continue;
        struct curl_slist *l = curl_slist_append(w->headers, base[i]);
        if (!l) {
            snprintf(err, errlen, "%s: out of memory", w->name);
            webhook_close(w);
            return NULL;
        }
        w->headers = l;
    }
    CURL *k = w->curl;
    int bad = curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, keep_answer) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_WRITEDATA, w) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, 5000L) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, w->timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_MAXREDIRS, 10L) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
    if (tconf_isset(c, "client_cert")) {
        bad |= curl_easy_setopt(k, CURLOPT_SSLCERT, tconf_str(c, "client_cert")) != CURLE_OK;
        bad |= curl_easy_setopt(k, CURLOPT_SSLKEY, tconf_str(c, "client_key")) != CURLE_OK;
    }
    if (tconf_isset(c, "cert_authority"))
        bad |= curl_easy_setopt(k, CURLOPT_CAINFO, tconf_str(c, "cert_authority")) != CURLE_OK;
    if (bad) {
        snprintf(err, errlen, "%s: libcurl refused an option", w->name);
        webhook_close(w);
        return NULL;
    }
    return w;
}

/* The URL of one message: the endpoint, or endpoint + opts.path. */
static char *message_url(struct webhook *w, const struct msg *m, struct curl_slist **extra)
{
    cJSON *o = m->opts ? cJSON_Parse(m->opts) : NULL;
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(o, "path");
    const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(o, "headers");
    char *url = NULL;
    if (cJSON_IsString(path)) {
        size_t n = strlen(w->endpoint);
        int slash = n && w->endpoint[n - 1] == '/' && path->valuestring[0] == '/';
        if (asprintf(&url, "%.*s%s", (int)(n - (size_t)slash), w->endpoint, path->valuestring) < 0)
            url = NULL;
    } else {
        url = strdup(w->endpoint);
    }
    const cJSON *h;
    const cJSON *hobj = cJSON_IsObject(hdrs) ? hdrs : NULL;
    cJSON_ArrayForEach(h, hobj)
    {
        char *line;
        if (cJSON_IsString(h) && asprintf(&line, "%s: %s", h->string, h->valuestring) >= 0) {
            struct curl_slist *l = curl_slist_append(*extra, line);
            if (l)
                *extra = l;
            free(line);
        }
    }
    cJSON_Delete(o);
    return url;
}

static int post_one(struct webhook *w, struct msg *m)
{
    struct curl_slist *extra = NULL;
    char *url = message_url(w, m, &extra);
    struct curl_slist *hdrs = w->headers;
    if (extra) { /* the script's headers first: curl keeps the first of a name */
        for (struct curl_slist *s = w->headers; s; s = s->next) {
            struct curl_slist *l = curl_slist_append(extra, s->data);
            if (l)
                extra = l;
        }
        hdrs = extra;
    }
    CURL *k = w->curl;
    long code = 0;
    w->answer_len = 0;
    w->answer[0] = 0;
    CURLcode rc = url ? CURLE_OK : CURLE_OUT_OF_MEMORY;
    if (rc == CURLE_OK && (curl_easy_setopt(k, CURLOPT_URL, url) != CURLE_OK ||
                           curl_easy_setopt(k, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
                           curl_easy_setopt(k, CURLOPT_POSTFIELDS, m->payload) != CURLE_OK ||
                           curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)m->payload_len) != CURLE_OK))
        rc = CURLE_FAILED_INIT;
    if (rc == CURLE_OK)
        rc = curl_easy_perform(k);
    if (rc == CURLE_OK && curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
        rc = CURLE_FAILED_INIT;
    curl_easy_setopt(k, CURLOPT_HTTPHEADER, w->headers);
    curl_slist_free_all(extra);
    free(url);
    if (rc != CURLE_OK) {
        m->status = MSG_RETRY;
        snprintf(m->error, sizeof m->error, "not connected: %s", curl_easy_strerror(rc));
        return -1;
    }
    if (code >= 200 && code < 300) {
        m->status = MSG_OK;
        return 0;
    }
    int condemned = code >= 400 && code < 500 && code != 408 && code != 429;
    snprintf(m->error, sizeof m->error, "returned HTTP %ld%s%s%s", code,
             code == 403 ? " Forbidden, please check if your auth token is correctly set" : "",
             !condemned ? " (receiver unavailable)" : "", w->answer_len ? ": " : "");
    size_t used = strlen(m->error);
    snprintf(m->error + used, sizeof m->error - used, "%s", w->answer);
    m->status = condemned ? MSG_REJECT : MSG_RETRY;
    return 0;
}

static int webhook_send(void *ctx, struct msg *msgs, size_t n)
{
    struct webhook *w = ctx;
    for (size_t i = 0; i < n; i++) {
        if (post_one(w, &msgs[i]) < 0) {
            for (size_t j = i + 1; j < n; j++) {
                msgs[j].status = MSG_RETRY;
                snprintf(msgs[j].error, sizeof msgs[j].error, "%s", msgs[i].error);
            }
            return -1;
        }
        /* keep the order: stop at the first failure.  A refused message
         * may be tried again (max_attempts): posting the ones behind it
         * now would deliver them twice. */
        if (msgs[i].status != MSG_OK) {
            for (size_t j = i + 1; j < n; j++) {
                msgs[j].status = msgs[i].status == MSG_RETRY ? MSG_RETRY : MSG_PENDING;
                snprintf(msgs[j].error, sizeof msgs[j].error, "not sent: an earlier message failed");
            }
            return 0;
        }
    }
    return 0;
}

/* MinIO's liveness check: a TCP connect to the endpoint, nothing sent. */
static int webhook_health(void *ctx, char *err, size_t errlen)
{
    struct webhook *w = ctx;
    CURL *k = curl_easy_init();
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    CURLcode rc = curl_easy_setopt(k, CURLOPT_URL, w->endpoint);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(k, CURLOPT_CONNECT_ONLY, 1L);
    /* an https endpoint is only reachable with the same TLS files as a send */
    if (rc == CURLE_OK && tconf_isset(w->conf, "cert_authority"))
        rc = curl_easy_setopt(k, CURLOPT_CAINFO, tconf_str(w->conf, "cert_authority"));
    if (rc == CURLE_OK && tconf_isset(w->conf, "client_cert"))
        rc = curl_easy_setopt(k, CURLOPT_SSLCERT, tconf_str(w->conf, "client_cert"));
    if (rc == CURLE_OK && tconf_isset(w->conf, "client_key"))
        rc = curl_easy_setopt(k, CURLOPT_SSLKEY, tconf_str(w->conf, "client_key"));
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(k);
    curl_easy_cleanup(k);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "not connected: %s", curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

/* check --connect: a plain connection (TLS included), as MinIO checks a
 * webhook; no request is sent, so the credentials are not checked. */
static int webhook_probe(void *ctx, struct probe_result *p)
{
    if (webhook_health(ctx, p->error, sizeof p->error))
        return -1;
    p->reachable = PROBE_YES;
    return 0;
}

static const struct key_spec webhook_keys[] = {
    { "endpoint", KEY_URL, NULL, KEY_REQUIRED, NULL, "webhook server endpoint e.g. http://localhost:8080/minio/events" },
    { "auth_token", KEY_STR, NULL, KEY_SECRET, NULL, "opaque string or JWT authorization token (one word: sent as Bearer)" },
    { "client_cert", KEY_PATH, NULL, 0, NULL, "client certificate for mTLS authentication" },
    { "client_key", KEY_PATH, NULL, 0, NULL, "client certificate key for mTLS authentication" },
    { "cert_authority", KEY_PATH, NULL, 0, NULL, "CA bundle to verify the endpoint (luagate; default: the system's)" },
    { "timeout", KEY_DURATION, "60s", 0, NULL, "longest wait for one response (luagate; MinIO waits 1m for headers)" },
    { "user_agent", KEY_STR, "Go-http-client/1.1", 0, NULL, "User-Agent header of every request (luagate; MinIO's Go client sends Go-http-client/1.1)" },
    { 0 }
};

/* What send(target, payload, opts) may set for this kind, beyond key and op. */
static const struct send_opt webhook_send_opts[] = {
    { 0 },
};

const struct driver webhook_driver = {
    .kind = "webhook",
    .keys = webhook_keys,
    .max_batch = 64,
    .send_opts = webhook_send_opts,
    .validate = webhook_validate,
    .open = webhook_open,
    .send = webhook_send,
    .health = webhook_health,
    .probe = webhook_probe,
    .close = webhook_close,
};
