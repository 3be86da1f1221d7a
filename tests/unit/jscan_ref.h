/* jscan_ref.h -- the reference json_tokenize is compared against: the
 * path src/json.c had before jscan (jsmn in strict mode, then a validating
 * walk).  Shared by tests/unit/test_jscan.c and tests/fuzz/fuzz_jscan.c. */
#ifndef LUAGATE_JSCAN_REF_H
#define LUAGATE_JSCAN_REF_H
#include <stdlib.h>
#include <string.h>
/* the includer includes <jsmn.h> first, with JSMN_STATIC and JSMN_STRICT */

#define REF_MAX_DEPTH 64
static int ref_tok_begin(const jsmntok_t *t) { return t->type == JSMN_STRING ? t->start - 1 : t->start; }
static int ref_tok_end(const jsmntok_t *t) { return t->type == JSMN_STRING ? t->end + 1 : t->end; }
static int ref_is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int ref_gap_ok(const char *s, int from, int to, char sep)
{
    int seen = 0;
    for (int i = from; i < to; i++) {
        if (ref_is_ws(s[i]))
            continue;
        if (sep && s[i] == sep && !seen) {
            seen = 1;
            continue;
        }
        return 0;
    }
    return sep ? seen : 1;
}

static int ref_number_ok(const char *s, int n)
{
    int i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return 0;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return 0;
    if (i < n && s[i] == '.') {
        int d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        int d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    return i == n;
}

static int ref_primitive_ok(const char *s, const jsmntok_t *t)
{
    int n = t->end - t->start;
    const char *p = s + t->start;
    if ((n == 4 && !memcmp(p, "true", 4)) || (n == 5 && !memcmp(p, "false", 5)) ||
        (n == 4 && !memcmp(p, "null", 4)))
        return 1;
    return ref_number_ok(p, n);
}

/* Is s[0..n) one well-formed UTF-8 sequence and nothing more?  Decoded
 * the long way (the code point, then the shortest form it needs), unlike
 * jscan's range table, so the two check each other. */
static int ref_utf8_seq_ok(const unsigned char *s, int n)
{
    static const unsigned lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
    int want = s[0] < 0x80 ? 1 : s[0] >= 0xc0 && s[0] < 0xe0 ? 2 : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
             : s[0] >= 0xf0 && s[0] < 0xf8 ? 4 : 0;
    if (!want || want != n)
        return 0;
    unsigned long cp = s[0] & lead_mask[want];
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    int shortest = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    return shortest == n && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
}

/* The length of the valid sequence at s (up to end), 0 if none is. */
static int ref_utf8_at(const unsigned char *s, const unsigned char *end)
{
    for (int n = 1; n <= 4 && s + n <= end; n++)
        if (ref_utf8_seq_ok(s, n))
            return n;
    return 0;
}

static int ref_string_ok(const char *s, const jsmntok_t *t)
{
    const unsigned char *p = (const unsigned char *)s + t->start, *end = (const unsigned char *)s + t->end;
    while (p < end) {
        int n = ref_utf8_at(p, end);
        if (!n || *p < 0x20)
            return 0;
        p += n;
    }
    return 1;
}

static int ref_check_value(const char *s, const jsmntok_t *t, int ntok, int i, int depth, int *next)
{
    const jsmntok_t *v = &t[i];
    if (depth > REF_MAX_DEPTH)
        return -1;
    if (v->type == JSMN_PRIMITIVE) {
        *next = i + 1;
        return ref_primitive_ok(s, v) ? 0 : -1;
    }
    if (v->type == JSMN_STRING) {
        *next = i + 1;
        return ref_string_ok(s, v) ? 0 : -1;
    }
    int is_obj = v->type == JSMN_OBJECT;
    int pos = v->start + 1, j = i + 1;
    for (int k = 0; k < v->size; k++) {
        if (j >= ntok)
            return -1;
        if (is_obj) {
            if (t[j].type != JSMN_STRING || t[j].size != 1 || !ref_string_ok(s, &t[j]) ||
                !ref_gap_ok(s, pos, ref_tok_begin(&t[j]), k ? ',' : 0))
                return -1;
            pos = ref_tok_end(&t[j]);
            j++;
            if (j >= ntok || !ref_gap_ok(s, pos, ref_tok_begin(&t[j]), ':'))
                return -1;
        } else if (!ref_gap_ok(s, pos, ref_tok_begin(&t[j]), k ? ',' : 0)) {
            return -1;
        }
        pos = ref_tok_end(&t[j]);
        if (ref_check_value(s, t, ntok, j, depth + 1, &j))
            return -1;
    }
    if (!ref_gap_ok(s, pos, v->end - 1, 0))
        return -1;
    *next = j;
    return 0;
}

/* The old path; returns the token count or -1.  *toks (capacity *cap)
 * grows as needed and is the caller's to free. */
static int ref_tokenize(const char *text, size_t len, jsmntok_t **toks, size_t *cap)
{
    size_t lead = 0;
    while (lead < len && ref_is_ws(text[lead]))
        lead++;
    if (memchr(text, 0, len))
        return -1;
    if (*cap < 64) {
        jsmntok_t *t = realloc(*toks, 64 * sizeof *t);
        if (!t)
            return -1;
        *toks = t;
        *cap = 64;
    }
    if (lead < len && text[lead] != '{' && text[lead] != '[' && text[lead] != '"') {
        size_t end = len;
        while (end > lead && ref_is_ws(text[end - 1]))
            end--;
        (*toks)[0] = (jsmntok_t){ JSMN_PRIMITIVE, (int)lead, (int)end, 0 };
        return ref_primitive_ok(text, &(*toks)[0]) ? 1 : -1;
    }
    for (;;) {
        jsmn_parser p;
        jsmn_init(&p);
        int n = jsmn_parse(&p, text, len, *toks, (unsigned)*cap);
        if (n == JSMN_ERROR_NOMEM) {
            jsmntok_t *t = realloc(*toks, *cap * 2 * sizeof *t);
            if (!t)
                return -1;
            *toks = t;
            *cap *= 2;
            continue;
        }
        if (n <= 0)
            return -1;
        int next;
        if (ref_check_value(text, *toks, n, 0, 0, &next) || next != n ||
            !ref_gap_ok(text, 0, ref_tok_begin(&(*toks)[0]), 0) ||
            !ref_gap_ok(text, ref_tok_end(&(*toks)[0]), (int)len, 0))
            return -1;
        return n;
    }
}

#endif
