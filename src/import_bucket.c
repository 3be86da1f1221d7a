/* import_bucket.c -- read a bucket's notification configuration in the
 * three forms MinIO and mc show it: the S3 XML, `mc event list` text and
 * `mc event list --json`.  Values are taken verbatim, as MinIO takes them;
 * buckets_validate judges them afterwards. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "import_bucket.h"

static int line_of(const char *text, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off; i++)
        line += text[i] == '\n';
    return line;
}

/* ---- XML (internal/event/config.go's Config, Queue, FilterRule) ------------------------ */

struct xml_state {
    XML_Parser p;
    struct bucket_set *b;
    const char *bucket, *file;
    char *err;
    size_t errlen;
    int failed, depth;
    struct bucket_rule *rule;  /* the QueueConfiguration being read */
    char *text;                /* character data of the current element */
    size_t tlen, tcap;
    char *fname, *fvalue;      /* the FilterRule being read */
    int root_seen;
};

/* Element names without a namespace prefix ("s3:Event" -> "Event"). */
static const char *local(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static void xml_fail(struct xml_state *x, const char *fmt, const char *a)
{
    if (x->failed)
        return;
    x->failed = 1;
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a);
    snprintf(x->err, x->errlen, "%s:%lu: %s", x->file, (unsigned long)XML_GetCurrentLineNumber(x->p), msg);
    XML_StopParser(x->p, XML_FALSE);
}

static void XMLCALL xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct xml_state *x = ud;
    const char *n = local(name);
    (void)attrs;
    x->tlen = 0;
    x->depth++;
    if (x->depth == 1) {
        if (strcmp(n, "NotificationConfiguration"))
            xml_fail(x, "expected element <NotificationConfiguration>, not <%s>", n);
        x->root_seen = 1;
        return;
    }
    if (x->depth == 2 && (!strcmp(n, "TopicConfiguration") || !strcmp(n, "CloudFunctionConfiguration")))
        xml_fail(x, "<%s>: MinIO does not support Topic or Cloud Function based notifications, only "
                 "<QueueConfiguration>", n);
    else if (x->depth == 2 && !strcmp(n, "QueueConfiguration")) {
        if (!(x->rule = buckets_add(x->b, x->bucket)))
            xml_fail(x, "%s", "out of memory");
        else
            x->rule->line = (int)XML_GetCurrentLineNumber(x->p);
    } else if (x->rule && !strcmp(n, "FilterRule")) {
        free(x->fname);
        free(x->fvalue);
        x->fname = x->fvalue = NULL;
    }
}

static void XMLCALL xml_text(void *ud, const XML_Char *s, int len)
{
    struct xml_state *x = ud;
    if (x->tlen + (size_t)len + 1 > x->tcap) {
        size_t cap = (x->tlen + (size_t)len + 1) * 2;
        char *t = realloc(x->text, cap);
        if (!t) {
            xml_fail(x, "%s", "out of memory");
            return;
        }
        x->text = t;
        x->tcap = cap;
    }
    memcpy(x->text + x->tlen, s, (size_t)len);
    x->tlen += (size_t)len;
    x->text[x->tlen] = 0;
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
    struct xml_state *x = ud;
    const char *n = local(name), *t = x->tlen ? x->text : "";
    size_t tl = x->tlen;
    x->depth--;
    if (!x->rule || x->failed)
        goto out;
    int rc = 0;
    if (x->depth == 2 && !strcmp(n, "Id"))
        rc = buckets_set_str(&x->rule->id, t, tl);
    else if (x->depth == 2 && !strcmp(n, "Queue"))
        rc = buckets_set_str(&x->rule->arn, t, tl);
    else if (x->depth == 2 && !strcmp(n, "Event"))
        rc = buckets_add_event(x->rule, t, tl);
    else if (!strcmp(n, "Name") && x->depth == 5)
        rc = buckets_set_str(&x->fname, t, tl);
    else if (!strcmp(n, "Value") && x->depth == 5)
        rc = buckets_set_str(&x->fvalue, t, tl);
    else if (!strcmp(n, "FilterRule") && x->depth == 4)
        /* a FilterRule without Name is named "": refused as "invalid filter name ''" */
        rc = buckets_add_filter(x->rule, x->fname ? x->fname : "", x->fvalue ? x->fvalue : "");
    else if (!strcmp(n, "QueueConfiguration") && x->depth == 1)
        x->rule = NULL;
    if (rc)
        xml_fail(x, "%s", "out of memory");
out:
    x->tlen = 0;
}

