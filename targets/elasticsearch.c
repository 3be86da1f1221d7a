/* elasticsearch.c -- the Elasticsearch target (MinIO's notify_elasticsearch).
 *
 * On first use, like MinIO's client init: GET / must report version 7 or
 * later, then GET /_resolve/index/<index> and PUT /<index> when it is not
 * listed (errors of that PUT are ignored, as MinIO does).
 *
 * namespace format: the document id is base64url(HighwayHash-256(bucket/object))
 * (highwayhash256.c); s3:ObjectRemoved:Delete deletes it, every other event
 * puts {"Records":[...]}.  access format: every event is a new document.
 * One message goes out exactly as MinIO sends it (PUT /<index>/_doc/<id>,
 * HEAD + DELETE, POST /<index>/_doc); a batch is one POST /_bulk whose
 * per-item results decide each message.  One CURL handle, so the
 * connection is kept alive between requests. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include "buf.h"
#include "driver.h"
#include "highwayhash256.h"

#define ES_TIMEOUT_MS 5000L
#define ES_MAX_RESPONSE (64u << 20)
#define ES_MAX_INDEX 255 /* Elasticsearch's own limit on index names, in bytes */

struct es {
    char *name;      /* "elasticsearch:1" */
    char *base;      /* scheme://host[:port][/path], no userinfo, no trailing '/' */
    char *index;
    char *user, *pass; /* NULL: no basic auth */
    int access;        /* format access, else namespace */
    int started;       /* version checked and index made sure of */
    CURL *curl;
    struct curl_slist *hdr_json, *hdr_ndjson, *hdr_none;
    char curl_err[CURL_ERROR_SIZE];
    char err[256]; /* why the last request or start failed */
    struct buf resp, body;
};

/* Where one message goes. */
struct dest {
    char index[ES_MAX_INDEX + 1];
    char id[45]; /* "" in access format */
    int del;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* s as a JSON string (index names and ids need no more than this). */
static int buf_json_str(struct buf *b, const char *s)
{
    int rc = buf_put(b, "\"", 1);
    for (; *s && !rc; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[8];
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\', esc[1] = (char)ch;
            rc = buf_put(b, esc, 2);
        } else if (ch < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            rc = buf_put(b, esc, 6);
        } else {
            rc = buf_put(b, s, 1);
        }
    }
    return rc ? rc : buf_put(b, "\"", 1);
}

static void set_err(struct es *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->err, sizeof e->err, fmt, ap);
    va_end(ap);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    if (b->len + size * n > ES_MAX_RESPONSE || buf_put(b, p, size * n))
        return 0; /* curl fails the transfer with a write error */
    return size * n;
}

/* One request on the shared handle.  path is already escaped.  Returns the
 * HTTP status with the body in e->resp, or -1 with e->err set when the
 * server could not be reached or did not answer in time. */
static long es_http(struct es *e, const char *method, const char *path, const char *ctype,
                    const char *body, size_t len)
{
    CURL *c = e->curl;
    struct buf url = { 0 };
    long status = 0;
    if (buf_puts(&url, e->base) || buf_puts(&url, path)) {
        buf_free(&url);
        set_err(e, "out of memory");
        return -1;
    }
    e->resp.len = 0;
    e->curl_err[0] = 0;
    curl_easy_reset(c); /* keeps the live connection */
    int bad = curl_easy_setopt(c, CURLOPT_URL, url.p) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ES_TIMEOUT_MS) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ES_TIMEOUT_MS) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, e->curl_err) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, &e->resp) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "luagate/" LUAGATE_VERSION) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER,
                            !ctype ? e->hdr_none
                                   : strcmp(ctype, "json") ? e->hdr_ndjson : e->hdr_json) != CURLE_OK;
    if (e->user) {
        bad |= curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_USERNAME, e->user) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_PASSWORD, e->pass) != CURLE_OK;
    }
    if (!strcmp(method, "HEAD")) {
        bad |= curl_easy_setopt(c, CURLOPT_NOBODY, 1L) != CURLE_OK;
    } else if (body) {
        bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK;
    }
    if (strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "POST"))
        bad |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
    buf_free(&url);
    if (bad) {
        set_err(e, "cannot set up the HTTP request (libcurl)");
        return -1;
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        set_err(e, "not connected: %s %s: %s", method, path,
                e->curl_err[0] ? e->curl_err : curl_easy_strerror(rc));
        return -1;
    }
    if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status <= 0) {
        set_err(e, "%s %s: no HTTP status", method, path);
        return -1;
    }
    return status;
}

