/* test_event.c -- request bodies into events: MinIO's envelope kept byte
 * for byte, S3-style bodies framed into MinIO's envelope, key unescaping,
 * strict JSON validation, and Go-compatible string quoting. */
#include "unit.h"
#include "event.h"

#define MAX_SAMPLES 256

static struct sample samples[MAX_SAMPLES];
static size_t nsamples;
static char err[512];

/* The envelope of ev as one NUL-terminated string (malloc'd). */
static char *envelope_of(const struct event *ev)
{
    struct iovec iov[3];
    int n = event_envelope(ev, iov);
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += iov[i].iov_len;
    char *s = malloc(len + 1), *p = s;
    for (int i = 0; i < n; i++) {
        memcpy(p, iov[i].iov_base, iov[i].iov_len);
        p += iov[i].iov_len;
    }
    *p = 0;
    return s;
}

static const struct sample *sample_with_key(const char *part)
{
    for (size_t i = 0; i < nsamples; i++)
        if (strstr(samples[i].key, part))
            return &samples[i];
    return NULL;
}

TEST(samples_loaded)
{
    CHECK(nsamples >= 10);
    CHECK(sample_with_key("a b.jpg") != NULL);
    CHECK(sample_with_key("&<>") != NULL);
}

TEST(minio_envelope_forwarded_byte_for_byte)
{
    struct event_batch in = { 0 };
    size_t bad = 0;
    for (size_t i = 0; i < nsamples; i++) {
        const struct sample *s = &samples[i];
        int rc = event_parse(&in, s->envelope, strlen(s->envelope), err, sizeof err);
        if (rc || in.nev != 1) {
            printf("  # sample %zu: rc %d, %zu events: %s\n", i + 1, rc, in.nev, rc ? err : "");
            bad++;
            continue;
        }
        const struct event *ev = &in.ev[0];
        struct iovec iov[3];
        int n = event_envelope(ev, iov);
        int same = n == 1 && iov[0].iov_len == strlen(s->envelope) &&
                   !memcmp(iov[0].iov_base, s->envelope, iov[0].iov_len);
        int fields = !strcmp(ev->name, s->event_name) && !strcmp(ev->key, s->key) &&
                     !strcmp(ev->time, s->event_time) &&
                     ev->record_len == strlen(s->record) &&
                     !memcmp(ev->record, s->record, ev->record_len);
        if (!same || !fields) {
            printf("  # sample %zu: envelope %s, fields %s (key '%s' vs '%s')\n", i + 1,
                   same ? "ok" : "differs", fields ? "ok" : "differ", ev->key, s->key);
            bad++;
        }
        const char *slash = strchr(s->key, '/');
        if (slash && ev->bucket_len != (size_t)(slash - s->key))
            bad++;
    }
    CHECK_INT(bad, 0);
    event_batch_free(&in);
}

TEST(envelope_without_outer_blanks)
{
    if (!nsamples)
        return;
    const struct sample *s = &samples[0];
    size_t len = strlen(s->envelope);
    char *body = malloc(len + 8);
    sprintf(body, " \r\n\t%s\n ", s->envelope);
    struct event_batch in = { 0 };
    CHECK_INT(event_parse(&in, body, strlen(body), err, sizeof err), 0);
    CHECK_INT(in.nev, 1);
    if (in.nev == 1) {
        char *env = envelope_of(&in.ev[0]);
        CHECK_STR(env, s->envelope);
        free(env);
    }
    event_batch_free(&in);
    free(body);
}

/* Every sample record sent S3-style gets exactly MinIO's envelope back:
 * the Key unescaped and quoted like Go's json.Marshal. */
TEST(built_envelope_matches_minio_for_every_sample)
{
    struct event_batch in = { 0 };
    size_t bad = 0;
    for (size_t i = 0; i < nsamples; i++) {
        const struct sample *s = &samples[i];
        if (event_parse(&in, s->records, strlen(s->records), err, sizeof err) || in.nev != 1) {
            printf("  # sample %zu: %s\n", i + 1, err);
            bad++;
            continue;
        }
        CHECK(in.ev[0].envelope == NULL);
        char *env = envelope_of(&in.ev[0]);
        if (strcmp(env, s->envelope)) {
            printf("  # sample %zu:\n  #   got  %.200s\n  #   want %.200s\n", i + 1, env, s->envelope);
            bad++;
        }
        free(env);
    }
    CHECK_INT(bad, 0);
    event_batch_free(&in);
}

