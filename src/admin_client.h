/* admin_client.h -- how a command (`tap`, `top`, `dlq`) reaches a running
 * gateway's admin listener: the address rule, the token, TLS, and GETs
 * through libcurl. */
#ifndef LUAGATE_ADMIN_CLIENT_H
#define LUAGATE_ADMIN_CLIENT_H

#include <stddef.h>

struct admin_client {
    char base[320];    /* http://host:port or https://host:port */
    char token[512];   /* "" : none */
    char cacert[1024]; /* CA file for https ("" : the system's) */
    int insecure;      /* --insecure: do not verify the certificate */
};

/* Find the admin listener: `--admin HOST:PORT` (flag, or a URL), else
 * LUAGATE_ADMIN_LISTEN, else the admin_listen of the config file
 * (config_path, or ./luagate.conf.lua when it exists).  A wildcard host
 * (0.0.0.0, ::, empty) becomes loopback.  The token is LUAGATE_ADMIN_TOKEN,
 * else the config's admin_token; with the config's admin_tls_cert the
 * scheme is https and that certificate is the CA.  -1 with err when no
 * admin listener is configured anywhere. */
int admin_client_init(struct admin_client *ac, const char *flag, const char *config_path, char *err,
                      size_t errlen);

/* GET path (with its query): the body goes to on_data as it arrives (a
 * non-zero return stops).  The HTTP status, or -1 with err on a transport
 * error.  timeout_s 0: none (a stream). */
int admin_client_get(const struct admin_client *ac, const char *path, long timeout_s,
                     int (*on_data)(const char *p, size_t n, void *arg), void *arg, char *err, size_t errlen);

#endif
