/* config.c -- read luagate.conf.lua and the MINIO_NOTIFY_* environment. */
#include <ctype.h>
#include <errno.h>
#include <lauxlib.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "json.h"
#include "qdir.h"
#include "queue.h"
#include "script.h"

extern char **environ;

#define STR_(x) #x
#define STR(x) STR_(x)
#define AT(field) offsetof(struct gw_config, field)

/* Settings of the gateway itself: what validates, reads the environment
 * and documents them (`luagate docs`).  The order is the one errors list. */
const struct config_key config_keys[] = {
    { "listen", CONF_STR, AT(listen), "127.0.0.1:9100", "LUAGATE_LISTEN",
      "address the ingest HTTP server listens on", 0, 0, NULL },
    { "auth_token", CONF_STR, AT(auth_token), "", "LUAGATE_AUTH_TOKEN",
      "token MinIO's webhook target sends (its auth_token)", 0, 0, NULL },
    { "queue_dir", CONF_STR, AT(queue_dir), "./queue", "LUAGATE_QUEUE_DIR", "directory of the durable queues",
      0, 0, NULL },
    { "script", CONF_FILE, AT(script), "", "LUAGATE_SCRIPT",
      "routing script (default: the built-in MinIO router)", 0, 0, NULL },
    { "body_limit", CONF_SIZE, AT(body_limit), "1048576", "LUAGATE_BODY_LIMIT",
      "largest request body in bytes (413 above)", 1, 0, "a positive integer" },
    { "commit_window", CONF_WINDOW, AT(commit_window_us), "0", "LUAGATE_COMMIT_WINDOW",
      "least time between two group commits (0: sync as soon as there is data)", 0, 1000000,
      "a duration up to 1s" },
    { "log_format", CONF_LOG_FORMAT, AT(log_json), "text", "LUAGATE_LOG_FORMAT", "text or json", 0, 0,
      "text or json" },
    { "log_level", CONF_LOG_LEVEL, AT(log_level), "info", "LUAGATE_LOG_LEVEL",
      "least severe level logged: debug, info, warn or error", 0, 0, "debug, info, warn or error" },
    { "script_watch", CONF_BOOL, AT(script_watch), "on", "LUAGATE_SCRIPT_WATCH",
      "reload the script when it or a module it requires changes (inotify), as on SIGHUP", 0, 0,
      "on or off" },
    { "shutdown_timeout", CONF_DURATION, AT(shutdown_ms), "10s", "LUAGATE_SHUTDOWN_TIMEOUT",
      "longest SIGTERM wait for requests in flight", 0, LLONG_MAX, "a duration such as 10s" },
    /* below 10 ms the supervisor's watch could not tell a slow event from a runaway */
    { "script_timeout", CONF_DURATION, AT(script_timeout_ms), "2s", "LUAGATE_SCRIPT_TIMEOUT",
      "wall-clock time one event may route before the worker is killed and the event quarantined", 10,
      86400000, "a duration from 10ms to 24h" },
    { "script_memory", CONF_SIZE, AT(script_memory), "67108864", "LUAGATE_SCRIPT_MEMORY",
      "bytes a Lua state may allocate", 1, 0, "a positive integer" },
    { "script_instructions", CONF_ULONG, AT(script_instructions), "1000000", "LUAGATE_SCRIPT_INSTRUCTIONS",
      "Lua instructions per event", 1, 0, "a positive integer" },
    { "script_env", CONF_ENV_NAMES, AT(script_env), "", "LUAGATE_SCRIPT_ENV",
      "environment variables a script may read with os.getenv, comma separated (never a secret)", 0, 0,
      NULL },
    { "ingest_workers", CONF_UINT, AT(ingest_workers), "1", "LUAGATE_INGEST_WORKERS",
      "ingest threads, each with its own listening socket (SO_REUSEPORT) and Lua state (1-16)", 1,
      INGEST_WORKERS_MAX, "an integer from 1 to " STR(INGEST_WORKERS_MAX) },
    { "tls_cert", CONF_FILE, AT(tls_cert), "", "LUAGATE_TLS_CERT",
      "PEM certificate (chain) file: the ingest listener speaks HTTPS only", 0, 0, NULL },
    { "tls_key", CONF_FILE, AT(tls_key), "", "LUAGATE_TLS_KEY", "PEM private key file of tls_cert", 0, 0,
      NULL },
    { "tls_client_ca", CONF_FILE, AT(tls_client_ca), "", "LUAGATE_TLS_CLIENT_CA",
      "PEM CA file: require client certificates it signed (mTLS)", 0, 0, NULL },
    { "admin_listen", CONF_OPT_STR, AT(admin_listen), "", "LUAGATE_ADMIN_LISTEN",
      "host:port of the admin listener (/live /ready /health /metrics /tap); empty: those stay on listen", 0, 0,
      NULL },
    { "admin_token", CONF_OPT_STR, AT(admin_token), "", "LUAGATE_ADMIN_TOKEN",
      "token the admin listener requires (Bearer), except on /live and /ready", 0, 0, NULL },
    { "admin_tls_cert", CONF_FILE, AT(admin_tls_cert), "", "LUAGATE_ADMIN_TLS_CERT",
      "PEM certificate (chain) file: the admin listener speaks HTTPS only", 0, 0, NULL },
    { "admin_tls_key", CONF_FILE, AT(admin_tls_key), "", "LUAGATE_ADMIN_TLS_KEY",
      "PEM private key file of admin_tls_cert", 0, 0, NULL },
    { NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
};

static int set_str(char **dst, const char *v)
{
    char *d = strdup(v);
    if (!d)
        return -1;
    free(*dst);
    *dst = d;
    return 0;
}

/* ---- values -------------------------------------------------------------- */

/* The text of a config-file value: strings as they are, numbers, booleans
 * as on/off, lists joined with commas. */
static int value_text(lua_State *L, int idx, char *out, size_t len, const char *where, char *err,
                      size_t errlen)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
    case LUA_TNUMBER:
        snprintf(out, len, "%s", lua_tostring(L, idx));
        return 0;
    case LUA_TBOOLEAN:
        snprintf(out, len, "%s", lua_toboolean(L, idx) ? "on" : "off");
        return 0;
    case LUA_TTABLE: {
        size_t used = 0;
        out[0] = 0;
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, idx); i++) {
            lua_rawgeti(L, idx, i);
            const char *s = lua_tostring(L, -1);
            if (!s) {
                lua_pop(L, 1);
                snprintf(err, errlen, "%s: list items must be strings", where);
                return -1;
            }
            used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s", i > 1 ? "," : "", s);
            lua_pop(L, 1);
        }
        if (used >= len) {
            snprintf(err, errlen, "%s: value too long", where);
            return -1;
        }
        return 0;
    }
    default:
        snprintf(err, errlen, "%s: a %s is not a valid value", where, luaL_typename(L, idx));
        return -1;
    }
}

