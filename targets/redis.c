/* redis.c -- the Redis target (MinIO's notify_redis).
 *
 * namespace format: the key is a hash of "bucket/object" -> {"Records":[...]},
 * HSET on every event and HDEL on s3:ObjectRemoved:Delete.  access format:
 * the key is a list and every event is RPUSHed as [{"Event":[...],"EventTime":...}].
 * The router shapes the payload; this file only issues the commands.
 *
 * Like MinIO's redigo dialer, every connection sends AUTH (when a password is
 * set) and CLIENT SETNAME MinIO, and before use we check with TYPE that the
 * key holds what the format needs.  A batch is one pipeline. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include "buf.h"
#include "clock.h"
#include "driver.h"

#define REDIS_TIMEOUT_S 5
#define REDIS_IDLE_PING_MS 1000 /* a connection idle longer is PINGed before use */

struct redis {
    char *name; /* "redis:1" */
    char *host;
    int port;
    char *key, *user, *password;
    int access; /* format access, else namespace */
    redisContext *rc;
    long long last_used_ms;
    struct buf cmds; /* a batch's commands, formatted */
    struct buf hset, hdel, rpush; /* their heads (resp_head) */
};

/* d <- prefix, decimal v, CRLF; returns the end. */
static char *put_header(char *d, char prefix, size_t v)
{
    char digits[24];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10));
    *d++ = prefix;
    while (n)
        *d++ = digits[--n];
    *d++ = '\r';
    *d++ = '\n';
    return d;
}

static char *put_bulk(char *d, const char *s, size_t n)
{
    d = put_header(d, '$', n);
    memcpy(d, s, n);
    d += n;
    *d++ = '\r';
    *d++ = '\n';
    return d;
}

/* The start of every command of a kind: the argument count, the command
 * and the target's key, formatted once. */
static int resp_head(struct buf *b, int total_args, const char *cmd, const char *key)
{
    size_t cl = strlen(cmd), kl = strlen(key);
    if (buf_reserve(b, 3 * 24 + cl + kl + 4))
        return -1;
    char *d = put_header(b->p, '*', (size_t)total_args);
    d = put_bulk(d, cmd, cl);
    b->len = (size_t)(put_bulk(d, key, kl) - b->p);
    return 0;
}

/* Append one command to b as RESP: its head, then its other arguments as
 * bulk strings.  hiredis's redisAppendCommandArgv does the same at ~4.5k
 * instructions per HSET of a 1.5 KB event (sds formatting, two copies,
 * several mallocs: 78 % of the delivery thread, callgrind); here it is one
 * copy into room reserved once, and hiredis still sends the batch
 * (redisAppendFormattedCommand) and parses every reply. */
static int resp_command(struct buf *b, const struct buf *head, int argc, const char **argv,
                        const size_t *lens)
{
    size_t need = head->len;
    for (int i = 0; i < argc; i++)
        need += 24 + lens[i] + 2;
    if (buf_reserve(b, need))
        return -1;
    char *d = b->p + b->len;
    memcpy(d, head->p, head->len);
    d += head->len;
    for (int i = 0; i < argc; i++)
        d = put_bulk(d, argv[i], lens[i]);
    b->len = (size_t)(d - b->p);
    return 0;
}

/* The one place error text is made: prefixed with the target name, and any
 * occurrence of the password (servers echo arguments sometimes) masked. */
static void fail(const struct redis *r, char *err, size_t errlen, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    tconf_mask(r->password, text, sizeof text);
    snprintf(err, errlen, "%s: %s", r->name, text);
}

/* hiredis says "Resource temporarily unavailable" when a timeout hits. */
static const char *conn_error(const struct redis *r)
{
    if (!r->rc->errstr[0])
        return "connection lost";
    if (r->rc->err == REDIS_ERR_IO && strstr(r->rc->errstr, "temporarily unavailable"))
        return "no reply within 5 s (timeout)";
    return r->rc->errstr;
}

/* Send the formatted batch on the connection's socket ourselves:
 * redisAppendFormattedCommand would first copy it into hiredis's output
 * buffer (~1k instructions per 1.5 KB event).  hiredis then only reads the
 * replies, which is safe while its own output buffer is empty (every
 * command of ours goes out in full before its reply is read); otherwise
 * the batch goes through hiredis.  The socket is blocking with the
 * connection's timeout, as hiredis's own write is. */
