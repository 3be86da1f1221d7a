/* jscan.c -- single-pass strict JSON tokenizer into jsmn tokens (see
 * jscan.h for the contract).
 *
 * A goto state machine over three states -- a value is expected, an object
 * key is expected, a value just ended -- with the open containers on a
 * small explicit stack.  The innermost container (its token index, its
 * closing bracket, its element count so far) lives in locals; only opening
 * and closing a container touch the stack.  The common byte is tested
 * first everywhere (no blanks in MinIO's compact JSON: blanks are the slow
 * path).  The hot loops are the string bodies: a 16-byte SSE2 block scan
 * for '"', '\\', bytes < 0x20 and bytes >= 0x80 (8-byte SWAR where SSE2 is
 * missing), then a byte-class table for the tail, blanks, hex digits and
 * escapes.  A byte >= 0x80 stops the block scan at a UTF-8 sequence, which
 * is checked on the spot (the same signed compare that finds the control
 * bytes flags it: ASCII text pays nothing for the check).  No function
 * call per token; the token array grows (rarely) in a cold function, and
 * room for a token is made once per key and value, not per token write.
 *
 * Cost on MinIO's events (~1.1 KB, ~80 tokens, compact), callgrind: about
 * 4.5 instructions per byte with SSE2 (5.1 before the one-compare block
 * test and the room made per member; 7.7 with the SWAR fallback), against
 * ~32 for jsmn followed by the validating walk it replaces. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "jscan.h"

/* byte classes: C_WS blanks, C_STR bytes that end a string body scan ('"',
 * '\\', the control bytes, and bytes >= 0x80, which start a UTF-8 sequence
 * to check), C_HEX hex digits, C_DIGIT decimal digits, C_ESC the characters
 * after a backslash that make a valid escape (but u) */
enum { C_WS = 1, C_STR = 2, C_HEX = 4, C_DIGIT = 8, C_ESC = 16 };
static const unsigned char cls[256] = {
     2,  2,  2,  2,  2,  2,  2,  2,  2,  3,  3,  2,  2,  3,  2,  2,  /* 0x00 */
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0x10 */
     1,  0, 18,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 16,  /* 0x20 */
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12,  0,  0,  0,  0,  0,  0,  /* 0x30 */
     0,  4,  4,  4,  4,  4,  4,  0,  0,  0,  0,  0,  0,  0,  0,  0,  /* 0x40 */
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 18,  0,  0,  0,  /* 0x50 */
     0,  4, 20,  4,  4,  4, 20,  0,  0,  0,  0,  0,  0,  0, 16,  0,  /* 0x60 */
     0,  0, 16,  0, 16,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  /* 0x70 */
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0x80 */
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0x90 */
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xa0 */
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xb0 */
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xc0 */
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xd0 */
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xe0 */
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xf0 */
};

const char *jscan_reason(enum jscan_code code)
{
    switch (code) {
    case JSCAN_OK: return "ok";
    case JSCAN_E_SYNTAX: return "unexpected character";
    case JSCAN_E_EOF: return "unexpected end of input";
    case JSCAN_E_TRAILING: return "data after the document";
    case JSCAN_E_NUL: return "NUL byte";
    case JSCAN_E_CTRL: return "control character in a string";
    case JSCAN_E_ESCAPE: return "bad escape";
    case JSCAN_E_NUMBER: return "bad number";
    case JSCAN_E_DEPTH: return "nested too deep";
    case JSCAN_E_NOMEM: return "out of memory";
    case JSCAN_E_TOOBIG: return "document too large";
    case JSCAN_E_UTF8: return "invalid UTF-8";
    }
    return "error";
}

/* Double the token array; cold. */
__attribute__((noinline, cold)) static int grow(jsmntok_t **toks, size_t *cap)
{
    size_t c = *cap ? *cap * 2 : 64;
    jsmntok_t *t = realloc(*toks, c * sizeof *t);
    if (!t)
        return -1;
    *toks = t;
    *cap = c;
    return 0;
}

