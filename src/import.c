/* import.c -- `luagate import`: MinIO's `notify_*` settings, as
 * `mc admin config get` prints them, into a luagate configuration file.
 *
 * The input is read with MinIO's own rules (madmin.KvFields and
 * Config.SetKVS, reference/minio-notify.md §5), bugs included, so that what
 * comes out is what MinIO was actually running with:
 *   - a line is "<sub-system>[:<ID>] <kvs>"; no ":ID" is the target "_";
 *   - only keys MinIO knows for that kind are tokenised: the text is cut at
 *     the first occurrence of every "<knownkey>=", so unknown text (and a
 *     key written twice) sticks to the value before it;
 *   - a value is trimmed, then one leading and one trailing '"' are
 *     removed, then one leading and one trailing '\'';
 *   - no "enable" means on (mc prints enable only when it is off);
 *   - booleans other than enable are true only when exactly "on".
 * Values that are empty or mean the default are left out; the result is
 * checked with the same validation as the gateway's (tconf_validate) and
 * what it would refuse is written as "-- WARNING:" comments. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buckets.h"
#include "import.h"
#include "import_bucket.h"
#include "targetconf.h"

#define MAX_KEYS 64
#define NCOMMON 4 /* enable, queue_dir, queue_limit, comment */

struct ikv {
    char *key, *val;
};

struct itarget {
    const struct kind_info *kind;
    char *id;
    struct ikv *kv; /* in the order first seen */
    size_t n, cap;
    char *lost;     /* text before the first known key: MinIO drops it */
};

struct import {
    struct itarget *t;
    size_t n, cap;
    char **notes; /* header comments: skipped lines, environment overrides */
    size_t nnotes, notes_cap;
    size_t nlines; /* notify_* lines seen */
    int warnings;
    char *skipped;  /* sub-systems that are not notify_*, for one note on stderr */
    char *envs;     /* MINIO_NOTIFY_* names mc showed as set in MinIO's environment, "\n" separated */
    struct bucket_set buckets;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fputs("luagate: out of memory\n", stderr);
        abort();
    }
    return q;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static void note(struct import *im, const char *fmt, const char *a, const char *b)
{
    char line[1024];
    snprintf(line, sizeof line, fmt, a, b);
    for (size_t i = 0; i < im->nnotes; i++)
        if (!strcmp(im->notes[i], line))
            return;
    if (im->nnotes == im->notes_cap) {
        im->notes_cap = im->notes_cap ? im->notes_cap * 2 : 8;
        im->notes = xrealloc(im->notes, im->notes_cap * sizeof *im->notes);
    }
    im->notes[im->nnotes++] = xstrndup(line, strlen(line));
}

/* ---- MinIO's key list --------------------------------------------------------- */

/* Keys of luagate's tables that MinIO does not have.  They are not
 * tokenised, as MinIO would not: "timeout=" inside a webhook endpoint's
 * query string stays part of the endpoint. */
static const char *const luagate_only[][2] = {
    { "webhook", "cert_authority" }, { "webhook", "timeout" }, { "webhook", "user_agent" },
    { "kafka", "acks" },             { "kafka", "idempotence" },
};

static int is_luagate_only(const char *kind, const char *key)
{
    for (size_t i = 0; i < sizeof luagate_only / sizeof luagate_only[0]; i++)
        if (!strcmp(luagate_only[i][0], kind) && !strcmp(luagate_only[i][1], key))
            return 1;
    return 0;
}

/* The keys MinIO's KV parser knows for a kind: its defaults list (the
 * driver's table without environment-only keys and luagate extensions)
 * plus enable, queue_dir, queue_limit and comment. */
static size_t minio_keys(const struct kind_info *k, const struct key_spec **out)
{
    static const char *const common[NCOMMON] = { "enable", "queue_dir", "queue_limit", "comment" };
    size_t n = 0;
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        for (const struct key_spec *s = tconf_common_keys; s->name; s++)
            if (!strcmp(s->name, common[i]))
                out[n++] = s;
    for (const struct key_spec *s = k->drv->keys; s && s->name && n < MAX_KEYS; s++)
        if (!(s->flags & KEY_ENV_ONLY) && !is_luagate_only(k->kind, s->name))
            out[n++] = s;
    return n;
}

/* MinIO's defaults that luagate spells differently but that mean the
 * same, so an untouched MinIO key is left out. */
