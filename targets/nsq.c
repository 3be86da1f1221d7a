/* nsq.c -- NSQ target: PUB/MPUB over nsqd's TCP protocol V2 with our own
 * client (there is no C nsq library).  MinIO's go-nsq producer publishes one
 * event per PUB and waits for OK; we do the same for a batch of one and use
 * MPUB for more, so a batch is confirmed by one OK.
 *
 * The connection is made lazily: magic, IDENTIFY (feature negotiation, TLS
 * upgrade when asked for), then commands one at a time, each waiting for its
 * reply.  nsqd sends _heartbeat_ frames whenever it likes (also between a
 * PUB and its OK); we answer NOP.  Between send() calls nobody reads the
 * socket, so heartbeats pile up and nsqd closes the connection after two
 * intervals of silence: before each use we drain what arrived and reconnect
 * if the server has gone.  nsqd closes the connection after any error frame
 * of the publish path, so we drop ours too. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "clock.h"
#include "driver.h"
#include "nsq_proto.h"

#ifndef LUAGATE_VERSION
#define LUAGATE_VERSION "dev"
#endif

#define NSQ_TIMEOUT_MS 5000
#define NSQ_HEARTBEAT_MS 30000
#define NSQ_MAX_FRAME (NSQP_MAX_MSG + 64) /* a producer only gets small replies */
#define NSQ_READ_CHUNK 16384

struct nsq {
    char host[256], port[16];
    char topic[NSQP_MAX_TOPIC + 1];
    int tls, skip_verify;
    int fd;
    SSL_CTX *ssl_ctx;
    SSL *ssl;
    struct nsqp_buf out;
    char *in;
    size_t in_pos, in_len, in_cap;
    char err[256];
};

static int fail(struct nsq *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->err, sizeof n->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int ssl_fail(struct nsq *n, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[160] = "connection closed";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    else if (errno)
        snprintf(buf, sizeof buf, "%s", strerror(errno));
    ERR_clear_error();
    return fail(n, "%s: %s", what, buf);
}

static void disconnect(struct nsq *n)
{
    if (n->ssl) {
        SSL_free(n->ssl);
        n->ssl = NULL;
    }
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
    n->in_pos = n->in_len = 0;
}

static int wait_fd(struct nsq *n, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - (long long)clock_mono_ms();
        if (left <= 0)
            return fail(n, "timeout after %d ms waiting for nsqd", NSQ_TIMEOUT_MS);
        struct pollfd p = { .fd = n->fd, .events = events };
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return fail(n, "poll: %s", strerror(errno));
    }
}

