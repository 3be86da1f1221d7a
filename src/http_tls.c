/* http_tls.c -- TLS for the ingest server (tls_cert + tls_key).
 *
 * The listener then speaks HTTPS only.  OpenSSL runs on the same
 * non-blocking socket: the handshake is driven by the read and write events
 * before the first request, under the head timeout; afterwards reads and
 * writes go through SSL_read/SSL_write, which map "want read/write" to
 * EAGAIN, so every rule of http.c (keep-alive, pipelining, 100-continue,
 * early 413, timeouts, the cap) is the same code for both.  Plain
 * connections keep their own read/write callbacks; they pay one test of
 * c->ssl per send and per conn_drive.
 * OpenSSL reads ahead: bytes it holds do not make the socket readable, so
 * a connection with such bytes is woken by hand whenever room is made in
 * its input buffer (tls_kick).  A plain HTTP request to the TLS port gets
 * a plain 400 naming the problem.  SIGHUP reloads the certificate and key
 * (new connections use them; a failed reload keeps the old ones). */
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <sys/socket.h>
#include "http_conn.h"
#include "log.h"

/* SSL_read into buf until OpenSSL wants more from the socket or buf is
 * full: recv()'s contract (bytes, 0 at the client's end, -1 with errno). */
ssize_t tls_recv(struct conn *c, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        int n = SSL_read(c->ssl, buf + got, len - got > INT_MAX ? INT_MAX : (int)(len - got));
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ)
            break;
        if (e == SSL_ERROR_WANT_WRITE) { /* e.g. the answer to a key update */
            c->tls_rww = 1;
            if (!c->wpending) {
                event_add(c->wev, NULL);
                c->wpending = 1;
            }
            break;
        }
        if (got) { /* deliver these bytes first, then come back for the end */
            event_active(c->rev, EV_READ, 0);
            break;
        }
        if (e == SSL_ERROR_ZERO_RETURN) /* close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
            return 0;
        c->tls_ok = 0;
        ERR_clear_error();
        errno = ECONNRESET;
        return -1;
    }
    if (got)
        return (ssize_t)got;
    errno = EAGAIN;
    return -1;
}

/* send()'s contract.  Partial writes are on, and the buffer may move
 * between retries (c->out can grow while a 100 Continue waits). */
