/* fuzz_jscan.c -- libFuzzer target for the JSON tokenizer (src/jscan.c,
 * behind json_tokenize), differential against cJSON and against the jsmn +
 * validating-walk path it replaced.
 *
 *   bash tests/fuzz/run.sh 300 jscan
 *   build/fuzz/fuzz_jscan -dict=tests/fuzz/body.dict build/fuzz/corpus/jscan
 *
 * The input is the text, in a malloc'd buffer of exactly size bytes (not
 * NUL-terminated, so ASan sees a read past the end).  Checked (a violation
 * traps, so libFuzzer keeps the input):
 *  1. no crash, no read outside the text;
 *  2. accepted: the tokens are well formed (inside the text, quotes and
 *     brackets where they should be, object keys strings of size 1, the
 *     tree covering exactly the tokens returned); refused: the offset is
 *     inside the text (or at its end for "unexpected end");
 *  3. accept/refuse agrees with cJSON_ParseWithLengthOpts followed by
 *     "nothing but blanks after the value", except where cJSON is more
 *     lenient than RFC 8259 or stricter than it, each difference checked to
 *     be that one (KNOWN DIFFERENCES below);
 *  4. accepted by both: the token tree has cJSON's structure (types, member
 *     and element counts, keys and string values after unescaping, numbers
 *     by value);
 *  5. the old path (jsmn strict + check_value, tests/unit/jscan_ref.h) gives the same
 *     verdict and, when it accepts, exactly the same tokens.
 *
 * KNOWN DIFFERENCES with cJSON 1.7.15 (where we follow RFC 8259):
 *  - cJSON treats every byte <= 0x20 as a blank (\f, \v, NUL...) and takes
 *    control bytes raw inside strings: we refuse them; the refused byte must
 *    be a control byte (\t \n \r only as a "control character in a string");
 *  - cJSON reads numbers with strtod: "01", "1.", "1.e5", "-01" pass;
 *    we refuse them, and the number around the offset must be outside the
 *    RFC grammar;
 *  - cJSON skips a UTF-8 byte order mark; we refuse it (the text after it
 *    must then be accepted);
 *  - cJSON takes \u followed by non-hex digits (as U+0000); we refuse it;
 *  - cJSON does not check UTF-8; we refuse a string or key that is not
 *    well-formed UTF-8: the refused offset must start a sequence that the
 *    reference decoder (ref_utf8_at in jscan_ref.h) finds invalid, and the
 *    old path must refuse the text too (its string check is that decoder);
 *  - cJSON nests up to 1000 levels, we up to JSCAN_MAX_DEPTH;
 *  - cJSON refuses \u escapes of lone surrogates, the RFC grammar does not
 *    (json_unescape decodes them to U+FFFD like Go): with every surrogate
 *    escape replaced by \u0041 cJSON must accept;
 * The old path differs only in its messages' offsets (not compared). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>
#include "json.h"
#include "jscan.h"

#define CHECK(c)                                                                      \
    do {                                                                              \
        if (!(c)) {                                                                   \
            fprintf(stderr, "fuzz_jscan: invariant failed at line %d: %s\n", __LINE__, \
                    #c);                                                              \
            __builtin_trap();                                                         \
        }                                                                             \
    } while (0)

#include "../unit/jscan_ref.h"

static jsmntok_t *rtoks;
static size_t rcap;

/* ---- helpers -------------------------------------------------------------- */

static jsmntok_t *toks;
static size_t tokcap;
static struct buf unesc;

/* cJSON's verdict: one value and nothing but RFC blanks after it. */
static int cjson_accepts(const char *buf, size_t size, cJSON **out)
{
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(buf, size, &end, 0);
    if (!doc)
        return 0;
    while (end < buf + size && ref_is_ws(*end))
        end++;
    if (end != buf + size) {
        cJSON_Delete(doc);
        return 0;
    }
    if (out)
        *out = doc;
    else
        cJSON_Delete(doc);
    return 1;
}