TEST(s3_body_with_two_records)
{
    const struct sample *a = sample_with_key("images/photos/2026/11/a b.jpg");
    const struct sample *b = sample_with_key("&<>");
    CHECK(a && b);
    if (!a || !b)
        return;
    CHECK_STR(a->key, "images/photos/2026/11/a b.jpg");
    size_t len = strlen(a->record) + strlen(b->record) + 64;
    char *body = malloc(len);
    snprintf(body, len, "{\"Records\":[%s, \n%s]}", a->record, b->record);
    struct event_batch in = { 0 };
    CHECK_INT(event_parse(&in, body, strlen(body), err, sizeof err), 0);
    CHECK_INT(in.nev, 2);
    if (in.nev == 2) {
        CHECK_STR(in.ev[0].key, "images/photos/2026/11/a b.jpg");
        CHECK_STR(in.ev[0].name, a->event_name);
        CHECK_STR(in.ev[0].time, a->event_time);
        CHECK_INT(in.ev[0].bucket_len, strlen("images"));
        CHECK_STR(in.ev[1].key, b->key);
        char *e0 = envelope_of(&in.ev[0]), *e1 = envelope_of(&in.ev[1]);
        CHECK_STR(e0, a->envelope);
        CHECK_STR(e1, b->envelope);
        CHECK(!strncmp(e0, "{\"EventName\":", 13));
        CHECK(strstr(e0, "\"Key\":\"images/photos/2026/11/a b.jpg\",\"Records\":[") != NULL);
        free(e0);
        free(e1);
        /* the raw record bytes are the body's, not a re-encoding */
        CHECK(in.ev[0].record_len == strlen(a->record) &&
              !memcmp(in.ev[0].record, a->record, in.ev[0].record_len));
        CHECK_STR(event_string(&in, &in.ev[0], "s3.object.key"), "photos%2F2026%2F11%2Fa+b.jpg");
        CHECK_STR(event_string(&in, &in.ev[0], "s3.bucket.name"), "images");
        CHECK(event_string(&in, &in.ev[0], "s3.nothing.here") == NULL);
        CHECK(event_token(&in, &in.ev[1], "s3.object.size") >= 0);
    }
    /* an envelope-shaped body with two records is not forwarded as is */
    event_batch_reset(&in);
    snprintf(body, len, "{\"EventName\":\"x\",\"Key\":\"y\",\"Records\":[%s,%s]}", a->record, b->record);
    CHECK_INT(event_parse(&in, body, strlen(body), err, sizeof err), 0);
    CHECK_INT(in.nev, 2);
    if (in.nev == 2) {
        char *e0 = envelope_of(&in.ev[0]);
        CHECK_STR(e0, a->envelope);
        free(e0);
    }
    event_batch_free(&in);
    free(body);
}

static int unescape_is(const char *in, const char *want)
{
    struct buf b = { 0 };
    int rc = event_query_unescape(in, strlen(in), &b);
    int ok = rc == 0 && b.p && b.len == strlen(want) && !strcmp(b.p, want);
    if (!ok)
        printf("  # event_query_unescape('%s') = %d '%s', want '%s'\n", in, rc, b.p ? b.p : "", want);
    buf_free(&b);
    return ok;
}

static int unescape_fails(const char *in)
{
    struct buf b = { 0 };
    int rc = event_query_unescape(in, strlen(in), &b);
    if (rc != -1)
        printf("  # event_query_unescape('%s') accepted: '%s'\n", in, b.p ? b.p : "");
    buf_free(&b);
    return rc == -1;
}