static struct target_conf *find_target(struct gw_config *c, const char *kind, const char *id)
{
    for (size_t i = 0; i < c->ntargets; i++)
        if (!strcmp(c->targets[i]->kind->kind, kind) && !strcmp(c->targets[i]->id, id))
            return c->targets[i];
    return NULL;
}

static struct target_conf *add_target(struct gw_config *c, const struct kind_info *k, const char *id)
{
    struct target_conf *t = find_target(c, k->kind, id);
    if (t)
        return t;
    struct target_conf **v = realloc(c->targets, (c->ntargets + 1) * sizeof *v);
    if (!v)
        return NULL;
    c->targets = v;
    t = tconf_new(k, id);
    if (t)
        c->targets[c->ntargets++] = t;
    return t;
}

/* ---- the config file ------------------------------------------------------ */

/* "webhook amqp ... file": every kind, for an error naming the choices. */
static void kind_names(char *out, size_t len)
{
    size_t n, o = 0;
    const struct kind_info *all = driver_kinds(&n);
    out[0] = 0;
    for (size_t i = 0; i < n && o < len; i++) {
        int w = snprintf(out + o, len - o, "%s%s", i ? " " : "", all[i].kind);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

static int file_targets(struct gw_config *c, lua_State *L, int idx, char *err, size_t errlen)
{
    char val[8192];
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING || !lua_istable(L, -1)) {
            snprintf(err, errlen, "%s: targets must be a table of \"kind:id\" = { key = value }",
                     c->file);
            return -1;
        }
        const char *name = lua_tostring(L, -2), *colon = strchr(name, ':');
        char kind[64];
        snprintf(kind, sizeof kind, "%.*s", colon ? (int)(colon - name) : (int)strlen(name), name);
        const struct kind_info *k = driver_kind(kind);
        if (!k) {
            char names[256];
            kind_names(names, sizeof names);
            snprintf(err, errlen, "%s: target '%s': unknown kind '%s' (one of %s)", c->file, name, kind,
                     names);
            return -1;
        }
        if (!colon || !tconf_valid_id(colon + 1)) {
            snprintf(err, errlen, "%s: target '%s' must be named \"%s:<id>\" (id: letters, digits, _ or -)",
                     c->file, name, kind);
            return -1;
        }
        struct target_conf *t = add_target(c, k, colon + 1);
        if (!t) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                snprintf(err, errlen, "%s: %s: keys must be strings", c->file, t->name);
                return -1;
            }
            char where[256];
            snprintf(where, sizeof where, "%s: key '%s'", t->name, lua_tostring(L, -2));
            if (value_text(L, -1, val, sizeof val, where, err, errlen) ||
                tconf_set(t, lua_tostring(L, -2), val))
                return -1;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* The bucket rules (buckets.c), their errors prefixed by the file. */
static int file_buckets(struct gw_config *c, lua_State *L, int idx, char *err, size_t errlen)
{
    if (!buckets_from_lua(&c->buckets, L, idx, err, errlen))
        return 0;
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s: %s", c->file, err);
    snprintf(err, errlen, "%s", tmp);
    return -1;
}

static int set_global(struct gw_config *c, const char *key, const char *val, char *err, size_t errlen);

/* script_env: names only, and none that may hold a secret of the
 * configuration (the script would hand it to any target). */
static int set_script_env(struct gw_config *c, const char *val, char *err, size_t errlen)
{
    for (const char *p = val; *p;) {
        size_t n = strcspn(p, ", \t");
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), p);
        for (size_t i = 0; i < n; i++)
            if (!(p[i] == '_' || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') ||
                  (i && p[i] >= '0' && p[i] <= '9'))) {
                snprintf(err, errlen, "key 'script_env': '%s' is not an environment variable name", name);
                return -1;
            }
        if (n && script_env_secret(name)) {
            snprintf(err, errlen, "key 'script_env': %s may hold a secret of the configuration "
                     "(token, password, key): a script may not read it", name);
            return -1;
        }
        p += n + (p[n] != 0);
    }
    return set_str(&c->script_env, val);
}

