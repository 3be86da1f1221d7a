/* config.h -- the gateway's settings: a Lua config file and MinIO's
 * MINIO_NOTIFY_* environment (env wins per key), validated at start. */
#ifndef LUAGATE_CONFIG_H
#define LUAGATE_CONFIG_H

#include <stddef.h>
#include "buckets.h"
#include "targetconf.h"

#define INGEST_WORKERS_MAX 16

struct gw_config {
    char *file;               /* the config file read, or NULL */
    char *listen;             /* host:port */
    char *auth_token;
    char *queue_dir;
    char *script;             /* NULL: the built-in MinIO router */
    size_t body_limit;        /* bytes */
    unsigned commit_window_us;
    long long shutdown_ms;    /* SIGTERM: longest wait for in-flight requests */
    long long script_timeout_ms; /* one event routing longer: the supervisor kills the worker */
    int log_json;
    size_t script_memory;     /* bytes per Lua state */
    unsigned long script_instructions;
    char *script_env;         /* names os.getenv may read in a script, comma separated */
    unsigned ingest_workers;  /* event loops serving the listener, each with its own Lua state */
    char *tls_cert;           /* PEM certificate chain: the ingest speaks HTTPS; NULL: plain HTTP */
    char *tls_key;            /* PEM private key of tls_cert */
    char *tls_client_ca;      /* PEM CA certificates: clients must present a certificate they signed */
    char *admin_listen;       /* host:port of the admin listener (admin.h); NULL: none */
    char *admin_token;        /* Bearer token the admin listener requires; NULL: none */
    char *admin_tls_cert, *admin_tls_key; /* the admin listener speaks HTTPS; NULL: plain HTTP */
    struct target_conf **targets; /* enabled targets, sorted by name */
    size_t ntargets;
    struct bucket_set buckets;    /* bucket notification rules (`buckets` key) */
};

/* Load path (NULL: ./luagate.conf.lua if it exists) and the environment.
 * -1 with one line naming the target, key and value on any problem. */
int config_load(struct gw_config *c, const char *path, char *err, size_t errlen);
void config_free(struct gw_config *c);

/* "arn:minio:sqs::<ID>:<kind>" of a target. */
void config_arn(const struct target_conf *t, char *out, size_t len);
/* The header value MinIO sends for an auth_token, or NULL for none:
 * one word -> "Bearer <token>", two words -> the value as is. */
char *config_auth_header(const char *token);

#endif