TEST(query_unescape_like_go)
{
    CHECK(unescape_is("photos%2Fa+b.jpg", "photos/a b.jpg"));
    CHECK(unescape_is("%41", "A"));
    CHECK(unescape_is("%2f%2F", "//"));
    CHECK(unescape_is("%e4%b8%ad%E6%96%87", "中文"));
    CHECK(unescape_is("%2B%25", "+%"));
    CHECK(unescape_is("", ""));
    CHECK(unescape_is("plain", "plain"));
    CHECK(unescape_is("a%20b+c", "a b c"));
    CHECK(unescape_fails("%zz"));
    CHECK(unescape_fails("%4"));
    CHECK(unescape_fails("a%4"));
    CHECK(unescape_fails("%"));
    CHECK(unescape_fails("abc%"));
    CHECK(unescape_fails("%g1"));
    CHECK(unescape_fails("%1g"));
    /* n bounds the input, not a NUL */
    struct buf b = { 0 };
    CHECK_INT(event_query_unescape("%41%42", 3, &b), 0);
    CHECK_STR(b.p, "A");
    CHECK_INT(event_query_unescape("%41%42", 4, &b), -1);
    buf_free(&b);
}

static int refused(const char *body, size_t len)
{
    struct event_batch in = { 0 };
    err[0] = 0;
    int rc = event_parse(&in, body, len, err, sizeof err);
    event_batch_free(&in);
    if (rc != -1 || !err[0]) {
        printf("  # accepted: %.*s\n", (int)(len > 120 ? 120 : len), body);
        return 0;
    }
    return 1;
}

#define REFUSED(s) refused((s), sizeof(s) - 1)
#define REC "{\"eventName\":\"s3:ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}"

TEST(malformed_json_refused)
{
    CHECK(REFUSED(""));
    CHECK(REFUSED("   "));
    CHECK(REFUSED("{\"Records\":[" REC "}"));            /* truncated */
    CHECK(REFUSED("{\"Records\":[" REC "}]"));           /* truncated */
    CHECK(REFUSED("{\"Records\":[" REC "}]} x"));        /* trailing garbage */
    CHECK(REFUSED("{} x"));
    CHECK(REFUSED("{}{}"));
    CHECK(REFUSED("{\"a\" 1}"));
    CHECK(REFUSED("{\"a\":1 \"b\":2}"));
    CHECK(REFUSED("{\"a\":1,,\"b\":2}"));
    CHECK(REFUSED("{\"a\":1,}"));
    CHECK(REFUSED("{,}"));
    CHECK(REFUSED("{\"a\"}"));
    CHECK(REFUSED("{a:1}"));
    CHECK(REFUSED("{\"a\"::1}"));
    CHECK(REFUSED("[1 2]"));
    CHECK(REFUSED("[1,]"));
    CHECK(REFUSED("[,1]"));
    CHECK(REFUSED("{\"a\":[1,2}"));
    CHECK(REFUSED("{\"a\":tru}"));
    CHECK(REFUSED("{\"a\":nul}"));
    CHECK(REFUSED("{\"a\":True}"));
    CHECK(REFUSED("{\"a\":truex}"));
    CHECK(REFUSED("{\"a\":01}"));
    CHECK(REFUSED("{\"a\":1.}"));
    CHECK(REFUSED("{\"a\":-}"));
    CHECK(REFUSED("{\"a\":.5}"));
    CHECK(REFUSED("{\"a\":+1}"));
    CHECK(REFUSED("{\"a\":1e}"));
    CHECK(REFUSED("{\"a\":0x10}"));
    CHECK(REFUSED("{\"a\":\"x\ty\"}"));                   /* raw tab in a string */
    CHECK(REFUSED("{\"a\":\"x\ny\"}"));
    CHECK(REFUSED("{\"a\x01\":1}"));                     /* control char in a key */
    CHECK(REFUSED("{\"a\":\"\\q\"}"));                   /* bad escape */
    CHECK(REFUSED("{\"a\":\"\\u12\"}"));
    CHECK(REFUSED("{\"a\":\"unterminated}"));
    CHECK(REFUSED("{\"a\":\"x\0y\"}"));                  /* NUL inside */
    CHECK(REFUSED("{\"Records\":[" REC "}]}\0"));        /* NUL after */
}

