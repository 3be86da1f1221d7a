/* nats.c -- NATS target (MinIO notify_nats) on cnats: core NATS or JetStream.
 *
 * Core: the batch is published, then one FlushTimeout (PING/PONG) proves
 * the server has read every message before it (core NATS has no ack;
 * whether anyone was subscribed is not knowable, as in MinIO).
 * JetStream: the batch goes out with js_PublishMsgAsync and each message is
 * OK only on its PubAck.  NATS Streaming (STAN) was removed upstream and is
 * refused.
 *
 * The connection is made lazily (5 s timeout) by send()/health(); once up,
 * cnats reconnects on its own forever, as MinIO's client does.  While it is
 * reconnecting we do not publish (cnats would buffer and resend later). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nats/nats.h>
#include <openssl/evp.h>
#include <cjson/cJSON.h>
#include "driver.h"

#define NATS_MAX_BATCH 256
#define NATS_WAIT_MS 5000

struct nats {
    natsOptions *opts;
    natsConnection *nc;
    jsCtx *js;
    char *subject;
    char addr[160];
    char name[64];
    int jetstream;
    /* JetStream acknowledgements, filled by cnats' reply thread */
    pthread_mutex_t mu;
    natsMsg *pending[NATS_MAX_BATCH]; /* in flight, by batch index */
    struct msg *batch;
};

static int nats_validate(const struct target_conf *c, char *err, size_t errlen)
{
    const char *n = tconf_name(c);
    if (tconf_isset(c, "username") != tconf_isset(c, "password")) {
        snprintf(err, errlen, "%s: keys 'username' and 'password' should be set in pairs", n);
        return -1;
    }
    if (tconf_isset(c, "client_cert") != tconf_isset(c, "client_key")) {
        snprintf(err, errlen, "%s: keys 'client_cert' and 'client_key' must be specified as a "
                 "pair", n);
        return -1;
    }
    if (tconf_bool(c, "streaming")) {
        snprintf(err, errlen, "%s: key 'streaming': NATS Streaming (STAN) was removed upstream "
                 "and is not supported; use jetstream=on with a stream on the subject", n);
        return -1;
    }
    if (tconf_bool(c, "tls_handshake_first")) {
        snprintf(err, errlen, "%s: key 'tls_handshake_first' (MINIO_NOTIFY_NATS_TLS_HANDSHAKE_"
                 "FIRST) is not supported by the NATS C client this build uses (cnats %s)", n,
                 nats_GetVersion());
        return -1;
    }
    if (strpbrk(tconf_str(c, "subject"), " \t\r\n")) {
        snprintf(err, errlen, "%s: key 'subject' must not contain white space", n);
        return -1;
    }
    return 0;
}

/* cnats' last error text without its "(conn.c:1905): " source prefix. */
static const char *last_error(natsStatus *st)
{
    const char *d = nats_GetLastError(st);
    const char *p = d && *d == '(' ? strstr(d, "): ") : NULL;
    return p ? p + 3 : d;
}

static void err_status(char *err, size_t errlen, const struct nats *t, const char *what,
                       natsStatus s)
{
    natsStatus last = NATS_OK;
    const char *detail = last_error(&last);
    if (detail && *detail && last == s)
        snprintf(err, errlen, "%s: %s %s: %s", t->name, what, t->addr, detail);
    else
        snprintf(err, errlen, "%s: %s %s: %s", t->name, what, t->addr, natsStatus_GetText(s));
}

