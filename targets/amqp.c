/* amqp.c -- AMQP 0-9-1 (RabbitMQ) target, MinIO's notify_amqp.
 *
 * Wire as MinIO (amqp091-go): exchange.declare with the configured flags and
 * empty arguments, then basic.publish of the Log envelope with content-type
 * application/json, delivery-mode (only when non-zero, as amqp091-go) and
 * the headers {minio-bucket, minio-event}.  Differences, on purpose:
 *  - one connection and one channel for all messages; the exchange is
 *    declared when the channel opens, not before every publish;
 *  - a batch is published back to back, then settled in one go: with
 *    publisher confirms by basic.ack/nack (5 s timeout, MinIO waits forever),
 *    without them by one basic.qos round trip, which the broker answers only
 *    after it has routed everything published before it on the channel;
 *  - with mandatory, a basic.return rejects that message (MinIO drops it);
 *  - exchange "" is the default exchange: it is not declared (MinIO's
 *    declare fails with 403, minio#9415); exchange_type "" declares
 *    passively (the exchange must exist).
 * A script may override exchange and routing_key and add headers per
 * message through opts; an overriding exchange must exist (passive check). */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <cjson/cJSON.h>
#include <openssl/x509.h>
#if defined(__has_include) && __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/ssl_socket.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#endif
#include "driver.h"
#include "hex.h"

#define AMQP_MAX_BATCH 256
#define AMQP_TIMEOUT_S 5
#define AMQP_HEARTBEAT_S 30
#define AMQP_MAX_KNOWN 32

struct amqp_uri {
    char *user, *pass, *host, *vhost;
    int port, ssl, heartbeat;
    char *cacert, *cert, *key; /* amqps query: cacertfile, certfile, keyfile */
};

struct amqp_ctx {
    char name[96]; /* connection_name the broker shows: "luagate amqp:1" */
    struct amqp_uri u;
    char *exchange, *type, *routing_key;
    int mandatory, immediate, durable, no_wait, internal, auto_deleted, confirms;
    uint8_t delivery_mode;

    amqp_connection_state_t conn; /* NULL: not connected */
    amqp_channel_t ch;            /* current channel, 0: none open */
    amqp_channel_t last_ch;
    uint64_t next_tag;            /* delivery tag of the next publish (confirms) */
    char *known[AMQP_MAX_KNOWN];  /* opts exchanges seen to exist on this connection */
    size_t nknown;

    /* the batch in flight */
    struct msg *msgs;
    size_t n;
    uint64_t tag[AMQP_MAX_BATCH]; /* 0: not published */
    unsigned char settled[AMQP_MAX_BATCH];
    const char *ex[AMQP_MAX_BATCH], *rk[AMQP_MAX_BATCH];
};

/* ---- URL: amqp091-go's ParseURI, with rabbitmq-c's parser for the authority */

static void uri_free(struct amqp_uri *u)
{
    free(u->user), free(u->pass), free(u->host), free(u->vhost);
    free(u->cacert), free(u->cert), free(u->key);
    memset(u, 0, sizeof *u);
}

/* %-decode s[0..len) into a new string; NULL on a bad escape. */
static char *pct_decode(const char *s, size_t len)
{
    char *d = malloc(len + 1), *o = d;
    if (!d)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        int a = i + 1 < len ? hex_value((unsigned char)s[i + 1]) : -1;
        int b = i + 2 < len ? hex_value((unsigned char)s[i + 2]) : -1;
        if (a < 0 || b < 0) {
            free(d);
            return NULL;
        }
        *o++ = (char)(a * 16 + b);
        i += 2;
    }
    *o = 0;
    return d;
}

static int query_param(const char *q, const char *name, char **out)
{
    size_t nl = strlen(name);
    while (q && *q) {
        const char *end = strchr(q, '&');
        size_t len = end ? (size_t)(end - q) : strlen(q);
        if (len > nl && !strncmp(q, name, nl) && q[nl] == '=') {
            free(*out);
            *out = pct_decode(q + nl + 1, len - nl - 1);
            if (!*out)
                return -1;
        }
        q = end ? end + 1 : NULL;
    }
    return 0;
}

/* Parse an amqp:// or amqps:// URL.  Like amqp091-go: no blanks, default
 * port 5672/5671, guest/guest, vhost = the %-decoded path without its first
 * '/' ("/" when empty); amqps takes cacertfile, certfile and keyfile from
 * the query, and we add heartbeat=<seconds>.  The reason goes to err
 * without the URL itself (it holds the password). */