/* "type: reason" of an Elasticsearch error object (or its text). */
static void error_reason(const cJSON *err, char *out, size_t n)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(err, "type");
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(err, "reason");
    if (cJSON_IsString(err))
        snprintf(out, n, "%s", err->valuestring);
    else if (cJSON_IsString(type))
        snprintf(out, n, "%s: %s", type->valuestring,
                 cJSON_IsString(reason) ? reason->valuestring : "");
    else
        snprintf(out, n, "no error details");
}

/* e->err = what an HTTP error answer of `what` means. */
static void http_error(struct es *e, long status, const char *what)
{
    char reason[200] = "";
    cJSON *doc = e->resp.len ? cJSON_ParseWithLength(e->resp.p, e->resp.len) : NULL;
    if (doc)
        error_reason(cJSON_GetObjectItemCaseSensitive(doc, "error"), reason, sizeof reason);
    cJSON_Delete(doc);
    if (status == 401 || status == 403)
        set_err(e, "%s: HTTP %ld, authentication failed (check username/password)%s%s", what,
                status, *reason ? ": " : "", reason);
    else
        set_err(e, "%s: HTTP %ld%s%s", what, status, *reason ? ": " : "", reason);
}

/* Server refusals worth retrying: overload, server errors, and credentials,
 * which an operator fixes without the message being wrong. */
static int transient(long status)
{
    return status == 401 || status == 403 || status == 408 || status == 429 || status >= 500;
}

static char *escaped(struct es *e, const char *s)
{
    char *p = curl_easy_escape(e->curl, s, 0);
    if (!p)
        set_err(e, "out of memory");
    return p;
}

/* MinIO's client init: refuse Elasticsearch 6 and older, make sure the
 * index exists.  0, or -1 with e->err. */
static int es_start(struct es *e)
{
    long st = es_http(e, "GET", "/", NULL, NULL, 0);
    if (st < 0)
        return -1;
    if (st >= 300) {
        http_error(e, st, "GET /");
        return -1;
    }
    cJSON *doc = cJSON_ParseWithLength(e->resp.p, e->resp.len);
    const cJSON *num = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "version"), "number");
    if (!cJSON_IsString(num)) {
        cJSON_Delete(doc);
        set_err(e, "Unable to get ES Server Version: GET / has no version.number");
        return -1;
    }
    char *end;
    long major = strtol(num->valuestring, &end, 10);
    if (end == num->valuestring || (*end && *end != '.')) {
        set_err(e, "bad ES version string: %.64s", num->valuestring);
        cJSON_Delete(doc);
        return -1;
    }
    if (major <= 6) {
        set_err(e, "Elasticsearch version '%.64s' is not supported! Please use at least version 7.x.",
                num->valuestring);
        cJSON_Delete(doc);
        return -1;
    }
    cJSON_Delete(doc);

    char *idx = escaped(e, e->index);
    if (!idx)
        return -1;
    struct buf path = { 0 };
    int found = 0;
    if (buf_puts(&path, "/_resolve/index/") || buf_puts(&path, idx)) {
        set_err(e, "out of memory");
        goto fail;
    }
    st = es_http(e, "GET", path.p, NULL, NULL, 0);
    if (st < 0)
        goto fail;
    if (transient(st)) {
        http_error(e, st, "GET /_resolve/index");
        goto fail;
    }
    doc = cJSON_ParseWithLength(e->resp.p, e->resp.len);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "indices"))
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(name) && !strcmp(name->valuestring, e->index))
            found = 1;
    }
    cJSON_Delete(doc);
    if (!found) {
        path.len = 0;
        if (buf_puts(&path, "/") || buf_puts(&path, idx)) {
            set_err(e, "out of memory");
            goto fail;
        }
        /* MinIO ignores what this answers (the index may exist already). */
        if (es_http(e, "PUT", path.p, NULL, NULL, 0) < 0)
            goto fail;
    }
    buf_free(&path);
    curl_free(idx);
    e->started = 1;
    return 0;