/* --- NKey: cnats wants the public key beside the seed file; nats.go
 * derives it from the seed, and so do we (Ed25519 via OpenSSL). --- */

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static uint16_t crc16(const unsigned char *p, size_t n)
{
    uint16_t crc = 0;
    while (n--) {
        crc ^= (uint16_t)(*p++ << 8);
        for (int b = 0; b < 8; b++)
            crc = crc & 0x8000 ? (uint16_t)(crc << 1 ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

static size_t b32_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    unsigned buf = 0;
    int bits = 0;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = memchr(B32, s[i], 32);
        if (!p || !s[i])
            return 0;
        buf = buf << 5 | (unsigned)(p - B32);
        bits += 5;
        if (bits >= 8) {
            if (len == cap)
                return 0;
            out[len++] = (unsigned char)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    return len;
}

static void b32_encode(const unsigned char *in, size_t n, char *out)
{
    unsigned buf = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        buf = buf << 8 | in[i];
        bits += 8;
        while (bits >= 5) {
            *out++ = B32[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits)
        *out++ = B32[(buf << (5 - bits)) & 31];
    *out = 0;
}

/* The public key ("U...", 56 characters) of the user seed ("SU...") in path,
 * which may be a bare seed or a decorated .nk/.creds file. */
static int nkey_public(const char *path, char pub[64], char *why, size_t wl)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, wl, "cannot read the seed file");
        return -1;
    }
    char line[512];
    int rc = -1;
    snprintf(why, wl, "no NKey seed (SU...) in the file");
    while (rc && fgets(line, sizeof line, f)) {
        char *seed = strstr(line, "SU");
        if (!seed)
            continue;
        size_t n = strspn(seed, B32);
        unsigned char raw[40];
        if (n != 58 || b32_decode(seed, n, raw, sizeof raw) != 36)
            continue;
        uint16_t crc = (uint16_t)(raw[34] | raw[35] << 8);
        if (crc16(raw, 34) != crc) {
            snprintf(why, wl, "the NKey seed has a bad checksum");
            continue;
        }
        size_t plen = 32;
        unsigned char pk[35];
        EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + 2, 32);
        if (key && EVP_PKEY_get_raw_public_key(key, pk + 1, &plen) == 1 && plen == 32) {
            pk[0] = 20 << 3; /* 'U': a user key */
            uint16_t c = crc16(pk, 33);
            pk[33] = (unsigned char)(c & 0xff);
            pk[34] = (unsigned char)(c >> 8);
            b32_encode(pk, 35, pub);
            rc = 0;
        } else {
            snprintf(why, wl, "cannot derive the public key from the NKey seed");
        }
        EVP_PKEY_free(key);
        OPENSSL_cleanse(raw, sizeof raw);
    }
    OPENSSL_cleanse(line, sizeof line);
    fclose(f);
    return rc;
}

static void ack_handler(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    struct nats *t = closure;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < NATS_MAX_BATCH && t->batch; i++) {
        if (t->pending[i] != m)
            continue;
        t->pending[i] = NULL; /* before the destroy: the address may be reused */
        struct msg *g = &t->batch[i];
        if (pa) {
            g->status = MSG_OK;
        } else if (pae) {
            /* Only "too big for this stream" is the message's own fault. */
            g->status = pae->ErrCode == JSStreamMessageExceedsMaximumErr ? MSG_REJECT : MSG_RETRY;
            if (pae->Err == NATS_NO_RESPONDERS)
                snprintf(g->error, sizeof g->error, "%s: JetStream: no stream answers on "
                         "subject '%.100s' (no responders)", t->name, natsMsg_GetSubject(m));
            else if (pae->ErrCode)
                snprintf(g->error, sizeof g->error, "%s: JetStream refused the message: %s "
                         "(error %d)", t->name, pae->ErrText ? pae->ErrText : "", (int)pae->ErrCode);
            else
                snprintf(g->error, sizeof g->error, "%s: JetStream publish: %s", t->name,
                         natsStatus_GetText(pae->Err));
        }
        break;
    }
    pthread_mutex_unlock(&t->mu);
    natsMsg_Destroy(m); /* with an AckHandler the message is ours */
}

static void nats_close(void *ctx);