static const char *const minio_default[][3] = {
    { "*", "queue_limit", "0" },              /* 0 = 100000 in both */
    { "mqtt", "keep_alive_interval", "0s" },  /* 0 = 10s in both */
    { "mqtt", "reconnect_interval", "0s" },   /* 0 = 10m in MinIO; unused here */
    { "kafka", "batch_commit_timeout", "0s" },
};

static int is_minio_default(const char *kind, const char *key, const char *v)
{
    for (size_t i = 0; i < sizeof minio_default / sizeof minio_default[0]; i++)
        if ((!strcmp(minio_default[i][0], "*") || !strcmp(minio_default[i][0], kind)) &&
            !strcmp(minio_default[i][1], key) && !strcmp(minio_default[i][2], v))
            return 1;
    return 0;
}

/* ---- tokenising (madmin.KvFields, SanitizeValue, Config.SetKVS) -------------- */

static void target_set(struct itarget *t, const char *key, char *val)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->kv[i].key, key)) {
            free(t->kv[i].val);
            t->kv[i].val = val;
            return;
        }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->kv = xrealloc(t->kv, t->cap * sizeof *t->kv);
    }
    t->kv[t->n].key = xstrndup(key, strlen(key));
    t->kv[t->n].val = val;
    t->n++;
}

static const char *target_get(const struct itarget *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->kv[i].key, key))
            return t->kv[i].val;
    return NULL;
}

/* SanitizeValue: TrimSpace, then TrimPrefix/TrimSuffix '"', then '\''.
 * Prefix and suffix are removed independently, as Go's TrimPrefix and
 * TrimSuffix do: "abc loses its one quote too. */
