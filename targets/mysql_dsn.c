/* mysql_dsn.c -- go-sql-driver/mysql's ParseDSN (dsn.go) and normalize(),
 * in C, so a dsn_string MinIO accepts is accepted here with the same
 * meaning and a bad one is refused with the same words. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mysql_dsn.h"
#include "hex.h"

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* Go's %q for the short ASCII strings that appear in these errors. */
static void quote(const char *s, size_t n, char *out, size_t len)
{
    size_t o = 0;
    if (len < 3)
        return;
    out[o++] = '"';
    for (size_t i = 0; i < n && o + 3 < len; i++) {
        if (s[i] == '"' || s[i] == '\\')
            out[o++] = '\\';
        out[o++] = s[i];
    }
    out[o++] = '"';
    out[o] = 0;
}


/* url.QueryUnescape (query = 1: '+' is a space) / url.PathUnescape. */
static char *unescape(const char *s, size_t n, int query, char *err, size_t errlen)
{
    char *d = malloc(n + 1), q[16];
    size_t o = 0;
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n || hex_value((unsigned char)s[i + 1]) < 0 || hex_value((unsigned char)s[i + 2]) < 0) {
                quote(s + i, n - i < 3 ? n - i : 3, q, sizeof q);
                snprintf(err, errlen, "invalid URL escape %s", q);
                free(d);
                return NULL;
            }
            d[o++] = (char)(hex_value((unsigned char)s[i + 1]) * 16 + hex_value((unsigned char)s[i + 2]));
            i += 2;
        } else
            d[o++] = query && s[i] == '+' ? ' ' : s[i];
    }
    d[o] = 0;
    return d;
}

