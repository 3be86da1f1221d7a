/* buckets.c -- bucket notification rules: parse, validate as MinIO's
 * PutBucketNotification does (internal/event/config.go), hand to Lua. */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "buckets.h"
#include "driver.h"
#include "targetconf.h"

/* internal/event/name.go: every name ParseName accepts (singles and group
 * wildcards), and mc's shorthands, which luagate's rules accept too. */
static const char *const event_names[] = {
    "s3:ObjectAccessed:*", "s3:ObjectAccessed:Get", "s3:ObjectAccessed:Head",
    "s3:ObjectAccessed:GetRetention", "s3:ObjectAccessed:GetLegalHold", "s3:ObjectAccessed:Attributes",
    "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectCreated:PutRetention",
    "s3:ObjectCreated:PutLegalHold", "s3:ObjectCreated:PutTagging", "s3:ObjectCreated:DeleteTagging",
    "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRemoved:NoOP", "s3:ObjectRemoved:DeleteAllVersions",
    "s3:Replication:*", "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationCompletedReplication", "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed",
    "s3:ObjectTransition:*", "s3:ObjectTransition:Failed", "s3:ObjectTransition:Complete",
    "s3:Scanner:ManyVersions", "s3:Scanner:LargeVersions", "s3:Scanner:BigPrefix",
    "s3:LifecycleDelMarkerExpiration:Delete", "s3:BucketCreated:*", "s3:BucketRemoved:*",
    "put", "delete", "get", "replica", "ilm", "scanner",
};

int buckets_event_known(const char *name)
{
    for (size_t i = 0; i < sizeof event_names / sizeof event_names[0]; i++)
        if (!strcmp(event_names[i], name))
            return 1;
    return 0;
}

/* ---- building ---------------------------------------------------------------------- */

int buckets_set_str(char **dst, const char *v, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return -1;
    memcpy(d, v, n);
    d[n] = 0;
    free(*dst);
    *dst = d;
    return 0;
}

struct bucket_rule *buckets_add(struct bucket_set *b, const char *bucket)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        struct bucket_rule *r = realloc(b->r, cap * sizeof *r);
        if (!r)
            return NULL;
        b->r = r;
        b->cap = cap;
    }
    struct bucket_rule *r = &b->r[b->n];
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(b->r[i].bucket, bucket))
            r->index = b->r[i].index;
    r->index++;
    if (buckets_set_str(&r->bucket, bucket, strlen(bucket)) || buckets_set_str(&r->id, "", 0))
        return free(r->bucket), NULL;
    b->n++;
    return r;
}

int buckets_add_event(struct bucket_rule *r, const char *name, size_t n)
{
    char **v = realloc(r->events, (r->nevents + 1) * sizeof *v);
    if (!v)
        return -1;
    r->events = v;
    v[r->nevents] = NULL;
    if (buckets_set_str(&v[r->nevents], name, n))
        return -1;
    r->nevents++;
    return 0;
}

int buckets_add_filter(struct bucket_rule *r, const char *name, const char *value)
{
    int pre = !strcasecmp(name, "prefix"), suf = !strcasecmp(name, "suffix");
    if (!pre && !suf)
        return r->bad_filter ? 0 : buckets_set_str(&r->bad_filter, name, strlen(name));
    (*(pre ? &r->nprefix : &r->nsuffix))++;
    return buckets_set_str(pre ? &r->prefix : &r->suffix, value, strlen(value));
}

void buckets_free(struct bucket_set *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct bucket_rule *r = &b->r[i];
        for (size_t j = 0; j < r->nevents; j++)
            free(r->events[j]);
        free(r->events);
        free(r->bucket);
        free(r->id);
        free(r->arn);
        free(r->target);
        free(r->prefix);
        free(r->suffix);
        free(r->bad_filter);
    }
    free(b->r);
    memset(b, 0, sizeof *b);
}