static int uri_parse(const char *url, struct amqp_uri *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (strpbrk(url, " \t\r\n")) {
        snprintf(err, errlen, "must not contain blanks");
        return -1;
    }
    const char *sep = strstr(url, "://");
    if (!sep || !((sep - url == 4 && !strncasecmp(url, "amqp", 4)) ||
                  (sep - url == 5 && !strncasecmp(url, "amqps", 5)))) {
        snprintf(err, errlen, "must start with amqp:// or amqps://");
        return -1;
    }
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *path = auth + alen, *query = NULL;
    size_t plen = strcspn(path, "?#");
    if (path[plen] == '?')
        query = path + plen + 1;

    size_t slen = (size_t)(sep - url) + 3;
    char *buf = malloc(slen + alen + 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(buf, url, slen);
    for (size_t i = 0; i < slen; i++)
        buf[i] = (char)((buf[i] >= 'A' && buf[i] <= 'Z') ? buf[i] + 32 : buf[i]);
    memcpy(buf + slen, auth, alen);
    buf[slen + alen] = 0;
    struct amqp_connection_info ci;
    amqp_default_connection_info(&ci);
    if (amqp_parse_url(buf, &ci) != AMQP_STATUS_OK || ci.port <= 0 || ci.port > 65535) {
        free(buf);
        snprintf(err, errlen, "is not a valid amqp://user:password@host:port/vhost URL");
        return -1;
    }
    u->user = strdup(ci.user);
    u->pass = strdup(ci.password);
    u->host = strdup(*ci.host ? ci.host : "localhost");
    u->port = ci.port;
    u->ssl = ci.ssl;
    u->heartbeat = AMQP_HEARTBEAT_S;
    free(buf);
    u->vhost = plen > 1 ? pct_decode(path + 1, plen - 1) : strdup("/");
    if (!u->user || !u->pass || !u->host || !u->vhost) {
        uri_free(u);
        snprintf(err, errlen, "has a bad %%-escape in the vhost");
        return -1;
    }
    char *hb = NULL;
    if (query_param(query, "cacertfile", &u->cacert) || query_param(query, "certfile", &u->cert) ||
        query_param(query, "keyfile", &u->key) || query_param(query, "heartbeat", &hb)) {
        free(hb);
        uri_free(u);
        snprintf(err, errlen, "has a bad %%-escape in its query");
        return -1;
    }
    if (hb) {
        char *end;
        long v = strtol(hb, &end, 10);
        int bad = *end || end == hb || v < 0 || v > 65535;
        free(hb);
        if (bad) {
            uri_free(u);
            snprintf(err, errlen, "has a bad heartbeat= (seconds, 0 disables)");
            return -1;
        }
        u->heartbeat = (int)v;
    }
    if ((u->cert != NULL) != (u->key != NULL)) {
        uri_free(u);
        snprintf(err, errlen, "needs certfile= and keyfile= as a pair");
        return -1;
    }
    return 0;
}

/* ---- configuration */

static int type_ok(const char *t)
{
    static const char *types[] = { "direct", "fanout", "topic", "headers", NULL };
    if (!*t || !strncmp(t, "x-", 2))
        return 1;
    for (int i = 0; types[i]; i++)
        if (!strcmp(t, types[i]))
            return 1;
    return 0;
}

static int amqp_validate(const struct target_conf *c, char *err, size_t errlen)
{
    struct amqp_uri u;
    char why[128];
    if (uri_parse(tconf_str(c, "url"), &u, why, sizeof why)) {
        snprintf(err, errlen, "%s: key 'url' %s", tconf_name(c), why);
        return -1;
    }
    uri_free(&u);
    const char *t = tconf_str(c, "exchange_type");
    if (!type_ok(t)) {
        snprintf(err, errlen,
                 "%s: key 'exchange_type' must be direct, fanout, topic, headers or a plugin's x-... type, not '%s'",
                 tconf_name(c), t);
        return -1;
    }
    if (strlen(tconf_str(c, "exchange")) > 255 || strlen(tconf_str(c, "routing_key")) > 255) {
        snprintf(err, errlen, "%s: key '%s' is longer than 255 bytes", tconf_name(c),
                 strlen(tconf_str(c, "exchange")) > 255 ? "exchange" : "routing_key");
        return -1;
    }
    long long dm = tconf_int(c, "delivery_mode");
    if (dm < 0 || dm > 2) { /* AMQP 0-9-1 defines 1 and 2; MinIO would send any byte */
        snprintf(err, errlen, "%s: key 'delivery_mode' must be 1 (transient), 2 (persistent) or 0 "
                 "(not sent), not '%s'", tconf_name(c), tconf_str(c, "delivery_mode"));
        return -1;
    }
    return 0;
}

static void amqp_close(void *ctx);

static void *amqp_open(const struct target_conf *c, char *err, size_t errlen)
{
    struct amqp_ctx *x = calloc(1, sizeof *x);
    char why[128];
    if (!x) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        return NULL;
    }
    if (uri_parse(tconf_str(c, "url"), &x->u, why, sizeof why)) {
        snprintf(err, errlen, "%s: key 'url' %s", tconf_name(c), why);
        free(x);
        return NULL;
    }
    snprintf(x->name, sizeof x->name, "luagate %s", tconf_name(c));
    x->exchange = strdup(tconf_str(c, "exchange"));
    x->type = strdup(tconf_str(c, "exchange_type"));
    x->routing_key = strdup(tconf_str(c, "routing_key"));
    if (!x->exchange || !x->type || !x->routing_key) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        amqp_close(x);
        return NULL;
    }
    x->mandatory = tconf_bool(c, "mandatory");
    x->immediate = tconf_bool(c, "immediate");
    x->durable = tconf_bool(c, "durable");
    x->no_wait = tconf_bool(c, "no_wait");
    x->internal = tconf_bool(c, "internal");
    x->auto_deleted = tconf_bool(c, "auto_deleted");
    x->confirms = tconf_bool(c, "publisher_confirms");
    x->delivery_mode = (uint8_t)tconf_int(c, "delivery_mode");
    return x;
}

