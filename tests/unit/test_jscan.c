/* test_jscan.c -- the single-pass tokenizer (src/jscan.c) behind
 * json_tokenize: the same tokens as the jsmn + validating-walk path it
 * replaced (jscan_ref.h, the reference) on every MinIO sample and on
 * tricky valid documents, and refusal of malformed ones with the offset of
 * the problem. */
#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>
#include "unit.h"
#include "json.h"
#include "jscan.h"

#define MAX_SAMPLES 256

static struct sample samples[MAX_SAMPLES];
static size_t nsamples;

#include "jscan_ref.h"

/* ---- helpers ---------------------------------------------------------------- */

static jsmntok_t *toks;
static size_t tokcap;
static char err[256];

static int tokenize(const char *s, size_t len) { return json_tokenize(s, len, &toks, &tokcap, err, sizeof err); }

/* json_tokenize(s) gives exactly the reference's tokens; 1 if so. */
static int same_as_reference(const char *s, size_t len)
{
    jsmntok_t *rt = NULL;
    size_t rcap = 0;
    int rn = ref_tokenize(s, len, &rt, &rcap);
    int n = tokenize(s, len);
    int same = rn == n && rn > 0;
    for (int i = 0; same && i < n; i++)
        if (toks[i].type != rt[i].type || toks[i].start != rt[i].start || toks[i].end != rt[i].end ||
            toks[i].size != rt[i].size) {
            printf("  # token %d differs: %d %d %d %d vs reference %d %d %d %d\n", i, toks[i].type,
                   toks[i].start, toks[i].end, toks[i].size, rt[i].type, rt[i].start, rt[i].end,
                   rt[i].size);
            same = 0;
        }
    if (!same)
        printf("  # %.*s: %d tokens (%s), reference %d\n", (int)(len > 200 ? 200 : len), s, n,
               n < 0 ? err : "ok", rn);
    free(rt);
    return same;
}

static char *repeat(const char *a, int n, const char *mid, const char *b, int m)
{
    size_t la = strlen(a), lb = strlen(b), lm = strlen(mid);
    char *s = malloc(la * (size_t)n + lm + lb * (size_t)m + 1), *p = s;
    for (int i = 0; i < n; i++, p += la)
        memcpy(p, a, la);
    memcpy(p, mid, lm), p += lm;
    for (int i = 0; i < m; i++, p += lb)
        memcpy(p, b, lb);
    *p = 0;
    return s;
}

/* ---- tests ----------------------------------------------------------------- */

TEST(samples_same_tokens_as_jsmn)
{
    CHECK(nsamples >= 10);
    for (size_t i = 0; i < nsamples; i++) {
        CHECK(same_as_reference(samples[i].envelope, strlen(samples[i].envelope)));
        CHECK(same_as_reference(samples[i].records, strlen(samples[i].records)));
        CHECK(same_as_reference(samples[i].record, strlen(samples[i].record)));
    }
}

TEST(samples_same_structure_as_cjson)
{
    for (size_t i = 0; i < nsamples; i++) {
        const char *s = samples[i].envelope;
        int n = tokenize(s, strlen(s));
        cJSON *doc = cJSON_Parse(s);
        CHECK(n > 0 && doc);
        if (n <= 0 || !doc)
            continue;
        int recs = json_get(s, toks, 0, "Records");
        CHECK(recs > 0 && toks[recs].size == cJSON_GetArraySize(cJSON_GetObjectItem(doc, "Records")));
        CHECK(toks[0].size == cJSON_GetArraySize(doc));
        int key = json_path(s, toks, recs + 1, "s3.object.key");
        const cJSON *ck = cJSON_GetObjectItem(cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "Records"), 0), "s3"),
            "object"), "key");
        CHECK(key > 0 && ck && (size_t)(toks[key].end - toks[key].start) == strlen(ck->valuestring) &&
              !memcmp(s + toks[key].start, ck->valuestring, strlen(ck->valuestring)));
        cJSON_Delete(doc);
    }
}