static int load_file(struct gw_config *c, const char *path, char *err, size_t errlen)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    script_open_libs(L, NULL);
    int rc = -1;
    if (luaL_loadfilex(L, path, "t")) {
        /* "near '...'" would quote the file, secrets included: keep file:line */
        const char *msg = lua_tostring(L, -1), *near = strstr(msg, " near ");
        snprintf(err, errlen, "%.*s", near ? (int)(near - msg) : (int)strlen(msg), msg);
        goto out;
    }
    /* run it in an environment of its own: what it sets there are the
     * settings (unless it returns a table), the libraries stay readable */
    lua_newtable(L);
    lua_newtable(L);
    lua_pushglobaltable(L);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_insert(L, -3); /* env, chunk, env */
    lua_setupvalue(L, -2, 1);
    if (lua_pcall(L, 0, 1, 0)) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        goto out;
    }
    if (!lua_isnil(L, -1) && !lua_istable(L, -1)) {
        snprintf(err, errlen, "%s: a config file returns a table of settings or sets them as "
                 "globals, not a %s", path, luaL_typename(L, -1));
        goto out;
    }
    if (!lua_istable(L, -1))
        lua_pop(L, 1); /* the environment table below is the settings */
    int top = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, top)) {
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        char val[4096];
        if (!key || lua_isfunction(L, -1)) {
            /* helper functions of the file are not settings */
        } else if (!strcmp(key, "targets") && lua_istable(L, -1)) {
            if (file_targets(c, L, lua_gettop(L), err, errlen))
                goto out;
        } else if (!strcmp(key, "buckets")) {
            if (file_buckets(c, L, lua_gettop(L), err, errlen))
                goto out;
        } else {
            char where[128];
            snprintf(where, sizeof where, "%s: key '%s'", path, key);
            if (value_text(L, -1, val, sizeof val, where, err, errlen) ||
                set_global(c, key, val, err, errlen)) {
                if (!strstr(err, path)) {
                    char tmp[512];
                    snprintf(tmp, sizeof tmp, "%s: %s", path, err);
                    snprintf(err, errlen, "%s", tmp);
                }
                goto out;
            }
        }
        lua_settop(L, top + 1);
    }
    rc = 0;