/* ---- connection */

static void reply_text(amqp_rpc_reply_t r, char *buf, size_t len)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        snprintf(buf, len, "ok");
        break;
    case AMQP_RESPONSE_NONE:
        snprintf(buf, len, "no reply from the broker");
        break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        snprintf(buf, len, "%s", amqp_error_string2(r.library_error));
        break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = r.reply.decoded;
            snprintf(buf, len, "%u %.*s", m->reply_code, (int)m->reply_text.len,
                     (char *)m->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = r.reply.decoded;
            snprintf(buf, len, "%u %.*s", m->reply_code, (int)m->reply_text.len,
                     (char *)m->reply_text.bytes);
        } else {
            snprintf(buf, len, "unexpected method 0x%08x from the broker", r.reply.id);
        }
        break;
    }
}

static void drop(struct amqp_ctx *x)
{
    if (x->conn)
        amqp_destroy_connection(x->conn);
    x->conn = NULL;
    x->ch = 0;
    for (size_t i = 0; i < x->nknown; i++)
        free(x->known[i]);
    x->nknown = 0;
}

/* After an RPC failed: a channel.close needs its close-ok (the connection
 * stays), anything else loses the connection.  Fills err. */
static void rpc_failed(struct amqp_ctx *x, amqp_rpc_reply_t r, const char *what, char *err,
                       size_t errlen)
{
    char why[200];
    reply_text(r, why, sizeof why);
    snprintf(err, errlen, "%s: %s", what, why);
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_ok_t ok = { 0 };
        if (amqp_send_method(x->conn, x->ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok) < 0)
            drop(x);
        x->ch = 0;
        return;
    }
    drop(x);
}

static int tls_setup(struct amqp_ctx *x, amqp_socket_t *s, char *err, size_t errlen)
{
    /* Go reads the system roots (SSL_CERT_FILE too); rabbitmq-c trusts
     * nothing unless told, so hand it the same bundle. */
    const char *ca = x->u.cacert ? x->u.cacert : getenv("SSL_CERT_FILE");
    if (!ca || !*ca)
        ca = X509_get_default_cert_file();
    int st = amqp_ssl_socket_set_cacert(s, ca);
    if (st != AMQP_STATUS_OK) {
        snprintf(err, errlen, "cannot load CA certificates from %s: %s", ca, amqp_error_string2(st));
        return -1;
    }
    if (x->u.cert && (st = amqp_ssl_socket_set_key(s, x->u.cert, x->u.key)) != AMQP_STATUS_OK) {
        snprintf(err, errlen, "cannot load client certificate %s / key %s: %s", x->u.cert, x->u.key,
                 amqp_error_string2(st));
        return -1;
    }
    amqp_ssl_socket_set_verify_peer(s, 1);
    amqp_ssl_socket_set_verify_hostname(s, 1);
    return 0;
}

static int declare(struct amqp_ctx *x, const char *name, const char *type, int passive, char *err,
                   size_t errlen)
{
    amqp_exchange_declare_t d = {
        .exchange = amqp_cstring_bytes(name),
        .type = amqp_cstring_bytes(type),
        .passive = passive,
        .durable = passive ? 0 : x->durable,
        .auto_delete = passive ? 0 : x->auto_deleted,
        .internal = passive ? 0 : x->internal,
        .nowait = passive ? 0 : x->no_wait,
        .arguments = amqp_empty_table,
    };
    char what[320];
    snprintf(what, sizeof what, "exchange.declare '%s'%s refused", name, passive ? " (passive)" : "");
    if (d.nowait) {
        if (amqp_send_method(x->conn, x->ch, AMQP_EXCHANGE_DECLARE_METHOD, &d) < 0) {
            snprintf(err, errlen, "%s: connection lost", what);
            drop(x);
            return -1;
        }
        return 0;
    }
    amqp_method_number_t ok[] = { AMQP_EXCHANGE_DECLARE_OK_METHOD, 0 };
    amqp_rpc_reply_t r = amqp_simple_rpc(x->conn, x->ch, AMQP_EXCHANGE_DECLARE_METHOD, ok, &d);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        rpc_failed(x, r, what, err, errlen);
        return -1;
    }
    return 0;
}