static inline uint32_t load32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* a 4-byte literal as load32 reads it, whatever the byte order */
#define LIT4(a, b, c, d) load32((const unsigned char[4]){ a, b, c, d })

/* Is the (short) tail p[0..end) a prefix of lit? Then the text was cut. */
static int lit_prefix(const unsigned char *p, const unsigned char *end, const char *lit)
{
    for (; p < end && *lit; p++, lit++)
        if (*p != (unsigned char)*lit)
            return 0;
    return p == end;
}

/* Length of the well-formed UTF-8 sequence at q (lead byte >= 0x80), or 0:
 * the ranges of Unicode's table 3-7, so no overlong forms, no surrogates
 * (U+D800..DFFF), nothing past U+10FFFF, no truncated sequence. */
static inline int utf8_len(const unsigned char *q, const unsigned char *end)
{
    unsigned c = q[0], lo = 0x80, hi = 0xbf;
    ptrdiff_t left = end - q;
    if (c < 0xc2 || c > 0xf4)
        return 0;
    if (c < 0xe0)
        return left >= 2 && (q[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (left < 3 || q[1] < lo || q[1] > hi || (q[2] & 0xc0) != 0x80)
        return 0;
    if (c < 0xf0)
        return 3;
    return left >= 4 && (q[3] & 0xc0) == 0x80 ? 4 : 0;
}

/* The constants of the string body scan, made once per call of jscan_step
 * and kept in registers (GCC otherwise reloads them for every string). */
#if defined(__SSE2__)
struct vconst {
    __m128i two, lim, bs;
};
static inline struct vconst vconst_make(void)
{
    struct vconst c = { _mm_set1_epi8(2), _mm_set1_epi8(0x21), _mm_set1_epi8('\\') };
    __asm__("" : "+x"(c.two), "+x"(c.lim), "+x"(c.bs)); /* opaque: not rematerialized */
    return c;
}
#else
struct vconst {
    char unused;
};
static inline struct vconst vconst_make(void) { return (struct vconst){ 0 }; }
#endif

/* The closing quote of the string body starting at q, or NULL with *bad and
 * *code set.  lim16: the last address a 16-byte load may start at (0 when
 * the text is shorter). */
static inline __attribute__((always_inline)) const unsigned char *
string_end(const unsigned char *q, const unsigned char *end, uintptr_t lim16, struct vconst vc,
           const unsigned char **bad, enum jscan_code *code)
{
    for (;;) {
#if defined(__SSE2__)
        /* '"' ^ 2 = 0x20, the control bytes ^ 2 stay below 0x20 and the
         * bytes >= 0x80 stay negative, and no other byte ^ 2 is below
         * 0x21: one signed "< 0x21" test after the xor finds all three */
        while ((uintptr_t)q <= lim16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
            __m128i m = _mm_or_si128(_mm_cmpgt_epi8(vc.lim, _mm_xor_si128(v, vc.two)),
                                     _mm_cmpeq_epi8(v, vc.bs));
            unsigned mask = (unsigned)_mm_movemask_epi8(m);
            if (mask) {
                q += __builtin_ctz(mask);
                goto special;
            }
            q += 16;
        }
#else
        /* SWAR, 8 bytes a go.  The detectors' false positives (borrows)
         * only sit above a true hit, so the lowest flagged byte is the
         * first hit: taken directly on little-endian machines, else found
         * by the byte loop below. */
        while ((uintptr_t)q + 8 <= (uintptr_t)end) {
            const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
            uint64_t v, a, b, m;
            memcpy(&v, q, 8);
            a = v ^ (ones * '"');
            b = v ^ (ones * '\\');
            m = (((a - ones) & ~a) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v) | v) & high;
            if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                q += __builtin_ctzll(m) / 8;
                goto special;
#else
                break;
#endif
            }
            q += 8;
        }
        (void)lim16, (void)vc;
#endif
        while (q < end && !(cls[*q] & C_STR))
            q++;
        if (q == end) {
            *code = JSCAN_E_EOF, *bad = end;
            return NULL;
        }
#if defined(__SSE2__) || (defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    special:
#endif
        if (*q == '"')
            return q;
        if (*q >= 0x80) {
            int n = utf8_len(q, end);
            if (!n) {
                *code = JSCAN_E_UTF8, *bad = q;
                return NULL;
            }
            q += n;
            continue;
        }
        if (*q != '\\') {
            *code = JSCAN_E_CTRL, *bad = q; /* < 0x20; NUL is told apart later */
            return NULL;
        }
        if (end - q < 2) {
            *code = JSCAN_E_EOF, *bad = end;
            return NULL;
        }
        if (q[1] == 'u') {
            for (int i = 2; i < 6; i++) {
                if (q + i == end) {
                    *code = JSCAN_E_EOF, *bad = end;
                    return NULL;
                }
                if (!(cls[q[i]] & C_HEX)) {
                    *code = JSCAN_E_ESCAPE, *bad = q;
                    return NULL;
                }
            }
            q += 6;
        } else if (cls[q[1]] & C_ESC) {
            q += 2;
        } else {
            *code = JSCAN_E_ESCAPE, *bad = q;
            return NULL;
        }
    }
}