out:
    lua_close(L);
    return rc;
}

static const struct config_key *find_global(const char *name)
{
    for (const struct config_key *k = config_keys; k->name; k++)
        if (!strcmp(k->name, name))
            return k;
    return NULL;
}

static int unknown_global(const char *key, char *err, size_t errlen)
{
    int n = snprintf(err, errlen, "unknown key '%s' (known:", key);
    for (const struct config_key *k = config_keys; k->name && n >= 0 && (size_t)n < errlen; k++)
        n += snprintf(err + n, errlen - (size_t)n, " %s", k->name);
    if (n >= 0 && (size_t)n < errlen)
        snprintf(err + n, errlen - (size_t)n, " targets buckets)");
    return -1;
}

/* log_level: the index of enum log_level (log.h), or -1. */
static int level_of(const char *val)
{
    static const char *const levels[] = { "debug", "info", "warn", "error" };
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(val, levels[i]))
            return i;
    return -1;
}

/* commit_window: microseconds ("500us") or a duration, in [0, 1s]; -1 if not. */
static long long window_us(const char *val)
{
    long long n;
    char *end;
    double d = strtod(val, &end);
    if (end != val && (!strcmp(end, "us") || !strcmp(end, "µs")))
        return d >= 0 && d <= 1e6 ? (long long)d : -1; /* range first: the cast of a huge double is UB */
    if (tconf_parse_duration_ms(val, &n) == 0 && n >= 0 && n <= 1000)
        return n * 1000;
    return -1;
}

/* val as key k's type, into c; -1 with "key 'x' must be ..., not 'v'". */
static int set_typed(struct gw_config *c, const struct config_key *k, const char *val, char *err,
                     size_t errlen)
{
    char *at = (char *)c + k->offset;
    long long n = 0;
    int ok = 1;
    switch (k->type) {
    case CONF_STR:
        return set_str((char **)at, val);
    case CONF_FILE:
    case CONF_OPT_STR:
        if (*val)
            return set_str((char **)at, val);
        free(*(char **)at); /* "": none */
        *(char **)at = NULL;
        return 0;
    case CONF_ENV_NAMES:
        return set_script_env(c, val, err, errlen);
    case CONF_SIZE:
    case CONF_ULONG:
    case CONF_UINT:
        ok = !tconf_parse_llong(val, &n) && n >= k->min && (!k->max || n <= k->max);
        break;
    case CONF_DURATION:
        ok = !tconf_parse_duration_ms(val, &n) && n >= k->min && n <= k->max;
        break;
    case CONF_WINDOW:
        ok = (n = window_us(val)) >= 0;
        break;
    case CONF_LOG_FORMAT:
        ok = !strcmp(val, "text") || !strcmp(val, "json");
        n = !strcmp(val, "json");
        break;
    case CONF_LOG_LEVEL:
        ok = (n = level_of(val)) >= 0;
        break;
    case CONF_BOOL: {
        int b = 0;
        ok = !tconf_parse_bool(val, &b);
        n = b;
        break;
    }
    }
    if (!ok) {
        snprintf(err, errlen, "key '%s' must be %s, not '%s'", k->name, k->must, val);
        return -1;
    }
    if (k->type == CONF_SIZE)
        *(size_t *)at = (size_t)n;
    else if (k->type == CONF_ULONG)
        *(unsigned long *)at = (unsigned long)n;
    else if (k->type == CONF_UINT || k->type == CONF_WINDOW)
        *(unsigned *)at = (unsigned)n;
    else if (k->type == CONF_DURATION)
        *(long long *)at = n;
    else
        *(int *)at = (int)n;
    return 0;
}

static int set_global(struct gw_config *c, const char *key, const char *val, char *err, size_t errlen)
{
    const struct config_key *k = find_global(key);
    return k ? set_typed(c, k, val, err, errlen) : unknown_global(key, err, errlen);
}

/* ---- the environment ------------------------------------------------------- */

static void env_key(const struct key_spec *s, char *out, size_t len)
{
    if (s->env) {
        snprintf(out, len, "%s", s->env);
        return;
    }
    size_t i = 0;
    for (; s->name[i] && i + 1 < len; i++)
        out[i] = (char)toupper((unsigned char)s->name[i]);
    out[i] = 0;
}

/* Does rest (the env name after the kind prefix) name a key of kind k,
 * for the default target ("KEY") or a target id ("KEY_ID")?  *id gets
 * the id part, "" for the default target. */