/* Connect if needed and open a channel (confirm.select, exchange.declare). */
static int ensure(struct amqp_ctx *x, char *err, size_t errlen)
{
    struct timeval tv = { AMQP_TIMEOUT_S, 0 };
    amqp_rpc_reply_t r;
    if (!x->conn) {
        x->conn = amqp_new_connection();
        if (!x->conn) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        amqp_socket_t *s = x->u.ssl ? amqp_ssl_socket_new(x->conn) : amqp_tcp_socket_new(x->conn);
        if (!s) {
            snprintf(err, errlen, "cannot create a %s socket", x->u.ssl ? "TLS" : "TCP");
            drop(x);
            return -1;
        }
        if (x->u.ssl && tls_setup(x, s, err, errlen)) {
            drop(x);
            return -1;
        }
        int st = amqp_socket_open_noblock(s, x->u.host, x->u.port, &tv);
        if (st != AMQP_STATUS_OK) {
            snprintf(err, errlen, "cannot connect to %s:%d: %s", x->u.host, x->u.port,
                     amqp_error_string2(st));
            drop(x);
            return -1;
        }
        if (amqp_set_handshake_timeout(x->conn, &tv) != AMQP_STATUS_OK ||
            amqp_set_rpc_timeout(x->conn, &tv) != AMQP_STATUS_OK) {
            snprintf(err, errlen, "cannot set timeouts");
            drop(x);
            return -1;
        }
        /* connection.blocked: told when a resource alarm stops our publishes */
        amqp_table_entry_t cap = { amqp_cstring_bytes("connection.blocked"),
                                   { AMQP_FIELD_KIND_BOOLEAN, { .boolean = 1 } } };
        amqp_table_entry_t props[] = {
            { amqp_cstring_bytes("capabilities"),
              { AMQP_FIELD_KIND_TABLE, { .table = { 1, &cap } } } },
            { amqp_cstring_bytes("connection_name"),
              { AMQP_FIELD_KIND_UTF8, { .bytes = amqp_cstring_bytes(x->name) } } },
        };
        amqp_table_t pt = { 2, props };
        r = amqp_login_with_properties(x->conn, x->u.vhost, 0, 131072, x->u.heartbeat, &pt,
                                       AMQP_SASL_METHOD_PLAIN, x->u.user, x->u.pass);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            char why[200];
            reply_text(r, why, sizeof why);
            snprintf(err, errlen, "login to %s:%d as '%s' on vhost '%s' failed: %s", x->u.host,
                     x->u.port, x->u.user, x->u.vhost, why);
            drop(x);
            return -1;
        }
    }
    if (x->ch)
        return 0;
    x->last_ch = x->last_ch >= 1000 ? 1 : x->last_ch + 1;
    x->ch = x->last_ch;
    amqp_channel_open(x->conn, x->ch);
    r = amqp_get_rpc_reply(x->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        rpc_failed(x, r, "channel.open failed", err, errlen);
        x->ch = 0;
        return -1;
    }
    if (x->confirms) {
        amqp_confirm_select(x->conn, x->ch);
        r = amqp_get_rpc_reply(x->conn);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            rpc_failed(x, r, "confirm.select failed", err, errlen);
            return -1;
        }
        x->next_tag = 1;
    }
    if (*x->exchange && declare(x, x->exchange, x->type, !*x->type, err, errlen))
        return -1;
    return 0;
}

/* ---- settling a batch */

static void fail_pending(struct amqp_ctx *x, const char *why)
{
    for (size_t i = 0; i < x->n; i++)
        if (x->msgs[i].status == MSG_PENDING) {
            x->msgs[i].status = MSG_RETRY;
            snprintf(x->msgs[i].error, sizeof x->msgs[i].error, "%s", why);
        }
}

static void settle(struct amqp_ctx *x, uint64_t tag, int multiple, int ack)
{
    for (size_t i = 0; i < x->n; i++) {
        if (!x->tag[i] || x->settled[i] || (multiple ? x->tag[i] > tag : x->tag[i] != tag))
            continue;
        x->settled[i] = 1;
        if (x->msgs[i].status != MSG_PENDING)
            continue; /* returned: stays rejected */
        if (ack) {
            x->msgs[i].status = MSG_OK;
        } else {
            x->msgs[i].status = MSG_RETRY;
            snprintf(x->msgs[i].error, sizeof x->msgs[i].error, "nacked by broker");
        }
    }
}

static int same(amqp_bytes_t b, const char *s, size_t len)
{
    return b.len == len && (!len || !memcmp(b.bytes, s, len));
}