static int parse_xml(struct bucket_set *b, const char *bucket, const char *file, const char *text,
                     size_t len, char *err, size_t errlen)
{
    struct xml_state x = { .b = b, .bucket = bucket, .file = file, .err = err, .errlen = errlen };
    if (!(x.p = XML_ParserCreate(NULL))) {
        snprintf(err, errlen, "%s: out of memory", file);
        return -1;
    }
    XML_SetUserData(x.p, &x);
    XML_SetElementHandler(x.p, xml_start, xml_end);
    XML_SetCharacterDataHandler(x.p, xml_text);
    /* no external entities: a configuration never needs one */
    XML_SetParamEntityParsing(x.p, XML_PARAM_ENTITY_PARSING_NEVER);
    enum XML_Status st = XML_Parse(x.p, text, (int)len, XML_TRUE);
    if (st == XML_STATUS_ERROR && !x.failed) {
        snprintf(err, errlen, "%s:%lu: not well-formed XML: %s", file,
                 (unsigned long)XML_GetCurrentLineNumber(x.p), XML_ErrorString(XML_GetErrorCode(x.p)));
        x.failed = 1;
    }
    XML_ParserFree(x.p);
    free(x.text);
    free(x.fname);
    free(x.fvalue);
    return x.failed ? -1 : 0;
}

/* ---- mc event list --json ------------------------------------------------------------ */

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int json_rule(struct bucket_set *b, const char *bucket, const cJSON *o, int line, char *msg,
                     size_t msglen)
{
    const char *status = json_str(o, "status");
    if (!cJSON_IsObject(o) || !status) {
        snprintf(msg, msglen, "not an object of `mc event list --json` (no \"status\")");
        return -1;
    }
    if (strcmp(status, "success")) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
        const char *m = cJSON_IsObject(e) ? json_str(e, "message") : NULL;
        snprintf(msg, msglen, "mc reported an error: %s", m ? m : status);
        return -1;
    }
    const char *arn = json_str(o, "arn"), *id = json_str(o, "id"), *pre = json_str(o, "prefix"),
               *suf = json_str(o, "suffix");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");
    if (!arn || (ev && !cJSON_IsArray(ev) && !cJSON_IsNull(ev))) {
        snprintf(msg, msglen, "%s", !arn ? "no \"arn\" string" : "\"event\" is not a list of names");
        return -1;
    }
    struct bucket_rule *r = buckets_add(b, bucket);
    if (!r || buckets_set_str(&r->arn, arn, strlen(arn)) || (id && buckets_set_str(&r->id, id, strlen(id))))
        return snprintf(msg, msglen, "out of memory"), -1;
    r->line = line;
    const cJSON *e;
    cJSON_ArrayForEach(e, ev)
    {
        if (!cJSON_IsString(e)) {
            snprintf(msg, msglen, "\"event\" holds a %s, not a name", cJSON_IsNumber(e) ? "number" : "non-string");
            return -1;
        }
        if (buckets_add_event(r, e->valuestring, strlen(e->valuestring)))
            return snprintf(msg, msglen, "out of memory"), -1;
    }
    /* mc prints "" for a filter the rule does not have */
    if ((pre && *pre && buckets_add_filter(r, "prefix", pre)) || (suf && *suf && buckets_add_filter(r, "suffix", suf)))
        return snprintf(msg, msglen, "out of memory"), -1;
    return 0;
}

static int parse_json(struct bucket_set *b, const char *bucket, const char *file, const char *text,
                      size_t len, char *err, size_t errlen)
{
    size_t off = 0;
    for (;;) {
        while (off < len && isspace((unsigned char)text[off]))
            off++;
        if (off == len)
            return 0;
        const char *end = NULL;
        cJSON *o = cJSON_ParseWithLengthOpts(text + off, len - off, &end, 0);
        int line = line_of(text, off);
        if (!o) {
            size_t at = end && end >= text + off ? (size_t)(end - text) : off;
            snprintf(err, errlen, "%s:%d: not valid JSON (expected the objects `mc event list --json` "
                     "prints)", file, line_of(text, at));
            return -1;
        }
        char msg[512];
        int rc = json_rule(b, bucket, o, line, msg, sizeof msg);
        cJSON_Delete(o);
        if (rc) {
            snprintf(err, errlen, "%s:%d: %s", file, line, msg);
            return -1;
        }
        off = (size_t)(end - text);
    }
}

/* ---- mc event list (text) ------------------------------------------------------------- */