static void *nats_open(const struct target_conf *c, char *err, size_t errlen)
{
    struct nats *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        return NULL;
    }
    snprintf(t->name, sizeof t->name, "%s", tconf_name(c));
    snprintf(t->addr, sizeof t->addr, "%s", tconf_str(c, "address"));
    t->jetstream = tconf_bool(c, "jetstream");
    if (pthread_mutex_init(&t->mu, NULL)) {
        snprintf(err, errlen, "%s: cannot create a mutex", t->name);
        free(t);
        return NULL;
    }
    t->subject = strdup(tconf_str(c, "subject"));
    if (!t->subject) {
        snprintf(err, errlen, "%s: out of memory", t->name);
        nats_close(t);
        return NULL;
    }
    int secure = tconf_bool(c, "tls") || tconf_isset(c, "cert_authority") ||
                 tconf_isset(c, "client_cert");
    char url[200];
    snprintf(url, sizeof url, "%s://%s", secure ? "tls" : "nats", t->addr);
    const char *step = "options";
    natsStatus s = natsOptions_Create(&t->opts);
    if (s == NATS_OK && (step = "address", 1))
        s = natsOptions_SetURL(t->opts, url);
    if (s == NATS_OK)
        s = natsOptions_SetName(t->opts, "Minio Notification");
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(t->opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(t->opts, NATS_WAIT_MS);
    if (s == NATS_OK && tconf_isset(c, "username") && (step = "username", 1))
        s = natsOptions_SetUserInfo(t->opts, tconf_str(c, "username"), tconf_str(c, "password"));
    if (s == NATS_OK && tconf_isset(c, "token") && (step = "token", 1))
        s = natsOptions_SetToken(t->opts, tconf_str(c, "token"));
    if (s == NATS_OK && secure && (step = "tls", 1))
        s = natsOptions_SetSecure(t->opts, true);
    if (s == NATS_OK && secure && tconf_bool(c, "tls_skip_verify"))
        s = natsOptions_SkipServerVerification(t->opts, true);
    if (s == NATS_OK && tconf_isset(c, "cert_authority") && (step = "cert_authority", 1))
        s = natsOptions_LoadCATrustedCertificates(t->opts, tconf_str(c, "cert_authority"));
    if (s == NATS_OK && tconf_isset(c, "client_cert") && (step = "client_cert", 1))
        s = natsOptions_LoadCertificatesChain(t->opts, tconf_str(c, "client_cert"),
                                              tconf_str(c, "client_key"));
    if (s == NATS_OK && tconf_isset(c, "user_credentials") && (step = "user_credentials", 1))
        s = natsOptions_SetUserCredentialsFromFiles(t->opts, tconf_str(c, "user_credentials"),
                                                    NULL);
    if (s == NATS_OK && tconf_isset(c, "nkey_seed")) {
        char pub[64], why[96];
        if (nkey_public(tconf_str(c, "nkey_seed"), pub, why, sizeof why)) {
            snprintf(err, errlen, "%s: key 'nkey_seed': %s: %s", t->name, tconf_str(c, "nkey_seed"), why);
            nats_close(t);
            return NULL;
        }
        step = "nkey_seed";
        s = natsOptions_SetNKeyFromSeed(t->opts, pub, tconf_str(c, "nkey_seed"));
    }
    if (s != NATS_OK) {
        natsStatus last = NATS_OK;
        const char *detail = last_error(&last);
        snprintf(err, errlen, "%s: key '%s': %s", t->name, step,
                 detail && *detail ? detail : natsStatus_GetText(s));
        nats_close(t);
        return NULL;
    }
    return t;
}

/* Connected, or connect now (5 s).  While cnats reconnects by itself we
 * only report it. */
static int ensure_connected(struct nats *t, char *err, size_t errlen)
{
    if (t->nc) {
        natsConnStatus st = natsConnection_Status(t->nc);
        if (st == NATS_CONN_STATUS_CONNECTED)
            return 0;
        if (st != NATS_CONN_STATUS_CLOSED) {
            snprintf(err, errlen, "%s: not connected to %s (reconnecting)", t->name, t->addr);
            return -1;
        }
        jsCtx_Destroy(t->js);
        t->js = NULL;
        natsConnection_Destroy(t->nc);
        t->nc = NULL;
    }
    natsStatus s = natsConnection_Connect(&t->nc, t->opts);
    if (s != NATS_OK) {
        err_status(err, errlen, t, "cannot connect to", s);
        t->nc = NULL;
        return -1;
    }
    if (t->jetstream) {
        jsOptions jo;
        if (jsOptions_Init(&jo) == NATS_OK) {
            jo.Wait = NATS_WAIT_MS;
            jo.PublishAsync.MaxPending = NATS_MAX_BATCH;
            jo.PublishAsync.AckHandler = ack_handler;
            jo.PublishAsync.AckHandlerClosure = t;
            s = natsConnection_JetStream(&t->js, t->nc, &jo);
        } else {
            s = NATS_ERR;
        }
        if (s != NATS_OK) {
            err_status(err, errlen, t, "JetStream context on", s);
            natsConnection_Destroy(t->nc);
            t->nc = NULL;
            t->js = NULL;
            return -1;
        }
    }
    return 0;
}