ssize_t tls_send(struct conn *c, const char *p, size_t n)
{
    int r = SSL_write(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
    if (r > 0)
        return r;
    if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    c->tls_ok = 0; /* renegotiation is off: WANT_READ here is an error too */
    ERR_clear_error();
    errno = EPIPE;
    return -1;
}

/* Send one close_notify (best effort, never waits). */
void tls_close_notify(struct conn *c)
{
    if (c->tls_ok) {
        c->tls_ok = 0;
        SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
}

/* Room was made in the input buffer: if OpenSSL holds bytes already read
 * from the socket, the socket will not say so; read them now. */
void tls_kick(struct conn *c)
{
    if (!c->rpaused && !c->hs && c->in_len < IN_CAP && SSL_has_pending(c->ssl))
        event_active(c->rev, EV_READ, 0);
}

/* A plain HTTP request on the TLS port: answer it in plain HTTP, so the
 * client sees why instead of a reset, then close as after any error. */
static void tls_refuse_plain(struct conn *c)
{
#define PLAIN_LEN 83
#define PLAIN_BODY "{\"error\":\"this port speaks HTTPS only: plain HTTP request refused (use https://)\"}\n"
#define STR_(x) #x
#define STR(x) STR_(x)
    static const char resp[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                               "Connection: close\r\nContent-Length: " STR(PLAIN_LEN) "\r\n\r\n" PLAIN_BODY;
    _Static_assert(sizeof PLAIN_BODY - 1 == PLAIN_LEN, "Content-Length of the plain HTTP refusal");
    c->hs = 0;
    c->tls_ok = 0;
    if (c->wpending) {
        event_del(c->wev);
        c->wpending = 0;
    }
    count_code(c->w->gw, 400);
    ssize_t n = send(c->fd, resp, sizeof resp - 1, MSG_NOSIGNAL); /* small: fits the socket buffer */
    (void)n;
    c->phase = P_LINGER; /* drain what the client still sends, then close */
    shutdown(c->fd, SHUT_WR);
    c->deadline = c->w->now + LINGER_TIMEOUT_S;
}

/* Drive the handshake.  1 done, 0 waiting for the socket, -1 c was closed
 * (or refused and lingering: the caller must not read). */
int tls_handshake(struct conn *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->hs = 0;
        c->tls_ok = 1;
        if (c->wpending) {
            event_del(c->wev);
            c->wpending = 0;
        }
        c->deadline = c->w->now + IDLE_TIMEOUT_S;
        return 1;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        if (e == SSL_ERROR_WANT_WRITE && !c->wpending) {
            event_add(c->wev, NULL);
            c->wpending = 1;
        } else if (e == SSL_ERROR_WANT_READ && c->wpending) {
            event_del(c->wev);
            c->wpending = 0;
        }
        return 0;
    }
    unsigned long le = ERR_peek_error();
    if (ERR_GET_LIB(le) == ERR_LIB_SSL && ERR_GET_REASON(le) == SSL_R_HTTP_REQUEST) {
        ERR_clear_error();
        log_once(LOG_WARN, "http", "plain HTTP request on the TLS listener refused with 400 (the client "
                 "must use https://)");
        tls_refuse_plain(c);
        return -1;
    }
    if (le) { /* a silent close or reset (port probes) is not worth a line */
        char why[256];
        ERR_error_string_n(le, why, sizeof why);
        log_once(LOG_WARN, "http", "TLS handshake with a client failed: %s", why);
    }
    ERR_clear_error();
    conn_close(c);
    return -1;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0; /* an encrypted key fails to load instead of prompting */
}

static void tls_error(char *err, size_t errlen, const char *fmt, const char *path)
{
    char why[256] = "";
    unsigned long le = ERR_peek_error(); /* the first: the most specific */
    if (le)
        ERR_error_string_n(le, why, sizeof why);
    char what[1024];
    snprintf(what, sizeof what, fmt, path);
    snprintf(err, errlen, "%s%s%s", what, *why ? ": " : "", why);
    ERR_clear_error();
}

/* The server's TLS context from the configured files, or NULL with err. */
SSL_CTX *tls_context(const struct gw_config *cfg, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        tls_error(err, errlen, "cannot create a TLS context%s", "");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"luagate", 7);
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
        tls_error(err, errlen, "tls_cert: cannot load a PEM certificate from %s", cfg->tls_cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 &&
        ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
        tls_error(err, errlen, "tls_key: cannot load a PEM private key (unencrypted) from %s", cfg->tls_key);
        goto fail;
    }
    if (ERR_peek_last_error() || SSL_CTX_check_private_key(ctx) != 1) {
        char what[512];
        snprintf(what, sizeof what, "tls_key: %%s is not the private key of the certificate in %s",
                 cfg->tls_cert);
        tls_error(err, errlen, what, cfg->tls_key);
        goto fail;
    }
    if (cfg->tls_client_ca) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->tls_client_ca);
        if (!names || SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca, NULL) != 1) {
            if (names)
                sk_X509_NAME_pop_free(names, X509_NAME_free);
            tls_error(err, errlen, "tls_client_ca: cannot load PEM CA certificates from %s",
                      cfg->tls_client_ca);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* SIGHUP (beside main's script reload), on the main loop: read the
 * certificate and key again, e.g. after a renewal, and hand the context to
 * every worker (each swaps it in on its own thread; OpenSSL counts the
 * references, and open connections keep the context they started with). */
void tls_on_hup(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gateway *gw = arg;
    char err[1024];
    SSL_CTX *ctx = tls_context(&gw->cfg, err, sizeof err);
    if (!ctx) {
        log_error("http", "TLS reload failed, keeping the previous certificate: %s", err);
        return;
    }
    for (size_t i = 0; i < gw->http.nworkers; i++)
        if (SSL_CTX_up_ref(ctx))
            http_worker_give(&gw->http.workers[i], NULL, ctx);
    SSL_CTX_free(ctx); /* the workers hold theirs */
    log_info("http", "TLS certificate reloaded from %s", gw->cfg.tls_cert);
}
