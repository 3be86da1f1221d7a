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
    int log_level;            /* enum log_level: least severe level logged */
    int script_watch;         /* reload the script when its files change */
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

/* The gateway's own settings, in one table (config.c): its type says how
 * a value is checked and where in struct gw_config it is stored. */
enum config_type {
    CONF_STR,        /* char *: any text */
    CONF_FILE,       /* char *: a path, "" for none (NULL) */
    CONF_OPT_STR,    /* char *: any text, "" for none (NULL) */
    CONF_SIZE,       /* size_t: an integer from min (to max unless 0) */
    CONF_ULONG,      /* unsigned long: likewise */
    CONF_UINT,       /* unsigned: likewise */
    CONF_DURATION,   /* long long ms: a duration from min to max ms */
    CONF_WINDOW,     /* unsigned us: "500us" or a duration, up to 1s */
    CONF_LOG_FORMAT, /* int log_json: text or json */
    CONF_LOG_LEVEL,  /* int log_level: debug, info, warn or error */
    CONF_BOOL,       /* int: on/off, true/false, 1/0 */
    CONF_ENV_NAMES,  /* char *: environment variable names, comma separated, no secrets */
};

struct config_key {
    const char *name;    /* in the config file */
    enum config_type type;
    size_t offset;       /* of its field in struct gw_config */
    const char *def;     /* as text */
    const char *env;     /* LUAGATE_... */
    const char *help;    /* one line for the docs */
    long long min, max;  /* CONF_SIZE, CONF_ULONG, CONF_UINT, CONF_DURATION */
    const char *must;    /* the error's "must be ..." */
};
extern const struct config_key config_keys[]; /* terminated by { NULL } */

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
