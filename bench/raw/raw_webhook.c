/* raw_webhook.c -- libcurl baseline of the webhook target.
 *
 *   raw_webhook URL N
 *
 * POSTs the sample envelopes to URL one at a time on one easy handle
 * (keep-alive, one request in flight, as MinIO's webhook client and the
 * driver do), each confirmed by its 2xx.  The request is the driver's:
 * HTTP/1.1, Content-Type: application/json, no Accept, no Expect, a
 * User-Agent; the response body is discarded.  The URL and headers are set
 * once; per request only the body changes. */
#include <curl/curl.h>
#include "raw_common.h"

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p, (void)ud;
    return size * n;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: raw_webhook URL N\n");
        return 2;
    }
    const char *url = argv[1];
    size_t n = strtoul(argv[2], NULL, 10);
    if (raw_load() || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    CURL *k = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    const char *lines[] = { "Content-Type: application/json", "Accept:", "Expect:",
                            "User-Agent: raw_webhook" };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        struct curl_slist *l = curl_slist_append(hdrs, lines[i]);
        if (!l) {
            fprintf(stderr, "raw_webhook: out of memory\n");
            return 1;
        }
        hdrs = l;
    }
    if (!k) {
        fprintf(stderr, "raw_webhook: curl_easy_init failed\n");
        return 1;
    }
    int bad = curl_easy_setopt(k, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK;
    bad |= curl_easy_setopt(k, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
    if (bad) {
        fprintf(stderr, "raw_webhook: libcurl setup failed\n");
        return 1;
    }
    size_t bytes = 0;
    raw_start();
    for (size_t i = 0; i < n; i++) {
        const char *p = raw_payload(i, 0);
        size_t len = strlen(p);
        long code = 0;
        CURLcode rc = curl_easy_setopt(k, CURLOPT_POSTFIELDS, p);
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        if (rc == CURLE_OK)
            rc = curl_easy_perform(k);
        if (rc == CURLE_OK)
            rc = curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &code);
        if (rc != CURLE_OK) {
            fprintf(stderr, "raw_webhook: request %zu: %s\n", i, curl_easy_strerror(rc));
            return 1;
        }
        if (code < 200 || code >= 300) {
            fprintf(stderr, "raw_webhook: request %zu: HTTP %ld\n", i, code);
            return 1;
        }
        bytes += len;
    }
    raw_done("webhook", n, bytes);
    curl_easy_cleanup(k);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    return 0;
}
