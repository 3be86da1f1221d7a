/* json.h -- the JSON pieces the host needs beyond cJSON: the strict
 * tokenizer (src/jscan.c, tokens in jsmn's format),
 * Go-compatible string quoting (what MinIO's json.Marshal writes), string
 * unescaping, token look-ups, and Lua <-> JSON. */
#ifndef LUAGATE_JSON_H
#define LUAGATE_JSON_H

#include <stddef.h>
#define JSMN_HEADER
#define JSMN_STRICT
#include <jsmn.h>
#include "buf.h"

/* The Lua state, named without <lua.h> so that users of the JSON text
 * functions (dlq.c, drivers) do not pull in Lua. */
typedef struct lua_State lua_State;

/* Append s as a JSON string the way Go's encoding/json does: <, >, & and
 * U+2028/2029 as \u escapes, invalid UTF-8 as \ufffd. */
int json_quote(struct buf *b, const char *s, size_t n);
/* Decode the JSON string token body s[0..n) into out (NUL-terminated). */
int json_unescape(const char *s, size_t n, struct buf *out);

/* Tokenize and strictly validate text: exactly one value, proper
 * separators, literal primitives.  Returns the token count or -1 with a
 * message naming the byte offset.  *toks grows as needed. */
int json_tokenize(const char *text, size_t len, jsmntok_t **toks, size_t *cap, char *err,
                  size_t errlen);
/* The message json_tokenize gives for a refusal of jscan (jscan.h). */
struct jscan_error;
void json_scan_error(const struct jscan_error *e, char *err, size_t errlen);
/* Index just past the subtree rooted at token i. */
int json_skip(const jsmntok_t *t, int i);
/* The value token of key in the object at token obj, or -1. */
int json_get(const char *text, const jsmntok_t *t, int obj, const char *key);
/* Follow a dotted path ("s3.object.key") from token i; -1 if absent. */
int json_path(const char *text, const jsmntok_t *t, int i, const char *path);

/* Lua <-> JSON.  Decoding makes JSON null the json.null sentinel (a light
 * userdata NULL) and arrays tables with the json.array metatable, so
 * empty arrays and nulls survive a round trip.  Encoding writes a table
 * as an array when it carries that metatable or has only keys 1..n
 * (n > 0), else as an object with its keys sorted (like Go's maps). */
int json_decode_lua(lua_State *L, const char *text, size_t len); /* pushes value or nil,err */
/* Push a json.number holding the JSON number text s[0..n) as it is. */
void json_push_number_text(lua_State *L, const char *s, size_t n);
/* d as Go's encoding/json writes a float64 (shortest digits; 'f' form for
 * 1e-6 <= |d| < 1e21, else 1e+21 / 1e-7); -1 for NaN and infinities. */
int json_format_double(double d, char *out, size_t cap);
int json_encode_lua(lua_State *L, int idx, struct buf *out, char *err, size_t errlen);
/* room(L): bytes the state of L may still allocate; JSON text encoded and
 * token arrays made for it are held under that (script.c sets both);
 * charge(L, n) counts n instructions of C work (one per byte decoded) to
 * the script's budget, and raises past it. */
void json_set_room(size_t (*room)(lua_State *L), void (*charge)(lua_State *L, size_t units));
void json_push_null(lua_State *L);
void json_push_array_mt(lua_State *L);
int luaopen_luagate_json(lua_State *L);

#endif