static int send_batch(struct redis *r, char *err, size_t errlen)
{
    redisContext *rc = r->rc;
    if (rc->obuf && rc->obuf[0]) {
        if (redisAppendFormattedCommand(rc, r->cmds.p, r->cmds.len) == REDIS_OK)
            return 0;
        fail(r, err, errlen, "cannot queue the batch: out of memory");
        return -1;
    }
    size_t done = 0;
    while (done < r->cmds.len) {
        ssize_t w = send(rc->fd, r->cmds.p + done, r->cmds.len - done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fail(r, err, errlen, "%s:%d: cannot send: %s", r->host, r->port,
                 w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? "no progress within 5 s (timeout)"
                                                                    : strerror(w < 0 ? errno : EPIPE));
            return -1;
        }
        done += (size_t)w;
    }
    return 0;
}

static const char *format_word(int access) { return access ? "access" : "namespace"; }
static const char *type_word(int access) { return access ? "list" : "hash"; }

static void disconnect(struct redis *r)
{
    if (r->rc)
        redisFree(r->rc);
    r->rc = NULL;
}

/* Run one command on the connection; the reply, or NULL with err set (and
 * the connection dropped) when the connection failed. */
static redisReply *command(struct redis *r, int argc, const char **argv, char *err, size_t errlen)
{
    redisReply *rep = redisCommandArgv(r->rc, argc, argv, NULL);
    if (!rep) {
        fail(r, err, errlen, "%s %s:%d: %s", argv[0], r->host, r->port, conn_error(r));
        disconnect(r);
    }
    return rep;
}

/* Connect if not connected: AUTH, CLIENT SETNAME MinIO, TYPE check.
 * 0, or -1 with err set and no connection left. */
static int redis_connect(struct redis *r, char *err, size_t errlen)
{
    if (r->rc)
        return 0;
    struct timeval tv = { REDIS_TIMEOUT_S, 0 };
    r->rc = redisConnectWithTimeout(r->host, r->port, tv);
    if (!r->rc) {
        fail(r, err, errlen, "cannot connect to %s:%d: out of memory", r->host, r->port);
        return -1;
    }
    if (r->rc->err) {
        fail(r, err, errlen, "cannot connect to %s:%d: %s", r->host, r->port, r->rc->errstr);
        disconnect(r);
        return -1;
    }
    if (redisSetTimeout(r->rc, tv) != REDIS_OK) {
        fail(r, err, errlen, "cannot set a timeout on the connection to %s:%d", r->host, r->port);
        disconnect(r);
        return -1;
    }
    redisReply *rep;
    if (*r->password) {
        const char *auth[3] = { "AUTH", *r->user ? r->user : r->password, r->password };
        if (!(rep = command(r, *r->user ? 3 : 2, auth, err, errlen)))
            return -1;
        int ok = rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, "OK");
        if (!ok)
            fail(r, err, errlen, "authentication%s%s at %s:%d failed: %s", *r->user ? " as " : "",
                 r->user, r->host, r->port,
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        freeReplyObject(rep);
        if (!ok) {
            disconnect(r);
            return -1;
        }
    }
    const char *setname[3] = { "CLIENT", "SETNAME", "MinIO" };
    if (!(rep = command(r, 3, setname, err, errlen)))
        return -1;
    int ok = rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, "OK");
    if (!ok && rep->type == REDIS_REPLY_ERROR && !strncmp(rep->str, "NOAUTH", 6))
        fail(r, err, errlen, "%s:%d requires a password (key 'password'): %s", r->host, r->port,
             rep->str);
    else if (!ok)
        fail(r, err, errlen, "CLIENT SETNAME at %s:%d failed: %s", r->host, r->port,
             rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    freeReplyObject(rep);
    if (!ok) {
        disconnect(r);
        return -1;
    }
    /* MinIO checks the key's type once at init; we do it on every connect
     * so an operator's fix is picked up by the next reconnect. */
    const char *type[2] = { "TYPE", r->key };
    if (!(rep = command(r, 2, type, err, errlen)))
        return -1;
    if (rep->type != REDIS_REPLY_STATUS) {
        fail(r, err, errlen, "TYPE %s at %s:%d failed: %s", r->key, r->host, r->port,
             rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        ok = 0;
    } else {
        ok = !strcmp(rep->str, "none") || !strcmp(rep->str, type_word(r->access));
        if (!ok)
            fail(r, err, errlen, "key '%s' holds a %s, expected a %s for format %s", r->key,
                 rep->str, type_word(r->access), format_word(r->access));
    }
    freeReplyObject(rep);
    if (!ok) {
        disconnect(r);
        return -1;
    }
    r->last_used_ms = (long long)clock_mono_ms();
    return 0;
}

static int ping(struct redis *r)
{
    redisReply *rep = redisCommand(r->rc, "PING");
    int ok = rep && rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, "PONG");
    if (rep)
        freeReplyObject(rep);
    if (!ok)
        disconnect(r);
    return ok ? 0 : -1;
}

