/* jscan.h -- single-pass strict (RFC 8259) JSON tokenizer.
 *
 * jscan() validates a JSON text and fills a jsmn token array with the same
 * tokens jsmn's strict mode gives for it (what json_get, json_path,
 * json_skip and the Lua decoder walk):
 *   - objects: start at '{', end just past '}', size = number of keys;
 *   - arrays: start at '[', end just past ']', size = number of elements;
 *   - strings: start/end exclude the quotes, size 0 (an object key: 1);
 *   - primitives (numbers, true, false, null): their text, size 0;
 *   - tokens in document order, a container before its children.
 *
 * Refused, with the byte offset of the problem: anything but exactly one
 * value (with blanks " \t\n\r" around), bad separators (missing ':' or
 * ',', trailing commas), numbers outside the RFC grammar (leading zeros,
 * "1.", "-", ".5", "+1", "1e"), literals other than true/false/null,
 * control bytes (< 0x20) in strings, escapes other than \" \\ \/ \b \f \n
 * \r \t \uXXXX, NUL bytes, unclosed containers, nesting deeper than
 * JSCAN_MAX_DEPTH (the root is at depth 0), strings and keys that are not
 * well-formed UTF-8 (RFC 8259 §8.1: overlong forms, encoded surrogates,
 * stray continuation bytes, 0xF5..0xFF).  \u escapes for lone surrogates
 * are accepted (RFC 8259 allows them; json_unescape decodes them to U+FFFD,
 * as Go does).
 *
 * One pass, no recursion (an explicit stack of JSCAN_MAX_DEPTH + 1 open
 * containers), string bodies scanned 16 bytes at a time with SSE2 (8 with
 * a portable SWAR fallback). */
#ifndef LUAGATE_JSCAN_H
#define LUAGATE_JSCAN_H

#include <stddef.h>
#ifndef JSMN_H
#define JSMN_HEADER
#define JSMN_STRICT
#include <jsmn.h>
#endif

#define JSCAN_MAX_DEPTH 64

enum jscan_code {
    JSCAN_OK = 0,
    JSCAN_E_SYNTAX,   /* unexpected byte (separator, value start, literal) */
    JSCAN_E_EOF,      /* the text ends inside a value; pos = len */
    JSCAN_E_TRAILING, /* data after the document */
    JSCAN_E_NUL,      /* a NUL byte */
    JSCAN_E_CTRL,     /* a control byte (< 0x20) inside a string */
    JSCAN_E_ESCAPE,   /* a bad backslash escape (pos at the backslash) */
    JSCAN_E_NUMBER,   /* a number outside the RFC 8259 grammar */
    JSCAN_E_DEPTH,    /* nesting deeper than JSCAN_MAX_DEPTH */
    JSCAN_E_NOMEM,    /* growing the token array failed */
    JSCAN_E_TOOBIG,   /* text longer than INT_MAX (token offsets are int) */
    JSCAN_E_UTF8,     /* a string (or key) that is not UTF-8 (pos at the sequence) */
};

struct jscan_error {
    enum jscan_code code;
    size_t pos; /* byte offset of the problem */
    int ntok;   /* tokens written before it (open containers have end -1) */
};

/* Tokenize text[0..len) (need not be NUL-terminated) into *toks, which is
 * grown with realloc as needed (*cap tokens; *toks may be NULL with *cap
 * 0).  Returns the token count (>= 1), or -1 with *e filled. */
int jscan(const char *text, size_t len, jsmntok_t **toks, size_t *cap, struct jscan_error *e);

/* The same scan in steps, so that a caller on an event loop can tokenize
 * a body of megabytes between two polls: where a paused scan goes on. */
struct jscan_frame {
    int tok, count, closer, sep; /* an open container: see jscan.c */
};
struct jscan_state {
    int started;
    size_t pos; /* the byte a paused scan resumes at */
    int ntok, depth, cur, count, closer, sep;
    struct jscan_frame stack[JSCAN_MAX_DEPTH + 1];
};

/* Scan on from where *st stopped (a zeroed *st starts at byte 0) and
 * pause at the first container that closes at or past byte pause_at.
 * Returns the token count when the text is done, 0 when paused (call
 * again with the same text, toks and cap), or -1 with *e filled. */
int jscan_step(struct jscan_state *st, const char *text, size_t len, size_t pause_at,
               jsmntok_t **toks, size_t *cap, struct jscan_error *e);

/* A short English reason for a code ("bad escape", ...). */
const char *jscan_reason(enum jscan_code code);

#endif
