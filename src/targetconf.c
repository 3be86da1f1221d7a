/* targetconf.c -- typed access to one target's key/values. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "log.h"
#include "targetconf.h"
#include "hex.h"

const struct key_spec tconf_common_keys[] = {
    { "enable", KEY_BOOL, "on", 0, NULL, "on for a target declared in the file unless enable = off; from the environment, what MINIO_NOTIFY_<KIND>_ENABLE[_<ID>] says" },
    { "queue_dir", KEY_PATH, "", 0, NULL, "directory of this target's queue (default: the global queue_dir)" },
    { "queue_limit", KEY_UINT, "100000", 0, NULL, "most undelivered events kept; 0 means 100000" },
    { "comment", KEY_STR, "", 0, NULL, "free text" },
    { "events", KEY_CSV, "", 0, NULL, "default router: event names, wildcards or put,delete,get,replica,ilm,scanner (empty: all)" },
    { "prefix", KEY_STR, "", 0, NULL, "default router: object name prefix" },
    { "suffix", KEY_STR, "", 0, NULL, "default router: object name suffix" },
    { "max_attempts", KEY_UINT, "1", 0, NULL, "times the target may refuse one message (4xx, a value the column rejects...) before it goes to the dead-letter queue (1: at the first refusal, 0: never); an unavailable target (5xx, timeouts, down) is retried forever, never dead-lettered" },
    { "retry_min", KEY_DURATION, "100ms", 0, NULL, "first retry delay after a failure" },
    { "retry_max", KEY_DURATION, "30s", 0, NULL, "longest retry delay (exponential backoff with jitter)" },
    { 0 }
};

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        fputs("luagate: out of memory\n", stderr);
        abort();
    }
    return d;
}

int tconf_valid_id(const char *id)
{
    if (!*id || strlen(id) > 64)
        return 0;
    for (; *id; id++)
        if (!isalnum((unsigned char)*id) && *id != '_' && *id != '-')
            return 0;
    return 1;
}

struct target_conf *tconf_new(const struct kind_info *kind, const char *id)
{
    struct target_conf *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->kind = kind;
    c->id = xstrdup(id);
    size_t len = strlen(kind->kind) + strlen(id) + 2;
    c->name = malloc(len);
    if (!c->name) {
        free(c->id);
        free(c);
        return NULL;
    }
    snprintf(c->name, len, "%s:%s", kind->kind, id);
    return c;
}

void tconf_free(struct target_conf *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->kv[i].key);
        free(c->kv[i].val);
    }
    free(c->kv);
    free(c->id);
    free(c->name);
    free(c);
}

static char *trimmed(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static struct tconf_kv *find(const struct target_conf *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->kv[i].key, key))
            return &c->kv[i];
    return NULL;
}

int tconf_set(struct target_conf *c, const char *key, const char *val)
{
    char *v = trimmed(val);
    if (!v)
        return -1;
    struct tconf_kv *kv = find(c, key);
    if (kv) {
        free(kv->val);
        kv->val = v;
        return 0;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct tconf_kv *n = realloc(c->kv, cap * sizeof *n);
        if (!n) {
            free(v);
            return -1;
        }
        c->kv = n;
        c->cap = cap;
    }
    c->kv[c->n].key = xstrdup(key);
    c->kv[c->n].val = v;
    c->n++;
    return 0;
}

const char *tconf_raw(const struct target_conf *c, const char *key)
{
    struct tconf_kv *kv = find(c, key);
    return kv ? kv->val : NULL;
}

static const struct key_spec *spec_in(const struct key_spec *t, const char *key)
{
    for (; t && t->name; t++)
        if (!strcmp(t->name, key))
            return t;
    return NULL;
}

const struct key_spec *tconf_spec(const struct target_conf *c, const char *key)
{
    const struct key_spec *s = spec_in(tconf_common_keys, key);
    if (!s && c->kind->drv)
        s = spec_in(c->kind->drv->keys, key);
    return s;
}

const char *tconf_name(const struct target_conf *c) { return c->name; }
const char *tconf_id(const struct target_conf *c) { return c->id; }

/* A key that no table names is a typo in the code asking for it, which
 * would otherwise read as "" (unset) forever: ASan builds (the suite's
 * second run) stop on it, release builds log it once. */
static void unknown_key(const struct target_conf *c, const char *key)
{
#if defined(__SANITIZE_ADDRESS__)
    fprintf(stderr, "luagate: %s: key '%s' asked for is in no key table\n", c->name, key);
    abort();
#else
    log_once(LOG_ERROR, c->name, "internal error: key '%s' asked for is in no key table", key);
#endif
}