static int is_numch(unsigned char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* The run of number characters around pos (or just before it) is outside
 * the RFC grammar: what cJSON's strtod takes and we refuse. */
static int bad_number_at(const char *buf, size_t size, size_t pos)
{
    size_t a = pos < size && is_numch((unsigned char)buf[pos]) ? pos : pos - (pos > 0);
    if (a >= size || !is_numch((unsigned char)buf[a]))
        return 0;
    while (a > 0 && is_numch((unsigned char)buf[a - 1]))
        a--;
    size_t b = a;
    while (b < size && is_numch((unsigned char)buf[b]))
        b++;
    return !ref_number_ok(buf + a, (int)(b - a));
}

/* We refused buf with e and cJSON took it: is this one of cJSON's known
 * leniencies (see the top of the file)? */
static int known_leniency(const char *buf, size_t size, const struct jscan_error *e)
{
    unsigned char at = e->pos < size ? (unsigned char)buf[e->pos] : 0;
    if (e->code == JSCAN_E_DEPTH)
        return 1;
    if (e->code == JSCAN_E_UTF8)
        return at >= 0x80 &&
               !ref_utf8_at((const unsigned char *)buf + e->pos, (const unsigned char *)buf + size);
    /* blanks are " \t\n\r" only; control bytes refused, in strings too */
    if (e->pos < size && at < 0x20 &&
        ((at != '\t' && at != '\n' && at != '\r') || e->code == JSCAN_E_CTRL))
        return 1;
    if (e->code == JSCAN_E_ESCAPE && e->pos + 1 < size && buf[e->pos + 1] == 'u') {
        /* cJSON decodes a \u with non-hex digits as U+0000 */
        for (size_t i = e->pos + 2; i < e->pos + 6 && i < size; i++)
            if (!buf[i] || !strchr("0123456789abcdefABCDEF", buf[i]))
                return 1;
        return 0;
    }
    if (bad_number_at(buf, size, e->pos))
        return 1;
    if (e->pos == 0 && size >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
        /* cJSON skips a byte order mark: the rest must pass, or fail on a
         * known leniency of its own */
        jsmntok_t *t2 = NULL;
        size_t c2 = 0;
        struct jscan_error e2;
        int n2 = jscan(buf + 3, size - 3, &t2, &c2, &e2);
        free(t2);
        return n2 > 0 || known_leniency(buf + 3, size - 3, &e2);
    }
    return 0;
}

/* Token tree at toks[i] against cJSON item; returns the next index. */
static int same_tree(const char *s, int i, const cJSON *item)
{
    const jsmntok_t *t = &toks[i];
    switch (t->type) {
    case JSMN_OBJECT:
    case JSMN_ARRAY: {
        CHECK(t->type == JSMN_OBJECT ? cJSON_IsObject(item) : cJSON_IsArray(item));
        CHECK(t->size == cJSON_GetArraySize(item));
        int j = i + 1;
        for (const cJSON *c = item->child; c; c = c->next) {
            if (t->type == JSMN_OBJECT) {
                const jsmntok_t *k = &toks[j++];
                CHECK(k->type == JSMN_STRING && k->size == 1);
                CHECK(!json_unescape(s + k->start, (size_t)(k->end - k->start), &unesc));
                /* cJSON keys are C strings: compare up to an escaped NUL */
                CHECK(c->string && strlen(c->string) == strlen(unesc.p) &&
                      !strcmp(c->string, unesc.p));
            }
            j = same_tree(s, j, c);
        }
        return j;
    }
    case JSMN_STRING:
        CHECK(cJSON_IsString(item));
        CHECK(!json_unescape(s + t->start, (size_t)(t->end - t->start), &unesc));
        CHECK(strlen(item->valuestring) == strlen(unesc.p) && !strcmp(item->valuestring, unesc.p));
        return i + 1;
    default:
        CHECK(t->type == JSMN_PRIMITIVE);
        switch (s[t->start]) {
        case 't': CHECK(cJSON_IsTrue(item)); break;
        case 'f': CHECK(cJSON_IsFalse(item)); break;
        case 'n': CHECK(cJSON_IsNull(item)); break;
        default: {
            int n = t->end - t->start;
            char *num = malloc((size_t)n + 1);
            CHECK(cJSON_IsNumber(item));
            memcpy(num, s + t->start, (size_t)n);
            num[n] = 0;
            CHECK(strtod(num, NULL) == item->valuedouble);
            free(num);
        }
        }
        return i + 1;
    }
}

/* Well-formed tokens over s[0..size). */
static void check_tokens(const char *s, size_t size, int n)
{
    CHECK(n >= 1 && json_skip(toks, 0) == n);
    for (int i = 0; i < n; i++) {
        const jsmntok_t *t = &toks[i];
        CHECK(t->start >= 0 && t->start <= t->end && (size_t)t->end <= size);
        switch (t->type) {
        case JSMN_STRING:
            CHECK(t->start >= 1 && s[t->start - 1] == '"' && (size_t)t->end < size &&
                  s[t->end] == '"' && (t->size == 0 || t->size == 1));
            break;
        case JSMN_OBJECT:
        case JSMN_ARRAY: {
            char o = t->type == JSMN_OBJECT ? '{' : '[';
            CHECK(t->end - t->start >= 2 && s[t->start] == o && s[t->end - 1] == o + 2);
            if (t->type == JSMN_OBJECT)
                for (int k = 0, j = i + 1; k < t->size; k++, j = json_skip(toks, j + 1))
                    CHECK(toks[j].type == JSMN_STRING && toks[j].size == 1);
            break;
        }
        case JSMN_PRIMITIVE:
            CHECK(t->end > t->start && strchr("-0123456789tfn", s[t->start]) && t->size == 0);
            break;
        default:
            CHECK(!"token type");
        }
    }
}

/* ---- the target ------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct jscan_error e = { JSCAN_OK, 0, 0 };
    /* every 16th input from an empty array, to run the growing path */
    if ((size & 15) == 7) {
        free(toks);
        toks = NULL;
        tokcap = 0;
    }
    int n = jscan(buf, size, &toks, &tokcap, &e);
    cJSON *doc = NULL;
    int cj = cjson_accepts(buf, size, &doc);

    /* 6: in steps (a body tokenized between two polls), the same scan */
    {
        jsmntok_t *st_toks = NULL;
        size_t st_cap = 0, step = 1 + size % 13, at = 0;
        struct jscan_state st;
        struct jscan_error se;
        st.started = 0;
        int sn;
        while ((sn = jscan_step(&st, buf, size, at += step, &st_toks, &st_cap, &se)) == 0)
            CHECK(st.pos >= at && st.pos <= size);
        CHECK(sn == n);
        if (n > 0)
            CHECK(!memcmp(st_toks, toks, (size_t)n * sizeof *toks));
        else
            CHECK(se.code == e.code && se.pos == e.pos);
        free(st_toks);
    }

    /* 5: the old path */
    int rn = ref_tokenize(buf, size, &rtoks, &rcap);
    CHECK((n > 0) == (rn > 0));
    if (n > 0) {
        CHECK(rn == n);
        for (int i = 0; i < n; i++)
            CHECK(toks[i].type == rtoks[i].type && toks[i].start == rtoks[i].start &&
                  toks[i].end == rtoks[i].end && toks[i].size == rtoks[i].size);
    }

    if (n > 0) {
        check_tokens(buf, size, n);
        if (cj) {
            CHECK(same_tree(buf, 0, doc) == n); /* 4 */
        } else {
            /* 3: cJSON stricter only on lone surrogate escapes */
            char *fixed = malloc(size ? size : 1);
            memcpy(fixed, buf, size);
            int had = 0;
            for (size_t i = 0; i + 1 < size; i++) {
                if (fixed[i] != '\\')
                    continue;
                if (fixed[i + 1] == 'u' && i + 5 < size && (fixed[i + 2] | 0x20) == 'd' &&
                    strchr("89abcdefABCDEF", fixed[i + 3])) {
                    memcpy(fixed + i + 2, "0041", 4);
                    had = 1;
                }
                i++;
            }
            CHECK(had && cjson_accepts(fixed, size, NULL));
            free(fixed);
        }
    } else {
        CHECK(n == -1 && e.code != JSCAN_OK && e.code != JSCAN_E_NOMEM);
        CHECK(e.pos <= size && (e.code == JSCAN_E_EOF ? e.pos == size : e.pos < size));
        if (cj) {
            /* 3: cJSON more lenient: it must be one of the known corners */
            int known = known_leniency(buf, size, &e);
            if (!known)
                fprintf(stderr, "fuzz_jscan: refused (%s at %zu) but cJSON accepts\n",
                        jscan_reason(e.code), e.pos);
            CHECK(known);
        }
    }
    cJSON_Delete(doc);
    free(buf);
    return 0;
}