void buckets_rule_name(const struct bucket_rule *r, char *out, size_t len)
{
    if (*r->id)
        snprintf(out, len, "bucket '%s' rule %d (id '%s')", r->bucket, r->index, r->id);
    else
        snprintf(out, len, "bucket '%s' rule %d", r->bucket, r->index);
}

/* ---- validation -------------------------------------------------------------------- */

/* The kind a "<kind>:<id>" or ARN names: ARNs carry MinIO's type names
 * (postgresql), luagate's names are its kinds (postgres). */
static const struct kind_info *kind_by(const char *name, size_t n, int arn)
{
    size_t nk;
    const struct kind_info *all = driver_kinds(&nk);
    for (size_t i = 0; i < nk; i++) {
        const char *k = arn ? all[i].arn_kind : all[i].kind;
        if (strlen(k) == n && !strncmp(k, name, n))
            return &all[i];
    }
    return NULL;
}

/* parseARN (internal/event/arn.go): arn:minio:sqs:<region>:<id>:<type>,
 * six ':' tokens, id and type not empty.  Sets r->target. */
static int resolve_arn(struct bucket_rule *r, char *err, size_t errlen)
{
    const char *a = r->arn ? r->arn : "";
    char name[256];
    buckets_rule_name(r, name, sizeof name);
    if (!*a) {
        snprintf(err, errlen, "%s: no 'arn' (the target: \"arn:minio:sqs::<ID>:<kind>\" or \"<kind>:<ID>\")",
                 name);
        return -1;
    }
    if (!strncmp(a, "arn:minio:sns:", 14) || !strncmp(a, "arn:minio:lambda:", 17)) {
        snprintf(err, errlen, "%s: ARN '%s' is a Topic or CloudFunction: MinIO does not support Topic "
                 "or Cloud Function based notifications, only queues (arn:minio:sqs:...)", name, a);
        return -1;
    }
    const char *tok[6] = { 0 };
    int n = 0;
    for (const char *p = a; p && n < 7; n++) {
        if (n < 6)
            tok[n] = p;
        p = strchr(p, ':');
        p = p ? p + 1 : NULL;
    }
    if (!strncmp(a, "arn:", 4)) {
        size_t idlen = tok[5] ? (size_t)(tok[5] - tok[4] - 1) : 0;
        if (strncmp(a, "arn:minio:sqs:", 14) || n != 6 || !idlen || !*tok[5]) {
            snprintf(err, errlen, "%s: invalid ARN '%s' (MinIO's form is arn:minio:sqs:<region>:<ID>:<kind>)",
                     name, a);
            return -1;
        }
        const struct kind_info *k = kind_by(tok[5], strlen(tok[5]), 1);
        if (!k) {
            snprintf(err, errlen, "%s: ARN '%s' not found: '%s' is not a target kind (one of webhook amqp "
                     "kafka mqtt nats nsq mysql postgresql redis elasticsearch)", name, a, tok[5]);
            return -1;
        }
        char t[256];
        snprintf(t, sizeof t, "%s:%.*s", k->kind, (int)idlen, tok[4]);
        return buckets_set_str(&r->target, t, strlen(t));
    }
    const char *colon = strchr(a, ':');
    if (!colon || !colon[1] || strchr(colon + 1, ':') || !kind_by(a, (size_t)(colon - a), 0)) {
        snprintf(err, errlen, "%s: '%s' is neither an ARN (arn:minio:sqs:<region>:<ID>:<kind>) nor a "
                 "target name (<kind>:<ID>, kind one of webhook amqp kafka mqtt nats nsq mysql postgres "
                 "redis elasticsearch file)", name, a);
        return -1;
    }
    return buckets_set_str(&r->target, a, strlen(a));
}

