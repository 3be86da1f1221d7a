/* driver.h -- the one interface every delivery target implements.
 *
 * A driver is one file in targets/ that ends with its key table and a
 * `const struct driver <kind>_driver`.  The gateway, the Lua modules
 * (`require "luagate.<kind>"`), `luagate --help-target` and the docs all
 * work from that struct and the list of kinds (src/kinds.h), so adding a
 * target is its file, one line in src/kinds.h, and its tests.
 *
 * Threading: each target instance gets its own delivery thread; a driver
 * context is only ever used by one thread at a time, so drivers need no
 * locking of their own.  All calls may block, but must time out (a few
 * seconds) rather than hang forever. */
#ifndef LUAGATE_DRIVER_H
#define LUAGATE_DRIVER_H

#include <stddef.h>
#include <stdint.h>

enum key_type {
    KEY_STR,      /* any string */
    KEY_BOOL,     /* on/off/true/false/1/0 (+ enable/disable for "enable") */
    KEY_INT,      /* signed decimal integer */
    KEY_UINT,     /* unsigned decimal integer */
    KEY_DURATION, /* Go duration: 500ms, 10s, 1m30s; a bare number means seconds */
    KEY_URL,      /* scheme://host[:port][/path] */
    KEY_HOSTPORT, /* host:port */
    KEY_CSV,      /* comma separated list of strings */
    KEY_PATH,     /* file system path */
};

enum key_flags {
    KEY_REQUIRED = 1 << 0, /* refused at start when empty */
    KEY_SECRET   = 1 << 1, /* never printed: logs, /health, check, errors */
    KEY_ENV_ONLY = 1 << 2, /* MinIO reads it from the environment only */
    KEY_HIDDEN   = 1 << 3, /* accepted but not listed in --help-target */
};

struct key_spec {
    const char *name;  /* config key, MinIO's spelling: "brokers" */
    enum key_type type;
    const char *def;   /* default as text, NULL for "" */
    unsigned flags;    /* enum key_flags */
    const char *env;   /* env suffix when it is not upper(name), else NULL */
    const char *help;  /* one line for --help-target and the docs */
};

/* An option a script may pass to send(target, payload, opts) for a kind:
 * checked at route time, so a misspelt or mistyped option is a script
 * error with file:line (in `luagate check` and luagate.testing too)
 * instead of a message the target silently delivers another way. */
enum send_opt_type {
    SOPT_STRING,  /* a string of min..max bytes */
    SOPT_INTEGER, /* an integer in min..max */
    SOPT_BOOLEAN, /* true or false */
    SOPT_HEADERS, /* a table of string names (min..max bytes) to string values */
};

struct send_opt {
    const char *name; /* "topic" */
    enum send_opt_type type;
    long long min, max; /* bytes for strings and header names, the value for integers */
    const char *help;   /* one line for --help-target and the docs */
};

/* One configured target: its kind, id and the merged key/values (file,
 * then environment; defaults applied).  Read it with the tconf_* getters. */
struct target_conf;

const char *tconf_name(const struct target_conf *c);  /* "kafka:PRIMARY" */
const char *tconf_id(const struct target_conf *c);    /* "PRIMARY" */
const char *tconf_str(const struct target_conf *c, const char *key); /* never NULL */
int tconf_bool(const struct target_conf *c, const char *key);        /* 0/1 */
long long tconf_int(const struct target_conf *c, const char *key);
long long tconf_ms(const struct target_conf *c, const char *key);    /* durations */
int tconf_isset(const struct target_conf *c, const char *key);       /* non-empty */
/* Replace secret (3 bytes or more), and the shapes it is sent in, by "***"
 * in text: for a driver's own error texts, before they leave it. */
void tconf_mask(const char *secret, char *text, size_t size);
/* Key 'format' of the drivers that write MinIO's namespace or access
 * formats: 0 with *access set, or -1 with the error in err. */
int tconf_access_format(const struct target_conf *c, int *access, char *err, size_t errlen);

enum msg_op { OP_UPSERT = 0, OP_DELETE = 1 };
enum msg_status { MSG_PENDING = 0, MSG_OK, MSG_RETRY, MSG_REJECT };

/* One queued message as handed to a driver.  Strings are NUL-terminated
 * and owned by the caller; they stay valid for the duration of send(). */
struct msg {
    const char *payload;    /* bytes to deliver (envelope, Records-only, or script's) */
    size_t payload_len;
    const char *event_name; /* "s3:ObjectCreated:Put" ("" if unknown) */
    const char *key;        /* "bucket/object", object unescaped ("" if unknown) */
    size_t key_len;         /* its bytes: an object name with %00 holds a NUL (0: strlen) */
    const char *event_time; /* record eventTime "2026-11-21T08:00:02.653Z" or "" */
    const char *opts;       /* the script's opts as a JSON object text, or NULL */
    enum msg_op op;         /* namespace formats: upsert or delete */
    /* out, set by send() for each message: */
    enum msg_status status;
    char error[640];        /* why, for MSG_RETRY / MSG_REJECT: room for 512 bytes of an answer */
};

