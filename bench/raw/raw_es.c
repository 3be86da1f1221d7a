/* raw_es.c -- libcurl baseline of the Elasticsearch target.
 *
 *   raw_es URL INDEX N [BATCH]
 *
 * POSTs URL/_bulk requests of BATCH (500, the driver's max_batch) messages
 * on one easy handle (keep-alive, one request in flight), each confirmed by
 * HTTP 200 and "errors":false in the answer.  The body is what the driver
 * builds for the namespace format: per message an action line with the
 * index and MinIO's document id (hh_es_doc_id of "bucket/object#i", the
 * unique key drivers.c uses too), "delete" for s3:ObjectRemoved:Delete
 * (404 counts as success there, as in the driver) and "index" followed by
 * the {"Records":[r]} document line for every other event.  Content-Type:
 * application/x-ndjson, no Expect.  One uncounted warm-up batch first (the
 * connection), as drivers.c does. */
#include <curl/curl.h>
#include "highwayhash256.h"
#include "raw_common.h"

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1 << 20;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            fprintf(stderr, "raw_es: out of memory\n");
            exit(1);
        }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    buf_add(ud, p, size * n);
    return size * n;
}

/* The _bulk body of messages [from, from + k): returns the document bytes. */
static size_t build_bulk(struct buf *b, const char *index, size_t from, size_t k)
{
    size_t bytes = 0;
    b->len = 0;
    for (size_t i = from; i < from + k; i++) {
        char key[1200], id[45], action[400];
        raw_key(i, key, sizeof key);
        hh_es_doc_id(key, strlen(key), id);
        int del = !strcmp(raw_sample(i)->event_name, "s3:ObjectRemoved:Delete");
        int al = snprintf(action, sizeof action, "{\"%s\":{\"_index\":\"%s\",\"_id\":\"%s\"}}\n",
                          del ? "delete" : "index", index, id);
        buf_add(b, action, (size_t)al);
        const char *doc = raw_payload(i, 1);
        size_t dl = strlen(doc);
        bytes += dl + 1; /* drivers.c counts the document with its "\n" */
        if (!del) {
            buf_add(b, doc, dl);
            buf_add(b, "\n", 1);
        }
    }
    return bytes;
}

/* "errors" : false, whatever the spacing of the server's JSON. */
static int no_errors(const char *resp)
{
    const char *p = strstr(resp, "\"errors\"");
    if (!p)
        return 0;
    p += strlen("\"errors\"");
    p += strspn(p, " \t\r\n");
    if (*p++ != ':')
        return 0;
    p += strspn(p, " \t\r\n");
    return !strncmp(p, "false", 5);
}

/* One _bulk request: 0 when every item was confirmed. */
static int post_bulk(CURL *k, struct buf *body, struct buf *resp)
{
    long code = 0;
    resp->len = 0;
    buf_add(resp, "", 0);
    CURLcode rc = curl_easy_setopt(k, CURLOPT_POSTFIELDS, body->p);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(k);
    if (rc == CURLE_OK)
        rc = curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK) {
        fprintf(stderr, "raw_es: _bulk: %s\n", curl_easy_strerror(rc));
        return -1;
    }
    if (code != 200 || !no_errors(resp->p)) {
        fprintf(stderr, "raw_es: _bulk: HTTP %ld: %.200s\n", code, resp->p);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: raw_es URL INDEX N [BATCH]\n");
        return 2;
    }
    const char *index = argv[2];
    size_t n = strtoul(argv[3], NULL, 10);
    size_t batch = argc > 4 ? strtoul(argv[4], NULL, 10) : 500;
    char url[1024];
    snprintf(url, sizeof url, "%s/_bulk", argv[1]);
    if (!batch || raw_load() || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    CURL *k = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/x-ndjson");
    struct curl_slist *h2 = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL;
    struct buf body = { 0 }, resp = { 0 };
    if (!k || !h2) {
        fprintf(stderr, "raw_es: libcurl setup failed\n");
        return 1;
    }
    int bad = curl_easy_setopt(k, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_WRITEDATA, &resp) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_USERAGENT, "raw_es") != CURLE_OK;
    if (bad) {
        fprintf(stderr, "raw_es: libcurl refused an option\n");
        return 1;
    }
    /* warm-up: keys n .. n + batch, so the counted ids stay 0 .. n */
    build_bulk(&body, index, n, batch);
    if (post_bulk(k, &body, &resp))
        return 1;
    size_t bytes = 0;
    raw_start();
    for (size_t off = 0; off < n; off += batch) {
        size_t cnt = n - off < batch ? n - off : batch;
        bytes += build_bulk(&body, index, off, cnt);
        if (post_bulk(k, &body, &resp))
            return 1;
    }
    raw_done("elasticsearch", n, bytes);
    curl_easy_cleanup(k);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    free(body.p);
    free(resp.p);
    return 0;
}