static int check_events(const struct bucket_rule *r, const char *name, char *err, size_t errlen)
{
    if (!r->nevents) {
        snprintf(err, errlen, "%s: missing event name(s)", name);
        return -1;
    }
    for (size_t i = 0; i < r->nevents; i++) {
        for (size_t j = 0; j < i; j++)
            if (!strcmp(r->events[i], r->events[j])) {
                snprintf(err, errlen, "%s: duplicate event name '%s' found (configurations overlap)",
                         name, r->events[i]);
                return -1;
            }
        if (!buckets_event_known(r->events[i])) {
            snprintf(err, errlen, "%s: invalid event name '%s' (not a MinIO event, group wildcard such "
                     "as s3:ObjectCreated:* or put/delete/get/replica/ilm/scanner)", name, r->events[i]);
            return -1;
        }
    }
    return 0;
}

static int check_rule(struct bucket_rule *r, char *err, size_t errlen)
{
    char name[256];
    buckets_rule_name(r, name, sizeof name);
    if (r->unsupported) {
        snprintf(err, errlen, "%s: MinIO does not support Topic or Cloud Function based notifications, "
                 "only queue configurations", name);
        return -1;
    }
    if (resolve_arn(r, err, errlen))
        return -1;
    if (r->bad_filter) {
        snprintf(err, errlen, "%s: invalid filter name '%s': a filter rule name must be either prefix "
                 "or suffix", name, r->bad_filter);
        return -1;
    }
    if (r->nprefix > 1 || r->nsuffix > 1) {
        snprintf(err, errlen, "%s: more than one %s in filter rule", name, r->nprefix > 1 ? "prefix" : "suffix");
        return -1;
    }
    return check_events(r, name, err, errlen);
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* reflect.DeepEqual of two QueueConfigurations: Id, filter, events, ARN. */
static int same_rule(const struct bucket_rule *a, const struct bucket_rule *b)
{
    if (strcmp(a->bucket, b->bucket) || strcmp(a->id, b->id) || strcmp(a->target, b->target) ||
        !same_str(a->prefix, b->prefix) || !same_str(a->suffix, b->suffix) || a->nevents != b->nevents)
        return 0;
    for (size_t i = 0; i < a->nevents; i++)
        if (strcmp(a->events[i], b->events[i]))
            return 0;
    return 1;
}

int buckets_validate(struct bucket_set *b, char *err, size_t errlen)
{
    for (size_t i = 0; i < b->n; i++) {
        if (!*b->r[i].bucket) {
            snprintf(err, errlen, "bucket '': a bucket name is not empty");
            return -1;
        }
        b->bad = i;
        if (check_rule(&b->r[i], err, errlen))
            return -1;
    }
    for (size_t i = 0; i < b->n; i++)
        for (size_t j = 0; j < i; j++)
            if (same_rule(&b->r[i], &b->r[j])) {
                char name[256];
                buckets_rule_name(&b->r[i], name, sizeof name);
                b->bad = i;
                snprintf(err, errlen, "%s: duplicate of rule %d (same id, ARN, events and filter): an "
                         "object key name filtering rule defined with overlapping prefixes, overlapping "
                         "suffixes, or overlapping combinations of prefixes and suffixes for the same "
                         "event types", name, b->r[j].index);
                return -1;
            }
    return 0;
}

int buckets_resolve(const struct bucket_set *b, struct target_conf *const *t, size_t nt, char *err,
                    size_t errlen)
{
    for (size_t i = 0; i < b->n; i++) {
        size_t j = 0;
        while (j < nt && strcmp(t[j]->name, b->r[i].target))
            j++;
        if (j == nt) {
            char name[256];
            buckets_rule_name(&b->r[i], name, sizeof name);
            snprintf(err, errlen, "%s: ARN '%s' not found: no target %s is configured", name, b->r[i].arn,
                     b->r[i].target);
            return -1;
        }
    }
    return 0;
}

/* ---- from the config file ------------------------------------------------------------- */

static int lua_text(lua_State *L, int idx, char **dst, const char *what, const char *name, char *err,
                    size_t errlen)
{
    if (lua_type(L, idx) != LUA_TSTRING && lua_type(L, idx) != LUA_TNUMBER) {
        snprintf(err, errlen, "%s: %s must be a string, not a %s", name, what, luaL_typename(L, idx));
        return -1;
    }
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    return buckets_set_str(dst, s, n);
}

static int rule_events(struct bucket_rule *r, lua_State *L, int idx, const char *name, char *err,
                       size_t errlen)
{
    if (lua_type(L, idx) == LUA_TSTRING) { /* "put,delete", as mc's --event */
        const char *s = lua_tostring(L, idx);
        while (*s) {
            size_t n = strcspn(s, ",");
            const char *a = s, *e = s + n;
            while (a < e && (*a == ' ' || *a == '\t'))
                a++;
            while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if (e > a && buckets_add_event(r, a, (size_t)(e - a)))
                return -1;
            s += n + (s[n] == ',');
        }
        return 0;
    }
    if (!lua_istable(L, idx)) {
        snprintf(err, errlen, "%s: events must be a list of event names, not a %s", name,
                 luaL_typename(L, idx));
        return -1;
    }
    for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, idx); i++) {
        lua_rawgeti(L, idx, i);
        size_t n;
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
        if (!s) {
            snprintf(err, errlen, "%s: events must be a list of strings", name);
            return -1;
        }
        if (buckets_add_event(r, s, n))
            return -1;
        lua_pop(L, 1);
    }
    return 0;
}