/* Valid, with the tricky corners; each gives the reference's tokens. */
static const char *const valid[] = {
    "{}", "[]", "{ }", "[ ]", " \t\r\n{}\n", "\"\"", "\"a\"", "0", "-0", "1", "-1", "0.5", "-0.5",
    "1e5", "1E5", "1e+5", "1e-5", "1.5e10", "-1.5E-10", "123456789012345678901234567890",
    "true", "false", "null", " true ", "\n-12.75e+3\t",
    "[1,2,3]", "[ 1 , 2 , 3 ]", "[true,false,null]", "[[],{},[[]],{\"a\":{}}]",
    "{\"a\":1,\"b\":[1,{\"c\":null}],\"d\":\"x\"}",
    "{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }",
    "{\n\t\"a\":\r\n[\n]\n}",
    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
    "\"\\u0041\\u00e9\\u4E2D\\uffff\"",
    "\"\\ud83d\\ude80\"",                 /* surrogate pair */
    "\"\\ud800\"", "\"\\udc00x\"",           /* lone surrogates: RFC grammar allows them */
    "\"\\u0000\"",                         /* an escaped NUL is fine */
    "\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x9a\x80\"",
    "\"\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf\"", /* UTF-8 edges */
    "{\"\xf0\x90\x80\x80\":\"\xf4\x8f\xbf\xbf\"}",
    "\"0123456789abcd\xc3\xa9\xe4\xb8\xad" "0123456789abcdef\xf0\x9f\x9a\x80\"", /* across blocks */
    "{\"\":\"\"}", "{\"a\":\"\\\"}\"}", "[\"]\",\"[\",\"{\",\"}\",\",\",\":\"]",
    "{\"a\":{\"b\":{\"c\":{\"d\":[1,[2,[3]]]}}}}",
    "[0,-0,0.0,1e0,0e0,0E+0,-0e-0]",
    "{\"a\":1,\"a\":2}",                     /* duplicate keys: allowed by the grammar */
    "\"0123456789abcdef0123456789abcdef0123456789abcdef\"",  /* the 16-byte block scan */
    "\"0123456789abcde\\\"0123456789abcdef\\\\0123456789\"",
    "[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\n\",\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\\u0020\"]",
};

TEST(valid_accepted_with_reference_tokens)
{
    CHECK(sizeof valid / sizeof valid[0] >= 30);
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        CHECK(same_as_reference(valid[i], strlen(valid[i])));
}

TEST(token_shapes)
{
    const char *s = "{\"a\":[1,\"x\",{}],\"b\":true}";
    CHECK_INT(tokenize(s, strlen(s)), 8);
    const jsmntok_t want[] = {
        { JSMN_OBJECT, 0, 25, 2 }, { JSMN_STRING, 2, 3, 1 }, { JSMN_ARRAY, 5, 15, 3 },
        { JSMN_PRIMITIVE, 6, 7, 0 }, { JSMN_STRING, 9, 10, 0 }, { JSMN_OBJECT, 12, 14, 0 },
        { JSMN_STRING, 17, 18, 1 }, { JSMN_PRIMITIVE, 20, 24, 0 },
    };
    for (int i = 0; i < 8; i++) {
        CHECK_INT(toks[i].type, want[i].type);
        CHECK_INT(toks[i].start, want[i].start);
        CHECK_INT(toks[i].end, want[i].end);
        CHECK_INT(toks[i].size, want[i].size);
    }
    /* a top-level scalar with blanks around: the token is its text */
    CHECK_INT(tokenize("  42 \n", 6), 1);
    CHECK(toks[0].type == JSMN_PRIMITIVE && toks[0].start == 2 && toks[0].end == 4);
}