/* A basic.return carries no delivery tag: find the message by what it
 * carries, the first unsettled one with the same exchange, key and body. */
static int on_return(struct amqp_ctx *x, amqp_basic_return_t *ret)
{
    char text[200];
    snprintf(text, sizeof text, "returned by broker: %u %.*s (exchange '%.*s', routing key '%.*s')",
             ret->reply_code, (int)ret->reply_text.len, (char *)ret->reply_text.bytes,
             (int)ret->exchange.len, (char *)ret->exchange.bytes, (int)ret->routing_key.len,
             (char *)ret->routing_key.bytes);
    amqp_bytes_t ex = ret->exchange, rk = ret->routing_key;
    amqp_message_t m;
    amqp_rpc_reply_t r = amqp_read_message(x->conn, x->ch, &m, 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
        return -1;
    for (size_t i = 0; i < x->n; i++) {
        struct msg *g = &x->msgs[i];
        if (x->tag[i] && g->status == MSG_PENDING && same(ex, x->ex[i], strlen(x->ex[i])) &&
            same(rk, x->rk[i], strlen(x->rk[i])) && same(m.body, g->payload, g->payload_len)) {
            g->status = MSG_REJECT;
            snprintf(g->error, sizeof g->error, "%s", text);
            break;
        }
    }
    amqp_destroy_message(&m);
    return 0;
}

/* Handle one incoming frame.  -1 when the channel or connection is gone
 * (pending messages are failed with the reason). */
static int on_frame(struct amqp_ctx *x, amqp_frame_t *f)
{
    char why[240];
    if (f->frame_type != AMQP_FRAME_METHOD)
        return 0;
    amqp_method_t *m = &f->payload.method;
    if (f->channel == 0 && m->id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_t *c = m->decoded;
        snprintf(why, sizeof why, "connection closed by broker: %u %.*s", c->reply_code,
                 (int)c->reply_text.len, (char *)c->reply_text.bytes);
        fail_pending(x, why);
        drop(x);
        return -1;
    }
    if (f->channel == 0 && m->id == AMQP_CONNECTION_BLOCKED_METHOD) {
        /* what we sent is stuck until the alarm clears: fail it now and
         * let the next send try a fresh connection */
        amqp_connection_blocked_t *b = m->decoded;
        snprintf(why, sizeof why, "broker blocks publishing: %.*s", (int)b->reason.len,
                 (char *)b->reason.bytes);
        fail_pending(x, why);
        drop(x);
        return -1;
    }
    if (f->channel != x->ch)
        return 0;
    switch (m->id) {
    case AMQP_BASIC_ACK_METHOD: {
        amqp_basic_ack_t *a = m->decoded;
        settle(x, a->delivery_tag, a->multiple, 1);
        return 0;
    }
    case AMQP_BASIC_NACK_METHOD: {
        amqp_basic_nack_t *a = m->decoded;
        settle(x, a->delivery_tag, a->multiple, 0);
        return 0;
    }
    case AMQP_BASIC_RETURN_METHOD:
        if (on_return(x, m->decoded) == 0)
            return 0;
        fail_pending(x, "connection lost while reading a returned message");
        drop(x);
        return -1;
    case AMQP_CHANNEL_CLOSE_METHOD: {
        amqp_channel_close_t *c = m->decoded;
        snprintf(why, sizeof why, "channel closed by broker: %u %.*s", c->reply_code,
                 (int)c->reply_text.len, (char *)c->reply_text.bytes);
        fail_pending(x, why);
        amqp_channel_close_ok_t ok = { 0 };
        if (amqp_send_method(x->conn, x->ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok) < 0)
            drop(x);
        x->ch = 0;
        return -1;
    }
    default:
        return 0;
    }
}

/* Read what the broker has sent, without waiting (timeout 0) or until the
 * batch is settled (confirms).  -1 if the connection or channel is gone. */
static int pump(struct amqp_ctx *x, int until_settled)
{
    struct timeval start, now;
    gettimeofday(&start, NULL);
    for (;;) {
        size_t open = 0;
        for (size_t i = 0; until_settled && i < x->n; i++)
            open += x->tag[i] && !x->settled[i];
        if (until_settled && !open)
            return 0;
        struct timeval tv = { 0, 0 };
        if (until_settled) {
            gettimeofday(&now, NULL);
            long long left = AMQP_TIMEOUT_S * 1000000LL - ((now.tv_sec - start.tv_sec) * 1000000LL +
                                                          (now.tv_usec - start.tv_usec));
            if (left <= 0) {
                fail_pending(x, "no publisher confirm from the broker within 5 s");
                drop(x);
                return -1;
            }
            tv.tv_sec = left / 1000000;
            tv.tv_usec = left % 1000000;
        }
        amqp_frame_t f;
        int st = amqp_simple_wait_frame_noblock(x->conn, &f, &tv);
        if (st == AMQP_STATUS_TIMEOUT) {
            if (!until_settled)
                return 0;
            continue;
        }
        if (st != AMQP_STATUS_OK) {
            char why[160];
            snprintf(why, sizeof why, "connection lost: %s", amqp_error_string2(st));
            fail_pending(x, why);
            drop(x);
            return -1;
        }
        if (on_frame(x, &f))
            return -1;
    }
}

/* ---- sending */

/* The per-message overrides of a script: exchange, routing_key, headers. */
struct over {
    cJSON *doc;
    const char *ex, *rk;
    cJSON *headers;
};

static int parse_opts(struct amqp_ctx *x, struct msg *g, struct over *o)
{
    memset(o, 0, sizeof *o);
    o->ex = x->exchange;
    o->rk = x->routing_key;
    if (!g->opts)
        return 0;
    const char *bad = NULL;
    o->doc = cJSON_Parse(g->opts);
    if (!cJSON_IsObject(o->doc)) {
        bad = "opts is not a JSON object";
        goto fail;
    }
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o->doc, "exchange");
    if (v && !(cJSON_IsString(v) && strlen(v->valuestring) <= 255)) {
        bad = "opts.exchange must be a string of at most 255 bytes";
        goto fail;
    }
    if (v)
        o->ex = v->valuestring;
    v = cJSON_GetObjectItemCaseSensitive(o->doc, "routing_key");
    if (v && !(cJSON_IsString(v) && strlen(v->valuestring) <= 255)) {
        bad = "opts.routing_key must be a string of at most 255 bytes";
        goto fail;
    }
    if (v)
        o->rk = v->valuestring;
    o->headers = cJSON_GetObjectItemCaseSensitive(o->doc, "headers");
    if (o->headers && !cJSON_IsObject(o->headers)) {
        bad = "opts.headers must be an object of strings";
        goto fail;
    }
    cJSON *h;
    cJSON_ArrayForEach(h, o->headers)
        if (!cJSON_IsString(h) || strlen(h->string) > 255) {
            bad = "opts.headers must be an object of strings (names up to 255 bytes)";
            goto fail;
        }
    return 0;
fail:
    cJSON_Delete(o->doc);
    o->doc = NULL;
    g->status = MSG_REJECT;
    snprintf(g->error, sizeof g->error, "%s", bad);
    return -1;
}