/* filter = { { name = "prefix", value = "photos/" }, ... }: the XML's FilterRule list. */
static int rule_filter(struct bucket_rule *r, lua_State *L, int idx, const char *name, char *err,
                       size_t errlen)
{
    if (!lua_istable(L, idx)) {
        snprintf(err, errlen, "%s: filter must be a list of { name = \"prefix\"|\"suffix\", value = ... }", name);
        return -1;
    }
    for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, idx); i++) {
        lua_rawgeti(L, idx, i);
        char *fname = NULL, *fval = NULL;
        int rc = -1;
        if (!lua_istable(L, -1))
            snprintf(err, errlen, "%s: filter must be a list of { name = ..., value = ... }", name);
        else if (lua_getfield(L, -1, "name"), lua_text(L, -1, &fname, "a filter's name", name, err, errlen))
            ;
        else if (lua_getfield(L, -2, "value"), lua_text(L, -1, &fval, "a filter's value", name, err, errlen))
            ;
        else
            rc = buckets_add_filter(r, fname, fval);
        free(fname);
        free(fval);
        if (rc)
            return -1;
        lua_settop(L, idx);
    }
    return 0;
}

static int rule_key(struct bucket_rule *r, lua_State *L, const char *key, const char *name, char *err,
                    size_t errlen)
{
    int v = lua_gettop(L);
    if (!strcasecmp(key, "arn") || !strcasecmp(key, "queue") || !strcasecmp(key, "target"))
        return lua_text(L, v, &r->arn, "arn", name, err, errlen);
    if (!strcasecmp(key, "id"))
        return lua_text(L, v, &r->id, "id", name, err, errlen);
    if (!strcasecmp(key, "events") || !strcasecmp(key, "event"))
        return rule_events(r, L, v, name, err, errlen);
    if (!strcasecmp(key, "filter"))
        return rule_filter(r, L, v, name, err, errlen);
    if (!strcasecmp(key, "prefix") || !strcasecmp(key, "suffix")) {
        char *val = NULL;
        int rc = lua_text(L, v, &val, key, name, err, errlen) || buckets_add_filter(r, key, val);
        free(val);
        return rc ? -1 : 0;
    }
    if (!strcasecmp(key, "topic") || !strcasecmp(key, "cloudfunction")) {
        r->unsupported = 1;
        return 0;
    }
    snprintf(err, errlen, "%s: unknown key '%s' (a rule has arn, events, prefix, suffix, id, filter)",
             name, key);
    return -1;
}