/* Malformed, with the offset the message must name. */
static const struct bad {
    const char *text;
    size_t len; /* 0: strlen */
    long pos;   /* byte named in the message */
    enum jscan_code code;
} bad[] = {
    { "", 0, 0, JSCAN_E_EOF },
    { "   ", 0, 3, JSCAN_E_EOF },
    { "{", 0, 1, JSCAN_E_EOF },
    { "[", 0, 1, JSCAN_E_EOF },
    { "{\"a\"", 0, 4, JSCAN_E_EOF },
    { "{\"a\":", 0, 5, JSCAN_E_EOF },
    { "{\"a\":1", 0, 6, JSCAN_E_EOF },
    { "[1,", 0, 3, JSCAN_E_EOF },
    { "\"abc", 0, 4, JSCAN_E_EOF },
    { "\"abc\\", 0, 5, JSCAN_E_EOF },
    { "\"\\u12", 0, 5, JSCAN_E_EOF },
    { "[[[]]", 0, 5, JSCAN_E_EOF },
    { "tru", 0, 3, JSCAN_E_EOF },
    { "[1.", 0, 3, JSCAN_E_EOF },
    { "-", 0, 1, JSCAN_E_EOF },
    { "1e", 0, 2, JSCAN_E_EOF },
    { "[1,]", 0, 3, JSCAN_E_SYNTAX },                 /* trailing commas */
    { "{\"a\":1,}", 0, 7, JSCAN_E_SYNTAX },
    { "[,1]", 0, 1, JSCAN_E_SYNTAX },
    { "[1,,2]", 0, 3, JSCAN_E_SYNTAX },
    { "{,}", 0, 1, JSCAN_E_SYNTAX },
    { "[1 2]", 0, 3, JSCAN_E_SYNTAX },                /* missing comma */
    { "{\"a\":1 \"b\":2}", 0, 7, JSCAN_E_SYNTAX },
    { "{\"a\" 1}", 0, 5, JSCAN_E_SYNTAX },            /* missing colon */
    { "{\"a\"::1}", 0, 5, JSCAN_E_SYNTAX },
    { "{\"a\":1:2}", 0, 6, JSCAN_E_SYNTAX },
    { "{1:2}", 0, 1, JSCAN_E_SYNTAX },                /* keys are strings */
    { "{a:1}", 0, 1, JSCAN_E_SYNTAX },
    { "{[]:1}", 0, 1, JSCAN_E_SYNTAX },
    { "{\"a\"}", 0, 4, JSCAN_E_SYNTAX },
    { "[1}", 0, 2, JSCAN_E_SYNTAX },                  /* mismatched brackets */
    { "{\"a\":1]", 0, 6, JSCAN_E_SYNTAX },
    { "]", 0, 0, JSCAN_E_SYNTAX },
    { "[]]", 0, 2, JSCAN_E_TRAILING },                /* trailing data */
    { "{} {}", 0, 3, JSCAN_E_TRAILING },
    { "1 2", 0, 2, JSCAN_E_TRAILING },
    { "\"a\" x", 0, 4, JSCAN_E_TRAILING },
    { "[],", 0, 2, JSCAN_E_TRAILING },
    { "01", 0, 1, JSCAN_E_NUMBER },                   /* numbers */
    { "[-01]", 0, 3, JSCAN_E_NUMBER },
    { "[00]", 0, 2, JSCAN_E_NUMBER },
    { "[1.]", 0, 3, JSCAN_E_NUMBER },
    { "[1.e5]", 0, 3, JSCAN_E_NUMBER },
    { "[.5]", 0, 1, JSCAN_E_SYNTAX },
    { "[+1]", 0, 1, JSCAN_E_SYNTAX },
    { "[-]", 0, 2, JSCAN_E_NUMBER },
    { "[-a]", 0, 2, JSCAN_E_NUMBER },
    { "[1e]", 0, 3, JSCAN_E_NUMBER },
    { "[1e+]", 0, 4, JSCAN_E_NUMBER },
    { "[1x]", 0, 2, JSCAN_E_SYNTAX },
    { "[0x10]", 0, 2, JSCAN_E_SYNTAX },
    { "[1.5.2]", 0, 4, JSCAN_E_SYNTAX },
    { "[Infinity]", 0, 1, JSCAN_E_SYNTAX },
    { "[NaN]", 0, 1, JSCAN_E_SYNTAX },
    { "[truex]", 0, 5, JSCAN_E_SYNTAX },              /* literals */
    { "[True]", 0, 1, JSCAN_E_SYNTAX },
    { "[nul]", 0, 1, JSCAN_E_SYNTAX },
    { "[fals]", 0, 1, JSCAN_E_SYNTAX },
    { "nulls", 0, 4, JSCAN_E_TRAILING },
    { "[undefined]", 0, 1, JSCAN_E_SYNTAX },
    { "['a']", 0, 1, JSCAN_E_SYNTAX },
    { "\"a\tb\"", 0, 2, JSCAN_E_CTRL },               /* strings */
    { "\"a\nb\"", 0, 2, JSCAN_E_CTRL },
    { "\"0123456789abcdef0123456789\x1f\"", 0, 27, JSCAN_E_CTRL },
    { "\"\\x41\"", 0, 1, JSCAN_E_ESCAPE },
    { "\"\\u12G4\"", 0, 1, JSCAN_E_ESCAPE },
    { "\"\\U1234\"", 0, 1, JSCAN_E_ESCAPE },
    { "\"\\'\"", 0, 1, JSCAN_E_ESCAPE },
    { "\"0123456789abcdef0123\\a\"", 0, 21, JSCAN_E_ESCAPE },
    { "\"\\u\"", 0, 1, JSCAN_E_ESCAPE },
    { "\"\\", 0, 2, JSCAN_E_EOF },
    { "[\"a\0b\"]", 7, 3, JSCAN_E_NUL },                /* NUL bytes */
    { "[1]\0", 4, 3, JSCAN_E_NUL },
    { "\0", 1, 0, JSCAN_E_NUL },
    { "[1,\0]", 5, 3, JSCAN_E_NUL },
    { "\"\xff\"", 0, 1, JSCAN_E_UTF8 },                /* UTF-8 */
    { "\"ab\xfe\"", 0, 3, JSCAN_E_UTF8 },
    { "\"\x80\"", 0, 1, JSCAN_E_UTF8 },                /* a stray continuation byte */
    { "\"\xc0\xaf\"", 0, 1, JSCAN_E_UTF8 },            /* overlong '/' */
    { "\"\xc1\xbf\"", 0, 1, JSCAN_E_UTF8 },
    { "\"\xe0\x9f\xbf\"", 0, 1, JSCAN_E_UTF8 },        /* overlong 3-byte */
    { "\"\xf0\x8f\xbf\xbf\"", 0, 1, JSCAN_E_UTF8 },    /* overlong 4-byte */
    { "\"\xed\xa0\x80\"", 0, 1, JSCAN_E_UTF8 },        /* an encoded surrogate */
    { "\"\xf4\x90\x80\x80\"", 0, 1, JSCAN_E_UTF8 },    /* past U+10FFFF */
    { "\"\xf5\x80\x80\x80\"", 0, 1, JSCAN_E_UTF8 },
    { "\"\xc3(\"", 0, 1, JSCAN_E_UTF8 },               /* cut sequences */
    { "\"\xe4\xb8\"", 0, 1, JSCAN_E_UTF8 },
    { "\"\xe4\xb8", 0, 1, JSCAN_E_UTF8 },
    { "{\"k\xff\":1}", 0, 3, JSCAN_E_UTF8 },            /* in a key */
    { "\"0123456789abcdef0123\xff" "56789abcdef\"", 0, 21, JSCAN_E_UTF8 }, /* in a block */
    { "\"\xc3\xa9" "0123456789abcdef\xc3\xa9\xa9\"", 0, 21, JSCAN_E_UTF8 },
    { "[1,\xff]", 0, 3, JSCAN_E_SYNTAX },              /* outside strings: syntax */
    { "\xef\xbb\xbf{}", 0, 0, JSCAN_E_SYNTAX },       /* no BOM */
    { "[1,\f2]", 0, 3, JSCAN_E_SYNTAX },               /* blanks are " \t\n\r" only */
    { "[\v]", 0, 1, JSCAN_E_SYNTAX },
    { "/*c*/{}", 0, 0, JSCAN_E_SYNTAX },
};