static const struct key_spec *env_match(const struct kind_info *k, const char *rest, const char **id)
{
    const struct key_spec *tables[2] = { tconf_common_keys, k->drv ? k->drv->keys : NULL };
    const struct key_spec *best = NULL;
    size_t best_len = 0;
    for (int t = 0; t < 2; t++)
        for (const struct key_spec *s = tables[t]; s && s->name; s++) {
            char ek[96];
            env_key(s, ek, sizeof ek);
            size_t n = strlen(ek);
            if (strncmp(rest, ek, n) || (rest[n] && rest[n] != '_'))
                continue;
            if (n > best_len) { /* TLS_SKIP_VERIFY over TLS + id SKIP_VERIFY */
                best = s;
                best_len = n;
            }
        }
    if (best)
        *id = rest[best_len] ? rest + best_len + 1 : "";
    return best;
}

static int env_targets(struct gw_config *c, const struct kind_info *k, char *err, size_t errlen)
{
    char prefix[64];
    driver_env_name(k, NULL, prefix, sizeof prefix);
    size_t plen = strlen(prefix);
    /* ids come from <PREFIX>ENABLE[_<ID>] only, as in MinIO */
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, prefix, plen))
            continue;
        const char *rest = *e + plen, *eq = strchr(rest, '=');
        if (!eq)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - rest), rest);
        const char *id;
        if (!strcmp(name, "ENABLE"))
            id = "_";
        else if (!strncmp(name, "ENABLE_", 7))
            id = name + 7;
        else
            continue;
        int on;
        if (tconf_parse_bool(eq + 1, &on)) {
            snprintf(err, errlen, "%s%s: must be on or off, not '%s'", prefix, name, eq + 1);
            return -1;
        }
        if (!tconf_valid_id(id)) {
            snprintf(err, errlen, "%s%s: '%s' is not a valid target id", prefix, name, id);
            return -1;
        }
        struct target_conf *t = add_target(c, k, id);
        if (!t || tconf_set(t, "enable", on ? "on" : "off"))
            return -1;
    }
    /* then every other variable of this kind must name a key of a known target */
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, prefix, plen))
            continue;
        const char *rest = *e + plen, *eq = strchr(rest, '=');
        if (!eq)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - rest), rest);
        if (!strncmp(name, "ENABLE", 6) && (!name[6] || name[6] == '_'))
            continue;
        const char *id;
        const struct key_spec *s = env_match(k, name, &id);
        if (!s && !k->drv) {
            snprintf(err, errlen, "%s%s: target kind %s is not available yet", prefix, name, k->kind);
            return -1;
        }
        if (!s) {
            snprintf(err, errlen, "%s%s: unknown key for %s targets (see luagate --help-target %s)",
                     prefix, name, k->kind, k->kind);
            return -1;
        }
        struct target_conf *t = find_target(c, k->kind, *id ? id : "_");
        if (!t) {
            snprintf(err, errlen, "%s%s is set but target %s:%s is not enabled (set %sENABLE%s%s=on)",
                     prefix, name, k->kind, *id ? id : "_", prefix, *id ? "_" : "", id);
            return -1;
        }
        if (tconf_set(t, s->name, eq + 1))
            return -1;
    }
    return 0;
}

/* Edit distance of two short names (longer ones compare as far apart). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[65];
    if (la > 64 || lb > 64)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

static const char *closest(const char *word, const char *const *cands, size_t n)
{
    const char *best = cands[0];
    size_t bd = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = distance(word, cands[i]);
        if (d < bd)
            best = cands[i], bd = d;
    }
    return best;
}

/* Variables of the LUAGATE_ family that are not settings: the build and
 * the test harness pass them to the tools they run (tests/run.sh), and
 * LUAGATE_LUA_DIR says where lua/ is (script.c). */
static const char *const reserved_env[] = {
    "LUAGATE_LUA_DIR", "LUAGATE_BUILD", "LUAGATE_BIN", "LUAGATE_EVENTS", "LUAGATE_SAN",
    "LUAGATE_SCRIPTS", "LUAGATE_FUZZ_QUEUE_SEEDS", "LUAGATE_PKGROOT",
};