int jscan(const char *text, size_t len, jsmntok_t **toksp, size_t *capp, struct jscan_error *e)
{
    struct jscan_state st;
    st.started = 0;
    return jscan_step(&st, text, len, SIZE_MAX, toksp, capp, e);
}

int jscan_step(struct jscan_state *st, const char *text, size_t len, size_t pause_at,
               jsmntok_t **toksp, size_t *capp, struct jscan_error *e)
{
    const unsigned char *const s = (const unsigned char *)text;
    const unsigned char *p = s, *const end = s + len;
    const uintptr_t lim16 = len >= 16 ? (uintptr_t)end - 16 : 0;
    const struct vconst vc = vconst_make();
    jsmntok_t *t, *tp, *tend; /* the array, the next token, its end */
    struct jscan_frame stack[JSCAN_MAX_DEPTH + 1]; /* local: token writes cannot alias it */
    int depth = 0;   /* open containers */
    int cur = -1;    /* token of the innermost open container */
    int count = 0;   /* values seen in it so far */
    int closer = -1; /* its closing bracket ('}' or ']'; -1 at the root) */
    int sep = -1;    /* ',' inside a container, -1 at the root */
    enum jscan_code code = JSCAN_OK;
    const unsigned char *q, *bad = NULL;

    if (!st->started) { /* a new scan */
        if (len > INT_MAX) {
            e->code = JSCAN_E_TOOBIG;
            e->pos = 0;
            e->ntok = 0;
            return -1;
        }
        if (!*toksp || !*capp) {
            size_t c = len / 8 + 64;
            jsmntok_t *nt = realloc(*toksp, c * sizeof *nt);
            if (!nt) {
                e->code = JSCAN_E_NOMEM;
                e->pos = 0;
                e->ntok = 0;
                return -1;
            }
            *toksp = nt;
            *capp = c;
        }
    }
    t = tp = *toksp;
    tend = t + *capp;
    if (st->started) {
        p = s + st->pos;
        tp = t + st->ntok;
        depth = st->depth, cur = st->cur, count = st->count, closer = st->closer, sep = st->sep;
        memcpy(stack, st->stack, (size_t)depth * sizeof *stack);
        goto after;
    }
    st->started = 1;

#define SKIP_WS()                                                                             \
    while (p < end && (cls[*p] & C_WS))                                                       \
    p++
/* ROOM(n): room for n more tokens.  The value state always has room for
 * its token (reserved by whoever goes there: a key reserves for itself and
 * its value at once), so TOKEN writes without a test. */
#define ROOM(n)                                                                               \
    do {                                                                                      \
        while (__builtin_expect(tend - tp < (n), 0)) {                                        \
            size_t i_ = (size_t)(tp - t);                                                     \
            if (grow(toksp, capp))                                                            \
                goto nomem;                                                                   \
            t = *toksp, tp = t + i_, tend = t + *capp;                                        \
        }                                                                                     \
    } while (0)
#define TOKEN(ty, a, b, sz)                                                                   \
    do {                                                                                      \
        tp->type = (ty);                                                                      \
        tp->start = (int)(a);                                                                 \
        tp->end = (int)(b);                                                                   \
        tp->size = (sz);                                                                      \
        tp++;                                                                                 \
    } while (0)
#define FAIL(c, at)                                                                           \
    do {                                                                                      \
        code = (c);                                                                           \
        q = (at);                                                                             \
        goto fail;                                                                            \
    } while (0)

    ROOM(1);
value:
    /* a value is expected at p */
    if (p == end)
        FAIL(JSCAN_E_EOF, end);
    count++;
    if (*p == '"') { /* the common case first, ahead of the jump table */
        if (!(q = string_end(p + 1, end, lim16, vc, &bad, &code)))
            FAIL(code, bad);
        TOKEN(JSMN_STRING, p + 1 - s, q - s, 0);
        p = q + 1;
        goto after;
    }
    if ((*p | 0x20) == '{') /* '{' or '[' (0x5b | 0x20 = 0x7b): next, ahead of the jump table */
        goto open;
    switch (*p) {
    case '{':
    case '[':
    open:
        if (__builtin_expect(depth >= JSCAN_MAX_DEPTH, 0)) {
            /* this container is at depth JSCAN_MAX_DEPTH: only empty */
            q = p + 1;
            while (q < end && (cls[*q] & C_WS))
                q++;
            if (q < end && *q != *p + 2)
                FAIL(JSCAN_E_DEPTH, q);
        }
        stack[depth].tok = cur;
        stack[depth].count = count;
        stack[depth].closer = closer;
        stack[depth].sep = sep;
        depth++;
        cur = (int)(tp - t);
        count = 0;
        closer = *p + 2; /* '{' + 2 = '}', '[' + 2 = ']' */
        sep = ',';
        TOKEN(closer == '}' ? JSMN_OBJECT : JSMN_ARRAY, p - s, -1, 0);
        p++;
        SKIP_WS();
        if (p < end && *p == closer)
            goto close;
        if (closer == '}')
            goto key;
        ROOM(1);
        goto value;
    case 't':
        if (end - p >= 4 && load32(p) == LIT4('t', 'r', 'u', 'e')) {
            TOKEN(JSMN_PRIMITIVE, p - s, p + 4 - s, 0);
            p += 4;
            goto after;
        }
        if (lit_prefix(p, end, "true"))
            FAIL(JSCAN_E_EOF, end);
        FAIL(JSCAN_E_SYNTAX, p);
    case 'f':
        if (end - p >= 5 && load32(p + 1) == LIT4('a', 'l', 's', 'e')) {
            TOKEN(JSMN_PRIMITIVE, p - s, p + 5 - s, 0);
            p += 5;
            goto after;
        }
        if (lit_prefix(p, end, "false"))
            FAIL(JSCAN_E_EOF, end);
        FAIL(JSCAN_E_SYNTAX, p);
    case 'n':
        if (end - p >= 4 && load32(p) == LIT4('n', 'u', 'l', 'l')) {
            TOKEN(JSMN_PRIMITIVE, p - s, p + 4 - s, 0);
            p += 4;
            goto after;
        }
        if (lit_prefix(p, end, "null"))
            FAIL(JSCAN_E_EOF, end);
        FAIL(JSCAN_E_SYNTAX, p);
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        /* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
        q = p;
        if (*q == '-' && ++q == end)
            FAIL(JSCAN_E_EOF, end);
        if (*q == '0') {
            q++;
            if (q < end && (cls[*q] & C_DIGIT))
                FAIL(JSCAN_E_NUMBER, q); /* leading zero */
        } else if (cls[*q] & C_DIGIT) {
            q++;
            while (q < end && (cls[*q] & C_DIGIT))
                q++;
        } else {
            FAIL(JSCAN_E_NUMBER, q);
        }
        if (q < end && *q == '.') {
            if (++q == end)
                FAIL(JSCAN_E_EOF, end);
            if (!(cls[*q] & C_DIGIT))
                FAIL(JSCAN_E_NUMBER, q);
            while (q < end && (cls[*q] & C_DIGIT))
                q++;
        }
        if (q < end && (*q | 0x20) == 'e') {
            if (++q < end && (*q == '+' || *q == '-'))
                q++;
            if (q == end)
                FAIL(JSCAN_E_EOF, end);
            if (!(cls[*q] & C_DIGIT))
                FAIL(JSCAN_E_NUMBER, q);
            while (q < end && (cls[*q] & C_DIGIT))
                q++;
        }
        TOKEN(JSMN_PRIMITIVE, p - s, q - s, 0);
        p = q;
        goto after;
    case ' ':
    case '\t':
    case '\n':
    case '\r':
        count--;
        p++;
        SKIP_WS();
        goto value;
    default:
        FAIL(JSCAN_E_SYNTAX, p);
    }