TEST(malformed_refused_with_offset)
{
    CHECK(sizeof bad / sizeof bad[0] >= 60);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const struct bad *b = &bad[i];
        size_t len = b->len ? b->len : strlen(b->text);
        struct jscan_error e = { JSCAN_OK, 0, 0 };
        jsmntok_t *t = NULL;
        size_t cap = 0;
        int n = jscan(b->text, len, &t, &cap, &e);
        free(t);
        if (n != -1 || e.code != b->code || (long)e.pos != b->pos) {
            unit_cur_failed = 1;
            printf("  # bad[%zu] %.*s: n %d code %d pos %zu, expected code %d pos %ld\n", i, (int)len,
                   b->text, n, e.code, e.pos, b->code, b->pos);
        }
        /* json_tokenize's message names the same byte */
        CHECK_INT(tokenize(b->text, len), -1);
        char want[32];
        snprintf(want, sizeof want, " %ld", b->pos);
        CHECK(!strncmp(err, "malformed JSON", 14) && strstr(err, want));
        /* and the old path refused it too */
        jsmntok_t *rt = NULL;
        size_t rcap = 0;
        CHECK(ref_tokenize(b->text, len, &rt, &rcap) < 0);
        free(rt);
    }
}

/* jscan_step with pause_at p gives jscan's result, pausing only at a
 * container's close (issue 15: a body of megabytes tokenized between two
 * polls of the event loop); 1 if so. */