fail:
    buf_free(&path);
    curl_free(idx);
    return -1;
}

static void mark(struct msg *m, enum msg_status st, const char *name, const char *why)
{
    m->status = st;
    snprintf(m->error, sizeof m->error, "%.60s: %.190s", name, why);
}

/* Index, id and operation of m; -1 with m->error when its opts are unusable. */
static int es_dest(struct es *e, struct msg *m, struct dest *d)
{
    const char *key = m->key ? m->key : "";
    const char *index = e->index;
    cJSON *opts = NULL;
    if (m->opts) {
        opts = cJSON_Parse(m->opts);
        if (!cJSON_IsObject(opts)) {
            cJSON_Delete(opts);
            mark(m, MSG_REJECT, e->name, "opts is not a JSON object");
            return -1;
        }
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(opts, "key");
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(opts, "index");
        /* the record's key when it is opts.key: whole, where valuestring
         * ends at a NUL */
        if (cJSON_IsString(k) && !(m->key && !strcmp(m->key, k->valuestring)))
            key = k->valuestring;
        if (cJSON_IsString(i) && *i->valuestring)
            index = i->valuestring;
    }
    int rc = 0;
    if (strlen(index) > ES_MAX_INDEX) {
        mark(m, MSG_REJECT, e->name, "opts index is longer than 255 bytes");
        rc = -1;
    } else {
        snprintf(d->index, sizeof d->index, "%s", index);
        d->id[0] = 0;
        d->del = !e->access && m->op == OP_DELETE;
        if (!e->access)
            hh_es_doc_id(key, key == m->key ? msg_key_len(m) : strlen(key), d->id);
    }
    cJSON_Delete(opts);
    return rc;
}

/* Set m's status from the HTTP answer of its own request; 1 when the
 * whole target should be considered failing (stop the batch). */
static int judge(struct es *e, struct msg *m, long st, int del, const char *what)
{
    if (st >= 200 && st < 300) {
        m->status = MSG_OK;
        return 0;
    }
    if (st < 0) {
        mark(m, MSG_RETRY, e->name, e->err);
        return 1;
    }
    if (del && st == 404) {
        m->status = MSG_OK;
        return 0;
    }
    http_error(e, st, what);
    mark(m, transient(st) ? MSG_RETRY : MSG_REJECT, e->name, e->err);
    return transient(st);
}

/* One message, with the very requests MinIO makes. */
static int es_send_one(struct es *e, struct msg *m)
{
    struct dest d;
    if (es_dest(e, m, &d))
        return 0;
    char *idx = escaped(e, d.index);
    struct buf path = { 0 };
    int failing = 0;
    if (!idx || buf_puts(&path, "/") || buf_puts(&path, idx) || buf_puts(&path, "/_doc") ||
        (*d.id && (buf_puts(&path, "/") || buf_puts(&path, d.id)))) {
        mark(m, MSG_RETRY, e->name, "out of memory");
        failing = 1;
    } else if (d.del) {
        long st = es_http(e, "HEAD", path.p, NULL, NULL, 0);
        if (st == 200)
            st = es_http(e, "DELETE", path.p, NULL, NULL, 0);
        failing = judge(e, m, st, 1, "Delete err");
    } else if (e->access) {
        long st = es_http(e, "POST", path.p, "json", m->payload, m->payload_len);
        failing = judge(e, m, st, 0, "Add err");
    } else {
        long st = es_http(e, "PUT", path.p, "json", m->payload, m->payload_len);
        failing = judge(e, m, st, 0, "Update err");
    }
    buf_free(&path);
    curl_free(idx);
    return failing ? -1 : 0;
}

/* Append m's document as one ndjson line.  JSON allows raw newlines only as
 * whitespace between tokens, so turning them into blanks keeps the document
 * (MinIO's payloads have just the final one). */
static int add_doc_line(struct buf *b, const struct msg *m)
{
    size_t n = m->payload_len;
    while (n && (m->payload[n - 1] == '\n' || m->payload[n - 1] == '\r'))
        n--;
    size_t start = b->len;
    if (buf_put(b, m->payload, n) || buf_put(b, "\n", 1))
        return -1;
    for (size_t i = start; i + 1 < b->len; i++)
        if (b->p[i] == '\n' || b->p[i] == '\r')
            b->p[i] = ' ';
    return 0;
}