TEST(valid_json_edge_cases_accepted)
{
    /* numbers, literals, escapes and nesting a strict parser must accept */
    const char *ok = "{\"Records\":[{\"eventName\":\"s3:ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},"
                     "\"object\":{\"key\":\"k%2Fx\",\"size\":0}},\"n\":[-0,1.5e+10,2E-3,0.25,-12],"
                     "\"l\":[true,false,null],\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude80\\u007f\","
                     "\"e\":{},\"a\":[],\"d\":[[[[[[[[[[1]]]]]]]]]]}]}";
    struct event_batch in = { 0 };
    CHECK_INT(event_parse(&in, ok, strlen(ok), err, sizeof err), 0);
    if (in.nev != 1)
        printf("  # %s\n", err);
    CHECK_INT(in.nev, 1);
    if (in.nev == 1) {
        CHECK_STR(in.ev[0].key, "b/k/x");
        CHECK_STR(in.ev[0].time, "");
        CHECK_STR(event_string(&in, &in.ev[0], "s"), "\"\\/\b\f\n\r\té🚀\x7f");
    }
    event_batch_free(&in);
}

static char *nested(int depth)
{
    const char *pre = "{\"Records\":[{\"eventName\":\"x\",\"s3\":{\"bucket\":{\"name\":\"b\"}},\"d\":";
    size_t len = strlen(pre) + 2 * (size_t)depth + 8;
    char *s = malloc(len), *p = s;
    p += sprintf(p, "%s", pre);
    for (int i = 0; i < depth; i++)
        *p++ = '[';
    for (int i = 0; i < depth; i++)
        *p++ = ']';
    strcpy(p, "}]}");
    return s;
}

TEST(deep_nesting_refused)
{
    char *s = nested(100);
    CHECK(refused(s, strlen(s)));
    free(s);
    s = nested(100000); /* no stack overflow either */
    CHECK(refused(s, strlen(s)));
    free(s);
    s = nested(20);
    struct event_batch in = { 0 };
    CHECK_INT(event_parse(&in, s, strlen(s), err, sizeof err), 0);
    event_batch_free(&in);
    free(s);
}

TEST(not_an_event_refused)
{
    CHECK(REFUSED("[1]"));
    CHECK(REFUSED("\"Records\""));
    CHECK(REFUSED("42"));
    CHECK(REFUSED("null"));
    CHECK(REFUSED("{\"a\":1}"));
    CHECK(REFUSED("{\"Records\":[]}"));
    CHECK(REFUSED("{\"Records\":{}}"));
    CHECK(REFUSED("{\"Records\":\"x\"}"));
    CHECK(REFUSED("{\"Records\":[1]}"));
    CHECK(REFUSED("{\"Records\":[{\"s3\":{\"bucket\":{\"name\":\"b\"}}}]}"));   /* no eventName */
    CHECK(REFUSED("{\"Records\":[{\"eventName\":\"\",\"s3\":{\"bucket\":{\"name\":\"b\"}}}]}"));
    CHECK(REFUSED("{\"Records\":[{\"eventName\":1,\"s3\":{\"bucket\":{\"name\":\"b\"}}}]}"));
    CHECK(REFUSED("{\"Records\":[{\"eventName\":\"x\"}]}"));                    /* no bucket */
    CHECK(REFUSED("{\"Records\":[{\"eventName\":\"x\",\"s3\":{\"bucket\":{\"name\":\"b\"},"
                  "\"object\":{\"key\":\"bad%zz\"}}}]}"));                       /* bad escape */
    /* the second record is the bad one */
    CHECK(REFUSED("{\"Records\":[" REC "},{\"eventVersion\":\"2.0\"}]}"));
    CHECK(strstr(err, "Records[1]") != NULL);
}

/* body refused with exactly the message want */
static int refused_with(const char *body, const char *want)
{
    if (!refused(body, strlen(body)))
        return 0;
    if (strcmp(err, want)) {
        printf("  # message: %s\n  # wanted:  %s\n", err, want);
        return 0;
    }
    return 1;
}

#define OBJ(fields) "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{" fields "}}"
#define BODY1(rec) "{\"Records\":[" REC "}," rec "]}"