/* The script's overrides: subject, headers (a JSON object of strings). */
static int build_msg(struct nats *t, const struct msg *g, natsMsg **out, char *why, size_t wl)
{
    *out = NULL;
    cJSON *o = g->opts ? cJSON_Parse(g->opts) : NULL;
    if (g->opts && !cJSON_IsObject(o)) {
        snprintf(why, wl, "opts is not a JSON object");
        cJSON_Delete(o);
        return -1;
    }
    const cJSON *subj = cJSON_GetObjectItemCaseSensitive(o, "subject");
    const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(o, "headers");
    if ((subj && (!cJSON_IsString(subj) || !*subj->valuestring)) || (hdrs && !cJSON_IsObject(hdrs))) {
        snprintf(why, wl, "opts: subject must be a non-empty string, headers an object");
        cJSON_Delete(o);
        return -1;
    }
    natsStatus s = natsMsg_Create(out, subj ? subj->valuestring : t->subject, NULL, g->payload,
                                  (int)g->payload_len);
    const cJSON *h;
    cJSON_ArrayForEach(h, hdrs)
    {
        if (s != NATS_OK)
            break;
        if (!cJSON_IsString(h)) {
            snprintf(why, wl, "opts: header '%.60s' must be a string", h->string);
            natsMsg_Destroy(*out);
            *out = NULL;
            cJSON_Delete(o);
            return -1;
        }
        s = natsMsgHeader_Set(*out, h->string, h->valuestring);
    }
    cJSON_Delete(o);
    if (s != NATS_OK) {
        snprintf(why, wl, "%s", natsStatus_GetText(s));
        natsMsg_Destroy(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static void retry_from(struct msg *msgs, size_t from, size_t n, const char *why)
{
    for (size_t i = from; i < n; i++)
        if (msgs[i].status != MSG_REJECT) {
            msgs[i].status = MSG_RETRY;
            snprintf(msgs[i].error, sizeof msgs[i].error, "%s", why);
        }
}

static int send_core(struct nats *t, struct msg *msgs, size_t n)
{
    char err[256];
    size_t i = 0;
    for (; i < n; i++) {
        struct msg *g = &msgs[i];
        natsMsg *m = NULL;
        char why[160];
        natsStatus s;
        if (!g->opts) { /* MinIO's case: no message object, no copy */
            s = natsConnection_Publish(t->nc, t->subject, g->payload, (int)g->payload_len);
        } else if (build_msg(t, g, &m, why, sizeof why)) {
            g->status = MSG_REJECT;
            snprintf(g->error, sizeof g->error, "%s: %s", t->name, why);
            continue;
        } else {
            s = natsConnection_PublishMsg(t->nc, m);
            natsMsg_Destroy(m);
        }
        if (s == NATS_MAX_PAYLOAD || s == NATS_INVALID_SUBJECT) {
            g->status = MSG_REJECT;
            err_status(g->error, sizeof g->error, t, "publish to", s);
            continue;
        }
        if (s != NATS_OK) {
            err_status(err, sizeof err, t, "publish to", s);
            break;
        }
        g->status = MSG_PENDING;
    }
    if (i == n) {
        natsStatus s = natsConnection_FlushTimeout(t->nc, NATS_WAIT_MS);
        if (s == NATS_OK) {
            for (size_t k = 0; k < n; k++)
                if (msgs[k].status == MSG_PENDING)
                    msgs[k].status = MSG_OK;
            return 0;
        }
        err_status(err, sizeof err, t, "flush to", s);
        i = 0;
    }
    retry_from(msgs, i, n, err);
    return -1;
}

static int send_js(struct nats *t, struct msg *msgs, size_t n)
{
    char err[256] = "";
    jsPubOptions po;
    if (jsPubOptions_Init(&po) != NATS_OK) {
        snprintf(err, sizeof err, "%s: cannot set up a JetStream publish", t->name);
        retry_from(msgs, 0, n, err);
        return -1;
    }
    po.MaxWait = NATS_WAIT_MS; /* each message gets an answer or a timeout */
    pthread_mutex_lock(&t->mu);
    memset(t->pending, 0, sizeof t->pending);
    t->batch = msgs;
    pthread_mutex_unlock(&t->mu);
    size_t i = 0;
    int down = 0;
    for (; i < n; i++) {
        struct msg *g = &msgs[i];
        natsMsg *m = NULL;
        char why[160];
        if (build_msg(t, g, &m, why, sizeof why)) {
            g->status = MSG_REJECT;
            snprintf(g->error, sizeof g->error, "%s: %s", t->name, why);
            continue;
        }
        pthread_mutex_lock(&t->mu);
        t->pending[i] = m; /* before the publish: the ack may beat us back */
        pthread_mutex_unlock(&t->mu);
        natsMsg *own = m;
        natsStatus s = js_PublishMsgAsync(t->js, &own, &po);
        if (s != NATS_OK) {
            pthread_mutex_lock(&t->mu);
            t->pending[i] = NULL;
            pthread_mutex_unlock(&t->mu);
            natsMsg_Destroy(own); /* still ours when the publish failed */
            if (s == NATS_MAX_PAYLOAD) {
                g->status = MSG_REJECT;
                err_status(g->error, sizeof g->error, t, "publish to", s);
                continue;
            }
            err_status(err, sizeof err, t, "publish to", s);
            down = 1;
            break;
        }
    }
    jsPubOptions wo;
    if (jsPubOptions_Init(&wo) == NATS_OK) {
        wo.MaxWait = NATS_WAIT_MS + 1000; /* past the per-message timeout */
        natsStatus s = js_PublishAsyncComplete(t->js, &wo);
        if (s != NATS_OK && !down) {
            err_status(err, sizeof err, t, "waiting for acknowledgements from", s);
            down = 1;
        }
    }
    /* Late answers must not touch this batch any more. */
    pthread_mutex_lock(&t->mu);
    t->batch = NULL;
    size_t first = 0;
    while (first < n && (msgs[first].status == MSG_OK || msgs[first].status == MSG_REJECT))
        first++;
    pthread_mutex_unlock(&t->mu);
    if (first < n) {
        char why[sizeof msgs[0].error];
        snprintf(why, sizeof why, "%s", msgs[first].status == MSG_RETRY ? msgs[first].error
                 : *err ? err : "no acknowledgement");
        retry_from(msgs, first, n, why);
    }
    return down ? -1 : 0;
}

static int nats_send(void *ctx, struct msg *msgs, size_t n)
{
    struct nats *t = ctx;
    char err[256];
    if (n > NATS_MAX_BATCH)
        n = NATS_MAX_BATCH;
    for (size_t i = 0; i < n; i++)
        msgs[i].status = MSG_PENDING;
    if (ensure_connected(t, err, sizeof err)) {
        retry_from(msgs, 0, n, err);
        return -1;
    }
    return t->jetstream ? send_js(t, msgs, n) : send_core(t, msgs, n);
}

static int nats_health(void *ctx, char *err, size_t errlen)
{
    return ensure_connected(ctx, err, errlen);
}

static void nats_close(void *ctx)
{
    struct nats *t = ctx;
    if (!t)
        return;
    jsCtx_Destroy(t->js);
    natsConnection_Destroy(t->nc);
    natsOptions_Destroy(t->opts);
    pthread_mutex_destroy(&t->mu);
    free(t->subject);
    free(t);
}

/* NATS subject matching: '*' one token, '>' the rest (the stream's
 * subjects may be wildcards, the target's subject is literal). */
static int subject_match(const char *pat, const char *subj)
{
    for (;;) {
        size_t pl = strcspn(pat, "."), sl = strcspn(subj, ".");
        if (pl == 1 && *pat == '>')
            return *subj != 0;
        if (!(pl == 1 && *pat == '*') && (pl != sl || memcmp(pat, subj, pl)))
            return 0;
        pat += pl, subj += sl;
        if (!*pat || !*subj)
            return !*pat && !*subj;
        pat++, subj++;
    }
}

/* check --connect: connect with the credentials; with jetstream on, a
 * stream must take the subject (JetStream refuses a publish otherwise). */
static int nats_probe(void *ctx, struct probe_result *p)
{
    struct nats *t = ctx;
    if (ensure_connected(t, p->error, sizeof p->error)) {
        int auth = strstr(p->error, "uthoriz") || strstr(p->error, "uthentic");
        p->reachable = auth ? PROBE_YES : PROBE_NO;
        p->authenticated = auth ? PROBE_NO : PROBE_UNCHECKED;
        return -1;
    }
    p->reachable = p->authenticated = PROBE_YES;
    if (!t->jetstream)
        return 0;
    snprintf(p->dest, sizeof p->dest, "JetStream stream for subject \"%s\"", t->subject);
    jsStreamInfoList *list = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_Streams(&list, t->js, NULL, &jerr);
    p->destination = PROBE_NO;
    for (int i = 0; s == NATS_OK && list && i < list->Count; i++) {
        const jsStreamConfig *sc = list->List[i]->Config;
        for (int j = 0; sc && j < sc->SubjectsLen; j++)
            if (subject_match(sc->Subjects[j], t->subject)) {
                p->destination = PROBE_YES;
                snprintf(p->dest, sizeof p->dest, "JetStream stream \"%s\" (subject \"%s\")", sc->Name,
                         t->subject);
            }
    }
    if (list)
        jsStreamInfoList_Destroy(list);
    if (s != NATS_OK && s != NATS_NOT_FOUND)
        err_status(p->error, sizeof p->error, t, "listing the streams of", s);
    else if (p->destination == PROBE_NO)
        snprintf(p->error, sizeof p->error, "no stream takes subject %s: create one (nats stream add)",
                 t->subject);
    return p->destination == PROBE_NO ? -1 : 0;
}

static const struct key_spec nats_keys[] = {
    { "address", KEY_HOSTPORT, NULL, KEY_REQUIRED, NULL, "NATS server address, e.g. '0.0.0.0:4222'" },
    { "subject", KEY_STR, NULL, KEY_REQUIRED, NULL, "NATS subscription subject" },
    { "username", KEY_STR, NULL, 0, NULL, "NATS username (with password)" },
    { "password", KEY_STR, NULL, KEY_SECRET, NULL, "NATS password (with username)" },
    { "token", KEY_STR, NULL, KEY_SECRET, NULL, "NATS token" },
    { "tls", KEY_BOOL, "off", 0, NULL, "set to 'on' to enable TLS" },
    { "tls_skip_verify", KEY_BOOL, "off", 0, NULL, "trust server TLS without verification" },
    { "cert_authority", KEY_PATH, NULL, 0, NULL, "path to certificate chain of the target NATS server" },
    { "client_cert", KEY_PATH, NULL, 0, NULL, "client cert for NATS mTLS auth (with client_key)" },
    { "client_key", KEY_PATH, NULL, 0, NULL, "client cert key for NATS mTLS auth (with client_cert)" },
    { "ping_interval", KEY_INT, "0", 0, NULL, "accepted for MinIO compatibility; unused, as in MinIO" },
    { "jetstream", KEY_BOOL, "off", 0, NULL, "publish through JetStream and wait for each PubAck" },
    { "streaming", KEY_BOOL, "off", KEY_HIDDEN, NULL, "NATS Streaming (removed upstream): refused when on" },
    { "streaming_cluster_id", KEY_STR, NULL, KEY_HIDDEN, NULL, "NATS Streaming cluster id (unused)" },
    { "streaming_async", KEY_BOOL, "off", KEY_HIDDEN, NULL, "NATS Streaming async publish (unused)" },
    { "streaming_max_pub_acks_in_flight", KEY_UINT, "0", KEY_HIDDEN, NULL,
      "NATS Streaming publish acks in flight (unused)" },
    { "user_credentials", KEY_PATH, NULL, KEY_ENV_ONLY, NULL, "path to a NATS user credentials (.creds) file" },
    { "nkey_seed", KEY_PATH, NULL, KEY_ENV_ONLY, NULL, "path to a file holding a NATS user NKey seed" },
    { "tls_handshake_first", KEY_BOOL, "off", KEY_ENV_ONLY, NULL,
      "TLS handshake before the NATS INFO (not supported by this build's cnats)" },
    { 0 }
};

/* What send(target, payload, opts) may set for this kind, beyond key and op. */
static const struct send_opt nats_send_opts[] = {
    { "subject", SOPT_STRING, 1, 1024, "subject of this message instead of the configured one" },
    { "headers", SOPT_HEADERS, 1, 255, "NATS message headers: { name = \"value\" }" },
    { 0 },
};

const struct driver nats_driver = {
    .kind = "nats",
    .keys = nats_keys,
    .max_batch = NATS_MAX_BATCH,
    .send_opts = nats_send_opts,
    .validate = nats_validate,
    .open = nats_open,
    .send = nats_send,
    .health = nats_health,
    .probe = nats_probe,
    .close = nats_close,
};