static int stepped_same(const char *s, size_t len, size_t step)
{
    jsmntok_t *w = NULL, *t = NULL;
    size_t wcap = 0, cap = 0;
    struct jscan_error we, e;
    int wn = jscan(s, len, &w, &wcap, &we), n, pauses = 0;
    struct jscan_state st;
    st.started = 0;
    size_t at = 0;
    while ((n = jscan_step(&st, s, len, at += step, &t, &cap, &e)) == 0) {
        int closes = st.pos > 0 && (s[st.pos - 1] == '}' || s[st.pos - 1] == ']');
        if (!closes || st.pos < at || pauses++ > (int)len) {
            printf("  # paused at %zu (asked %zu)\n", st.pos, at);
            n = -2;
            break;
        }
    }
    int same = n == wn;
    if (same && n > 0)
        same = !memcmp(t, w, (size_t)n * sizeof *t);
    if (same && n < 0)
        same = e.code == we.code && e.pos == we.pos && e.ntok == we.ntok;
    if (!same)
        printf("  # step %zu: %d tokens, whole scan %d: %.60s\n", step, n, wn, s);
    free(w);
    free(t);
    return same;
}

TEST(steps_give_the_whole_scan)
{
    for (size_t i = 0; i < nsamples; i++)
        for (size_t step = 1; step < 700; step = step * 3 + 1)
            CHECK(stepped_same(samples[i].records, strlen(samples[i].records), step));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
        for (size_t step = 1; step < 9; step++)
            CHECK(stepped_same(bad[i].text, len, step));
    }
    /* a late error, found in a later step, at the same byte */
    char *late = repeat("[{\"a\":[1,2]},", 2000, "{\"b\":\"\xc3\"}", "]", 2000);
    CHECK(stepped_same(late, strlen(late), 1000));
    free(late);
    char *deep = repeat("[", 64, "{}", "]", 64);
    CHECK(stepped_same(deep, strlen(deep), 1));
    free(deep);
}