const char *tconf_str(const struct target_conf *c, const char *key)
{
    const struct key_spec *s = tconf_spec(c, key);
    if (!s)
        unknown_key(c, key);
    const char *v = tconf_raw(c, key);
    if (v && *v)
        return v;
    return s && s->def ? s->def : (v ? v : "");
}

int tconf_isset(const struct target_conf *c, const char *key)
{
    return *tconf_str(c, key) != 0;
}

int tconf_bool(const struct target_conf *c, const char *key)
{
    int b = 0;
    return tconf_parse_bool(tconf_str(c, key), &b) == 0 && b;
}

long long tconf_int(const struct target_conf *c, const char *key)
{
    long long v = 0;
    return tconf_parse_llong(tconf_str(c, key), &v) == 0 ? v : 0;
}

long long tconf_ms(const struct target_conf *c, const char *key)
{
    long long v = 0;
    return tconf_parse_duration_ms(tconf_str(c, key), &v) == 0 ? v : 0;
}

const char *tconf_printable(const struct target_conf *c, const char *key)
{
    const struct key_spec *s = tconf_spec(c, key);
    if (s && (s->flags & KEY_SECRET) && tconf_isset(c, key))
        return "***";
    return tconf_str(c, key);
}

/* MinIO accepts only "on" for most booleans (minio#14286 is users bitten by
 * "true" meaning off); we accept the usual spellings and refuse the rest. */
int tconf_parse_bool(const char *s, int *out)
{
    static const char *yes[] = { "on", "true", "1", "enable", NULL };
    static const char *no[] = { "off", "false", "0", "disable", "", NULL };
    for (int i = 0; yes[i]; i++)
        if (!strcasecmp(s, yes[i]))
            return *out = 1, 0;
    for (int i = 0; no[i]; i++)
        if (!strcasecmp(s, no[i]))
            return *out = 0, 0;
    return -1;
}

int tconf_parse_llong(const char *s, long long *out)
{
    if (!*s) {
        *out = 0;
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return -1;
    *out = v;
    return 0;
}

/* Go's time.ParseDuration subset: a sequence of <number><unit> with units
 * ns us ms s m h; a bare number is taken as seconds. */
int tconf_parse_duration_ms(const char *s, long long *out)
{
    if (!*s) {
        *out = 0;
        return 0;
    }
    double total = 0;
    const char *p = s;
    char *whole;
    double bare = strtod(s, &whole);
    if (!*whole && bare >= 0 && bare < 9.0e12) { /* bare number: seconds */
        *out = (long long)(bare * 1000);
        return 0;
    }
    while (*p) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || v < 0)
            return -1;
        p = end;
        double mult;
        if (!strncmp(p, "ms", 2))
            mult = 1, p += 2;
        else if (!strncmp(p, "us", 2) || !strncmp(p, "µs", 3))
            mult = 0.001, p += (*p == 'u' ? 2 : 3);
        else if (!strncmp(p, "ns", 2))
            mult = 0.000001, p += 2;
        else if (*p == 's')
            mult = 1000, p++;
        else if (*p == 'm')
            mult = 60000, p++;
        else if (*p == 'h')
            mult = 3600000, p++;
        else
            return -1;
        total += v * mult;
    }
    if (!(total >= 0 && total <= 9.0e15)) /* NaN too: "nans" parses */
        return -1;
    *out = (long long)total;
    return 0;
}

/* The port of an address: 0 when good, else -1 with why saying what is
 * wrong with it. */
static int check_port(const char *p, size_t len, int optional, char *why, size_t whylen)
{
    char num[16];
    long long n;
    if (!len && optional)
        return 0;
    snprintf(num, sizeof num, "%.*s", (int)(len < 15 ? len : 15), p);
    if (!len || len > 15 || strspn(num, "0123456789") != len || tconf_parse_llong(num, &n))
        return snprintf(why, whylen, "the port '%.*s' is not a number", (int)(len < 32 ? len : 32), p), -1;
    if (n < 1 || n > 65535)
        return snprintf(why, whylen, "the port %lld is out of range (1-65535)", n), -1;
    return 0;
}