static int known(struct amqp_ctx *x, const char *ex)
{
    if (!strcmp(ex, x->exchange) || !*ex)
        return 1;
    for (size_t i = 0; i < x->nknown; i++)
        if (!strcmp(x->known[i], ex))
            return 1;
    return 0;
}

/* An exchange named by a script is checked once per connection with a
 * passive declare: a missing one rejects the message (404 closes the
 * channel, which is reopened), before anything of the batch is published. */
static int check_exchange(struct amqp_ctx *x, struct msg *g, const char *ex, char *err, size_t errlen)
{
    if (known(x, ex))
        return 0;
    if (declare(x, ex, "", 1, err, errlen) == 0) {
        if (x->nknown == AMQP_MAX_KNOWN) {
            free(x->known[0]);
            memmove(x->known, x->known + 1, (AMQP_MAX_KNOWN - 1) * sizeof x->known[0]);
            x->nknown--;
        }
        x->known[x->nknown] = strdup(ex);
        if (x->known[x->nknown])
            x->nknown++;
        return 0;
    }
    if (x->conn && !x->ch && strstr(err, " 404 ")) {
        g->status = MSG_REJECT;
        snprintf(g->error, sizeof g->error, "%s", err);
        return ensure(x, err, errlen) ? -1 : 0;
    }
    return -1;
}

