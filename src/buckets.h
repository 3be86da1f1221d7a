/* buckets.h -- MinIO's bucket notification rules (a bucket's
 * NotificationConfiguration): which events of which objects of a bucket go
 * to which target.  Parsed from the `buckets` key of the config file or
 * built by `luagate import`, validated as MinIO validates
 * PutBucketNotification (reference/minio-notify.md §2.2), handed to the
 * router as the Lua table luagate.buckets.  The matching itself is
 * lua/luagate/rules.lua, the one implementation scripts and the built-in
 * router share. */
#ifndef LUAGATE_BUCKETS_H
#define LUAGATE_BUCKETS_H

#include <lua.h>
#include <stddef.h>

struct target_conf;

struct bucket_rule {
    char *bucket;
    int index;        /* 1-based position among its bucket's rules */
    char *id;         /* the configuration's Id, "" when none */
    char *arn;        /* as written: "arn:minio:sqs:<region>:<id>:<type>" or "<kind>:<id>" */
    char *target;     /* "<kind>:<id>", set by buckets_validate */
    char **events;    /* as written: names, group wildcards, mc shorthands */
    size_t nevents;
    char *prefix, *suffix; /* NULL: no such filter rule */
    int nprefix, nsuffix;  /* how many were given (more than one is refused) */
    char *bad_filter;      /* a filter rule name other than prefix/suffix, or NULL */
    int unsupported;       /* a Topic or CloudFunction configuration */
    int line;              /* where it was read (import), 0 if unknown */
};

struct bucket_set {
    struct bucket_rule *r;
    size_t n, cap;
    int given; /* a `buckets` table was configured, even an empty one */
    size_t bad; /* after a failed buckets_validate: the rule at fault */
};

/* A new empty rule at the end of bucket's list; NULL when out of memory. */
struct bucket_rule *buckets_add(struct bucket_set *b, const char *bucket);
/* Setters used by the parsers (config file, import): 0, -1 out of memory. */
int buckets_set_str(char **dst, const char *v, size_t n);
int buckets_add_event(struct bucket_rule *r, const char *name, size_t n);
/* A filter rule by name, read case-insensitively (AWS writes Prefix). */
int buckets_add_filter(struct bucket_rule *r, const char *name, const char *value);
void buckets_free(struct bucket_set *b);

/* The `buckets` table of a config file at idx: { bucket = { rule, ... } }
 * where a rule is { arn|target, events, prefix, suffix, id, filter }. */
int buckets_from_lua(struct bucket_set *b, lua_State *L, int idx, char *err, size_t errlen);

/* MinIO's validation of every bucket's rules, in MinIO's order (ARN syntax,
 * events present, known and not repeated, filter names, one prefix and one
 * suffix, no two identical configurations).  -1 with
 * "bucket 'images' rule 2 (id 'x'): <problem>" in err. */
int buckets_validate(struct bucket_set *b, char *err, size_t errlen);
/* Every rule must name a declared target (enabled or not: a disabled
 * target's rules are kept and skipped, as MinIO skips a missing target). */
int buckets_resolve(const struct bucket_set *b, struct target_conf *const *t, size_t nt,
                    char *err, size_t errlen);
/* "bucket 'images' rule 2 (id 'x')" */
void buckets_rule_name(const struct bucket_rule *r, char *out, size_t len);

/* 1 when name is one of MinIO's event names, group wildcards or mc's
 * shorthands (put delete get replica ilm scanner). */
int buckets_event_known(const char *name);

/* Push luagate.buckets: { [bucket] = { {bucket=, index=, id=, arn=,
 * target=, events={...}, prefix=, suffix=}, ... } }, or nil when no
 * `buckets` key was configured. */
void buckets_push(lua_State *L, const struct bucket_set *b);

#endif