static int io_write(struct nsq *n, const char *p, size_t len, long long deadline)
{
    while (len) {
        ssize_t w;
        if (n->ssl) {
            ERR_clear_error();
            int r = SSL_write(n->ssl, p, len > INT_MAX ? INT_MAX : (int)len);
            if (r <= 0) {
                int e = SSL_get_error(n->ssl, r);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                    return ssl_fail(n, "write to nsqd");
                if (wait_fd(n, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
                    return -1;
                continue;
            }
            w = r;
        } else {
            w = send(n->fd, p, len, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                    return fail(n, "write to nsqd: %s", strerror(errno));
                if (wait_fd(n, POLLOUT, deadline))
                    return -1;
                continue;
            }
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Read what is there into n->in: > 0 bytes, 0 at EOF, -1 on error, -2 when
 * nothing is pending and wait is 0. */
static ssize_t io_read(struct nsq *n, int wait, long long deadline)
{
    char *p = n->in + n->in_len;
    size_t cap = n->in_cap - n->in_len;
    for (;;) {
        if (n->ssl) {
            ERR_clear_error();
            int r = SSL_read(n->ssl, p, cap > INT_MAX ? INT_MAX : (int)cap);
            if (r > 0)
                return r;
            int e = SSL_get_error(n->ssl, r);
            if (e == SSL_ERROR_ZERO_RETURN)
                return 0;
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                return ssl_fail(n, "read from nsqd");
            if (!wait)
                return -2;
            if (wait_fd(n, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
                return -1;
        } else {
            ssize_t r = recv(n->fd, p, cap, 0);
            if (r >= 0)
                return r;
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return fail(n, "read from nsqd: %s", strerror(errno));
            if (!wait)
                return -2;
            if (wait_fd(n, POLLIN, deadline))
                return -1;
        }
    }
}

/* Next server frame: 1 with *f (valid until the next call), 0 when nothing
 * complete is pending and wait is 0, -1 on error or EOF. */
static int read_frame(struct nsq *n, struct nsqp_frame *f, int wait, long long deadline)
{
    for (;;) {
        char perr[96];
        long r = nsqp_parse(n->in + n->in_pos, n->in_len - n->in_pos, NSQ_MAX_FRAME, f, perr,
                            sizeof perr);
        if (r > 0) {
            n->in_pos += (size_t)r;
            return 1;
        }
        if (r < 0)
            return fail(n, "protocol error from nsqd: %s", perr);
        if (n->in_pos) {
            memmove(n->in, n->in + n->in_pos, n->in_len - n->in_pos);
            n->in_len -= n->in_pos;
            n->in_pos = 0;
        }
        if (n->in_cap - n->in_len < NSQ_READ_CHUNK) {
            size_t cap = n->in_len + NSQ_READ_CHUNK * 2;
            char *in = realloc(n->in, cap);
            if (!in)
                return fail(n, "out of memory");
            n->in = in;
            n->in_cap = cap;
        }
        ssize_t got = io_read(n, wait, deadline);
        if (got == -2)
            return 0;
        if (got == 0)
            return fail(n, "nsqd closed the connection");
        if (got < 0)
            return -1;
        n->in_len += (size_t)got;
    }
}

static int send_nop(struct nsq *n, long long deadline)
{
    return io_write(n, "NOP\n", 4, deadline);
}

/* The reply to the last command, answering heartbeats on the way. */
static int reply(struct nsq *n, struct nsqp_frame *f, long long deadline)
{
    for (;;) {
        if (read_frame(n, f, 1, deadline) < 0)
            return -1;
        if (nsqp_kind(f) != NSQP_HEARTBEAT)
            return 0;
        if (send_nop(n, deadline))
            return -1;
    }
}

/* Handle what arrived while we were idle.  0 if the connection still looks
 * usable, -1 (and disconnected) if not. */
static int drain(struct nsq *n)
{
    long long deadline = (long long)clock_mono_ms() + NSQ_TIMEOUT_MS;
    struct nsqp_frame f;
    int r;
    while ((r = read_frame(n, &f, 0, deadline)) > 0) {
        if (nsqp_kind(&f) != NSQP_HEARTBEAT) {
            fail(n, "unexpected frame from nsqd while idle: %.*s", (int)(f.len > 80 ? 80 : f.len),
                 f.data);
            r = -1;
            break;
        }
        if (send_nop(n, deadline)) {
            r = -1;
            break;
        }
    }
    if (r < 0)
        disconnect(n);
    return r;
}

static int is_ip(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int tls_upgrade(struct nsq *n, long long deadline)
{
    if (!n->ssl_ctx) {
        n->ssl_ctx = SSL_CTX_new(TLS_client_method());
        if (!n->ssl_ctx)
            return ssl_fail(n, "TLS setup");
        SSL_CTX_set_options(n->ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
        if (!SSL_CTX_set_min_proto_version(n->ssl_ctx, TLS1_2_VERSION))
            return ssl_fail(n, "TLS setup");
        if (!n->skip_verify) {
            SSL_CTX_set_verify(n->ssl_ctx, SSL_VERIFY_PEER, NULL);
            if (!SSL_CTX_set_default_verify_paths(n->ssl_ctx))
                return ssl_fail(n, "TLS CA certificates");
        }
    }
    n->ssl = SSL_new(n->ssl_ctx);
    if (!n->ssl || !SSL_set_fd(n->ssl, n->fd))
        return ssl_fail(n, "TLS setup");
    if (is_ip(n->host)) {
        if (!n->skip_verify && !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(n->ssl), n->host))
            return ssl_fail(n, "TLS setup");
    } else {
        if (!SSL_set_tlsext_host_name(n->ssl, n->host))
            return ssl_fail(n, "TLS setup");
        if (!n->skip_verify && !SSL_set1_host(n->ssl, n->host))
            return ssl_fail(n, "TLS setup");
    }
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(n->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(n->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (wait_fd(n, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
                return -1;
            continue;
        }
        long v = SSL_get_verify_result(n->ssl);
        if (v != X509_V_OK) {
            ERR_clear_error();
            return fail(n, "TLS handshake with nsqd: certificate verify failed: %s "
                           "(set tls_skip_verify to trust it anyway)",
                        X509_verify_cert_error_string(v));
        }
        return ssl_fail(n, "TLS handshake with nsqd");
    }
}

static char *identify_json(const struct nsq *n)
{
    char host[256] = "luagate", client_id[256];
    if (gethostname(host, sizeof host) != 0 || !host[0])
        snprintf(host, sizeof host, "luagate");
    host[sizeof host - 1] = 0;
    snprintf(client_id, sizeof client_id, "%s", host);
    client_id[strcspn(client_id, ".")] = 0; /* go-nsq: the short host name */
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char *s = NULL;
    if (cJSON_AddStringToObject(o, "client_id", client_id) &&
        cJSON_AddStringToObject(o, "hostname", host) &&
        cJSON_AddStringToObject(o, "user_agent", "luagate/" LUAGATE_VERSION) &&
        cJSON_AddTrueToObject(o, "feature_negotiation") &&
        cJSON_AddNumberToObject(o, "heartbeat_interval", NSQ_HEARTBEAT_MS) &&
        cJSON_AddBoolToObject(o, "tls_v1", n->tls))
        s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Negotiate on a freshly connected socket: magic, IDENTIFY, maybe TLS. */
static int handshake(struct nsq *n, long long deadline)
{
    char *json = identify_json(n);
    nsqp_buf_reset(&n->out);
    if (!json || nsqp_magic(&n->out) || nsqp_identify(&n->out, json, strlen(json))) {
        cJSON_free(json);
        return fail(n, "out of memory");
    }
    cJSON_free(json);
    struct nsqp_frame f;
    if (io_write(n, n->out.data, n->out.len, deadline) || reply(n, &f, deadline))
        return -1;
    enum nsqp_kind k = nsqp_kind(&f);
    if (k == NSQP_ERROR)
        return fail(n, "nsqd refused IDENTIFY: %.*s", (int)(f.len > 160 ? 160 : f.len), f.data);
    int tls = 0, auth = 0;
    if (k == NSQP_RESPONSE) {
        cJSON *r = cJSON_ParseWithLength(f.data, f.len);
        if (!r)
            return fail(n, "nsqd sent an IDENTIFY reply that is not JSON");
        tls = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "tls_v1"));
        auth = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "auth_required"));
        cJSON_Delete(r);
    } else if (k != NSQP_OK) {
        return fail(n, "unexpected reply to IDENTIFY from nsqd");
    }
    /* go-nsq silently stays in plain text when the server does not offer
     * TLS; with tls on we would rather not send events in the clear. */
    if (n->tls && !tls)
        return fail(n, "tls is on but nsqd did not negotiate TLS (start nsqd with --tls-cert "
                       "and --tls-key)");
    if (tls) {
        if (!n->tls)
            return fail(n, "nsqd negotiated TLS that was not asked for");
        if (n->in_pos != n->in_len)
            return fail(n, "protocol error from nsqd: data before the TLS handshake");
        if (tls_upgrade(n, deadline) || reply(n, &f, deadline))
            return -1;
        if (nsqp_kind(&f) != NSQP_OK)
            return fail(n, "nsqd did not confirm the TLS upgrade: %.*s",
                        (int)(f.len > 160 ? 160 : f.len), f.data);
    }
    if (auth)
        return fail(n, "nsqd requires AUTH, which this target (like MinIO's) does not send");
    return 0;
}

static int nsq_connect(struct nsq *n)
{
    disconnect(n);
    long long deadline = (long long)clock_mono_ms() + NSQ_TIMEOUT_MS;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai, *a;
    int rc = getaddrinfo(n->host, n->port, &hints, &ai);
    if (rc)
        return fail(n, "cannot resolve nsqd address %s: %s", n->host, gai_strerror(rc));
    int err = 0;
    for (a = ai; a; a = a->ai_next) {
        n->fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       a->ai_protocol);
        if (n->fd < 0) {
            err = errno;
            continue;
        }
        if (connect(n->fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        err = errno;
        if (err == EINPROGRESS) {
            socklen_t len = sizeof err;
            if (wait_fd(n, POLLOUT, deadline) == 0 &&
                getsockopt(n->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
                break;
            if (!err)
                err = ETIMEDOUT;
        }
        close(n->fd);
        n->fd = -1;
    }
    freeaddrinfo(ai);
    if (n->fd < 0)
        return fail(n, "cannot connect to nsqd at %s:%s: %s", n->host, n->port, strerror(err));
    int one = 1;
    if (setsockopt(n->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
        fail(n, "setsockopt TCP_NODELAY: %s", strerror(errno));
        disconnect(n);
        return -1;
    }
    if (handshake(n, deadline)) {
        disconnect(n);
        return -1;
    }
    return 0;
}

static int ensure_connected(struct nsq *n)
{
    if (n->fd >= 0 && drain(n) == 0)
        return 0;
    return nsq_connect(n);
}

/* One PUB (cnt 1) or MPUB: 0 on OK, 1 on an error frame (code set, text in
 * n->err), -1 when the connection failed.  Disconnected unless 0. */
static int publish(struct nsq *n, const char *topic, const struct msg *m, size_t cnt, char *code,
                   size_t codelen)
{
    int rc = 0;
    size_t mark;
    nsqp_buf_reset(&n->out);
    if (cnt == 1) {
        rc = nsqp_pub(&n->out, topic, m[0].payload, m[0].payload_len);
    } else {
        rc = nsqp_mpub_begin(&n->out, topic, (uint32_t)cnt, &mark);
        for (size_t i = 0; i < cnt && !rc; i++)
            rc = nsqp_mpub_add(&n->out, m[i].payload, m[i].payload_len);
        if (!rc)
            nsqp_mpub_end(&n->out, mark);
    }
    if (rc)
        return fail(n, "out of memory");
    long long deadline = (long long)clock_mono_ms() + NSQ_TIMEOUT_MS;
    struct nsqp_frame f;
    if (io_write(n, n->out.data, n->out.len, deadline)) {
        /* nsqd checks the size before reading a body: it may have sent
         * E_BAD_MESSAGE and reset the connection while we were writing. */
        char why[sizeof n->err];
        memcpy(why, n->err, sizeof why);
        int r;
        while ((r = read_frame(n, &f, 0, deadline)) > 0 && nsqp_kind(&f) == NSQP_HEARTBEAT)
            ;
        if (r <= 0 || nsqp_kind(&f) != NSQP_ERROR) {
            memcpy(n->err, why, sizeof why);
            disconnect(n);
            return -1;
        }
    } else if (reply(n, &f, deadline)) {
        disconnect(n);
        return -1;
    }
    switch (nsqp_kind(&f)) {
    case NSQP_OK:
        return 0;
    case NSQP_ERROR:
        nsqp_error_code(&f, code, codelen);
        fail(n, "nsqd: %.*s", (int)(f.len > 200 ? 200 : f.len), f.data);
        disconnect(n);
        return 1;
    default:
        fail(n, "unexpected reply from nsqd to %s: %.*s", cnt == 1 ? "PUB" : "MPUB",
             (int)(f.len > 80 ? 80 : f.len), f.data);
        disconnect(n);
        return -1;
    }
}

/* The topic of one message: the configured one, or opts.topic. */
static int msg_topic(const struct nsq *n, struct msg *m, char *topic)
{
    snprintf(topic, NSQP_MAX_TOPIC + 1, "%s", n->topic);
    if (!m->opts)
        return 0;
    cJSON *o = cJSON_Parse(m->opts);
    int rc = 0;
    if (!cJSON_IsObject(o)) {
        snprintf(m->error, sizeof m->error, "opts is not a JSON object");
        rc = -1;
    } else {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "topic");
        if (t && (!cJSON_IsString(t) || !nsqp_topic_valid(t->valuestring))) {
            snprintf(m->error, sizeof m->error,
                     "opts.topic '%.64s' is not a valid nsq topic "
                     "(^[.a-zA-Z0-9_-]+(#ephemeral)?$, 1..64 characters)",
                     cJSON_IsString(t) ? t->valuestring : "(not a string)");
            rc = -1;
        } else if (t) {
            snprintf(topic, NSQP_MAX_TOPIC + 1, "%s", t->valuestring);
        }
    }
    cJSON_Delete(o);
    return rc;
}

static void retry_from(struct msg *msgs, size_t from, size_t cnt, const char *why)
{
    for (size_t i = from; i < cnt; i++)
        if (msgs[i].status != MSG_REJECT && msgs[i].status != MSG_OK) {
            msgs[i].status = MSG_RETRY;
            snprintf(msgs[i].error, sizeof msgs[i].error, "%.255s", why);
        }
}

/* Empty and over-sized messages go alone in a PUB, so that nsqd's
 * E_BAD_MESSAGE names exactly one message (a server with a larger
 * --max-msg-size still takes them). */
static int alone(const struct msg *m)
{
    return m->payload_len == 0 || m->payload_len > NSQP_MAX_MSG;
}

static int nsq_send(void *ctx, struct msg *msgs, size_t cnt)
{
    struct nsq *n = ctx;
    char (*topic)[NSQP_MAX_TOPIC + 1] = malloc((cnt ? cnt : 1) * sizeof *topic);
    if (!topic) {
        retry_from(msgs, 0, cnt, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < cnt; i++) {
        msgs[i].status = MSG_PENDING;
        msgs[i].error[0] = 0;
        if (msg_topic(n, &msgs[i], topic[i]))
            msgs[i].status = MSG_REJECT;
    }
    int rc = 0;
    size_t i = 0, solo_until = 0;
    while (i < cnt) {
        if (msgs[i].status == MSG_REJECT) {
            i++;
            continue;
        }
        /* A group: consecutive messages for one topic within nsqd's limits. */
        size_t j = i + 1, bytes = msgs[i].payload_len;
        if (i >= solo_until && !alone(&msgs[i]))
            while (j < cnt && msgs[j].status != MSG_REJECT && !alone(&msgs[j]) &&
                   !strcmp(topic[j], topic[i]) &&
                   nsqp_mpub_body_size(j - i + 1, bytes + msgs[j].payload_len) <= NSQP_MAX_BODY)
                bytes += msgs[j++].payload_len;
        char code[32] = "";
        int r = ensure_connected(n) ? -1 : publish(n, topic[i], &msgs[i], j - i, code, sizeof code);
        if (r == 0) {
            for (size_t k = i; k < j; k++)
                msgs[k].status = MSG_OK;
            i = j;
            continue;
        }
        if (r < 0) {
            retry_from(msgs, i, cnt, n->err);
            rc = -1;
            break;
        }
        if (!strcmp(code, "E_BAD_MESSAGE") || !strcmp(code, "E_BAD_BODY")) {
            if (j - i == 1) {
                msgs[i].status = MSG_REJECT;
                snprintf(msgs[i].error, sizeof msgs[i].error, "%s", n->err);
                i = j;
            } else {
                solo_until = j; /* the server's limits are below ours: find the culprit */
            }
            continue;
        }
        /* E_PUB_FAILED, E_MPUB_FAILED, E_BAD_TOPIC (the configuration, not the
         * message, so keep it queued), E_INVALID and anything new. */
        if (!strcmp(code, "E_BAD_TOPIC")) {
            char why[sizeof n->err + 64];
            snprintf(why, sizeof why, "nsqd refused topic '%s' (check the topic key): %s",
                     topic[i], n->err);
            retry_from(msgs, i, cnt, why);
        } else {
            retry_from(msgs, i, cnt, n->err);
        }
        break;
    }
    free(topic);
    return rc;
}

/* nsq has no ping over TCP; like go-nsq's Producer.Ping we connect (the
 * IDENTIFY round trip) if not connected, and otherwise check that the
 * connection is still open (EOF, heartbeats answered) and write a NOP. */
static int nsq_health(void *ctx, char *err, size_t errlen)
{
    struct nsq *n = ctx;
    if (ensure_connected(n) == 0 && send_nop(n, (long long)clock_mono_ms() + NSQ_TIMEOUT_MS) == 0)
        return 0;
    disconnect(n);
    snprintf(err, errlen, "%s", n->err);
    return -1;
}

static int split_address(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || !colon[1] || strlen(colon + 1) >= portlen)
        return -1;
    const char *h = addr;
    size_t len = (size_t)(colon - addr);
    if (h[0] == '[' && len >= 2 && h[len - 1] == ']')
        h++, len -= 2;
    if (!len || len >= hostlen)
        return -1;
    memcpy(host, h, len);
    host[len] = 0;
    snprintf(port, portlen, "%s", colon + 1);
    return 0;
}

static int nsq_validate(const struct target_conf *c, char *err, size_t errlen)
{
    char host[256], port[16];
    const char *addr = tconf_str(c, "nsqd_address");
    if (*addr && split_address(addr, host, sizeof host, port, sizeof port)) {
        snprintf(err, errlen, "%s: key 'nsqd_address' must be host:port, not '%s'", tconf_name(c),
                 addr);
        return -1;
    }
    const char *topic = tconf_str(c, "topic");
    if (*topic && !nsqp_topic_valid(topic)) {
        snprintf(err, errlen,
                 "%s: key 'topic' must match ^[.a-zA-Z0-9_-]+(#ephemeral)?$ and have 1..64 "
                 "characters, not '%.80s'",
                 tconf_name(c), topic);
        return -1;
    }
    return 0;
}

static void *nsq_open(const struct target_conf *c, char *err, size_t errlen)
{
    if (nsq_validate(c, err, errlen))
        return NULL;
    struct nsq *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        return NULL;
    }
    n->fd = -1;
    n->tls = tconf_bool(c, "tls");
    n->skip_verify = tconf_bool(c, "tls_skip_verify");
    snprintf(n->topic, sizeof n->topic, "%s", tconf_str(c, "topic"));
    if (split_address(tconf_str(c, "nsqd_address"), n->host, sizeof n->host, n->port,
                      sizeof n->port)) {
        snprintf(err, errlen, "%s: key 'nsqd_address' is required (host:port)", tconf_name(c));
        free(n);
        return NULL;
    }
    if (!n->topic[0]) {
        snprintf(err, errlen, "%s: key 'topic' is required", tconf_name(c));
        free(n);
        return NULL;
    }
    return n;
}

static void nsq_close(void *ctx)
{
    struct nsq *n = ctx;
    if (!n)
        return;
    disconnect(n);
    SSL_CTX_free(n->ssl_ctx);
    nsqp_buf_free(&n->out);
    free(n->in);
    free(n);
}

/* check --connect: connect, IDENTIFY and a NOP; an nsqd that requires
 * AUTH refuses us (MinIO's target does not send it either). */
static int nsq_probe(void *ctx, struct probe_result *p)
{
    if (nsq_health(ctx, p->error, sizeof p->error) == 0) {
        p->reachable = p->authenticated = PROBE_YES;
        return 0;
    }
    int auth = strstr(p->error, "AUTH") != NULL;
    p->reachable = auth ? PROBE_YES : PROBE_NO;
    p->authenticated = auth ? PROBE_NO : PROBE_UNCHECKED;
    return -1;
}

static const struct key_spec nsq_keys[] = {
    { "nsqd_address", KEY_HOSTPORT, NULL, KEY_REQUIRED, NULL,
      "NSQ server address e.g. '127.0.0.1:4150'" },
    { "topic", KEY_STR, NULL, KEY_REQUIRED, NULL, "NSQ topic" },
    { "tls", KEY_BOOL, "off", 0, NULL, "set to 'on' to enable TLS" },
    { "tls_skip_verify", KEY_BOOL, "off", 0, NULL,
      "trust server TLS without verification, defaults to \"off\" (verify)" },
    { 0 }
};

/* What send(target, payload, opts) may set for this kind, beyond key and op. */
static const struct send_opt nsq_send_opts[] = {
    { 0 },
};

const struct driver nsq_driver = {
    .kind = "nsq",
    .keys = nsq_keys,
    .max_batch = 256,
    .send_opts = nsq_send_opts,
    .validate = nsq_validate,
    .open = nsq_open,
    .send = nsq_send,
    .health = nsq_health,
    .probe = nsq_probe,
    .close = nsq_close,
};