static int publish(struct amqp_ctx *x, size_t i, struct over *o)
{
    struct msg *g = &x->msgs[i];
    /* rabbitmq-c writes without a deadline: wait for room ourselves, so a
     * broker that stopped reading costs 5 s, not a hung thread */
    struct pollfd pfd = { .fd = amqp_get_sockfd(x->conn), .events = POLLOUT };
    if (poll(&pfd, 1, AMQP_TIMEOUT_S * 1000) != 1)
        return AMQP_STATUS_TIMEOUT;
    const char *bucket;
    size_t blen = msg_bucket(g, &bucket);
    size_t nh = 2, cap = 2 + (size_t)cJSON_GetArraySize(o->headers);
    amqp_table_entry_t *e = calloc(cap, sizeof *e);
    if (!e)
        return -2;
    e[0].key = amqp_cstring_bytes("minio-bucket");
    e[0].value.kind = AMQP_FIELD_KIND_UTF8;
    e[0].value.value.bytes = (amqp_bytes_t){ blen, (void *)bucket };
    e[1].key = amqp_cstring_bytes("minio-event");
    e[1].value.kind = AMQP_FIELD_KIND_UTF8;
    e[1].value.value.bytes = amqp_cstring_bytes(g->event_name ? g->event_name : "");
    cJSON *h;
    cJSON_ArrayForEach(h, o->headers) {
        size_t k = 0;
        while (k < nh && !same(e[k].key, h->string, strlen(h->string)))
            k++;
        if (k == nh)
            nh++;
        e[k].key = amqp_cstring_bytes(h->string);
        e[k].value.kind = AMQP_FIELD_KIND_UTF8;
        e[k].value.value.bytes = amqp_cstring_bytes(h->valuestring);
    }
    amqp_basic_properties_t p = {
        ._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_HEADERS_FLAG |
                  (x->delivery_mode ? AMQP_BASIC_DELIVERY_MODE_FLAG : 0),
        .content_type = amqp_cstring_bytes("application/json"),
        .headers = { (int)nh, e },
        .delivery_mode = x->delivery_mode,
    };
    int st = amqp_basic_publish(x->conn, x->ch, amqp_cstring_bytes(o->ex), amqp_cstring_bytes(o->rk),
                                x->mandatory, x->immediate, &p,
                                (amqp_bytes_t){ g->payload_len, (void *)g->payload });
    free(e);
    if (st != AMQP_STATUS_OK)
        return st;
    x->tag[i] = x->confirms ? x->next_tag++ : 1;
    return 0;
}

static int send_chunk(struct amqp_ctx *x, struct msg *msgs, size_t n)
{
    char err[256];
    struct over o[AMQP_MAX_BATCH];
    /* A connection that died while idle (broker restart, missed heartbeats)
     * is noticed here and replaced at once rather than failing the batch. */
    x->n = 0;
    if (x->conn && pump(x, 0))
        drop(x);
    x->msgs = msgs;
    x->n = n;
    memset(x->tag, 0, sizeof x->tag);
    memset(x->settled, 0, sizeof x->settled);
    for (size_t i = 0; i < n; i++)
        msgs[i].status = MSG_PENDING, msgs[i].error[0] = 0;
    if (ensure(x, err, sizeof err)) {
        fail_pending(x, err);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (parse_opts(x, &msgs[i], &o[i]) == 0 && rc == 0 &&
            check_exchange(x, &msgs[i], o[i].ex, err, sizeof err)) {
            fail_pending(x, err);
            rc = -1;
        }
        x->ex[i] = o[i].ex;
        x->rk[i] = o[i].rk;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (msgs[i].status != MSG_PENDING)
            continue;
        int st = publish(x, i, &o[i]);
        if (st) {
            snprintf(err, sizeof err, "publish failed: %s",
                     st == -2 ? "out of memory" : amqp_error_string2(st));
            fail_pending(x, err);
            drop(x);
            rc = -1;
        }
    }
    if (rc == 0) {
        if (x->confirms) {
            rc = pump(x, 1);
        } else {
            /* basic.qos is answered after everything before it on the
             * channel was routed: returns and channel errors come first. */
            amqp_basic_qos(x->conn, x->ch, 0, 0, 0);
            amqp_rpc_reply_t r = amqp_get_rpc_reply(x->conn);
            if (r.reply_type != AMQP_RESPONSE_NORMAL) {
                rpc_failed(x, r, "broker did not take the batch", err, sizeof err);
                fail_pending(x, err);
                rc = -1;
            } else {
                rc = pump(x, 0);
            }
            for (size_t i = 0; rc == 0 && i < n; i++)
                if (x->tag[i] && msgs[i].status == MSG_PENDING)
                    msgs[i].status = MSG_OK;
        }
    }
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(o[i].doc);
    if (x->conn)
        amqp_maybe_release_buffers(x->conn);
    x->msgs = NULL;
    x->n = 0;
    return rc;
}

static int amqp_send(void *ctx, struct msg *msgs, size_t n)
{
    struct amqp_ctx *x = ctx;
    for (size_t off = 0; off < n; off += AMQP_MAX_BATCH) {
        size_t k = n - off < AMQP_MAX_BATCH ? n - off : AMQP_MAX_BATCH;
        if (send_chunk(x, msgs + off, k)) {
            for (size_t i = off + k; i < n; i++) {
                msgs[i].status = MSG_RETRY;
                snprintf(msgs[i].error, sizeof msgs[i].error, "%s", msgs[off].error);
            }
            return -1;
        }
    }
    return 0;
}

static int amqp_health(void *ctx, char *err, size_t errlen)
{
    struct amqp_ctx *x = ctx;
    if (x->conn && pump(x, 0))
        drop(x);
    if (ensure(x, err, errlen))
        return -1;
    amqp_basic_qos(x->conn, x->ch, 0, 0, 0);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(x->conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        rpc_failed(x, r, "channel check failed", err, errlen);
        return -1;
    }
    if (pump(x, 0)) {
        snprintf(err, errlen, "connection lost");
        return -1;
    }
    return 0;
}