/* Bytes of m->key, NULs included. */
size_t msg_key_len(const struct msg *m);
/* Bucket name of a message: the part of key before the first '/'. */
size_t msg_bucket(const struct msg *m, const char **start);

/* The payload a target is sent when the script sends the event itself:
 * what MinIO sends that kind. */
enum shape {
    SHAPE_ENVELOPE,     /* {"EventName","Key","Records":[r]}: webhook, amqp, kafka... */
    SHAPE_RECORDS,      /* {"Records":[r]}: mysql, postgres, redis namespace */
    SHAPE_RECORDS_NL,   /* {"Records":[r]}\n: elasticsearch */
    SHAPE_REDIS_ACCESS, /* [{"Event":[r],"EventTime":"t"}] */
};

#define DRIVER_MINIO_PREFIX "MINIO_NOTIFY_"


/* What `luagate check --connect` learns of a target (driver.probe). */
enum probe_answer { PROBE_NO = 0, PROBE_YES = 1, PROBE_CREATED = 2, PROBE_UNCHECKED = -1 };
struct probe_result {
    int reachable;      /* PROBE_YES/NO: the server answered */
    int authenticated;  /* PROBE_YES/NO/UNCHECKED: the credentials were accepted */
    int destination;    /* YES exists, NO missing, CREATED absent but made on delivery, UNCHECKED */
    char dest[256];     /* the destination checked: "exchange \"minio\"", "table events" */
    char error[640];    /* why, for a NO */
};

struct driver {
    const char *kind;     /* its line in src/kinds.h: "postgres" */
    const struct key_spec *keys; /* terminated by { 0 } */
    /* Variables are <env_prefix><KIND>_<KEY>; NULL: MinIO's "MINIO_NOTIFY_". */
    const char *env_prefix;
    /* For a kind MinIO does not have: one sentence for the docs. */
    const char *about;
    /* The event's payload shape: [0] for format namespace (or no format
     * key), [1] for format access.  Zero: SHAPE_ENVELOPE. */
    enum shape shape[2];
    size_t max_batch;     /* most messages one send() takes */
    const struct send_opt *send_opts; /* send() options it reads beyond key/op; ends with { 0 } */

    /* Cross-key checks beyond the key table (pairs, schemes, ranges).
     * 0 = fine; else -1 with one line in err naming the key.  May be NULL. */
    int (*validate)(const struct target_conf *c, char *err, size_t errlen);
    /* Build a context.  Must not need the server to be up: connect lazily
     * or fail in send()/health().  NULL + err on a configuration error. */
    void *(*open)(const struct target_conf *c, char *err, size_t errlen);
    /* Deliver msgs[0..n-1] in order and set each status: MSG_OK once the
     * server confirmed it, MSG_RETRY for transient failure (down, timeout),
     * MSG_REJECT for a permanent refusal of that one message.  Returns 0,
     * or -1 when the target is unreachable (every non-OK message RETRY). */
    int (*send)(void *ctx, struct msg *msgs, size_t n);
    /* 0 when the target answers (ping), else -1 with the reason in err. */
    int (*health)(void *ctx, char *err, size_t errlen);
    void (*close)(void *ctx);
    /* Connect with the target's credentials and look for its destination,
     * sending nothing; fill r.  0 when all is well, else -1.  May be NULL:
     * health() answers for reachable and authenticated. */
    int (*probe)(void *ctx, struct probe_result *r);
};

/* The registry (src/drivers.c, from src/kinds.h). */
const struct driver *driver_find(const char *kind);
/* Every kind, in src/kinds.h's order; entry NULL drv if not built. */
struct kind_info {
    const char *kind, *arn_kind, *env_kind;
    const struct driver *drv;
};
const struct kind_info *driver_kinds(size_t *n);
const struct kind_info *driver_kind(const char *kind); /* NULL if unknown */
/* "MINIO_NOTIFY_", or the driver's own prefix ("LUAGATE_NOTIFY_"). */
const char *driver_env_prefix(const struct kind_info *k);
int driver_is_minio(const struct kind_info *k); /* configured like MinIO's notify_<kind> */
/* The variable of key s ("MINIO_NOTIFY_KAFKA_BROKERS"); s NULL: the
 * kind's prefix ("MINIO_NOTIFY_KAFKA_"). */
void driver_env_name(const struct kind_info *k, const struct key_spec *s, char *out, size_t len);
/* The payload shape for a target of driver d (NULL: not built) and format. */
enum shape driver_shape(const struct driver *d, const char *format);

#endif