int tconf_check_hostport(const char *v, size_t len, int port_optional, char *why, size_t whylen)
{
    /* a scheme://user:password@ would pass a host:port check, and the
     * password would reach the logs: MinIO's keys take host:port only */
    if (memmem(v, len, "://", 3) || memchr(v, '@', len))
        return snprintf(why, whylen, "must be host:port, without a scheme or credentials (they go in "
                        "their own keys)"), -1;
    const char *colon = memrchr(v, ':', len), *rb = memrchr(v, ']', len);
    if (colon && rb && colon < rb)
        colon = NULL; /* [::1] without a port */
    if (!len || colon == v || (!colon && !port_optional))
        return snprintf(why, whylen, "must be host:port"), -1;
    if (!colon)
        return 0;
    return check_port(colon + 1, len - (size_t)(colon + 1 - v), 0, why, whylen);
}

/* scheme://[user[:password]@]host[:port][/...]: the scheme, a host, and a
 * port in range when there is one. */
static int check_url(const char *v, char *why, size_t whylen)
{
    const char *sep = strstr(v, "://");
    if (!sep || sep == v || !sep[3])
        return snprintf(why, whylen, "must be a URL (scheme://host[:port]/...)"), -1;
    const char *host = sep + 3;
    size_t alen = strcspn(host, "/?#");
    const char *at = memrchr(host, '@', alen);
    if (at) {
        alen -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    const char *colon = memrchr(host, ':', alen), *rb = memrchr(host, ']', alen);
    if (colon && rb && colon < rb)
        colon = NULL;
    if (!alen || colon == host)
        return snprintf(why, whylen, "must be a URL with a host (scheme://host[:port]/...)"), -1;
    return colon ? check_port(colon + 1, alen - (size_t)(colon + 1 - host), 1, why, whylen) : 0;
}

static const char *type_word(enum key_type t)
{
    switch (t) {
    case KEY_BOOL: return "a boolean (on/off/true/false/1/0)";
    case KEY_INT: return "an integer";
    case KEY_UINT: return "a non-negative integer";
    case KEY_DURATION: return "a duration such as 500ms, 10s or 1m";
    case KEY_URL: return "a URL (scheme://host[:port]/...)";
    case KEY_HOSTPORT: return "host:port";
    default: return "a string";
    }
}

/* 0 if v is a value of the key's type, else -1 with why. */
static int check_type(const struct key_spec *s, const char *v, char *why, size_t whylen)
{
    long long n;
    int b, rc = 0;
    if (!*v)
        return 0;
    switch (s->type) {
    case KEY_BOOL:
        rc = tconf_parse_bool(v, &b);
        break;
    case KEY_INT:
        rc = tconf_parse_llong(v, &n);
        break;
    case KEY_UINT:
        rc = tconf_parse_llong(v, &n) || n < 0 ? -1 : 0;
        break;
    case KEY_DURATION:
        rc = tconf_parse_duration_ms(v, &n);
        break;
    case KEY_URL:
        return check_url(v, why, whylen);
    case KEY_HOSTPORT:
        return tconf_check_hostport(v, strlen(v), 0, why, whylen);
    default:
        return 0;
    }
    if (rc)
        snprintf(why, whylen, "must be %s", type_word(s->type));
    return rc;
}

static int validate(const struct target_conf *c, char *err, size_t errlen);

/* The files a target reads (certificates, keys, credentials: its path
 * keys but queue_dir, a directory, and the file target's output path)
 * must be readable now, not at the first connection. */
static int check_files(const struct target_conf *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct key_spec *s = tconf_spec(c, c->kv[i].key);
        const char *v = c->kv[i].val;
        if (!s || s->type != KEY_PATH || !*v || !strcmp(s->name, "queue_dir") ||
            !strcmp(s->name, "path"))
            continue;
        FILE *f = fopen(v, "r");
        if (!f) {
            snprintf(err, errlen, "%s: key '%s': cannot read %s: %s", c->name, s->name, v,
                     strerror(errno));
            return -1;
        }
        fclose(f);
    }
    return 0;
}

int tconf_validate(const struct target_conf *c, char *err, size_t errlen)
{
    int rc = validate(c, err, errlen);
    if (rc)
        tconf_redact(c, err, errlen); /* a refused value may hold a password */
    return rc;
}