/* Is name a variable of one of luagate's own kinds (LUAGATE_NOTIFY_FILE_...)? */
static int own_kind_var(const char *name, const struct kind_info *kinds, size_t nk)
{
    for (size_t i = 0; i < nk; i++) {
        char prefix[64];
        driver_env_name(&kinds[i], NULL, prefix, sizeof prefix);
        if (!driver_is_minio(&kinds[i]) && !strncmp(name, prefix, strlen(prefix)))
            return 1;
    }
    return 0;
}

/* "LUAGATE_NOTIFY_FILE_": the prefixes of luagate's own kinds. */
static void own_kinds(const struct kind_info *kinds, size_t nk, char *out, size_t len)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < nk && o < len; i++) {
        if (driver_is_minio(&kinds[i]))
            continue;
        char prefix[64];
        driver_env_name(&kinds[i], NULL, prefix, sizeof prefix);
        int w = snprintf(out + o, len - o, "%s%s", o ? "..., " : "", prefix);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

/* A misspelled variable would be ignored, and a queue would land in
 * ./queue and be lost with the container: every LUAGATE_* name must be a
 * setting (or reserved), every MINIO_NOTIFY_<KIND>_ a known kind. */
static int env_names(char *err, size_t errlen)
{
    size_t nk, nr = sizeof reserved_env / sizeof *reserved_env, ng = 0;
    const struct kind_info *kinds = driver_kinds(&nk);
    const char *known[64], *minio_kinds[32];
    for (const struct config_key *g = config_keys; g->name && ng < 48; g++)
        known[ng++] = g->env;
    for (size_t i = 0; i < nr; i++)
        known[ng++] = reserved_env[i];
    size_t nkn = 0;
    for (size_t i = 0; i < nk && nkn < 32; i++)
        if (driver_is_minio(&kinds[i]))
            minio_kinds[nkn++] = kinds[i].env_kind;
    for (char **e = environ; *e; e++) {
        char name[128], word[64];
        size_t len = strcspn(*e, "=");
        snprintf(name, sizeof name, "%.*s", (int)(len < 127 ? len : 127), *e);
        if (!strncmp(name, "MINIO_NOTIFY_", 13)) {
            snprintf(word, sizeof word, "%.*s", (int)strcspn(name + 13, "_"), name + 13);
            const char *k = closest(word, minio_kinds, nkn);
            if (!strcmp(word, k))
                continue;
            snprintf(err, errlen, "%s: unknown target kind '%s' (did you mean MINIO_NOTIFY_%s_...?)",
                     name, word, k);
            return -1;
        }
        if (strncmp(name, "LUAGATE_", 8) || own_kind_var(name, kinds, nk))
            continue;
        if (!strncmp(name, "LUAGATE_NOTIFY_", 15)) {
            char own[128];
            own_kinds(kinds, nk, own, sizeof own);
            snprintf(err, errlen, "%s: unknown target kind (luagate's own kind is %s...;"
                     " MinIO's are MINIO_NOTIFY_<KIND>_...)", name, own);
            return -1;
        }
        const char *g = closest(name, known, ng);
        if (strcmp(name, g)) {
            snprintf(err, errlen, "%s: unknown variable (did you mean %s?)", name, g);
            return -1;
        }
    }
    return 0;
}

static int env_globals(struct gw_config *c, char *err, size_t errlen)
{
    for (const struct config_key *g = config_keys; g->name; g++) {
        const char *v = getenv(g->env);
        if (v && set_global(c, g->name, v, err, errlen)) {
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s: %s", g->env, err);
            snprintf(err, errlen, "%s", tmp);
            return -1;
        }
    }
    return 0;
}

/* ---- putting it together ------------------------------------------------------ */

static int target_cmp(const void *a, const void *b)
{
    return strcmp((*(struct target_conf *const *)a)->name, (*(struct target_conf *const *)b)->name);
}

static int drop_disabled(struct gw_config *c)
{
    size_t j = 0;
    for (size_t i = 0; i < c->ntargets; i++) {
        struct target_conf *t = c->targets[i];
        const char *en = tconf_raw(t, "enable");
        int on = 1; /* a target declared without "enable" is on, as in MinIO's KV */
        if (en && tconf_parse_bool(en, &on) == 0 && !on)
            tconf_free(t);
        else
            c->targets[j++] = t;
    }
    c->ntargets = j;
    if (c->ntargets)
        qsort(c->targets, c->ntargets, sizeof *c->targets, target_cmp);
    return 0;
}

char *config_auth_header(const char *token)
{
    const char *word[2] = { NULL, NULL };
    int len[2] = { 0, 0 }, n = 0;
    const char *p = token;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (n < 2)
            word[n] = s, len[n] = (int)(p - s);
        n++;
    }
    char *out = NULL;
    if (n == 1 && asprintf(&out, "Bearer %.*s", len[0], word[0]) < 0)
        out = NULL;
    else if (n == 2 && asprintf(&out, "%.*s %.*s", len[0], word[0], len[1], word[1]) < 0)
        out = NULL;
    return out;
}