key:
    /* an object key is expected at p */
    ROOM(2);
    if (__builtin_expect(p == end || *p != '"', 0)) {
        SKIP_WS();
        if (p == end)
            FAIL(JSCAN_E_EOF, end);
        if (*p != '"')
            FAIL(JSCAN_E_SYNTAX, p);
    }
    if (!(q = string_end(p + 1, end, lim16, vc, &bad, &code)))
        FAIL(code, bad);
    TOKEN(JSMN_STRING, p + 1 - s, q - s, 1);
    p = q + 1;
    if (__builtin_expect(p == end || *p != ':', 0)) {
        SKIP_WS();
        if (p == end)
            FAIL(JSCAN_E_EOF, end);
        if (*p != ':')
            FAIL(JSCAN_E_SYNTAX, p);
    }
    p++;
    goto value;

after:
    /* a value just ended at p */
    if (p == end) {
        if (depth)
            FAIL(JSCAN_E_EOF, end);
        return (int)(tp - t);
    }
    if (*p == sep) {
        p++;
        if (closer == '}')
            goto key;
        ROOM(1);
        goto value;
    }
    if (*p == closer)
        goto close;
    if (cls[*p] & C_WS) {
        p++;
        SKIP_WS();
        goto after;
    }
    FAIL(depth ? JSCAN_E_SYNTAX : JSCAN_E_TRAILING, p);

close:
    /* p at the closing bracket of cur */
    t[cur].end = (int)(p + 1 - s);
    t[cur].size = count;
    depth--;
    cur = stack[depth].tok;
    count = stack[depth].count;
    closer = stack[depth].closer;
    sep = stack[depth].sep;
    p++;
    if (__builtin_expect((size_t)(p - s) >= pause_at, 0) && depth) {
        st->pos = (size_t)(p - s);
        st->ntok = (int)(tp - t);
        st->depth = depth, st->cur = cur, st->count = count, st->closer = closer, st->sep = sep;
        memcpy(st->stack, stack, (size_t)depth * sizeof *stack);
        return 0;
    }
    goto after;

nomem:
    e->code = JSCAN_E_NOMEM;
    e->pos = (size_t)(p - s);
    e->ntok = (int)(tp - t);
    return -1;

fail:
    if (q < end && *q == 0)
        code = JSCAN_E_NUL;
    e->code = code;
    e->pos = (size_t)(q - s);
    e->ntok = (int)(tp - t);
    return -1;
#undef SKIP_WS
#undef TOKEN
#undef ROOM
#undef FAIL
}