/* A connection is checked with PING when it sat idle (redigo's TestOnBorrow
 * in MinIO pings on every borrow), so a server restart costs no batch. */
static int redis_ready(struct redis *r, char *err, size_t errlen)
{
    if (r->rc && (long long)clock_mono_ms() - r->last_used_ms > REDIS_IDLE_PING_MS)
        ping(r);
    return redis_connect(r, err, errlen);
}

static int redis_validate(const struct target_conf *c, char *err, size_t errlen)
{
    int access;
    return tconf_access_format(c, &access, err, errlen);
}

static void redis_close(void *ctx)
{
    struct redis *r = ctx;
    if (!r)
        return;
    disconnect(r);
    free(r->name);
    free(r->host);
    buf_free(&r->cmds);
    buf_free(&r->hset);
    buf_free(&r->hdel);
    buf_free(&r->rpush);
    free(r->key);
    free(r->user);
    free(r->password);
    free(r);
}

static void *redis_open(const struct target_conf *c, char *err, size_t errlen)
{
    if (redis_validate(c, err, errlen))
        return NULL;
    struct redis *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        return NULL;
    }
    const char *addr = tconf_str(c, "address");
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || !colon[1]) {
        snprintf(err, errlen, "%s: key 'address' must be host:port, not '%s'", tconf_name(c), addr);
        free(r);
        return NULL;
    }
    const char *h = addr;
    size_t hlen = (size_t)(colon - addr);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') /* [::1]:6379 */
        h++, hlen -= 2;
    r->name = strdup(tconf_name(c));
    r->host = strndup(h, hlen);
    r->port = atoi(colon + 1);
    r->key = strdup(tconf_str(c, "key"));
    r->user = strdup(tconf_str(c, "user"));
    r->password = strdup(tconf_str(c, "password"));
    r->access = !strcasecmp(tconf_str(c, "format"), "access");
    if (!r->name || !r->host || !r->key || !r->user || !r->password ||
        resp_head(&r->hset, 4, "HSET", r->key) || resp_head(&r->hdel, 3, "HDEL", r->key) ||
        resp_head(&r->rpush, 3, "RPUSH", r->key)) {
        snprintf(err, errlen, "%s: out of memory", tconf_name(c));
        redis_close(r);
        return NULL;
    }
    return r;
}

/* The hash field of a namespace message: opts.key when the script gave one,
 * else bucket/object.  NULL + error when the opts are unusable. */