int go_duration_ms(const char *orig, long long *ms, char *err, size_t errlen)
{
    static const struct { const char *u; double ns; } units[] = {
        { "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "\xce\xbcs", 1e3 }, { "ms", 1e6 },
        { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
    };
    char q[80], uq[40];
    const char *s = orig;
    double total = 0;
    int neg = 0;
    quote(orig, strlen(orig), q, sizeof q);
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (!strcmp(s, "0")) {
        *ms = 0;
        return 0;
    }
    if (!*s)
        goto invalid;
    while (*s) {
        if (!(*s == '.' || isdigit((unsigned char)*s)))
            goto invalid;
        double v = 0, f = 0, scale = 1;
        int pre = 0, post = 0;
        for (; isdigit((unsigned char)*s); s++, pre = 1)
            v = v * 10 + (*s - '0');
        if (*s == '.')
            for (s++; isdigit((unsigned char)*s); s++, post = 1)
                f = f * 10 + (*s - '0'), scale *= 10;
        if (!pre && !post)
            goto invalid;
        size_t i = 0;
        while (s[i] && s[i] != '.' && !isdigit((unsigned char)s[i]))
            i++;
        if (!i) {
            snprintf(err, errlen, "time: missing unit in duration %s", q);
            return -1;
        }
        double unit = 0;
        for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
            if (strlen(units[k].u) == i && !strncmp(s, units[k].u, i))
                unit = units[k].ns;
        if (!unit) {
            quote(s, i, uq, sizeof uq);
            snprintf(err, errlen, "time: unknown unit %s in duration %s", uq, q);
            return -1;
        }
        total += (v + f / scale) * unit;
        if (total > 9.223372036854775807e18)
            goto invalid;
        s += i;
    }
    *ms = (long long)(total / 1e6) * (neg ? -1 : 1);
    return 0;
invalid:
    snprintf(err, errlen, "time: invalid duration %s", q);
    return -1;
}

/* go-sql-driver's readBool: exactly these spellings. */
static int read_bool(const char *v, int *out)
{
    static const char *t[] = { "1", "true", "TRUE", "True" }, *f[] = { "0", "false", "FALSE", "False" };
    for (int i = 0; i < 4; i++) {
        if (!strcmp(v, t[i]))
            return *out = 1, 0;
        if (!strcmp(v, f[i]))
            return *out = 0, 0;
    }
    return -1;
}

static int set_str(char **dst, char *v)
{
    free(*dst);
    *dst = v;
    return v ? 0 : -1;
}

/* One key=value of the query string; errors as dsn.go's parseDSNParams. */
static int dsn_param(struct mysql_dsn *d, const char *k, size_t kl, const char *v, size_t vl,
                     char *tls_name, size_t tls_len, char *err, size_t errlen)
{
    static const char *bools[] = { "allowAllFiles", "allowCleartextPasswords", "allowFallbackToPlaintext",
                                   "allowNativePasswords", "allowOldPasswords", "checkConnLiveness",
                                   "clientFoundRows", "columnsWithAlias", "compress", "interpolateParams",
                                   "multiStatements", "parseTime", "rejectReadOnly", "tinyInt1IsBool", NULL };
    char key[64], val[256], dq[300];
    long long ms;
    int b;
    if (kl >= sizeof key)
        kl = sizeof key - 1; /* no known key is that long: falls to "other" */
    memcpy(key, k, kl);
    key[kl] = 0;
    snprintf(val, sizeof val, "%.*s", (int)vl, v);
    for (int i = 0; bools[i]; i++)
        if (!strcmp(key, bools[i])) {
            if (read_bool(val, &b)) {
                snprintf(err, errlen, "invalid bool value: %s", val);
                return -1;
            }
            if (!strcmp(key, "parseTime"))
                d->parse_time = b;
            if (!strcmp(key, "interpolateParams"))
                d->interpolate_params = b;
            if (!strcmp(key, "allowFallbackToPlaintext"))
                d->allow_fallback = b;
            return 0;
        }
    if (!strcmp(key, "charset")) {
        const char *comma = memchr(v, ',', vl);
        return set_str(&d->charset, dupn(v, comma ? (size_t)(comma - v) : vl));
    }
    if (!strcmp(key, "collation"))
        return set_str(&d->collation, dupn(v, vl));
    if (!strcmp(key, "timeout") || !strcmp(key, "readTimeout") || !strcmp(key, "writeTimeout") ||
        !strcmp(key, "timeTruncate")) {
        if (go_duration_ms(val, &ms, dq, sizeof dq)) {
            if (!strcmp(key, "timeTruncate"))
                snprintf(err, errlen, "invalid timeTruncate value: %s, error: %s", val, dq);
            else
                snprintf(err, errlen, "%s", dq);
            return -1;
        }
        if (ms < 0)
            ms = 0;
        if (!strcmp(key, "timeout"))
            d->timeout_ms = ms;
        else if (!strcmp(key, "readTimeout"))
            d->read_timeout_ms = ms;
        else if (!strcmp(key, "writeTimeout"))
            d->write_timeout_ms = ms;
        return 0;
    }
    if (!strcmp(key, "strict")) { /* go-sql-driver panics here */
        snprintf(err, errlen, "strict mode has been removed. See https://github.com/go-sql-driver/mysql/wiki/strict-mode");
        return -1;
    }
    if (!strcmp(key, "maxAllowedPacket")) {
        char *end;
        errno = 0;
        long long n = strtoll(val, &end, 10);
        if (!*val || *end || errno || isspace((unsigned char)*val) || *val == '+') {
            quote(val, strlen(val), dq, sizeof dq);
            snprintf(err, errlen, "strconv.Atoi: parsing %s: %s", dq,
                     errno == ERANGE ? "value out of range" : "invalid syntax");
            return -1;
        }
        d->max_allowed_packet = n;
        return 0;
    }
    if (!strcmp(key, "tls")) {
        if (!read_bool(val, &b)) {
            d->tls = b ? DSN_TLS_VERIFY : DSN_TLS_OFF;
            return 0;
        }
        if (!strcasecmp(val, "skip-verify")) {
            d->tls = DSN_TLS_SKIP_VERIFY;
            return 0;
        }
        if (!strcasecmp(val, "preferred")) {
            d->tls = DSN_TLS_PREFERRED;
            return 0;
        }
        char *name = unescape(v, vl, 1, dq, sizeof dq);
        if (!name) {
            snprintf(err, errlen, "invalid value for TLS config name: %s", dq);
            return -1;
        }
        /* a name registered with mysql.RegisterTLSConfig: MinIO registers none */
        snprintf(tls_name, tls_len, "%s", name);
        free(name);
        return 0;
    }
    /* loc, serverPubKey, connectionAttributes and server variables */
    char *u = unescape(v, vl, 1, dq, sizeof dq);
    if (!u) {
        if (!strcmp(key, "serverPubKey"))
            snprintf(err, errlen, "invalid value for server pub key name: %s", dq);
        else if (!strcmp(key, "connectionAttributes"))
            snprintf(err, errlen, "invalid connectionAttributes value: %s", dq);
        else
            snprintf(err, errlen, "%s", dq);
        return -1;
    }
    if (!strcmp(key, "serverPubKey")) { /* a key registered with RegisterServerPubKey: none */
        snprintf(err, errlen, "invalid value / unknown server pub key name: %s", u);
        free(u);
        return -1;
    }
    if (strcmp(key, "loc") && strcmp(key, "connectionAttributes"))
        d->nparams++;
    free(u);
    return 0;
}

static const char *unsafe_collations[] = {
    "big5_chinese_ci", "sjis_japanese_ci", "gbk_chinese_ci", "big5_bin", "gb2312_bin", "gbk_bin",
    "sjis_bin", "cp932_japanese_ci", "cp932_bin", "gb18030_chinese_ci", "gb18030_bin", NULL
};

/* normalize(): defaults, port, TLS names. */
static int dsn_normalize(struct mysql_dsn *d, const char *tls_name, char *err, size_t errlen)
{
    if (d->interpolate_params && d->collation)
        for (int i = 0; unsafe_collations[i]; i++)
            if (!strcmp(d->collation, unsafe_collations[i])) {
                snprintf(err, errlen, "invalid DSN: interpolateParams can not be used with unsafe collations");
                return -1;
            }
    if (!*d->net && set_str(&d->net, strdup("tcp")))
        return -1;
    int tcp = !strcmp(d->net, "tcp") || !strcmp(d->net, "tcp4") || !strcmp(d->net, "tcp6");
    if (!*d->addr) {
        if (!tcp && strcmp(d->net, "unix")) {
            snprintf(err, errlen, "default addr for network '%s' unknown", d->net);
            return -1;
        }
        if (set_str(&d->addr, strdup(tcp ? "127.0.0.1:3306" : "/tmp/mysql.sock")))
            return -1;
    }
    if (*tls_name) {
        snprintf(err, errlen, "invalid value / unknown config name: %s", tls_name);
        return -1;
    }
    if (d->tls == DSN_TLS_PREFERRED)
        d->allow_fallback = 1;
    if (!strcmp(d->net, "unix"))
        return set_str(&d->socket, strdup(d->addr));
    if (!tcp) {
        snprintf(err, errlen, "invalid DSN: network '%s' is not supported (use tcp or unix)", d->net);
        return -1;
    }
    if (set_str(&d->net, strdup("tcp")))
        return -1;
    /* ensureHavePort: host, [v6], v6 without brackets get :3306 */
    const char *a = d->addr, *port = NULL;
    size_t hl;
    if (a[0] == '[') {
        const char *rb = strchr(a, ']');
        if (!rb) {
            snprintf(err, errlen, "invalid DSN: missing ']' in address");
            return -1;
        }
        hl = (size_t)(rb - a - 1);
        if (rb[1] == ':')
            port = rb + 2;
        else if (rb[1]) {
            snprintf(err, errlen, "invalid DSN: unexpected text after ']' in address");
            return -1;
        }
        a++;
    } else {
        const char *c = strchr(a, ':');
        if (c && !strchr(c + 1, ':'))
            port = c + 1, hl = (size_t)(c - a);
        else
            hl = strlen(a); /* no port, or a bare IPv6 address */
    }
    long p = 3306;
    if (port) {
        char *end;
        p = strtol(port, &end, 10);
        if (!*port || *end || p <= 0 || p > 65535) {
            snprintf(err, errlen, "invalid DSN: invalid port '%s' in address", port);
            return -1;
        }
    }
    if (set_str(&d->host, dupn(a, hl)))
        return -1;
    d->port = (unsigned)p;
    char buf[320];
    snprintf(buf, sizeof buf, strchr(d->host, ':') ? "[%s]:%ld" : "%s:%ld", d->host, p);
    return set_str(&d->addr, strdup(buf));
}

int mysql_dsn_parse(const char *s, struct mysql_dsn *d, char *err, size_t errlen)
{
    size_t n = strlen(s), i, j, k;
    char tls_name[128] = "", why[256];
    memset(d, 0, sizeof *d);
    d->user = strdup("");
    d->passwd = strdup("");
    d->net = strdup("");
    d->addr = strdup("");
    d->dbname = strdup("");
    if (!d->user || !d->passwd || !d->net || !d->addr || !d->dbname)
        goto oom;
    /* the last '/': password and address may contain one */
    for (i = n; i > 0 && s[i - 1] != '/'; i--)
        ;
    if (!i) {
        if (n) {
            snprintf(err, errlen, "invalid DSN: missing the slash separating the database name");
            goto fail;
        }
    } else {
        i--; /* s[i] == '/' */
        size_t at = (size_t)-1;
        for (j = i; j-- > 0;)
            if (s[j] == '@') {
                at = j;
                break;
            }
        if (at != (size_t)-1) {
            const char *colon = memchr(s, ':', at);
            if (colon && set_str(&d->passwd, dupn(colon + 1, at - (size_t)(colon - s) - 1)))
                goto oom;
            if (set_str(&d->user, dupn(s, colon ? (size_t)(colon - s) : at)))
                goto oom;
        }
        size_t start = at == (size_t)-1 ? 0 : at + 1;
        for (k = start; k < i && s[k] != '('; k++)
            ;
        if (k < i) {
            if (s[i - 1] != ')') {
                snprintf(err, errlen, memchr(s + k + 1, ')', i - k - 1)
                                          ? "invalid DSN: did you forget to escape a param value?"
                                          : "invalid DSN: network address not terminated (missing closing brace)");
                goto fail;
            }
            if (set_str(&d->addr, dupn(s + k + 1, i - k - 2)))
                goto oom;
        }
        if (set_str(&d->net, dupn(s + start, k - start)))
            goto oom;
        const char *q = strchr(s + i + 1, '?');
        size_t dbl = q ? (size_t)(q - s - i - 1) : n - i - 1;
        if (q) {
            for (const char *p = q + 1;;) {
                const char *amp = strchr(p, '&');
                size_t pl = amp ? (size_t)(amp - p) : strlen(p);
                const char *eq = memchr(p, '=', pl);
                if (eq && dsn_param(d, p, (size_t)(eq - p), eq + 1, pl - (size_t)(eq - p) - 1, tls_name,
                                    sizeof tls_name, err, errlen))
                    goto fail;
                if (!amp)
                    break;
                p = amp + 1;
            }
        }
        char *db = unescape(s + i + 1, dbl, 0, why, sizeof why);
        if (!db) {
            char dq[200];
            quote(s + i + 1, dbl, dq, sizeof dq);
            snprintf(err, errlen, "invalid dbname %s: %s", dq, why);
            goto fail;
        }
        set_str(&d->dbname, db);
    }
    if (dsn_normalize(d, tls_name, err, errlen))
        goto fail;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    mysql_dsn_free(d);
    return -1;
}

void mysql_dsn_free(struct mysql_dsn *d)
{
    if (d->passwd)
        memset(d->passwd, 0, strlen(d->passwd));
    free(d->user);
    free(d->passwd);
    free(d->dbname);
    free(d->net);
    free(d->addr);
    free(d->host);
    free(d->socket);
    free(d->charset);
    free(d->collation);
    memset(d, 0, sizeof *d);
}

static int digits(const char *s, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        *out = *out * 10 + (s[i] - '0');
    }
    return 0;
}

/* eventTime "2006-01-02T15:04:05.000Z" (Go's strict parse) to the text
 * go-sql-driver sends for a time.Time in UTC: "2006-01-02 15:04:05.123"
 * without trailing zeros, the date alone at midnight.  The server fits it
 * to the DATETIME column (MariaDB truncates, MySQL rounds) as it would for
 * MinIO. */
int mysql_event_time(const char *in, char *out, size_t len)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, mo, d, h, mi, s, ms;
    if (!in || strlen(in) != 24 || in[4] != '-' || in[7] != '-' || in[10] != 'T' || in[13] != ':' ||
        in[16] != ':' || in[19] != '.' || in[23] != 'Z' || digits(in, 4, &y) || digits(in + 5, 2, &mo) ||
        digits(in + 8, 2, &d) || digits(in + 11, 2, &h) || digits(in + 14, 2, &mi) ||
        digits(in + 17, 2, &s) || digits(in + 20, 3, &ms))
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 ||
        mi > 59 || s > 59)
        return -1;
    if (!h && !mi && !s && !ms)
        snprintf(out, len, "%.10s", in);
    else if (!ms)
        snprintf(out, len, "%.10s %.8s", in, in + 11);
    else {
        char frac[4];
        snprintf(frac, sizeof frac, "%03d", ms);
        for (int i = 2; i > 0 && frac[i] == '0'; i--)
            frac[i] = 0;
        snprintf(out, len, "%.10s %.8s.%s", in, in + 11, frac);
    }
    return 0;
}