static int add_action(struct buf *b, const struct dest *d)
{
    return buf_puts(b, d->del ? "{\"delete\":{\"_index\":" : "{\"index\":{\"_index\":") ||
           buf_json_str(b, d->index) ||
           (*d->id && (buf_puts(b, ",\"_id\":") || buf_json_str(b, d->id))) ||
           buf_puts(b, "}}\n");
}

static void retry_rest(struct es *e, struct msg *m, size_t from, size_t n, const char *why)
{
    for (size_t i = from; i < n; i++)
        if (m[i].status == MSG_PENDING || m[i].status == MSG_OK)
            mark(&m[i], MSG_RETRY, e->name, why);
}

/* A batch as one POST /_bulk.  Items come back in request order; from the
 * first one to retry on, later ones are retried too so that a retried
 * upsert never lands after a newer one. */
static int es_send_bulk(struct es *e, struct msg *m, size_t n)
{
    struct buf *b = &e->body;
    int *del = calloc(n, sizeof *del);
    size_t items = 0;
    b->len = 0;
    if (!del) {
        retry_rest(e, m, 0, n, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct dest d;
        if (es_dest(e, &m[i], &d))
            continue;
        if (!d.del && !m[i].payload_len) {
            mark(&m[i], MSG_REJECT, e->name, "empty document");
            continue;
        }
        del[i] = d.del;
        if (add_action(b, &d) || (!d.del && add_doc_line(b, &m[i]))) {
            free(del);
            retry_rest(e, m, 0, n, "out of memory");
            return -1;
        }
        items++;
    }
    if (!items) {
        free(del);
        return 0;
    }
    long st = es_http(e, "POST", "/_bulk", "ndjson", b->p, b->len);
    if (st < 0 || transient(st)) {
        if (st >= 0)
            http_error(e, st, "Bulk err");
        retry_rest(e, m, 0, n, e->err);
        free(del);
        return -1;
    }
    if (st >= 300) {
        /* The request as a whole was refused (too large, a line ES cannot
         * read): send one by one so only the culprit is rejected. */
        free(del);
        for (size_t i = 0; i < n; i++) {
            if (m[i].status != MSG_PENDING)
                continue;
            if (es_send_one(e, &m[i])) {
                retry_rest(e, m, i + 1, n, "not sent: an earlier message failed");
                return -1;
            }
        }
        return 0;
    }
    cJSON *doc = cJSON_ParseWithLength(e->resp.p, e->resp.len);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(doc, "items");
    it = cJSON_IsArray(it) ? it->child : NULL;
    int retrying = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].status != MSG_PENDING)
            continue;
        const cJSON *res = it ? it->child : NULL; /* {"index":{...}} -> {...} */
        const cJSON *sj = cJSON_GetObjectItemCaseSensitive(res, "status");
        if (it)
            it = it->next;
        if (!cJSON_IsNumber(sj)) {
            mark(&m[i], MSG_RETRY, e->name, "bulk answer without a status for this item");
            retrying = 1;
            continue;
        }
        long ist = (long)sj->valuedouble;
        if (retrying) {
            mark(&m[i], MSG_RETRY, e->name, "not confirmed: an earlier message is retried first");
        } else if ((ist >= 200 && ist < 300) || (del[i] && ist == 404)) {
            m[i].status = MSG_OK;
        } else {
            char why[200];
            error_reason(cJSON_GetObjectItemCaseSensitive(res, "error"), why, sizeof why);
            snprintf(m[i].error, sizeof m[i].error, "%s: Bulk item err: HTTP %ld: %s", e->name,
                     ist, why);
            m[i].status = transient(ist) ? MSG_RETRY : MSG_REJECT;
            retrying = transient(ist);
        }
    }
    cJSON_Delete(doc);
    free(del);
    return 0;
}

static int es_send(void *ctx, struct msg *m, size_t n)
{
    struct es *e = ctx;
    for (size_t i = 0; i < n; i++) {
        m[i].status = MSG_PENDING;
        m[i].error[0] = 0;
    }
    if (!e->started && es_start(e)) {
        retry_rest(e, m, 0, n, e->err);
        return -1;
    }
    if (n == 1)
        return es_send_one(e, m);
    return es_send_bulk(e, m, n);
}