/* One request appends to every queue directory its event goes to, all or
 * nothing, in one step that spans at most QUEUE_APPEND_MAX journals:
 * refused here rather than discovered by every request. */
static int check_queue_dirs(const struct gw_config *c, char *err, size_t errlen)
{
    char dirs[QUEUE_APPEND_MAX + 1][PATH_MAX];
    size_t n = 0;
    for (size_t i = 0; i < c->ntargets; i++) {
        const char *d = tconf_str(c->targets[i], "queue_dir");
        if (!*d)
            d = c->queue_dir;
        char canon[PATH_MAX]; /* "/q", "/q/" and a symlink to it are one directory */
        if (qdir_canon(d, canon, sizeof canon))
            snprintf(canon, sizeof canon, "%s", d);
        size_t j = 0;
        while (j < n && strcmp(dirs[j], canon))
            j++;
        if (j < n)
            continue;
        if (n == QUEUE_APPEND_MAX) {
            snprintf(err, errlen, "target %s: key 'queue_dir' (%s) would be queue directory number %d; "
                     "at most %d are supported: share directories between targets (a journal serves "
                     "any number of targets)", c->targets[i]->name, d, QUEUE_APPEND_MAX + 1,
                     QUEUE_APPEND_MAX);
            return -1;
        }
        memcpy(dirs[n++], canon, sizeof canon);
    }
    return 0;
}

/* The admin listener: an address, a one-word token, both TLS files or none. */
static int validate_admin(struct gw_config *c, char *err, size_t errlen)
{
    if (c->admin_listen) {
        const char *colon = strrchr(c->admin_listen, ':');
        long long port;
        if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
            strlen(colon + 1) > 5 || tconf_parse_llong(colon + 1, &port) || port > 65535) {
            snprintf(err, errlen, "key 'admin_listen' must be host:port (port 0-65535), not '%s'", c->admin_listen);
            return -1;
        }
        if (!strcmp(c->admin_listen, c->listen)) {
            snprintf(err, errlen, "key 'admin_listen' (%s) must differ from 'listen'", c->admin_listen);
            return -1;
        }
    }
    if (c->admin_token && strpbrk(c->admin_token, " \t\r\n")) {
        snprintf(err, errlen, "key 'admin_token' must be one word (clients send it as Authorization: Bearer)");
        return -1;
    }
    if (!c->admin_tls_cert != !c->admin_tls_key) {
        snprintf(err, errlen, "key '%s' (LUAGATE_%s) is required when '%s' is set: TLS on the admin listener "
                 "needs both the certificate and its private key", c->admin_tls_cert ? "admin_tls_key" : "admin_tls_cert",
                 c->admin_tls_cert ? "ADMIN_TLS_KEY" : "ADMIN_TLS_CERT", c->admin_tls_cert ? "admin_tls_cert" : "admin_tls_key");
        return -1;
    }
    if ((c->admin_token || c->admin_tls_cert) && !c->admin_listen) {
        snprintf(err, errlen, "key '%s' needs 'admin_listen' (LUAGATE_ADMIN_LISTEN)",
                 c->admin_token ? "admin_token" : "admin_tls_cert");
        return -1;
    }
    const char *keys[2] = { "admin_tls_cert", "admin_tls_key" };
    const char *paths[2] = { c->admin_tls_cert, c->admin_tls_key };
    for (int i = 0; i < 2; i++) {
        FILE *f = paths[i] ? fopen(paths[i], "r") : NULL;
        if (paths[i] && !f) {
            snprintf(err, errlen, "key '%s': cannot read %s: %s", keys[i], paths[i], strerror(errno));
            return -1;
        }
        if (f)
            fclose(f);
    }
    return 0;
}