TEST(field_types_as_minio_writes_them)
{
    /* the second record carries the wrong type: named with its index */
    CHECK(refused_with(BODY1("{\"eventName\":\"x\"," OBJ("\"key\":\"k\",\"size\":\"12\"") "}"),
                       "Records[1].s3.object.size: a string where MinIO writes an integer"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\"," OBJ("\"key\":\"k\",\"size\":1.5") "}"),
                       "Records[1].s3.object.size: a number with a fraction or exponent where MinIO "
                       "writes an integer"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\"," OBJ("\"key\":\"k\",\"size\":1e3") "}"),
                       "Records[1].s3.object.size: a number with a fraction or exponent where MinIO "
                       "writes an integer"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\"," OBJ("\"key\":7") "}"),
                       "Records[1].s3.object.key: an integer where MinIO writes a string"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\"," OBJ("\"key\":null") "}"),
                       "Records[1].s3.object.key: null where MinIO writes a string"));
    CHECK(refused_with(BODY1("{\"eventName\":[\"x\"]," OBJ("\"key\":\"k\"") "}"),
                       "Records[1].eventName: an array where MinIO writes a string"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\",\"eventTime\":1," OBJ("\"key\":\"k\"") "}"),
                       "Records[1].eventTime: an integer where MinIO writes a string"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\",\"s3\":{\"bucket\":{\"name\":true}}}"),
                       "Records[1].s3.bucket.name: a boolean where MinIO writes a string"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\",\"s3\":{\"bucket\":\"b\"}}"),
                       "Records[1].s3.bucket: a string where MinIO writes an object"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\",\"s3\":{\"object\":{\"key\":\"k\"}}}"),
                       "Records[1]: no s3.bucket.name: not an S3 event record"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\",\"s3\":{\"bucket\":{}}}"),
                       "Records[1]: no s3.bucket.name: not an S3 event record"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\"," OBJ("\"userMetadata\":{\"a\":\"1\",\"X-Amz-Meta-N\":2}") "}"),
                       "Records[1].s3.object.userMetadata.X-Amz-Meta-N: an integer where MinIO writes a string"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\",\"requestParameters\":[]," OBJ("") "}"),
                       "Records[1].requestParameters: an array where MinIO writes an object or null"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\",\"source\":{\"port\":0}," OBJ("") "}"),
                       "Records[1].source.port: an integer where MinIO writes a string"));
    CHECK(refused_with("{\"EventName\":1,\"Key\":\"b/k\",\"Records\":[" REC "}]}",
                       "EventName: an integer where MinIO writes a string"));
    CHECK(refused_with("{\"EventName\":\"x\",\"Key\":{},\"Records\":[" REC "}]}",
                       "Key: an object where MinIO writes a string"));
    CHECK(refused_with("{\"Records\":{\"a\":1}}", "Records: an object where MinIO writes an array"));
    /* long names: every byte of them compared */
    CHECK(refused_with(BODY1("{\"eventName\":\"x\",\"responseElements\":[]," OBJ("") "}"),
                       "Records[1].responseElements: an array where MinIO writes an object or null"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\"," OBJ("\"userMetadata\":7") "}"),
                       "Records[1].s3.object.userMetadata: an integer where MinIO writes an object or null"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\",\"s3\":{\"s3SchemaVersion\":1}}"),
                       "Records[1].s3.s3SchemaVersion: an integer where MinIO writes a string"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\",\"s3\":{\"bucket\":{\"name\":\"b\",\"arn\":1}}}"),
                       "Records[1].s3.bucket.arn: an integer where MinIO writes a string"));
    /* the last member's subtree is still checked */
    CHECK(refused_with(BODY1("{\"eventName\":\"x\",\"s3\":{\"bucket\":{\"name\":\"b\"}},\"source\":{\"host\":[]}}"),
                       "Records[1].source.host: an array where MinIO writes a string"));
    /* an unchecked subtree last in its object but not in the record: the
     * walk goes on past it */
    CHECK(refused_with(BODY1("{\"eventName\":\"x\",\"s3\":{\"bucket\":{\"name\":\"b\",\"z\":[[1]]},"
                             "\"object\":{\"key\":\"k\",\"z\":{\"a\":{}}}},\"s3\":{},\"source\":{\"port\":0}}"),
                       "Records[1].source.port: an integer where MinIO writes a string"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\",\"s3\":{\"bucket\":{\"name\":\"b\",\"ownerIdentity\":"
                             "{\"principalId\":\"p\",\"y\":[]}}},\"eventTime\":[]}"),
                       "Records[1].eventTime: an array where MinIO writes a string"));
    CHECK(refused_with("{\"Records\":[" REC "},[]]}", "Records[1] is not an object"));
    /* accepted: nulls where MinIO writes them, a size of any length,
     * unknown members of any type, a later duplicate (json_get takes the
     * first, so the first is checked) */
    const char *ok[] = {
        BODY1("{\"eventName\":\"x\",\"requestParameters\":null,\"responseElements\":null,"
              OBJ("\"key\":\"k\",\"size\":0,\"userMetadata\":null") "}"),
        BODY1("{\"eventName\":\"x\"," OBJ("\"size\":1234567890123456789012345678901234567890") "}"),
        BODY1("{\"eventName\":\"x\",\"glacier\":[1,{\"a\":null}],\"s3\":{\"bucket\":{\"name\":\"b\",\"x\":1}}}"),
        BODY1("{\"eventName\":\"x\",\"s3\":{\"bucket\":{\"name\":\"b\"}},\"eventName\":7}"),
        /* names that differ from MinIO's in one byte anywhere are unknown */
        BODY1("{\"eventName\":\"x\",\"requestParaXeters\":1,\"requestParameterz\":1,\"RequestParameters\":1,"
              "\"s4\":1,\"S3\":1,\"s3\":{\"bucket\":{\"name\":\"b\",\"arm\":1,\"nam\":1,\"namee\":1}}}"),
        BODY1("{\"eventName\":\"x\",\"\":1,\"s3\":{\"bucket\":{\"\":2,\"name\":\"b\"}},\"\":[]}"),
        /* a later duplicate, or an unknown container, as the last member */
        BODY1("{\"eventName\":\"x\",\"s3\":{\"bucket\":{\"name\":\"b\"}},\"s3\":{\"bucket\":7}}"),
        BODY1("{\"eventName\":\"x\",\"s3\":{\"bucket\":{\"name\":\"b\",\"z\":[[1],{\"a\":[]}]}}}"),
        "{\"Records\":[{\"eventName\":\"x\",\"s3\":{\"bucket\":{\"name\":\"b\"}},\"z\":[{}]},"
        "{\"eventName\":\"y\",\"s3\":{\"bucket\":{\"name\":\"c\"}},\"z\":{\"a\":[1]}}],\"x\":{\"y\":[]}}",
        /* the envelope's members in another order */
        "{\"Records\":[" REC "}],\"Key\":\"b/k\",\"EventName\":\"x\",\"Records\":7}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct event_batch in = { 0 };
        int rc = event_parse(&in, ok[i], strlen(ok[i]), err, sizeof err);
        if (rc)
            printf("  # ok[%zu] refused: %s\n", i, err);
        CHECK_INT(rc, 0);
        event_batch_free(&in);
    }
}