static int es_health(void *ctx, char *err, size_t errlen)
{
    struct es *e = ctx;
    if (!e->started && es_start(e)) {
        snprintf(err, errlen, "%s: %s", e->name, e->err);
        return -1;
    }
    long st = es_http(e, "HEAD", "/", NULL, NULL, 0);
    if (st >= 300)
        http_error(e, st, "HEAD /");
    if (st < 0 || st >= 300) {
        snprintf(err, errlen, "%s: %s", e->name, e->err);
        return -1;
    }
    return 0;
}

/* Split url into base (no userinfo, query, fragment or trailing '/') and
 * its decoded userinfo.  -1 with err naming the key, never the URL itself,
 * which may hold a password. */
static int parse_url(const struct target_conf *c, char **base, char **user, char **pass,
                     char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *s = NULL;
    int rc = -1;
    *base = NULL;
    if (!u) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        return -1;
    }
    if (curl_url_set(u, CURLUPART_URL, tconf_str(c, "url"), 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))) {
        snprintf(err, errlen, "%s: key 'url' must be an http:// or https:// URL", tconf_name(c));
        goto done;
    }
    if (user && curl_url_get(u, CURLUPART_USER, &s, CURLU_URLDECODE) == CURLUE_OK) {
        *user = strdup(s);
        curl_free(s);
        s = NULL;
        if (curl_url_get(u, CURLUPART_PASSWORD, &s, CURLU_URLDECODE) != CURLUE_OK)
            s = NULL;
        *pass = strdup(s ? s : "");
        curl_free(s);
        s = NULL;
        if (!*user || !*pass) {
            snprintf(err, errlen, "%s: out of memory", tconf_name(c));
            goto done;
        }
    }
    if (curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK) {
        snprintf(err, errlen, "%s: key 'url' must be an http:// or https:// URL", tconf_name(c));
        goto done;
    }
    size_t len = strlen(s);
    while (len && s[len - 1] == '/')
        s[--len] = 0;
    *base = strdup(s);
    if (*base)
        rc = 0;
    else
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
done:
    curl_free(scheme);
    curl_free(s);
    curl_url_cleanup(u);
    return rc;
}

static int es_validate(const struct target_conf *c, char *err, size_t errlen)
{
    int access;
    if (tconf_access_format(c, &access, err, errlen)) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (format value unrecognized)"); /* MinIO's words */
        return -1;
    }
    if (tconf_isset(c, "username") != tconf_isset(c, "password")) {
        snprintf(err, errlen,
                 "%s: keys 'username' and 'password' must be set together (username and password should be set in pairs)",
                 tconf_name(c));
        return -1;
    }
    pthread_once(&curl_once, curl_init);
    char *base;
    if (parse_url(c, &base, NULL, NULL, err, errlen))
        return -1;
    free(base);
    return 0;
}

static void es_close(void *ctx)
{
    struct es *e = ctx;
    if (!e)
        return;
    if (e->curl)
        curl_easy_cleanup(e->curl);
    curl_slist_free_all(e->hdr_json);
    curl_slist_free_all(e->hdr_ndjson);
    curl_slist_free_all(e->hdr_none);
    free(e->name);
    free(e->base);
    free(e->index);
    free(e->user);
    free(e->pass);
    buf_free(&e->resp);
    buf_free(&e->body);
    free(e);
}

/* A header list; `Expect:` keeps curl from waiting for 100-continue on big bodies. */
static struct curl_slist *headers(const char *ctype, int *bad)
{
    struct curl_slist *l = curl_slist_append(NULL, "Expect:"), *n;
    if (l && ctype && (n = curl_slist_append(l, ctype)))
        l = n;
    else if (ctype)
        *bad = 1;
    if (!l)
        *bad = 1;
    return l;
}