static int validate(const struct target_conf *c, char *err, size_t errlen)
{
    const struct driver *d = c->kind->drv;
    if (!d) {
        snprintf(err, errlen, "%s: target kind %s is not available yet", c->name, c->kind->kind);
        return -1;
    }
    for (size_t i = 0; i < c->n; i++) {
        const struct key_spec *s = tconf_spec(c, c->kv[i].key);
        if (!s) {
            snprintf(err, errlen, "%s: unknown key '%s' (see luagate --help-target %s)", c->name,
                     c->kv[i].key, c->kind->kind);
            return -1;
        }
        char why[160];
        if (check_type(s, c->kv[i].val, why, sizeof why)) {
            snprintf(err, errlen, "%s: key '%s'%s %s%s'%s'", c->name, s->name,
                     strncmp(why, "must", 4) ? ":" : "", why, strncmp(why, "must", 4) ? " in " : ", not ",
                     (s->flags & KEY_SECRET) ? "***" : c->kv[i].val);
            return -1;
        }
    }
    for (const struct key_spec *s = d->keys; s && s->name; s++)
        if ((s->flags & KEY_REQUIRED) && !tconf_isset(c, s->name)) {
            snprintf(err, errlen, "%s: key '%s' is required (%s)", c->name, s->name, s->help);
            return -1;
        }
    if (check_files(c, err, errlen))
        return -1;
    if (tconf_ms(c, "retry_min") > tconf_ms(c, "retry_max")) {
        snprintf(err, errlen, "%s: key 'retry_min' (%s) must not be above 'retry_max' (%s)", c->name,
                 tconf_str(c, "retry_min"), tconf_str(c, "retry_max"));
        return -1;
    }
    const char *qd = tconf_str(c, "queue_dir");
    if (*qd && qd[0] != '/') {
        snprintf(err, errlen, "%s: key 'queue_dir' must be an absolute path, not '%s'", c->name, qd);
        return -1;
    }
    if (d->validate)
        return d->validate(c, err, errlen);
    return 0;
}

int tconf_access_format(const struct target_conf *c, int *access, char *err, size_t errlen)
{
    const char *f = tconf_str(c, "format");
    *access = !strcasecmp(f, "access");
    if (*access || !*f || !strcasecmp(f, "namespace"))
        return 0;
    snprintf(err, errlen, "%s: key 'format' must be namespace or access, not '%s'", tconf_name(c), f);
    return -1;
}

/* ---- redaction ------------------------------------------------------------ */

/* A credential leaves in more shapes than it is configured in: a URL's
 * password percent-decoded, user:password as HTTP Basic (base64), a
 * password inside a JSON CONNECT.  A server or a proxy that quotes the
 * request in its error quotes one of those, so every shape is redacted. */
#define MAX_SECRETS 64

struct secrets {
    const char *s[MAX_SECRETS];
    size_t len[MAX_SECRETS], n;
    char pool[8192]; /* the derived shapes */
    size_t used;
};

static void add_secret(struct secrets *x, const char *s, size_t len)
{
    if (len >= 3 && x->n < MAX_SECRETS) { /* shorter ones would mask ordinary text */
        x->s[x->n] = s;
        x->len[x->n++] = len;
    }
}

/* Room for a derived shape of up to len bytes, or NULL. */
static char *pool_take(struct secrets *x, size_t len)
{
    if (len + 1 > sizeof x->pool - x->used)
        return NULL;
    char *p = x->pool + x->used;
    x->used += len + 1;
    return p;
}

/* s with %XX decoded, if that differs. */
static void add_decoded(struct secrets *x, const char *s, size_t len)
{
    if (!memchr(s, '%', len))
        return;
    char *d = pool_take(x, len);
    size_t o = 0;
    for (size_t i = 0; d && i < len; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < len + 0 && (h = hex_value((unsigned char)s[i + 1])) >= 0 &&
            (l = hex_value((unsigned char)s[i + 2])) >= 0) {
            d[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            d[o++] = s[i];
        }
    }
    if (d)
        add_secret(x, d, o);
}

/* s as a JSON string body, if that differs (NATS sends its password in
 * a JSON CONNECT). */
static void add_json(struct secrets *x, const char *s, size_t len)
{
    size_t extra = 0;
    for (size_t i = 0; i < len; i++)
        extra += s[i] == '"' || s[i] == '\\' ? 1 : (unsigned char)s[i] < 0x20 ? 5 : 0;
    char *d = extra ? pool_take(x, len + extra) : NULL;
    if (!d)
        return;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            d[o++] = '\\', d[o++] = (char)c;
        else if (c < 0x20)
            o += (size_t)sprintf(d + o, "\\u%04x", c);
        else
            d[o++] = (char)c;
    }
    add_secret(x, d, o);
}