TEST(invalid_utf8_named_by_field)
{
    CHECK(refused_with(BODY1("{\"eventName\":\"x\"," OBJ("\"key\":\"a\xff\"") "}"),
                       "Records[1].s3.object.key: not valid UTF-8 (byte 162)"));
    CHECK(refused_with(BODY1("{\"eventName\":\"x\"," OBJ("\"userMetadata\":{\"k\xc0\xaf\":\"v\"}") "}"),
                       "a key in Records[1].s3.object.userMetadata: not valid UTF-8 (byte 172)"));
    CHECK(refused_with("{\"Records\":[{\"eventName\":\"s3:ObjectCreated:\xed\xa0\x80\"}]}",
                       "Records[0].eventName: not valid UTF-8 (byte 43)"));
    CHECK(refused_with("{\"Records\":[{\"a\":[1,{\"b\":[\"\",\"\xf5\"]}]}]}",
                       "Records[0].a[1].b[1]: not valid UTF-8 (byte 30)"));
    CHECK(refused_with("{\"K\xff\":1}", "a key in the body: not valid UTF-8 (byte 3)"));
    CHECK(refused_with("\"\xff\"", "the body: not valid UTF-8 (byte 1)"));
    /* every sample with one byte of its object key made 0xFF is refused */
    for (size_t i = 0; i < nsamples; i++) {
        char *b = strdup(samples[i].envelope), *k = strstr(b, "\"key\":\"");
        if (!k || k[7] == '"') {
            free(b);
            continue;
        }
        k[7] = (char)0xff;
        CHECK(refused(b, strlen(b)) && strstr(err, ".s3.object.key: not valid UTF-8"));
        free(b);
    }
}