TEST(messages)
{
    CHECK_INT(tokenize("{\"a\":1,}", 8), -1);
    CHECK_STR(err, "malformed JSON near byte 7: unexpected character");
    CHECK_INT(tokenize("{\"a\":", 5), -1);
    CHECK_STR(err, "malformed JSON: unexpected end of input at byte 5");
    CHECK_INT(tokenize("{} x", 4), -1);
    CHECK_STR(err, "malformed JSON: data after the document at byte 3");
    CHECK_INT(tokenize("[\"\0\"]", 5), -1);
    CHECK_STR(err, "malformed JSON: NUL byte at 2");
    CHECK_INT(tokenize("\"\\q\"", 4), -1);
    CHECK_STR(err, "malformed JSON near byte 1: bad escape");
}

TEST(nesting_limit)
{
    /* the root is at depth 0; a value at depth 64 is fine, 65 is not */
    char *ok = repeat("[", 65, "", "]", 65);
    CHECK(same_as_reference(ok, strlen(ok)));
    char *okobj = repeat("{\"a\":", 64, "[]", "}", 64);
    CHECK(same_as_reference(okobj, strlen(okobj)));
    char *deep = repeat("[", 66, "", "]", 66);
    CHECK_INT(tokenize(deep, strlen(deep)), -1);
    CHECK(strstr(err, "near byte 65: nested too deep") != NULL);
    char *scalar = repeat("[", 65, "1", "]", 65);
    CHECK_INT(tokenize(scalar, strlen(scalar)), -1);
    CHECK(strstr(err, "near byte 65") != NULL);
    char *blank = repeat("[", 65, " ", "]", 65); /* empty with a blank at the limit */
    CHECK(same_as_reference(blank, strlen(blank)));
    char *unclosed = repeat("[", 100000, "", "", 0);
    CHECK_INT(tokenize(unclosed, strlen(unclosed)), -1);
    jsmntok_t *rt = NULL;
    size_t rcap = 0;
    CHECK(ref_tokenize(deep, strlen(deep), &rt, &rcap) < 0);
    CHECK(ref_tokenize(scalar, strlen(scalar), &rt, &rcap) < 0);
    free(rt);
    free(ok), free(okobj), free(deep), free(scalar), free(blank), free(unclosed);
}

TEST(token_array_grows)
{
    /* 20000 elements from an empty array, then from a one-token one */
    char *big = repeat("1,", 19999, "1", "", 0);
    char *arr = malloc(strlen(big) + 3);
    sprintf(arr, "[%s]", big);
    jsmntok_t *t = NULL;
    size_t cap = 0;
    char e[128];
    CHECK_INT(json_tokenize(arr, strlen(arr), &t, &cap, e, sizeof e), 20001);
    CHECK(cap >= 20001 && t[0].size == 20000 && t[20000].start == (int)strlen(arr) - 2);
    free(t);
    t = malloc(sizeof *t), cap = 1;
    CHECK_INT(json_tokenize(arr, strlen(arr), &t, &cap, e, sizeof e), 20001);
    CHECK(same_as_reference(arr, strlen(arr)));
    free(t), free(big), free(arr);
    /* keys and values, and arrays in objects, from one token of room */
    char *obj = repeat("\"k\":[{\"a\":\"b\"},1],", 4999, "\"z\":{}", "", 0);
    char *doc = malloc(strlen(obj) + 3);
    sprintf(doc, "{%s}", obj);
    t = malloc(sizeof *t), cap = 1;
    CHECK_INT(json_tokenize(doc, strlen(doc), &t, &cap, e, sizeof e), 1 + 4999 * 6 + 2);
    CHECK(t[0].size == 5000 && t[1].size == 1 && t[2].size == 2);
    CHECK(same_as_reference(doc, strlen(doc)));
    free(t), free(obj), free(doc);
}