/* The line without the colour codes mc adds on a terminal. */
static char *plain(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\033' && i + 1 < n && s[i + 1] == '[') {
            i += 2;
            while (i < n && !isalpha((unsigned char)s[i]))
                i++;
            continue;
        }
        *o++ = s[i];
    }
    while (o > out && isspace((unsigned char)o[-1]))
        o--;
    *o = 0;
    return out;
}

/* `Filter: ` then prefix="<p>" and/or suffix="<s>", written back to back
 * with nothing between them (mc's eventListMessage.String).  A value may
 * hold quotes, so the prefix ends at the last `"suffix="`. */
static int text_filter(struct bucket_rule *r, const char *f, char *msg, size_t msglen)
{
    size_t n = strlen(f);
    if (!n)
        return 0;
    int pre = !strncmp(f, "prefix=\"", 8), suf = !strncmp(f, "suffix=\"", 8);
    if ((!pre && !suf) || n < 9 || f[n - 1] != '"') {
        snprintf(msg, msglen, "cannot read the filter '%s' (mc prints prefix=\"...\" and/or suffix=\"...\")", f);
        return -1;
    }
    /* mc prints neither an empty prefix nor an empty suffix: both values
     * around a `"suffix="` are at least one byte */
    const char *s = NULL;
    if (pre)
        for (const char *p = strstr(f + 9, "\"suffix=\""); p; p = strstr(p + 1, "\"suffix=\""))
            if (p + 9 < f + n - 1)
                s = p;
    char *val = NULL;
    int rc = 0;
    if (pre) {
        size_t pl = (size_t)((s ? s : f + n - 1) - (f + 8));
        rc |= buckets_set_str(&val, f + 8, pl) || buckets_add_filter(r, "prefix", val);
    }
    if (suf || s) {
        const char *v = suf ? f + 8 : s + 9;
        rc |= buckets_set_str(&val, v, (size_t)(f + n - 1 - v)) || buckets_add_filter(r, "suffix", val);
    }
    free(val);
    if (rc)
        snprintf(msg, msglen, "out of memory");
    return rc ? -1 : 0;
}

static int text_rule(struct bucket_set *b, const char *bucket, const char *line, int lineno, char *msg,
                     size_t msglen)
{
    const char *sep = strstr(line, "   "), *filt = strstr(line, "   Filter:");
    if (!sep || !filt || strncmp(line, "arn:", 4)) {
        snprintf(msg, msglen, "not a line of `mc event list ALIAS/BUCKET` (expected '<ARN>   "
                 "<events>   Filter: ...')");
        return -1;
    }
    struct bucket_rule *r = buckets_add(b, bucket);
    if (!r || buckets_set_str(&r->arn, line, (size_t)(sep - line)))
        return snprintf(msg, msglen, "out of memory"), -1;
    r->line = lineno;
    const char *e = sep;
    while (*e == ' ')
        e++;
    while (e < filt) {
        size_t k = strcspn(e, ",");
        if (e + k > filt)
            k = (size_t)(filt - e);
        if (k && buckets_add_event(r, e, k))
            return snprintf(msg, msglen, "out of memory"), -1;
        e += k + 1;
    }
    const char *f = filt + 10;
    if (*f == ' ')
        f++;
    return text_filter(r, f, msg, msglen);
}

static int parse_text(struct bucket_set *b, const char *bucket, const char *file, const char *text,
                      size_t len, char *err, size_t errlen)
{
    int lineno = 0;
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - text - off) : len - off;
        char *line = plain(text + off, n), msg[512];
        lineno++;
        off += n + 1;
        if (!line) {
            snprintf(err, errlen, "%s: out of memory", file);
            return -1;
        }
        int rc = *line ? text_rule(b, bucket, line, lineno, msg, sizeof msg) : 0;
        free(line);
        if (rc) {
            snprintf(err, errlen, "%s:%d: %s", file, lineno, msg);
            return -1;
        }
    }
    return 0;
}

int import_bucket_parse(struct bucket_set *b, const char *bucket, const char *file, const char *text,
                        size_t len, char *err, size_t errlen)
{
    size_t i = 0;
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
        i = 3; /* a UTF-8 byte order mark */
    if (memchr(text, 0, len)) {
        snprintf(err, errlen, "%s:%d: a NUL byte: not a text file", file,
                 line_of(text, (size_t)((const char *)memchr(text, 0, len) - text)));
        return -1;
    }
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    if (i < len && text[i] == '<')
        return parse_xml(b, bucket, file, text, len, err, errlen);
    size_t bom = i >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;
    if (i < len && text[i] == '{')
        return parse_json(b, bucket, file, text + bom, len - bom, err, errlen);
    return parse_text(b, bucket, file, text + bom, len - bom, err, errlen);
}