/* Parse body whole and in steps of `step` bytes: the same events, or the
 * same refusal (issue 15: a body of megabytes is parsed between two polls
 * of the event loop).  1 if so. */
static int stepped_parse_same(const char *body, size_t len, size_t step)
{
    struct event_batch whole = { 0 }, in = { 0 };
    char werr[512];
    int wrc = event_parse(&whole, body, len, werr, sizeof werr), rc, steps = 0;
    event_parse_begin(&in, body, len);
    while ((rc = event_parse_step(&in, step, err, sizeof err)) > 0)
        steps++;
    int same = rc == wrc && in.nev == whole.nev && (rc == 0 || !strcmp(err, werr));
    for (size_t i = 0; same && rc == 0 && i < in.nev; i++) {
        const struct event *a = &in.ev[i], *b = &whole.ev[i];
        char *ea = envelope_of(a), *eb = envelope_of(b);
        same = a->key_len == b->key_len && !memcmp(a->key, b->key, a->key_len) &&
               !strcmp(a->name, b->name) && !strcmp(a->time, b->time) && !strcmp(ea, eb);
        free(ea);
        free(eb);
    }
    if (!same)
        printf("  # step %zu (%d steps): rc %d / %d, %zu / %zu events, %s / %s\n", step, steps, rc, wrc,
               in.nev, whole.nev, rc ? err : "", wrc ? werr : "");
    event_batch_free(&in);
    event_batch_free(&whole);
    return same;
}

TEST(parse_in_steps_gives_the_whole_parse)
{
    for (size_t i = 0; i < nsamples; i++) {
        CHECK(stepped_parse_same(samples[i].envelope, strlen(samples[i].envelope), 1));
        CHECK(stepped_parse_same(samples[i].records, strlen(samples[i].records), 7));
    }
    /* 300 records, one of them broken far into the body */
    size_t cap = 64, n = 0;
    for (size_t i = 0; i < 300; i++)
        cap += strlen(samples[i % nsamples].record) + 1;
    char *body = malloc(cap);
    n += (size_t)snprintf(body + n, cap - n, "{\"Records\":[");
    for (size_t i = 0; i < 300; i++) {
        const char *r = samples[i % nsamples].record;
        n += (size_t)snprintf(body + n, cap - n, "%s%s", i ? "," : "", r);
    }
    n += (size_t)snprintf(body + n, cap - n, "]}");
    for (size_t step = 1; step < 100000; step *= 10)
        CHECK(stepped_parse_same(body, n, step));
    /* a type MinIO never writes, found in a later step: "size":true */
    char *size = strstr(body + n / 2, "\"size\":");
    while (size && strspn(size + 7, "0123456789") < 4)
        size = strstr(size + 7, "\"size\":");
    CHECK(size != NULL);
    if (size) {
        size_t digits = strspn(size + 7, "0123456789");
        memcpy(size + 7, "true", 4);
        memset(size + 11, ' ', digits - 4);
        CHECK(stepped_parse_same(body, n, 1000));
        CHECK(refused(body, n) && strstr(err, ".s3.object.size:"));
    }
    /* and a string that is no UTF-8, found by the tokenizer in a later step */
    char *key = strstr(body + n / 2, "\"key\":\"");
    CHECK(key != NULL);
    if (key) {
        key[7] = (char)0xff;
        CHECK(stepped_parse_same(body, n, 1000));
        CHECK(refused(body, n) && strstr(err, ".s3.object.key: not valid UTF-8"));
    }
    free(body);
}