static int validate(struct gw_config *c, char *err, size_t errlen)
{
    if (*c->auth_token) {
        char *h = config_auth_header(c->auth_token);
        if (!h) {
            snprintf(err, errlen, "key 'auth_token' must be one word (MinIO sends it as Bearer) or "
                     "two words (sent as they are)");
            return -1;
        }
        free(h);
    }
    const char *colon = strrchr(c->listen, ':');
    long long port;
    if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
        strlen(colon + 1) > 9 || tconf_parse_llong(colon + 1, &port)) {
        snprintf(err, errlen, "key 'listen' must be host:port, not '%s'", c->listen);
        return -1;
    }
    if (port > 65535) {
        snprintf(err, errlen, "key 'listen': the port %lld is out of range (1-65535, or 0 for any free "
                 "port) in '%s'", port, c->listen);
        return -1;
    }
    /* TLS: both files or neither, and readable now rather than at the first client */
    if (!c->tls_cert != !c->tls_key) {
        snprintf(err, errlen, "key '%s' (LUAGATE_%s) is required when '%s' is set: TLS on the ingest "
                 "listener needs both the certificate and its private key", c->tls_cert ? "tls_key" : "tls_cert",
                 c->tls_cert ? "TLS_KEY" : "TLS_CERT", c->tls_cert ? "tls_cert" : "tls_key");
        return -1;
    }
    if (c->tls_client_ca && !c->tls_cert) {
        snprintf(err, errlen, "key 'tls_client_ca' needs 'tls_cert' and 'tls_key' (client certificates "
                 "are checked over TLS only)");
        return -1;
    }
    const char *tls_keys[3] = { "tls_cert", "tls_key", "tls_client_ca" };
    const char *tls_paths[3] = { c->tls_cert, c->tls_key, c->tls_client_ca };
    for (int i = 0; i < 3; i++) {
        FILE *f = tls_paths[i] ? fopen(tls_paths[i], "r") : NULL;
        if (tls_paths[i] && !f) {
            snprintf(err, errlen, "key '%s': cannot read %s: %s", tls_keys[i], tls_paths[i], strerror(errno));
            return -1;
        }
        if (f)
            fclose(f);
    }
    if (validate_admin(c, err, errlen))
        return -1;
    for (size_t i = 0; i < c->ntargets; i++)
        if (tconf_validate(c->targets[i], err, errlen))
            return -1;
    return check_queue_dirs(c, err, errlen);
}

static int load(struct gw_config *c, const char *path, char *err, size_t errlen)
{
    for (const struct config_key *g = config_keys; g->name; g++)
        if (set_global(c, g->name, g->def, err, errlen))
            return -1;
    if (!path && !access("luagate.conf.lua", F_OK))
        path = "luagate.conf.lua";
    if (path) {
        if (access(path, R_OK)) {
            snprintf(err, errlen, "cannot read the config file %s", path);
            return -1;
        }
        if (set_str(&c->file, path) || load_file(c, path, err, errlen))
            return -1;
    }
    size_t nk;
    const struct kind_info *kinds = driver_kinds(&nk);
    if (env_names(err, errlen))
        return -1;
    for (size_t i = 0; i < nk; i++)
        if (env_targets(c, &kinds[i], err, errlen))
            return -1;
    /* before drop_disabled: a rule may name a disabled target (it is skipped) */
    if (buckets_resolve(&c->buckets, c->targets, c->ntargets, err, errlen)) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s: %s", c->file ? c->file : "buckets", err);
        snprintf(err, errlen, "%s", tmp);
        return -1;
    }
    if (env_globals(c, err, errlen) || drop_disabled(c) || validate(c, err, errlen))
        return -1;
    return 0;
}

int config_load(struct gw_config *c, const char *path, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (load(c, path, err, errlen)) {
        config_free(c); /* callers need not clean up after a refusal */
        return -1;
    }
    return 0;
}

void config_free(struct gw_config *c)
{
    for (size_t i = 0; i < c->ntargets; i++)
        tconf_free(c->targets[i]);
    free(c->targets);
    free(c->file);
    free(c->listen);
    free(c->auth_token);
    free(c->queue_dir);
    free(c->script);
    free(c->script_env);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->tls_client_ca);
    free(c->admin_listen);
    free(c->admin_token);
    free(c->admin_tls_cert);
    free(c->admin_tls_key);
    buckets_free(&c->buckets);
    memset(c, 0, sizeof *c);
}

void config_arn(const struct target_conf *t, char *out, size_t len)
{
    snprintf(out, len, "arn:minio:sqs::%s:%s", t->id, t->kind->arn_kind);
}