TEST(not_nul_terminated)
{
    /* the text ends at len: nothing after it is read (ASan builds check) */
    const char *docs[] = { "{\"a\":[1,2,{\"b\":\"0123456789abcdef0123456789\"}]}", "-12.5e3", "true",
                           "\"0123456789abcdefg\"" };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        size_t len = strlen(docs[i]);
        char *copy = malloc(len);
        memcpy(copy, docs[i], len);
        CHECK(same_as_reference(copy, len));
        CHECK_INT(tokenize(copy, len - 1), -1); /* every cut is refused */
        free(copy);
    }
}

/* jscan's verdict on the string "<seq>x" (seq n bytes) against the
 * reference decoder: 1 if they agree. */
static int utf8_agrees(const unsigned char *seq, int n)
{
    unsigned char doc[8] = { '"' };
    memcpy(doc + 1, seq, (size_t)n);
    doc[n + 1] = 'x', doc[n + 2] = '"';
    struct jscan_error e = { JSCAN_OK, 0, 0 };
    int got = jscan((const char *)doc, (size_t)n + 3, &toks, &tokcap, &e);
    /* the reference: seq is one whole sequence, or the leading valid
     * sequences are followed by an invalid one */
    const unsigned char *p = seq, *end = seq + n;
    while (p < end && *p >= 0x20 && *p != '"' && *p != '\\') {
        int l = ref_utf8_at(p, end);
        if (!l)
            break;
        p += l;
    }
    if (p == end)
        return got == 1;
    if (*p < 0x20 || *p == '"' || *p == '\\')
        return 1; /* not a UTF-8 question */
    return got == -1 && e.code == JSCAN_E_UTF8 && e.pos == (size_t)(p - seq) + 1;
}

TEST(utf8_against_reference)
{
    /* every 1- and 2-byte string, every 3-byte one with a lead >= 0xc0, and
     * the 4-byte ones with leads 0xf0..0xf7 over chosen continuations */
    unsigned char b[4];
    int bad = 0;
    for (unsigned x = 0; x < 0x10000 && bad < 5; x++) {
        b[0] = (unsigned char)(x >> 8), b[1] = (unsigned char)x;
        if (!utf8_agrees(b, 1) || !utf8_agrees(b, 2))
            printf("  # %02x %02x\n", b[0], b[1]), bad++;
    }
    for (unsigned x = 0xc00000; x < 0x1000000 && bad < 5; x++) {
        b[0] = (unsigned char)(x >> 16), b[1] = (unsigned char)(x >> 8), b[2] = (unsigned char)x;
        if (!utf8_agrees(b, 3))
            printf("  # %02x %02x %02x\n", b[0], b[1], b[2]), bad++;
    }
    static const unsigned char cont[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff };
    for (unsigned l = 0xf0; l <= 0xf7; l++)
        for (unsigned i = 0; i < 256; i++)
            for (size_t j = 0; j < sizeof cont; j++)
                for (size_t k = 0; k < sizeof cont && bad < 5; k++) {
                    b[0] = (unsigned char)l, b[1] = (unsigned char)i, b[2] = cont[j], b[3] = cont[k];
                    if (!utf8_agrees(b, 4))
                        printf("  # %02x %02x %02x %02x\n", b[0], b[1], b[2], b[3]), bad++;
                }
    CHECK_INT(bad, 0);
    CHECK_INT(tokenize("{\"a\":\"\xff\"}", 9), -1);
    CHECK_STR(err, "malformed JSON near byte 6: invalid UTF-8");
}

int main(void)
{
    nsamples = unit_samples(samples, MAX_SAMPLES);
    RUN(samples_same_tokens_as_jsmn);
    RUN(samples_same_structure_as_cjson);
    RUN(valid_accepted_with_reference_tokens);
    RUN(token_shapes);
    RUN(malformed_refused_with_offset);
    RUN(steps_give_the_whole_scan);
    RUN(messages);
    RUN(nesting_limit);
    RUN(token_array_grows);
    RUN(not_nul_terminated);
    RUN(utf8_against_reference);
    unit_samples_free(samples, nsamples);
    free(toks);
    return unit_done();
}