static char *sanitize(const char *v, size_t n)
{
    while (n && isspace((unsigned char)*v))
        v++, n--;
    while (n && isspace((unsigned char)v[n - 1]))
        n--;
    for (int q = 0; q < 2; q++) {
        char c = q ? '\'' : '"';
        if (n && *v == c)
            v++, n--;
        if (n && v[n - 1] == c)
            n--;
    }
    return xstrndup(v, n);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Cut kvs at the first "<knownkey>=" of every known key and set the pairs. */
static void tokenise(struct itarget *t, const char *kvs)
{
    const struct key_spec *keys[MAX_KEYS + 4];
    size_t nk = minio_keys(t->kind, keys), at[MAX_KEYS + 4], n = 0, len = strlen(kvs);
    for (size_t i = 0; i < nk; i++) {
        char pat[128];
        snprintf(pat, sizeof pat, "%s=", keys[i]->name);
        const char *p = strstr(kvs, pat);
        if (p)
            at[n++] = (size_t)(p - kvs);
    }
    qsort(at, n, sizeof at[0], cmp_size);
    size_t first = n ? at[0] : len, skip = 0;
    while (skip < first && isspace((unsigned char)kvs[skip]))
        skip++;
    if (skip < first) {
        free(t->lost);
        t->lost = sanitize(kvs + skip, first - skip);
    }
    for (size_t i = 0; i < n; i++) {
        const char *f = kvs + at[i], *end = kvs + (i + 1 < n ? at[i + 1] : len);
        const char *eq = memchr(f, '=', (size_t)(end - f));
        char *key = xstrndup(f, (size_t)(eq - f));
        target_set(t, key, sanitize(eq + 1, (size_t)(end - eq - 1)));
        free(key);
    }
}

static struct itarget *target_for(struct import *im, const struct kind_info *k, const char *id)
{
    for (size_t i = 0; i < im->n; i++)
        if (im->t[i].kind == k && !strcmp(im->t[i].id, id))
            return &im->t[i];
    if (im->n == im->cap) {
        im->cap = im->cap ? im->cap * 2 : 8;
        im->t = xrealloc(im->t, im->cap * sizeof *im->t);
    }
    struct itarget *t = &im->t[im->n++];
    memset(t, 0, sizeof *t);
    t->kind = k;
    t->id = xstrndup(id, strlen(id));
    return t;
}

static const struct kind_info *minio_kind(const char *name)
{
    size_t n;
    const struct kind_info *all = driver_kinds(&n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(all[i].kind, name) && driver_is_minio(&all[i]))
            return &all[i];
    return NULL;
}

/* Add word to a sep-separated list unless it is there already. */
static void append_word(char **list, const char *word, const char *sep)
{
    size_t n = *list ? strlen(*list) : 0, w = strlen(word);
    for (const char *p = *list; p && (p = strstr(p, word)); p++)
        if ((p == *list || p[-1] == *sep) && (p[w] == 0 || p[w] == *sep))
            return;
    *list = xrealloc(*list, n + w + 2);
    snprintf(*list + n, w + 2, "%s%s", n ? sep : "", word);
}

static void parse_line(struct import *im, char *line)
{
    if (*line == '#') {
        /* mc prints "# MINIO_NOTIFY_KAFKA_BROKERS_1=..." for settings that
         * come from MinIO's environment; note the name, not the value */
        const char *p = line + 1;
        while (*p == ' ')
            p++;
        if (!strncmp(p, "MINIO_NOTIFY_", 13)) {
            char *name = xstrndup(p, strcspn(p, "= "));
            note(im, "MinIO's environment sets %s: not copied (luagate reads the same variable, "
                 "and it wins over this file)%s", name, "");
            append_word(&im->envs, name, "\n");
            free(name);
        }
        return;
    }
    size_t sublen = strcspn(line, " ");
    char *kvs = line + sublen + (line[sublen] ? 1 : 0);
    line[sublen] = 0;
    if (strncmp(line, "notify_", 7)) {
        /* `mc admin config export` prints every sub-system: one note for all */
        char *sub = xstrndup(line, strcspn(line, ":"));
        append_word(&im->skipped, sub, " ");
        free(sub);
        return;
    }
    char *colon = strchr(line, ':');
    const char *id = colon && colon[1] ? colon + 1 : "_";
    if (colon)
        *colon = 0;
    im->nlines++;
    const struct kind_info *k = minio_kind(line + 7);
    if (!k || !k->drv) {
        note(im, "skipped: %s is %s", line,
             k ? "not available in this build" : "not a notification kind MinIO has");
        return;
    }
    tokenise(target_for(im, k, id), kvs);
}

/* ---- writing ------------------------------------------------------------------ */

/* A Lua string literal, readable: printable bytes (UTF-8 included) as they
 * are, quotes, backslashes and control characters escaped. */
static void put_lua_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(out, "\\%03u", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

/* A plain decimal integer Lua reads back as the same text. */
static int plain_integer(const char *s)
{
    const char *p = s + (*s == '-');
    size_t n = strspn(p, "0123456789");
    return n && n <= 15 && !p[n] && (*p != '0' || n == 1) && strcmp(s, "-0");
}

/* MinIO's config.ParseBool, used for "enable". */
static int minio_enable(const char *v, int *on)
{
    static const char *yes[] = { "1", "t", "T", "true", "TRUE", "True", "on", "ON", "On" };
    static const char *no[] = { "0", "f", "F", "false", "FALSE", "False", "off", "OFF", "Off" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (!strcmp(v, yes[i]))
            return *on = 1, 0;
        if (!strcmp(v, no[i]))
            return *on = 0, 0;
    }
    if (!strcasecmp(v, "enabled"))
        return *on = 1, 0;
    if (!strcasecmp(v, "disabled"))
        return *on = 0, 0;
    return -1;
}

static void warn(struct import *im, FILE *out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn(struct import *im, FILE *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("  -- WARNING: ", out);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    va_end(ap);
    im->warnings++;
}

enum form { F_OMIT, F_STR, F_NUM, F_TRUE, F_FALSE };

/* How MinIO's value v of key s is written: left out when empty or when it
 * means the default, else as a Lua boolean, number or string. */
static enum form form_of(struct import *im, FILE *out, const struct itarget *t,
                         const struct key_spec *s, const char *v)
{
    long long a, b;
    if (!*v)
        return F_OMIT;
    const char *def = s->def ? s->def : "";
    if (!strcmp(v, def) || is_minio_default(t->kind->kind, s->name, v))
        return F_OMIT;
    switch (s->type) {
    case KEY_BOOL: {
        int on = !strcmp(v, "on"), def_on = 0;
        if (strcmp(v, "off"))
            if (!on)
                warn(im, out, "%s:%s: %s=\"%s\": MinIO takes only \"on\" as true (minio#14286), so it "
                     "ran with %s off; imported as off", t->kind->kind, t->id, s->name, v, s->name);
        tconf_parse_bool(def, &def_on);
        return on == def_on ? F_OMIT : on ? F_TRUE : F_FALSE;
    }
    case KEY_INT:
    case KEY_UINT:
        if (*def && !tconf_parse_llong(v, &a) && !tconf_parse_llong(def, &b) && a == b)
            return F_OMIT;
        return plain_integer(v) ? F_NUM : F_STR;
    case KEY_DURATION:
        if (*def && !tconf_parse_duration_ms(v, &a) && !tconf_parse_duration_ms(def, &b) && a == b)
            return F_OMIT;
        return F_STR;
    default:
        return F_STR;
    }
}

/* Values glued together by MinIO's tokeniser: " word=" inside a value. */
static const char *glued(const struct key_spec *s, const char *v)
{
    if (!strcmp(s->name, "connection_string") || !strcmp(s->name, "comment"))
        return NULL; /* key=value text by nature */
    for (const char *p = strchr(v, ' '); p; p = strchr(p + 1, ' ')) {
        size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
        if (n && p[1 + n] == '=')
            return p + 1;
    }
    return NULL;
}

static void write_target(struct import *im, FILE *out, struct itarget *t)
{
    const struct kind_info *k = t->kind;
    const struct key_spec *keys[MAX_KEYS + 4];
    size_t nk = minio_keys(k, keys);
    char name[256], err[1024];
    snprintf(name, sizeof name, "%s:%s", k->kind, t->id);

    const char *en = target_get(t, "enable");
    int on = 1;
    if (!t->n) {
        fprintf(out, "  -- notify_%s%s%s: no settings (MinIO's unconfigured default target), skipped\n\n",
                k->kind, strcmp(t->id, "_") ? ":" : "", strcmp(t->id, "_") ? t->id : "");
        return;
    }
    fprintf(out, "  -- notify_%s%s%s\n", k->kind, strcmp(t->id, "_") ? ":" : "",
            strcmp(t->id, "_") ? t->id : "");
    if (en && minio_enable(en, &on)) {
        warn(im, out, "%s: enable=\"%s\" is not a boolean MinIO accepts (it refuses every target "
             "then); imported as off", name, en);
        on = 0;
    }
    if (!tconf_valid_id(t->id))
        warn(im, out, "%s: luagate target ids are letters, digits, _ or - (up to 64): rename it",
             name);
    if (t->lost)
        fprintf(out, "  -- ignored, as MinIO does (not after a key it knows): %s\n", t->lost);

    /* what the gateway will read, for validation */
    struct target_conf *tc = tconf_new(k, t->id);
    if (!tc) {
        fputs("luagate: out of memory\n", stderr);
        abort();
    }
    /* warnings about single values come first, above the entry */
    enum form form[MAX_KEYS + 4];
    for (size_t i = 0; i < nk; i++) {
        const char *v = target_get(t, keys[i]->name);
        form[i] = F_OMIT;
        if (!v || !strcmp(keys[i]->name, "enable"))
            continue;
        const char *g = glued(keys[i], v);
        if (g)
            warn(im, out, "%s: the value of '%s' holds \"%.*s=\", not a key MinIO knows for "
                 "notify_%s, so MinIO kept it as part of '%s' (and so does this import)",
                 name, keys[i]->name, (int)strcspn(g, "="), g, k->kind, keys[i]->name);
        form[i] = form_of(im, out, t, keys[i], v);
        if (form[i] != F_OMIT)
            tconf_set(tc, keys[i]->name, form[i] == F_TRUE ? "on" : form[i] == F_FALSE ? "off" : v);
    }
    if (on && tconf_validate(tc, err, sizeof err))
        warn(im, out, "%s", err);
    tconf_free(tc);

    fprintf(out, "  [");
    put_lua_string(out, name);
    fprintf(out, "] = {\n");
    if (!on)
        fprintf(out, "    enable = false,\n");
    /* the driver's keys in table order, then queue_dir, queue_limit and
     * comment (minio_keys() puts the NCOMMON common keys first) */
    for (size_t j = 0; j < nk; j++) {
        size_t i = j + NCOMMON < nk ? j + NCOMMON : j + NCOMMON - nk;
        const char *v = target_get(t, keys[i]->name);
        if (!v || form[i] == F_OMIT)
            continue;
        fprintf(out, "    %s = ", keys[i]->name);
        if (form[i] == F_TRUE || form[i] == F_FALSE)
            fputs(form[i] == F_TRUE ? "true" : "false", out);
        else if (form[i] == F_NUM)
            fputs(v, out);
        else
            put_lua_string(out, v);
        fputs(",\n", out);
    }
    const char *qd = target_get(t, "queue_dir");
    if (qd && *qd)
        fprintf(out, "    -- queue_dir is where MinIO queued: luagate keeps its own journal there (not "
                "MinIO's files); point it at luagate's volume or drop it for the global queue_dir\n");
    /* secrets that recent mc versions leave out of `config get` once set */
    for (size_t i = 0; i < nk; i++)
        if ((keys[i]->flags & KEY_SECRET) && !target_get(t, keys[i]->name)) {
            fprintf(out, "    -- %s = \"...\",  -- secret not in the input (mc leaves set secrets "
                    "out): fill it in if MinIO had one\n", keys[i]->name);
            if (on)
                im->warnings++;
        }
    int first = 1;
    for (size_t i = 0; i < nk; i++) {
        const char *v = target_get(t, keys[i]->name);
        if (!v || form[i] != F_OMIT || !strcmp(keys[i]->name, "enable"))
            continue;
        fprintf(out, "%s %s", first ? "    -- empty or default, left out:" : "", keys[i]->name);
        first = 0;
    }
    if (!first)
        fputc('\n', out);
    fprintf(out, "  },\n\n");
}

/* The notify_* lines of one input. */
static int read_kv(struct import *im, const struct import_input *in, char *err, size_t errlen)
{
    const char *p = in->text, *end = in->text + in->len;
    size_t before = im->nlines;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = xstrndup(p, n), *s = line;
        while (isspace((unsigned char)*s))
            s++;
        size_t m = strlen(s);
        while (m && isspace((unsigned char)s[m - 1]))
            s[--m] = 0;
        if (*s)
            parse_line(im, s);
        free(line);
        p += n + 1;
    }
    if (im->nlines == before) {
        snprintf(err, errlen, "%s: no notify_* line in the input (expected the output of "
                 "`mc admin config get ALIAS notify_<kind>` or `mc admin config export ALIAS`)", in->file);
        return -1;
    }
    if (im->skipped)
        fprintf(stderr, "luagate import: %s: ignored, not notification targets: %s\n", in->file, im->skipped);
    free(im->skipped);
    im->skipped = NULL;
    return 0;
}

/* The input a rule was read from: the one --bucket file of its bucket. */
static const struct import_input *input_of(const struct import_input *in, size_t n, const char *bucket)
{
    for (size_t i = 0; i < n; i++)
        if (in[i].bucket && !strcmp(in[i].bucket, bucket))
            return &in[i];
    return NULL;
}

static int rule_error(const struct import_input *in, size_t n, const struct bucket_rule *r,
                      const char *msg, char *err, size_t errlen)
{
    const struct import_input *f = input_of(in, n, r->bucket);
    snprintf(err, errlen, "%s:%d: %s", f ? f->file : "?", r->line, msg);
    return -1;
}

/* Is target ("kind:id") among the imported ones, or enabled in MinIO's
 * environment as mc showed it (# MINIO_NOTIFY_<KIND>_ENABLE[_<ID>]=...)? */
static int target_known(const struct import *im, const char *target)
{
    for (size_t i = 0; i < im->n; i++) {
        char name[256];
        snprintf(name, sizeof name, "%s:%s", im->t[i].kind->kind, im->t[i].id);
        if (!strcmp(name, target))
            return 1;
    }
    const char *colon = strchr(target, ':');
    char kind[64], env[256];
    snprintf(kind, sizeof kind, "%.*s", (int)(colon - target), target);
    const struct kind_info *k = driver_kind(kind);
    if (!k || !im->envs)
        return 0;
    static const struct key_spec enable = { "enable", KEY_BOOL, NULL, 0, NULL, NULL };
    driver_env_name(k, &enable, env, sizeof env);
    if (strcmp(colon + 1, "_")) {
        size_t n = strlen(env);
        snprintf(env + n, sizeof env - n, "_%s", colon + 1);
    }
    size_t n = strlen(env);
    for (const char *p = strstr(im->envs, env); p; p = strstr(p + 1, env))
        if ((p == im->envs || p[-1] == '\n') && (p[n] == 0 || p[n] == '\n'))
            return 1;
    return 0;
}

static int read_buckets(struct import *im, const struct import_input *in, size_t n, int have_kv,
                        char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (!in[i].bucket)
            continue;
        const struct import_input *first = input_of(in, n, in[i].bucket);
        if (first != &in[i]) {
            snprintf(err, errlen, "%s: bucket '%s' is given twice (%s and %s): a bucket has one "
                     "notification configuration", in[i].file, in[i].bucket, first->file, in[i].file);
            return -1;
        }
        im->buckets.given = 1;
        if (import_bucket_parse(&im->buckets, in[i].bucket, in[i].file, in[i].text, in[i].len, err, errlen))
            return -1;
        size_t k = 0;
        while (k < im->buckets.n && strcmp(im->buckets.r[k].bucket, in[i].bucket))
            k++;
        if (k == im->buckets.n)
            fprintf(stderr, "luagate import: %s: bucket '%s' has no rules: MinIO sends its events "
                    "nowhere, and so will luagate\n", in[i].file, in[i].bucket);
    }
    char msg[1024];
    if (buckets_validate(&im->buckets, msg, sizeof msg))
        return rule_error(in, n, &im->buckets.r[im->buckets.bad], msg, err, errlen);
    for (size_t i = 0; i < im->buckets.n; i++) {
        const struct bucket_rule *r = &im->buckets.r[i];
        if (target_known(im, r->target))
            continue;
        char name[256];
        buckets_rule_name(r, name, sizeof name);
        if (have_kv) {
            snprintf(msg, sizeof msg, "%s: ARN '%s' names target %s, which the imported MinIO settings "
                     "do not have", name, r->arn, r->target);
            return rule_error(in, n, r, msg, err, errlen);
        }
        fprintf(stderr, "luagate import: %s: ARN '%s' needs target %s: import MinIO's notify_* settings "
                "in the same call or set its MINIO_NOTIFY_* variables\n", name, r->arn, r->target);
    }
    return 0;
}

static void write_buckets(const struct import *im, FILE *out)
{
    const struct bucket_set *b = &im->buckets;
    fputs("\n-- bucket notification rules (mc event list), matched as MinIO matches them\nbuckets = {\n", out);
    for (size_t i = 0; i < b->n; i++) {
        const struct bucket_rule *r = &b->r[i];
        size_t first = 0;
        while (strcmp(b->r[first].bucket, r->bucket))
            first++;
        if (first != i)
            continue;
        fputs("  [", out);
        put_lua_string(out, r->bucket);
        fputs("] = {\n", out);
        for (size_t j = i; j < b->n; j++) {
            const struct bucket_rule *q = &b->r[j];
            if (strcmp(q->bucket, r->bucket))
                continue;
            fputs("    { ", out);
            if (*q->id) {
                fputs("id = ", out);
                put_lua_string(out, q->id);
                fputs(", ", out);
            }
            fputs("arn = ", out);
            put_lua_string(out, q->arn);
            fputs(", events = { ", out);
            for (size_t e = 0; e < q->nevents; e++) {
                put_lua_string(out, q->events[e]);
                fputs(e + 1 < q->nevents ? ", " : " ", out);
            }
            fputs("}", out);
            if (q->prefix) {
                fputs(", prefix = ", out);
                put_lua_string(out, q->prefix);
            }
            if (q->suffix) {
                fputs(", suffix = ", out);
                put_lua_string(out, q->suffix);
            }
            fputs(" },\n", out);
        }
        fputs("  },\n", out);
    }
    fputs("}\n", out);
}

static void import_free(struct import *im)
{
    for (size_t i = 0; i < im->n; i++) {
        for (size_t j = 0; j < im->t[i].n; j++) {
            free(im->t[i].kv[j].key);
            free(im->t[i].kv[j].val);
        }
        free(im->t[i].kv);
        free(im->t[i].id);
        free(im->t[i].lost);
    }
    free(im->t);
    for (size_t i = 0; i < im->nnotes; i++)
        free(im->notes[i]);
    free(im->notes);
    free(im->skipped);
    free(im->envs);
    buckets_free(&im->buckets);
}

int import_inputs(const struct import_input *in, size_t n, FILE *out, char *err, size_t errlen)
{
    struct import im = { 0 };
    int rc = -1, have_kv = 0;
    for (size_t i = 0; i < n; i++)
        if (!in[i].bucket) {
            have_kv = 1;
            if (read_kv(&im, &in[i], err, errlen))
                goto out;
        }
    if (read_buckets(&im, in, n, have_kv, err, errlen))
        goto out;
    fputs("-- luagate configuration written by `luagate import` from MinIO's notification settings\n"
          "-- (`mc admin config get ALIAS notify_<kind>`) and bucket rules (`mc event list ALIAS/BUCKET`).\n"
          "-- It holds the targets' secrets (passwords, tokens, connection strings) as MinIO had them:\n"
          "-- protect it like MinIO's own configuration (chmod 600, owned by the user luagate runs as),\n"
          "-- or move the secrets to MINIO_NOTIFY_* variables.\n"
          "-- Keys whose value was empty or the default are left out (listed per target).\n"
          "-- Global settings (listen, queue_dir, script, ...) keep their defaults: see luagate(1).\n"
          "-- Check it with: luagate check -c THIS_FILE\n",
          out);
    for (size_t i = 0; i < im.nnotes; i++)
        fprintf(out, "-- %s\n", im.notes[i]);
    if (have_kv) {
        fputs("\ntargets = {\n", out);
        for (size_t i = 0; i < im.n; i++)
            write_target(&im, out, &im.t[i]);
        fputs("}\n", out);
    }
    if (im.buckets.given)
        write_buckets(&im, out);
    rc = im.warnings;
out:
    import_free(&im);
    return rc;
}

int import_text(const char *text, size_t len, FILE *out, char *err, size_t errlen)
{
    struct import_input one = { NULL, "input", text, len };
    return import_inputs(&one, 1, out, err, errlen);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = path ? fopen(path, "r") : stdin;
    if (!f)
        return NULL;
    char *text = xrealloc(NULL, 1), chunk[65536];
    size_t n;
    *len = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        text = xrealloc(text, *len + n + 1);
        memcpy(text + *len, chunk, n);
        *len += n;
    }
    text[*len] = 0;
    int bad = ferror(f);
    if (path)
        fclose(f);
    if (bad) {
        free(text);
        errno = EIO;
        return NULL;
    }
    return text;
}