TEST(object_key_with_nul_kept_whole)
{
    /* %00 and \u0000 both put a NUL in the object name: the key keeps it
     * and what follows, so two objects never share one namespace key */
    const char *keys[] = { "a%00x", "a%00y", "a\\u0000x", "a\\u0000z" };
    const char *want[] = { "b/a\0x", "b/a\0y", "b/a\0x", "b/a\0z" };
    for (size_t i = 0; i < 4; i++) {
        char body[256];
        snprintf(body, sizeof body, "{\"Records\":[{\"eventName\":\"s3:ObjectCreated:Put\","
                                    "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"%s\"}}}]}", keys[i]);
        struct event_batch in = { 0 };
        CHECK_INT(event_parse(&in, body, strlen(body), err, sizeof err), 0);
        if (in.nev == 1) {
            CHECK_INT(in.ev[0].key_len, 5);
            CHECK(!memcmp(in.ev[0].key, want[i], 6));
            char *env = envelope_of(&in.ev[0]);
            CHECK(strstr(env, "\"Key\":\"b/a\\u0000") != NULL);
            free(env);
        }
        event_batch_free(&in);
    }
}

static int quotes_as(const char *s, size_t n, const char *want)
{
    struct buf b = { 0 };
    int rc = json_quote(&b, s, n);
    int ok = rc == 0 && b.p && !strcmp(b.p, want);
    if (!ok)
        printf("  # json_quote gave %s, want %s\n", b.p ? b.p : "(null)", want);
    buf_free(&b);
    return ok;
}

#define QUOTES(lit, want) quotes_as((lit), sizeof(lit) - 1, (want))

TEST(json_quote_like_go)
{
    CHECK(QUOTES("", "\"\""));
    CHECK(QUOTES("plain/text.txt", "\"plain/text.txt\""));
    CHECK(QUOTES("<>&", "\"\\u003c\\u003e\\u0026\""));
    CHECK(QUOTES("a\"b\\c", "\"a\\\"b\\\\c\""));
    CHECK(QUOTES("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\""));
    CHECK(QUOTES("\x01\x1f\x0b", "\"\\u0001\\u001f\\u000b\""));
    CHECK(QUOTES("a\0b", "\"a\\u0000b\""));
    CHECK(QUOTES("\x7f", "\"\x7f\""));
    CHECK(QUOTES("\xe2\x80\xa8 \xe2\x80\xa9", "\"\\u2028 \\u2029\""));
    CHECK(QUOTES("é-ü-中文-🚀", "\"é-ü-中文-🚀\""));
    CHECK(QUOTES("\xff", "\"\\ufffd\""));
    CHECK(QUOTES("a\xffz", "\"a\\ufffdz\""));
    CHECK(QUOTES("\xe2\x82", "\"\\ufffd\\ufffd\""));          /* truncated sequence */
    CHECK(QUOTES("\xc0\x80", "\"\\ufffd\\ufffd\""));          /* overlong */
    CHECK(QUOTES("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"")); /* surrogate */
    CHECK(QUOTES("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"")); /* > U+10FFFF */
    CHECK(QUOTES("x\xe4\xb8", "\"x\\ufffd\\ufffd\""));
    /* appends to what the buffer holds */
    struct buf b = { 0 };
    buf_puts(&b, "k=");
    json_quote(&b, "v", 1);
    CHECK_STR(b.p, "k=\"v\"");
    CHECK_INT(b.len, 5);
    buf_free(&b);
}

int main(void)
{
    nsamples = unit_samples(samples, MAX_SAMPLES);
    RUN(samples_loaded);
    RUN(minio_envelope_forwarded_byte_for_byte);
    RUN(envelope_without_outer_blanks);
    RUN(built_envelope_matches_minio_for_every_sample);
    RUN(s3_body_with_two_records);
    RUN(query_unescape_like_go);
    RUN(malformed_json_refused);
    RUN(valid_json_edge_cases_accepted);
    RUN(deep_nesting_refused);
    RUN(not_an_event_refused);
    RUN(json_quote_like_go);
    RUN(field_types_as_minio_writes_them);
    RUN(invalid_utf8_named_by_field);
    RUN(parse_in_steps_gives_the_whole_parse);
    RUN(object_key_with_nul_kept_whole);
    unit_samples_free(samples, nsamples);
    return unit_done();
}