/* base64(user:pass), as HTTP Basic sends it (curl and the ES driver). */
static void add_basic(struct secrets *x, const char *user, size_t ulen, const char *pass, size_t plen)
{
    char raw[1024];
    if (!plen || ulen + plen + 1 >= sizeof raw)
        return;
    memcpy(raw, user, ulen);
    raw[ulen] = ':';
    memcpy(raw + ulen + 1, pass, plen);
    size_t n = ulen + plen + 1, blen = 4 * ((n + 2) / 3);
    char *d = pool_take(x, blen);
    if (d && EVP_EncodeBlock((unsigned char *)d, (const unsigned char *)raw, (int)n) == (int)blen)
        add_secret(x, d, blen);
}

/* A password in its configured shape and the ones it is sent in. */
static void add_password(struct secrets *x, const char *user, size_t ulen, const char *pass, size_t plen)
{
    size_t before = x->n;
    add_secret(x, pass, plen);
    if (x->n == before)
        return;
    add_decoded(x, pass, plen);
    add_json(x, pass, plen);
    add_basic(x, user, ulen, pass, plen);
    if (x->n > before + 1 && memchr(pass, '%', plen)) /* Basic of the decoded one, as curl sends it */
        add_basic(x, user, ulen, x->s[before + 1], x->len[before + 1]);
}

/* The password parts of a value: URL userinfo (scheme://user:pass@),
 * a DSN's user:pass@, and password=... of a key=value string. */
static void value_secrets(struct secrets *x, const char *v, int whole)
{
    if (whole) {
        add_secret(x, v, strlen(v));
        add_json(x, v, strlen(v));
    }
    const char *start = strstr(v, "://");
    start = start ? start + 3 : v;
    const char *at = strchr(start, '@');
    if (at) {
        const char *last = at;
        for (const char *q = at; (q = strchr(q + 1, '@')) && !strchr("/(", *(q - 1));)
            last = q; /* go-sql-driver: passwords may hold '@' */
        const char *colon = memchr(start, ':', (size_t)(last - start));
        if (colon && !memchr(start, '/', (size_t)(colon - start)))
            add_password(x, start, (size_t)(colon - start), colon + 1, (size_t)(last - colon - 1));
    }
    for (const char *p = v; (p = strstr(p, "password=")); p++) {
        const char *val = p + 9, *end;
        if (*val == '\'' && (end = strchr(val + 1, '\'')))
            add_secret(x, val + 1, (size_t)(end - val - 1));
        else {
            end = val + strcspn(val, " \t&");
            add_password(x, "", 0, val, (size_t)(end - val));
        }
    }
}

/* user:password pairs of separate keys, sent as HTTP Basic by the ES driver. */
static void key_pairs(const struct target_conf *c, struct secrets *x)
{
    static const char *const pairs[][2] = {
        { "username", "password" }, { "user", "password" }, { "sasl_username", "sasl_password" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const char *u = tconf_raw(c, pairs[i][0]), *p = tconf_raw(c, pairs[i][1]);
        if (u && p && *p && strlen(p) >= 3)
            add_basic(x, u, strlen(u), p, strlen(p));
    }
}

/* Every shape in x replaced by "***" in text, the longest first where
 * shapes overlap: the one place secrets are masked. */
static void mask_all(const struct secrets *x, char *text, size_t size)
{
    if (!x->n || !size)
        return;
    char out[2048];
    size_t o = 0;
    for (const char *p = text; *p && o + 4 < sizeof out;) {
        size_t hit = 0;
        for (size_t k = 0; k < x->n; k++) /* the longest shape that starts here */
            if (x->len[k] > hit && !strncmp(p, x->s[k], x->len[k]))
                hit = x->len[k];
        if (hit) {
            memcpy(out + o, "***", 3);
            o += 3;
            p += hit;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = 0;
    snprintf(text, size, "%s", out);
}

void tconf_redact(const struct target_conf *c, char *text, size_t size)
{
    struct secrets *x = calloc(1, sizeof *x);
    if (!x) { /* cannot tell what to hide: hide everything */
        snprintf(text, size, "(error text withheld: out of memory)");
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        const struct key_spec *s = tconf_spec(c, c->kv[i].key);
        if (s && ((s->flags & KEY_SECRET) || s->type == KEY_URL || s->type == KEY_HOSTPORT ||
                  s->type == KEY_CSV))
            value_secrets(x, c->kv[i].val, (s->flags & KEY_SECRET) != 0);
    }
    key_pairs(c, x);
    mask_all(x, text, size);
    free(x);
}

void tconf_mask(const char *secret, char *text, size_t size)
{
    if (!secret || !*secret)
        return;
    struct secrets *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(text, size, "(error text withheld: out of memory)");
        return;
    }
    add_password(x, "", 0, secret, strlen(secret));
    mask_all(x, text, size);
    free(x);
}