static void *es_open(const struct target_conf *c, char *err, size_t errlen)
{
    if (es_validate(c, err, errlen))
        return NULL;
    if (curl_init_rc != CURLE_OK) {
        snprintf(err, errlen, "%s: libcurl init failed: %s", tconf_name(c),
                 curl_easy_strerror(curl_init_rc));
        return NULL;
    }
    struct es *e = calloc(1, sizeof *e);
    char *uuser = NULL, *upass = NULL;
    if (!e)
        goto oom;
    if (parse_url(c, &e->base, &uuser, &upass, err, errlen)) {
        free(uuser);
        free(upass);
        es_close(e);
        return NULL;
    }
    e->name = strdup(tconf_name(c));
    e->index = strdup(tconf_str(c, "index"));
    e->access = !strcasecmp(tconf_str(c, "format"), "access");
    /* username/password win over the URL's userinfo, as in go-elasticsearch. */
    if (tconf_isset(c, "username")) {
        e->user = strdup(tconf_str(c, "username"));
        e->pass = strdup(tconf_str(c, "password"));
        free(uuser);
        free(upass);
        if (!e->user || !e->pass)
            goto oom;
    } else if (uuser && *uuser) {
        e->user = uuser;
        e->pass = upass;
    } else {
        free(uuser);
        free(upass);
    }
    int bad = 0;
    e->hdr_json = headers("Content-Type: application/json", &bad);
    e->hdr_ndjson = headers("Content-Type: application/x-ndjson", &bad);
    e->hdr_none = headers(NULL, &bad);
    e->curl = curl_easy_init();
    if (bad || !e->name || !e->base || !e->index || !e->curl)
        goto oom;
    return e;
oom:
    snprintf(err, errlen, "%s: out of memory", tconf_name(c));
    es_close(e);
    return NULL;
}

/* check --connect: HEAD / with the credentials (no version check, no
 * index creation), then HEAD /<index>. */
static int es_probe(void *ctx, struct probe_result *p)
{
    struct es *e = ctx;
    char path[1024];
    long st = es_http(e, "HEAD", "/", NULL, NULL, 0);
    p->reachable = st < 0 ? PROBE_NO : PROBE_YES;
    if (st >= 300)
        http_error(e, st, "HEAD /");
    if (st < 0 || st >= 300) {
        p->authenticated = st == 401 || st == 403 ? PROBE_NO : PROBE_UNCHECKED;
        snprintf(p->error, sizeof p->error, "%s", e->err);
        return -1;
    }
    p->authenticated = PROBE_YES;
    snprintf(p->dest, sizeof p->dest, "index \"%s\"", e->index);
    snprintf(path, sizeof path, "/%s", e->index);
    st = es_http(e, "HEAD", path, NULL, NULL, 0);
    p->destination = st >= 200 && st < 300 ? PROBE_YES : st == 404 ? PROBE_CREATED : PROBE_NO;
    if (p->destination == PROBE_NO) {
        if (st >= 300)
            http_error(e, st, "HEAD /<index>");
        snprintf(p->error, sizeof p->error, "%s", e->err);
        return -1;
    }
    return 0;
}

static const struct key_spec elasticsearch_keys[] = {
    { "url", KEY_URL, NULL, KEY_REQUIRED | KEY_SECRET, NULL,
      "Elasticsearch server's address, http(s)://[user:password@]host:port[/path]" },
    { "index", KEY_STR, NULL, KEY_REQUIRED, NULL,
      "Elasticsearch index to store/update events in (empty index value refused)" },
    { "format", KEY_STR, "namespace", 0, NULL,
      "'namespace' (one document per object, id from bucket/object) or 'access' (one per event)" },
    { "username", KEY_STR, NULL, 0, NULL, "basic auth user name, set together with password" },
    { "password", KEY_STR, NULL, KEY_SECRET, NULL, "basic auth password, set together with username" },
    { 0 }
};

/* What send(target, payload, opts) may set for this kind, beyond key and op. */
static const struct send_opt elasticsearch_send_opts[] = {
    { "index", SOPT_STRING, 0, 255, "index for this message instead of the configured one (\"\": the configured one)" },
    { 0 },
};

const struct driver elasticsearch_driver = {
    .kind = "elasticsearch",
    .keys = elasticsearch_keys,
    .shape = { SHAPE_RECORDS_NL, SHAPE_RECORDS_NL },
    .max_batch = 500,
    .send_opts = elasticsearch_send_opts,
    .validate = es_validate,
    .open = es_open,
    .send = es_send,
    .health = es_health,
    .probe = es_probe,
    .close = es_close,
};