static const char *field_of(struct msg *m, cJSON **opts)
{
    *opts = NULL;
    if (!m->opts)
        return m->key;
    *opts = cJSON_Parse(m->opts);
    if (!cJSON_IsObject(*opts)) {
        snprintf(m->error, sizeof m->error, "opts is not a JSON object");
        return NULL;
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(*opts, "key");
    if (!k)
        return m->key;
    if (!cJSON_IsString(k)) {
        snprintf(m->error, sizeof m->error, "opts.key must be a string");
        return NULL;
    }
    /* send() made opts.key the record's key, whole: valuestring ends at a
     * NUL in it, where the record's key goes on */
    return m->key && !strcmp(m->key, k->valuestring) ? m->key : k->valuestring;
}

/* Errors that say the server, not this command, is unwell: retry later. */
static int transient_error(const char *e)
{
    static const char *const words[] = { "LOADING", "BUSY", "OOM", "READONLY", "MASTERDOWN",
                                         "MISCONF", "TRYAGAIN", "CLUSTERDOWN", "NOAUTH",
                                         "NOPERM", "NOREPLICAS", NULL };
    for (int i = 0; words[i]; i++) {
        size_t n = strlen(words[i]);
        if (!strncmp(e, words[i], n) && (e[n] == ' ' || !e[n]))
            return 1;
    }
    return 0;
}

/* Pipeline the batch, then read one reply per command in order.  From the
 * first reply we cannot have (connection lost, timeout, a server-wide error,
 * WRONGTYPE) every later message is RETRY and the connection is dropped:
 * the reconnect's TYPE check then tells the operator what to fix. */
static int redis_send(void *ctx, struct msg *msgs, size_t n)
{
    struct redis *r = ctx;
    char err[256];
    size_t i, failed_at = n;
    if (redis_ready(r, err, sizeof err)) {
        for (i = 0; i < n; i++) {
            msgs[i].status = MSG_RETRY;
            snprintf(msgs[i].error, sizeof msgs[i].error, "%s", err);
        }
        return -1;
    }
    err[0] = 0;
    r->cmds.len = 0;
    size_t queued = 0; /* messages 0..queued-1 went into the pipeline or were rejected */
    for (i = 0; i < n; i++, queued++) {
        struct msg *m = &msgs[i];
        cJSON *opts;
        const char *argv[2];
        size_t lens[2];
        const struct buf *head;
        int argc;
        m->status = MSG_PENDING;
        m->error[0] = 0;
        if (r->access) {
            head = &r->rpush;
            argv[0] = m->payload, lens[0] = m->payload_len;
            argc = 1;
            opts = NULL;
        } else {
            const char *field = field_of(m, &opts);
            if (!field) {
                m->status = MSG_REJECT;
                cJSON_Delete(opts);
                continue;
            }
            int del = m->op == OP_DELETE;
            head = del ? &r->hdel : &r->hset;
            argv[0] = field, lens[0] = field == m->key ? msg_key_len(m) : strlen(field);
            argv[1] = m->payload, lens[1] = m->payload_len;
            argc = del ? 1 : 2;
        }
        int rc = resp_command(&r->cmds, head, argc, argv, lens);
        cJSON_Delete(opts);
        if (rc) {
            fail(r, err, sizeof err, "cannot queue a command: out of memory");
            break;
        }
    }
    if (r->cmds.len && send_batch(r, err, sizeof err))
        queued = 0;
    for (i = 0; i < queued && failed_at == n; i++) {
        struct msg *m = &msgs[i];
        if (m->status == MSG_REJECT)
            continue;
        void *v = NULL;
        if (redisGetReply(r->rc, &v) != REDIS_OK || !v) {
            fail(r, err, sizeof err, "%s:%d: %s", r->host, r->port, conn_error(r));
            failed_at = i;
            break;
        }
        redisReply *rep = v;
        if (rep->type == REDIS_REPLY_INTEGER) {
            m->status = MSG_OK;
        } else if (rep->type == REDIS_REPLY_ERROR && !strncmp(rep->str, "WRONGTYPE", 9)) {
            fail(r, err, sizeof err, "key '%s' is no longer a %s (format %s): %s", r->key,
                 type_word(r->access), format_word(r->access), rep->str);
            failed_at = i;
        } else if (rep->type == REDIS_REPLY_ERROR && transient_error(rep->str)) {
            fail(r, err, sizeof err, "%s:%d: %s", r->host, r->port, rep->str);
            failed_at = i;
        } else if (rep->type == REDIS_REPLY_ERROR) {
            m->status = MSG_REJECT;
            fail(r, m->error, sizeof m->error, "%s", rep->str);
        } else {
            fail(r, err, sizeof err, "%s:%d: unexpected reply type %d", r->host, r->port,
                 rep->type);
            failed_at = i;
        }
        freeReplyObject(rep);
    }
    if (failed_at == n && queued < n)
        failed_at = queued;
    if (failed_at == n) {
        r->last_used_ms = (long long)clock_mono_ms();
        return 0;
    }
    disconnect(r); /* unread replies would be taken for the next batch's */
    for (i = failed_at; i < n; i++) {
        msgs[i].status = MSG_RETRY;
        snprintf(msgs[i].error, sizeof msgs[i].error, "%s", err);
    }
    return -1;
}

static int redis_health(void *ctx, char *err, size_t errlen)
{
    struct redis *r = ctx;
    if (r->rc && !ping(r))
        return r->last_used_ms = (long long)clock_mono_ms(), 0;
    if (redis_connect(r, err, errlen))
        return -1;
    const char *argv[1] = { "PING" };
    redisReply *rep = command(r, 1, argv, err, errlen);
    if (!rep)
        return -1;
    int ok = rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, "PONG");
    if (!ok)
        fail(r, err, errlen, "PING %s:%d: %s", r->host, r->port,
             rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    freeReplyObject(rep);
    if (!ok) {
        disconnect(r);
        return -1;
    }
    r->last_used_ms = (long long)clock_mono_ms();
    return 0;
}

/* check --connect: PING with the credentials, then TYPE of the key (the
 * first delivery creates an absent one; another type fails every HSET). */
static int redis_probe(void *ctx, struct probe_result *p)
{
    struct redis *r = ctx;
    if (redis_health(r, p->error, sizeof p->error)) { /* its connect checks the key's type too */
        int down = strstr(p->error, "cannot connect") != NULL, wrongtype = strstr(p->error, "holds a") != NULL;
        p->reachable = down ? PROBE_NO : PROBE_YES;
        p->authenticated = down ? PROBE_UNCHECKED : wrongtype ? PROBE_YES : PROBE_NO;
        p->destination = wrongtype ? PROBE_NO : PROBE_UNCHECKED;
        snprintf(p->dest, sizeof p->dest, "key \"%s\"", r->key);
        return -1;
    }
    p->reachable = p->authenticated = PROBE_YES;
    const char *want = r->access ? "list" : "hash";
    snprintf(p->dest, sizeof p->dest, "key \"%s\" (a %s)", r->key, want);
    const char *argv[2] = { "TYPE", r->key };
    redisReply *rep = command(r, 2, argv, p->error, sizeof p->error);
    if (!rep)
        return -1;
    const char *got = rep->type == REDIS_REPLY_STATUS ? rep->str : "?";
    p->destination = !strcmp(got, "none") ? PROBE_CREATED : !strcmp(got, want) ? PROBE_YES : PROBE_NO;
    if (p->destination == PROBE_NO)
        snprintf(p->error, sizeof p->error, "key %s holds a %s, not a %s: every delivery would fail",
                 r->key, got, want);
    freeReplyObject(rep);
    return p->destination == PROBE_NO ? -1 : 0;
}

static const struct key_spec redis_keys[] = {
    { "address", KEY_HOSTPORT, NULL, KEY_REQUIRED, NULL, "Redis server's address, host:port (plain TCP)" },
    { "key", KEY_STR, NULL, KEY_REQUIRED, NULL, "Redis key that holds the events: a hash (namespace) or a list (access)" },
    { "format", KEY_STR, "namespace", 0, NULL, "'namespace' (hash of bucket/object) or 'access' (list of events)" },
    { "password", KEY_STR, NULL, KEY_SECRET, NULL, "Redis server password (AUTH)" },
    { "user", KEY_STR, NULL, 0, NULL, "Redis ACL user name, used with password" },
    { 0 }
};

/* What send(target, payload, opts) may set for this kind, beyond key and op. */
static const struct send_opt redis_send_opts[] = {
    { 0 },
};

const struct driver redis_driver = {
    .kind = "redis",
    .keys = redis_keys,
    .shape = { SHAPE_RECORDS, SHAPE_REDIS_ACCESS },
    .max_batch = 256,
    .send_opts = redis_send_opts,
    .validate = redis_validate,
    .open = redis_open,
    .send = redis_send,
    .health = redis_health,
    .close = redis_close,
    .probe = redis_probe,
};