static int usage(FILE *f, int rc)
{
    fputs("usage: luagate import [--bucket NAME FILE]... [FILE]...\n"
          "  FILE                `mc admin config get ALIAS notify_<kind>` or `mc admin config export ALIAS`\n"
          "                      output (\"-\" or none: standard input)\n"
          "  --bucket NAME FILE  bucket NAME's notification rules: the XML of GetBucketNotification, or\n"
          "                      what `mc event list ALIAS/NAME` prints (text, or --json)\n"
          "writes one luagate configuration with the targets and bucket rules to standard output\n",
          f);
    return rc;
}

int import_main(int argc, char **argv)
{
    struct import_input *in = xrealloc(NULL, (size_t)(argc + 1) * sizeof *in);
    size_t n = 0;
    int rc = 1, stdin_used = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            free(in);
            return usage(stdout, 0);
        }
        const char *bucket = NULL;
        if (!strcmp(argv[i], "--bucket")) {
            if (i + 2 >= argc || !*argv[i + 1]) {
                fputs("luagate import: --bucket needs a bucket name and a file\n", stderr);
                rc = usage(stderr, 2);
                goto out;
            }
            bucket = argv[++i];
            i++;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "luagate import: unknown option '%s'\n", argv[i]);
            rc = usage(stderr, 2);
            goto out;
        }
        const char *path = strcmp(argv[i], "-") ? argv[i] : NULL;
        if (!path && stdin_used++) {
            fputs("luagate import: standard input can be read only once\n", stderr);
            rc = 2;
            goto out;
        }
        in[n] = (struct import_input){ bucket, path ? path : "(standard input)", NULL, 0 };
        char *text = read_all(path, &in[n].len);
        if (!text) {
            fprintf(stderr, "luagate import: cannot read %s: %s\n", in[n].file, strerror(errno));
            goto out;
        }
        in[n++].text = text;
    }
    if (!n) {
        char *text = read_all(NULL, &in[0].len);
        if (!text) {
            fprintf(stderr, "luagate import: cannot read standard input: %s\n", strerror(errno));
            goto out;
        }
        in[0] = (struct import_input){ NULL, "(standard input)", text, in[0].len };
        n = 1;
    }
    char err[1024];
    int w = import_inputs(in, n, stdout, err, sizeof err);
    if (w < 0) {
        fprintf(stderr, "luagate import: %s\n", err);
        goto out;
    }
    if (w > 0)
        fprintf(stderr, "luagate import: %d warning(s): see the \"-- WARNING\" and \"-- secret\" "
                "lines of the output\n", w);
    rc = fflush(stdout) ? 1 : 0;
out:
    for (size_t i = 0; i < n; i++)
        free((char *)in[i].text);
    free(in);
    return rc;
}