static void amqp_close(void *ctx)
{
    struct amqp_ctx *x = ctx;
    if (!x)
        return;
    if (x->conn) {
        if (x->ch)
            amqp_channel_close(x->conn, x->ch, AMQP_REPLY_SUCCESS);
        amqp_connection_close(x->conn, AMQP_REPLY_SUCCESS);
    }
    drop(x);
    uri_free(&x->u);
    free(x->exchange), free(x->type), free(x->routing_key);
    free(x);
}

/* check --connect: connect and log in without declaring anything, then a
 * passive exchange.declare: does the exchange exist?  One the gateway
 * would declare (exchange_type set) may be absent. */
static int amqp_probe(void *ctx, struct probe_result *p)
{
    struct amqp_ctx *x = ctx;
    char *exchange = x->exchange;
    x->exchange = (char *)"";
    int rc = ensure(x, p->error, sizeof p->error);
    x->exchange = exchange;
    if (rc) {
        int down = strstr(p->error, "cannot connect") != NULL, login = strstr(p->error, "login") != NULL;
        p->reachable = down ? PROBE_NO : PROBE_YES;
        p->authenticated = down ? PROBE_UNCHECKED : login ? PROBE_NO : PROBE_YES;
        return -1;
    }
    p->reachable = p->authenticated = PROBE_YES;
    if (!*x->exchange)
        return 0; /* the default exchange always exists */
    snprintf(p->dest, sizeof p->dest, "exchange \"%s\"", x->exchange);
    if (declare(x, x->exchange, "", 1, p->error, sizeof p->error) == 0) {
        p->destination = PROBE_YES;
        return 0;
    }
    p->destination = *x->type && strstr(p->error, "NOT_FOUND") ? PROBE_CREATED : PROBE_NO;
    if (p->destination == PROBE_CREATED)
        *p->error = 0;
    return p->destination == PROBE_NO ? -1 : 0;
}

static const struct key_spec amqp_keys[] = {
    { "url", KEY_URL, NULL, KEY_REQUIRED | KEY_SECRET, NULL,
      "amqp[s]://user:password@host:port/vhost (ports 5672/5671; amqps query: cacertfile, certfile, keyfile, heartbeat)" },
    { "exchange", KEY_STR, NULL, 0, NULL,
      "exchange to publish to, declared when the channel opens (\"\": the default exchange, not declared)" },
    { "exchange_type", KEY_STR, NULL, 0, NULL,
      "direct, fanout, topic, headers or a plugin's x-... type (\"\": the exchange must exist)" },
    { "routing_key", KEY_STR, NULL, 0, NULL, "routing key of every message" },
    { "mandatory", KEY_BOOL, "off", 0, NULL,
      "unroutable messages come back from the broker and go to the dead-letter queue" },
    { "durable", KEY_BOOL, "off", 0, NULL, "declare the exchange durable (survives a broker restart)" },
    { "no_wait", KEY_BOOL, "off", 0, NULL, "declare the exchange without waiting for the broker's answer" },
    { "internal", KEY_BOOL, "off", 0, NULL, "declare the exchange internal (only exchanges publish to it)" },
    { "auto_deleted", KEY_BOOL, "off", 0, NULL, "declare the exchange auto-delete (gone with its last binding)" },
    { "delivery_mode", KEY_UINT, "0", 0, NULL,
      "delivery-mode property: 1 transient, 2 persistent, 0 not sent" },
    { "publisher_confirms", KEY_BOOL, "off", 0, "PUBLISHING_CONFIRMS",
      "wait for the broker's ack of each message (off: at-most-once, a message counts as sent once the broker routed it)" },
    { "immediate", KEY_BOOL, "off", KEY_ENV_ONLY, NULL,
      "immediate flag (RabbitMQ does not implement it and closes the connection)" },
    { "arguments", KEY_STR, NULL, KEY_HIDDEN | KEY_ENV_ONLY, NULL,
      "defined by MinIO but never used: accepted and ignored" },
    { 0 }
};

/* What send(target, payload, opts) may set for this kind, beyond key and op. */
static const struct send_opt amqp_send_opts[] = {
    { "exchange", SOPT_STRING, 0, 255, "exchange to publish this message to instead of the configured one (it must exist)" },
    { "routing_key", SOPT_STRING, 0, 255, "routing key of this message instead of the configured one" },
    { "headers", SOPT_HEADERS, 1, 255, "AMQP headers added to this message: { name = \"value\" }" },
    { 0 },
};

const struct driver amqp_driver = {
    .kind = "amqp", .keys = amqp_keys,
    .max_batch = AMQP_MAX_BATCH, .validate = amqp_validate, .open = amqp_open,
    .send_opts = amqp_send_opts,
    .send = amqp_send, .health = amqp_health, .close = amqp_close,
    .probe = amqp_probe,
};
