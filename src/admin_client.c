/* admin_client.c -- reaching the admin listener from a command
 * (admin_client.h): the address rule `tap`, `top` and `dlq` share, and GETs
 * through libcurl. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "admin_client.h"
#include "config.h"

/* host:port as a client dials it: a wildcard host means this machine. */
static void dial_address(const char *listen, char *out, size_t len)
{
    const char *colon = strrchr(listen, ':');
    size_t hl = colon ? (size_t)(colon - listen) : 0;
    const char *port = colon ? colon + 1 : listen;
    if (hl == 0 || (hl == 7 && !strncmp(listen, "0.0.0.0", 7)))
        snprintf(out, len, "127.0.0.1:%s", port);
    else if ((hl == 4 && !strncmp(listen, "[::]", 4)) || (hl == 2 && !strncmp(listen, "::", 2)))
        snprintf(out, len, "[::1]:%s", port);
    else
        snprintf(out, len, "%s", listen);
}

static void set_base(struct admin_client *ac, const char *addr, int tls)
{
    if (!strncmp(addr, "http://", 7) || !strncmp(addr, "https://", 8)) {
        snprintf(ac->base, sizeof ac->base, "%s", addr);
        size_t n = strlen(ac->base);
        if (n && ac->base[n - 1] == '/')
            ac->base[n - 1] = 0;
        return;
    }
    char dial[300];
    dial_address(addr, dial, sizeof dial);
    snprintf(ac->base, sizeof ac->base, "%s://%s", tls ? "https" : "http", dial);
}

int admin_client_init(struct admin_client *ac, const char *flag, const char *config_path, char *err,
                      size_t errlen)
{
    memset(ac, 0, sizeof *ac);
    struct gw_config cfg;
    char cerr[1024];
    /* the config file: the address when neither flag nor environment says,
     * and the token and certificate in any case */
    int have_cfg = (config_path || !access("luagate.conf.lua", F_OK)) &&
                   config_load(&cfg, config_path, cerr, sizeof cerr) == 0;
    const char *env = getenv("LUAGATE_ADMIN_LISTEN"), *tok = getenv("LUAGATE_ADMIN_TOKEN");
    int tls = have_cfg && cfg.admin_tls_cert;
    if (have_cfg && cfg.admin_tls_cert)
        snprintf(ac->cacert, sizeof ac->cacert, "%s", cfg.admin_tls_cert);
    if (tok && *tok)
        snprintf(ac->token, sizeof ac->token, "%s", tok);
    else if (have_cfg && cfg.admin_token)
        snprintf(ac->token, sizeof ac->token, "%s", cfg.admin_token);
    int rc = 0;
    if (flag && *flag)
        set_base(ac, flag, tls);
    else if (env && *env)
        set_base(ac, env, tls);
    else if (have_cfg && cfg.admin_listen)
        set_base(ac, cfg.admin_listen, tls);
    else if (config_path && !have_cfg)
        rc = -1, snprintf(err, errlen, "no admin address: --admin not given, LUAGATE_ADMIN_LISTEN not set, "
                          "and %s: %s", config_path, cerr);
    else
        rc = -1, snprintf(err, errlen, "no admin address: give --admin HOST:PORT, set LUAGATE_ADMIN_LISTEN, or "
                          "admin_listen in the config file (-c FILE)");
    if (have_cfg)
        config_free(&cfg);
    return rc;
}

struct sink {
    int (*on_data)(const char *p, size_t n, void *arg);
    void *arg;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct sink *s = arg;
    size_t n = size * nmemb;
    return s->on_data(p, n, s->arg) ? 0 : n;
}

int admin_client_get(const struct admin_client *ac, const char *path, long timeout_s,
                     int (*on_data)(const char *p, size_t n, void *arg), void *arg, char *err, size_t errlen)
{
    CURL *h = curl_easy_init();
    if (!h)
        return snprintf(err, errlen, "cannot initialise libcurl"), -1;
    char url[2048], auth[600];
    struct curl_slist *hdr = NULL;
    struct sink s = { on_data, arg };
    snprintf(url, sizeof url, "%s%s", ac->base, path);
    if (*ac->token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", ac->token);
        hdr = curl_slist_append(NULL, auth);
    }
    char ebuf[CURL_ERROR_SIZE] = "";
    int ok = curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_WRITEDATA, &s) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s) == CURLE_OK &&
             curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             (!hdr || curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr) == CURLE_OK) &&
             (!*ac->cacert || curl_easy_setopt(h, CURLOPT_CAINFO, ac->cacert) == CURLE_OK) &&
             (!ac->insecure || (curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L) == CURLE_OK &&
                                curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L) == CURLE_OK));
    int rc = -1;
    if (!ok) {
        snprintf(err, errlen, "cannot set up the request to %s", url);
    } else {
        CURLcode cc = curl_easy_perform(h);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && code))
            rc = (int)code;
        else
            snprintf(err, errlen, "%s: %s", url, *ebuf ? ebuf : curl_easy_strerror(cc));
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}