static int one_rule(struct bucket_set *b, lua_State *L, const char *bucket, char *err, size_t errlen)
{
    int idx = lua_gettop(L);
    struct bucket_rule *r = buckets_add(b, bucket);
    if (!r)
        return snprintf(err, errlen, "out of memory"), -1;
    char name[256];
    buckets_rule_name(r, name, sizeof name);
    if (!lua_istable(L, idx)) {
        snprintf(err, errlen, "%s: a rule is a table { arn = ..., events = {...}, prefix = ..., "
                 "suffix = ... }, not a %s", name, luaL_typename(L, idx));
        return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            snprintf(err, errlen, "%s: keys of a rule are names (arn, events, prefix, suffix, id)", name);
            return -1;
        }
        char key[64];
        snprintf(key, sizeof key, "%s", lua_tostring(L, -2));
        if (rule_key(r, L, key, name, err, errlen))
            return -1;
        lua_settop(L, idx + 1);
    }
    return 0;
}

static int rule_cmp(const void *a, const void *b)
{
    const struct bucket_rule *x = a, *y = b;
    int c = strcmp(x->bucket, y->bucket);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

int buckets_from_lua(struct bucket_set *b, lua_State *L, int idx, char *err, size_t errlen)
{
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx)) {
        snprintf(err, errlen, "key 'buckets' must be a table { bucket = { rule, ... } }, not a %s",
                 luaL_typename(L, idx));
        return -1;
    }
    b->given = 1;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING || !lua_istable(L, -1)) {
            snprintf(err, errlen, "key 'buckets' must be a table { bucket = { rule, ... } } keyed by "
                     "bucket name");
            return -1;
        }
        char bucket[64];
        size_t blen;
        const char *bname = lua_tolstring(L, -2, &blen);
        if (!blen || blen >= sizeof bucket) {
            snprintf(err, errlen, "key 'buckets': '%.80s%s' is not a bucket name (1 to 63 characters)",
                     bname, blen > 80 ? "..." : "");
            return -1;
        }
        snprintf(bucket, sizeof bucket, "%s", bname);
        int list = lua_gettop(L);
        if (lua_rawlen(L, list) == 0) {
            lua_pushnil(L);
            if (lua_next(L, list)) {
                snprintf(err, errlen, "bucket '%s': its rules are a list { { arn = ..., events = ... }, ... }",
                         bucket);
                return -1;
            }
        }
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, list); i++) {
            lua_rawgeti(L, list, i);
            if (one_rule(b, L, bucket, err, errlen))
                return -1;
            lua_settop(L, list);
        }
        lua_pop(L, 1);
    }
    /* Lua's table order is no order: list them by bucket, as written within one */
    if (b->n)
        qsort(b->r, b->n, sizeof *b->r, rule_cmp);
    return buckets_validate(b, err, errlen);
}

/* ---- to Lua ---------------------------------------------------------------------------- */

static void set_str(lua_State *L, const char *k, const char *v)
{
    if (!v)
        return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

void buckets_push(lua_State *L, const struct bucket_set *b)
{
    if (!b || !b->given) {
        lua_pushnil(L);
        return;
    }
    lua_newtable(L);
    for (size_t i = 0; i < b->n; i++) {
        const struct bucket_rule *r = &b->r[i];
        if (lua_getfield(L, -1, r->bucket) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_setfield(L, -3, r->bucket);
        }
        lua_createtable(L, 0, 8);
        set_str(L, "bucket", r->bucket);
        set_str(L, "id", r->id);
        set_str(L, "arn", r->arn);
        set_str(L, "target", r->target);
        set_str(L, "prefix", r->prefix);
        set_str(L, "suffix", r->suffix);
        lua_pushinteger(L, r->index);
        lua_setfield(L, -2, "index");
        lua_createtable(L, (int)r->nevents, 0);
        for (size_t j = 0; j < r->nevents; j++) {
            lua_pushstring(L, r->events[j]);
            lua_rawseti(L, -2, (lua_Integer)j + 1);
        }
        lua_setfield(L, -2, "events");
        lua_rawseti(L, -2, r->index);
        lua_pop(L, 1);
    }
}
