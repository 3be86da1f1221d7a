/* json.c -- strict JSON tokenizing (src/jscan.c, into jsmn tokens),
 * Go-compatible quoting, and the Lua <-> JSON conversions (module
 * luagate.json). */
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "jscan.h"
#include "hex.h"

#define MAX_DEPTH 64

/* ---- quoting and unescaping --------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid;
 * *cp gets the code point. */
static int utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    int len;
    unsigned min;
    if (c < 0x80)
        return *cp = c, 1;
    if ((c & 0xe0) == 0xc0)
        len = 2, min = 0x80, c &= 0x1f;
    else if ((c & 0xf0) == 0xe0)
        len = 3, min = 0x800, c &= 0x0f;
    else if ((c & 0xf8) == 0xf0)
        len = 4, min = 0x10000, c &= 0x07;
    else
        return 0;
    if ((size_t)len > n)
        return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

int json_quote(struct buf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    if (buf_put(b, "\"", 1))
        return -1;
    size_t run = 0; /* bytes copied as they are, flushed in one go */
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], cp;
        const char *esc = NULL;
        char u[7];
        int len = 1;
        if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c < 0x80) {
            i++, run++;
            continue;
        }
        if (c >= 0x80) {
            len = utf8_seq(s + i, n - i, &cp);
            if (len && cp != 0x2028 && cp != 0x2029) {
                i += (size_t)len, run += (size_t)len;
                continue;
            }
            if (len)
                esc = cp == 0x2028 ? "\\u2028" : "\\u2029";
            else
                esc = "\\ufffd", len = 1;
        } else if (c == '"') {
            esc = "\\\"";
        } else if (c == '\\') {
            esc = "\\\\";
        } else if (c == '\n') {
            esc = "\\n";
        } else if (c == '\r') {
            esc = "\\r";
        } else if (c == '\t') {
            esc = "\\t";
        } else if (c == '\b') {
            esc = "\\b";
        } else if (c == '\f') {
            esc = "\\f";
        } else {
            u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex[c >> 4], u[5] = hex[c & 15];
            u[6] = 0;
            esc = u;
        }
        if (buf_put(b, s + i - run, run) || buf_puts(b, esc))
            return -1;
        run = 0;
        i += (size_t)len;
    }
    if (buf_put(b, s + n - run, run))
        return -1;
    return buf_put(b, "\"", 1);
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(s[i]);
        if (h < 0)
            return -1;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return 0;
}

static int put_utf8(struct buf *out, unsigned cp)
{
    char u[4];
    int n;
    if (cp < 0x80)
        u[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
        u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    else
        u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    return buf_put(out, u, (size_t)n);
}

int json_unescape(const char *s, size_t n, struct buf *out)
{
    out->len = 0;
    if (buf_put(out, "", 0))
        return -1;
    size_t run = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            i++, run++;
            continue;
        }
        if (buf_put(out, s + i - run, run) || i + 1 >= n)
            return -1;
        run = 0;
        char c = s[i + 1], ch;
        i += 2;
        switch (c) {
        case 'n': ch = '\n'; break;
        case 'r': ch = '\r'; break;
        case 't': ch = '\t'; break;
        case 'b': ch = '\b'; break;
        case 'f': ch = '\f'; break;
        case '/': ch = '/'; break;
        case '\\': ch = '\\'; break;
        case '"': ch = '"'; break;
        case 'u': {
            unsigned cp, lo;
            if (i + 4 > n || hex4(s + i, &cp))
                return -1;
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u' &&
                !hex4(s + i + 2, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            } else if (cp >= 0xd800 && cp <= 0xdfff) {
                cp = 0xfffd; /* a lone surrogate, as Go decodes it */
            }
            if (put_utf8(out, cp))
                return -1;
            continue;
        }
        default:
            return -1;
        }
        if (buf_put(out, &ch, 1))
            return -1;
    }
    return buf_put(out, s + n - run, run);
}

/* ---- tokenizing and validation ------------------------------------------- */

/* One pass of jscan (src/jscan.c): tokens as jsmn's strict mode makes
 * them, and strict RFC 8259 validation at the same time. */
int json_tokenize(const char *text, size_t len, jsmntok_t **toks, size_t *cap, char *err,
                  size_t errlen)
{
    struct jscan_error e;
    int n = jscan(text, len, toks, cap, &e);
    if (n >= 0)
        return n;
    json_scan_error(&e, err, errlen);
    return -1;
}

void json_scan_error(const struct jscan_error *ep, char *err, size_t errlen)
{
    struct jscan_error e = *ep;
    switch (e.code) {
    case JSCAN_E_NOMEM: snprintf(err, errlen, "out of memory"); break;
    case JSCAN_E_TOOBIG: snprintf(err, errlen, "JSON document too large"); break;
    case JSCAN_E_EOF:
        snprintf(err, errlen, "malformed JSON: unexpected end of input at byte %zu", e.pos);
        break;
    case JSCAN_E_NUL: snprintf(err, errlen, "malformed JSON: NUL byte at %zu", e.pos); break;
    case JSCAN_E_TRAILING:
        snprintf(err, errlen, "malformed JSON: data after the document at byte %zu", e.pos);
        break;
    default:
        snprintf(err, errlen, "malformed JSON near byte %zu: %s", e.pos, jscan_reason(e.code));
        break;
    }
}

int json_skip(const jsmntok_t *t, int i)
{
    int pending = 1;
    while (pending > 0) {
        pending += t[i].size;
        pending--;
        i++;
    }
    return i;
}

int json_get(const char *text, const jsmntok_t *t, int obj, const char *key)
{
    if (obj < 0 || t[obj].type != JSMN_OBJECT)
        return -1;
    size_t klen = strlen(key);
    int j = obj + 1;
    for (int k = 0; k < t[obj].size; k++) {
        const jsmntok_t *kt = &t[j];
        if ((size_t)(kt->end - kt->start) == klen && !memcmp(text + kt->start, key, klen))
            return j + 1;
        j = json_skip(t, j + 1);
    }
    return -1;
}

int json_path(const char *text, const jsmntok_t *t, int i, const char *path)
{
    char part[64];
    while (*path && i >= 0) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof part)
            return -1;
        memcpy(part, path, n);
        part[n] = 0;
        i = json_get(text, t, i, part);
        path += n + (dot ? 1 : 0);
    }
    return i;
}

/* ---- Lua ------------------------------------------------------------------ */

static char array_mt_key;

/* What a state may still allocate (script.c's cap): JSON built or
 * tokenized outside the state for a script is held to it. */
static size_t (*room_of)(lua_State *L);
static _Thread_local size_t enc_limit = (size_t)-1;

static void (*charge_of)(lua_State *L, size_t units);

void json_set_room(size_t (*room)(lua_State *L), void (*charge)(lua_State *L, size_t units))
{
    room_of = room;
    charge_of = charge;
}

/* C work done for a script counts against its instruction budget too. */
static void charge(lua_State *L, size_t units)
{
    if (charge_of)
        charge_of(L, units);
}

static size_t room(lua_State *L) { return room_of ? room_of(L) : (size_t)-1; }

/* Token arrays and unescaping buffers of one decode, freed by __gc if a
 * Lua allocation raises half way. */
struct jbox {
    jsmntok_t *toks;
    struct buf a;
};

static int jbox_gc(lua_State *L)
{
    struct jbox *x = lua_touserdata(L, 1);
    free(x->toks);
    x->toks = NULL;
    buf_free(&x->a);
    return 0;
}

static struct jbox *jbox_new(lua_State *L)
{
    struct jbox *x = lua_newuserdatauv(L, sizeof *x, 0);
    memset(x, 0, sizeof *x);
    if (luaL_newmetatable(L, "luagate.json.box")) {
        lua_pushcfunction(L, jbox_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return x;
}

/* At most how many tokens text makes: one, and one more after every
 * ',', ':', '[' and '{' (strings counted too: an upper bound). */
static size_t tokens_bound(const char *s, size_t n)
{
    size_t k = 1;
    for (size_t i = 0; i < n; i++)
        k += s[i] == ',' || s[i] == ':' || s[i] == '[' || s[i] == '{';
    return k;
}

void json_push_null(lua_State *L) { lua_pushlightuserdata(L, NULL); }

void json_push_array_mt(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushliteral(L, "array");
    lua_setfield(L, -2, "__name");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &array_mt_key);
}

/* ---- numbers ---------------------------------------------------------------
 *
 * A JSON number becomes a Lua integer or float when that keeps its value
 * exactly (the float written back by json_format_double means the same
 * number); any other (a 70-digit size, 1e400, an integer past 2^63) becomes
 * a json.number: a userdata holding the text, written back as it came, that
 * converts itself to a float only when a script does arithmetic or compares
 * with it. */

static const char NUMBER_MT[] = "luagate.json.number";

/* The decimal value of the JSON number s[0..n) as sign, significant digits
 * (no leading or trailing zeros) and the power of ten of the first one. */
struct decimal {
    int neg;
    long exp;
    size_t nd;
    char d[32];   /* the first digits; more than fit means "not a double" */
    int overflow; /* more significant digits than d holds */
};

static void decimal_of(const char *s, size_t n, struct decimal *v)
{
    size_t i = 0;
    long point = 0, e = 0;
    int seen_point = 0;
    memset(v, 0, sizeof *v);
    if (i < n && s[i] == '-')
        v->neg = 1, i++;
    for (; i < n && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9')); i++) {
        if (s[i] == '.') {
            seen_point = 1;
            continue;
        }
        if (!seen_point)
            point++;
        if (s[i] == '0' && !v->nd) {
            point--; /* a leading zero moves the first digit down */
            continue;
        }
        if (v->nd < sizeof v->d)
            v->d[v->nd++] = s[i];
        else if (s[i] != '0')
            v->overflow = 1;
        else
            v->nd++; /* counted, trimmed below when trailing */
    }
    if (i < n && (s[i] | 0x20) == 'e') {
        int eneg = s[++i] == '-';
        if (s[i] == '+' || s[i] == '-')
            i++;
        for (; i < n && e < 100000; i++)
            e = e * 10 + (s[i] - '0');
        e = eneg ? -e : e;
    }
    if (v->nd > sizeof v->d)
        v->nd = sizeof v->d;
    while (v->nd && v->d[v->nd - 1] == '0')
        v->nd--;
    v->exp = v->nd ? point - 1 + e : 0;
    if (!v->nd)
        v->neg = 0; /* -0 and 0 are the same value */
}

static int same_decimal(const char *a, size_t an, const char *b, size_t bn)
{
    struct decimal x, y;
    decimal_of(a, an, &x);
    decimal_of(b, bn, &y);
    return !x.overflow && !y.overflow && x.neg == y.neg && x.exp == y.exp && x.nd == y.nd &&
           !memcmp(x.d, y.d, x.nd);
}

int json_format_double(double d, char *out, size_t cap)
{
    char e[40];
    int prec = 1;
    if (!isfinite(d) || cap < 32)
        return -1;
    /* the shortest digits that read back as d (Go's strconv 'g', -1) */
    for (; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, d);
        if (strtod(e, NULL) == d)
            break;
    }
    char digits[20];
    size_t nd = 0;
    const char *p = e + (*e == '-');
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    long x = strtol(p + 1, NULL, 10);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    char *o = out;
    if (signbit(d))
        *o++ = '-';
    double a = fabs(d);
    if (a != 0 && (a < 1e-6 || a >= 1e21)) {
        /* Go's 'e' form: d[.ddd]e±XX, then "e-07" cut to "e-7" */
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, nd - 1);
            o += nd - 1;
        }
        sprintf(o, "e%c%s%ld", x < 0 ? '-' : '+', labs(x) < 10 && x > 0 ? "0" : "", labs(x));
        return 0;
    }
    if (a == 0) {
        strcpy(o, "0");
        return 0;
    }
    if (x < 0) { /* 0.000ddd */
        *o++ = '0', *o++ = '.';
        for (long z = -1; z > x; z--)
            *o++ = '0';
        memcpy(o, digits, nd);
        o[nd] = 0;
        return 0;
    }
    for (long k = 0; k <= x || k < (long)nd; k++) {
        if (k == x + 1)
            *o++ = '.';
        *o++ = k < (long)nd ? digits[k] : '0';
    }
    *o = 0;
    return 0;
}

static const char *number_text(lua_State *L, int idx, size_t *n)
{
    lua_getiuservalue(L, idx, 1);
    const char *s = lua_tolstring(L, -1, n);
    lua_pop(L, 1); /* the userdata keeps the string alive */
    return s;
}

void json_push_number_text(lua_State *L, const char *s, size_t n)
{
    lua_newuserdatauv(L, 0, 1);
    lua_pushlstring(L, s, n);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, NUMBER_MT);
}

/* The Lua value of the number s[0..n): pushed as a number when that is
 * exact, else as a json.number. */
static void push_json_number(lua_State *L, const char *s, size_t n)
{
    char num[64], back[40];
    if (n < sizeof num) {
        memcpy(num, s, n);
        num[n] = 0;
        if (lua_stringtonumber(L, num)) {
            if (lua_isinteger(L, -1)) {
                if (*s == '-' && !lua_tointeger(L, -1)) { /* -0: Go keeps the sign, a float's */
                    lua_pop(L, 1);
                    lua_pushnumber(L, -0.0);
                }
                return;
            }
            if (!memchr(s, '.', n) && !memchr(s, 'e', n) && !memchr(s, 'E', n)) {
                lua_pop(L, 1); /* an integer past 64 bits that Lua made a float */
            } else if (!json_format_double(lua_tonumber(L, -1), back, sizeof back) &&
                       same_decimal(s, n, back, strlen(back))) {
                return;
            } else {
                lua_pop(L, 1);
            }
        }
    }
    json_push_number_text(L, s, n);
}

/* A json.number or plain operand of an arithmetic metamethod, as a number. */
static void arith_operand(lua_State *L, int idx)
{
    if (luaL_testudata(L, idx, NUMBER_MT)) {
        size_t n;
        const char *s = number_text(L, idx, &n);
        lua_pushnumber(L, strtod(s, NULL));
    } else {
        lua_pushvalue(L, idx);
    }
}

static int number_arith(lua_State *L, int op)
{
    arith_operand(L, 1);
    if (op != LUA_OPUNM)
        arith_operand(L, 2);
    else
        lua_pushvalue(L, -1);
    lua_arith(L, op);
    return 1;
}

static int n_add(lua_State *L) { return number_arith(L, LUA_OPADD); }
static int n_sub(lua_State *L) { return number_arith(L, LUA_OPSUB); }
static int n_mul(lua_State *L) { return number_arith(L, LUA_OPMUL); }
static int n_div(lua_State *L) { return number_arith(L, LUA_OPDIV); }
static int n_mod(lua_State *L) { return number_arith(L, LUA_OPMOD); }
static int n_pow(lua_State *L) { return number_arith(L, LUA_OPPOW); }
static int n_idiv(lua_State *L) { return number_arith(L, LUA_OPIDIV); }
static int n_unm(lua_State *L) { return number_arith(L, LUA_OPUNM); }

static int number_compare(lua_State *L, int op)
{
    arith_operand(L, 1);
    arith_operand(L, 2);
    lua_pushboolean(L, lua_compare(L, -2, -1, op));
    return 1;
}

static int n_eq(lua_State *L) { return number_compare(L, LUA_OPEQ); }
static int n_lt(lua_State *L) { return number_compare(L, LUA_OPLT); }
static int n_le(lua_State *L) { return number_compare(L, LUA_OPLE); }

static int n_tostring(lua_State *L)
{
    size_t n;
    const char *s = number_text(L, 1, &n);
    lua_pushlstring(L, s, n);
    return 1;
}

static int n_concat(lua_State *L)
{
    for (int i = 1; i <= 2; i++)
        if (luaL_testudata(L, i, NUMBER_MT)) {
            size_t n;
            const char *s = number_text(L, i, &n);
            lua_pushlstring(L, s, n);
            lua_replace(L, i);
        }
    lua_concat(L, 2);
    return 1;
}

static void number_mt(lua_State *L)
{
    static const luaL_Reg mm[] = {
        { "__add", n_add },   { "__sub", n_sub },           { "__mul", n_mul },
        { "__div", n_div },   { "__mod", n_mod },           { "__pow", n_pow },
        { "__idiv", n_idiv }, { "__unm", n_unm },           { "__eq", n_eq },
        { "__lt", n_lt },     { "__le", n_le },             { "__tostring", n_tostring },
        { "__tojson", n_tostring }, { "__concat", n_concat }, { NULL, NULL },
    };
    if (luaL_newmetatable(L, NUMBER_MT))
        luaL_setfuncs(L, mm, 0);
    lua_pop(L, 1);
}

/*** @section luagate.json
 * JSON as MinIO's Go code writes it.  `null` decodes to `json.null` and
 * encodes back to `null`; arrays decode to tables carrying `json.array_mt`
 * (so `[]` stays `[]`); a plain empty table encodes as `{}`; object keys are
 * written sorted bytewise; strings are escaped as Go's encoding/json does
 * (`<`, `>`, `&` as `\u003c` ...); floats are written as Go writes them.
 * A number no Lua integer or float holds exactly decodes to a json.number.
 * Work done counts against the script's instruction budget (decode one
 * instruction per byte, encode one per 4 bytes) and memory cap.  Values:
 * `json.null` (a light userdata), `json.array_mt` (the metatable of arrays).
 */

/*** @name luagate.json.number(text)
 * A number kept as its exact JSON text: it encodes back to that text and
 * becomes a float only for arithmetic and comparisons; `tostring(n)` gives
 * the text.
 * @param text a JSON number (`123456789012345678901234567890`, `1e400`)
 * @return a json.number
 * @raise "not a JSON number"
 */
static int l_number(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    jsmntok_t *tp = NULL;
    size_t cap = 0;
    struct jscan_error e;
    int ok = jscan(s, n, &tp, &cap, &e) == 1 && tp[0].type == JSMN_PRIMITIVE && tp[0].start == 0 &&
             (size_t)tp[0].end == n && strchr("-0123456789", *s);
    free(tp);
    if (!ok)
        return luaL_argerror(L, 1, "not a JSON number");
    number_mt(L);
    json_push_number_text(L, s, n);
    return 1;
}

static int push_tokens(lua_State *L, const char *s, const jsmntok_t *t, int i, struct buf *tmp)
{
    const jsmntok_t *v = &t[i];
    luaL_checkstack(L, 4, "JSON nested too deep");
    switch (v->type) {
    case JSMN_STRING:
        if (json_unescape(s + v->start, (size_t)(v->end - v->start), tmp))
            return -1;
        lua_pushlstring(L, tmp->p, tmp->len);
        return i + 1;
    case JSMN_PRIMITIVE:
        if (s[v->start] == 't' || s[v->start] == 'f')
            lua_pushboolean(L, s[v->start] == 't');
        else if (s[v->start] == 'n')
            json_push_null(L);
        else
            push_json_number(L, s + v->start, (size_t)(v->end - v->start));
        return i + 1;
    case JSMN_ARRAY: {
        lua_createtable(L, v->size, 0);
        int j = i + 1;
        for (int k = 0; k < v->size; k++) {
            if ((j = push_tokens(L, s, t, j, tmp)) < 0)
                return -1;
            lua_rawseti(L, -2, k + 1);
        }
        json_push_array_mt(L);
        lua_setmetatable(L, -2);
        return j;
    }
    case JSMN_OBJECT: {
        lua_createtable(L, 0, v->size);
        int j = i + 1;
        for (int k = 0; k < v->size; k++) {
            if ((j = push_tokens(L, s, t, j, tmp)) < 0 || (j = push_tokens(L, s, t, j, tmp)) < 0)
                return -1;
            lua_rawset(L, -3);
        }
        return j;
    }
    default:
        return -1;
    }
}

int json_decode_lua(lua_State *L, const char *text, size_t len)
{
    charge(L, len); /* may raise: nothing to free yet */
    number_mt(L);
    char err[160] = "malformed JSON: empty document";
    size_t bound = len > 4096 ? tokens_bound(text, len) : 0;
    if (bound > room(L) / (2 * sizeof(jsmntok_t))) {
        lua_pushnil(L);
        lua_pushfstring(L, "a JSON text of %I bytes needs more memory than script_memory has room for",
                        (lua_Integer)len);
        return 2;
    }
    int top = lua_gettop(L);
    struct jbox *x = jbox_new(L);
    size_t cap = 0;
    int n = json_tokenize(text, len, &x->toks, &cap, err, sizeof err);
    int ok = n > 0 && push_tokens(L, text, x->toks, 0, &x->a) > 0;
    free(x->toks);
    x->toks = NULL;
    buf_free(&x->a);
    if (!ok) {
        lua_settop(L, top); /* the box, and what a failed push_tokens left */
        lua_pushnil(L);
        lua_pushstring(L, n > 0 ? "invalid string escape in JSON" : err);
        return 2;
    }
    lua_remove(L, top + 1);
    return 1;
}

static int encode(lua_State *L, int idx, struct buf *out, int depth, char *err, size_t errlen);

/* Is the table at idx an array: the array metatable, or keys 1..n only? */
static int table_is_array(lua_State *L, int idx, lua_Integer *n)
{
    *n = (lua_Integer)lua_rawlen(L, idx);
    if (lua_getmetatable(L, idx)) {
        json_push_array_mt(L);
        int marked = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
        if (marked)
            return 1;
    }
    if (*n == 0)
        return 0;
    lua_Integer count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
        count++;
    }
    return count == *n;
}

struct okey {
    char *name;       /* the key as JSON writes it (may hold NULs) */
    size_t len;
    int is_num;       /* a number key, fetched with rawget of nkey */
    lua_Number nkey;
    int is_int;
    lua_Integer ikey;
};

/* Go sorts map keys as byte strings: a NUL is a byte like any other. */
static int key_cmp(const void *a, const void *b)
{
    const struct okey *x = a, *y = b;
    int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Collect the keys of the table at idx; -1 on a key JSON cannot hold. */
static int collect_keys(lua_State *L, int idx, struct okey **out, size_t *n, char *err, size_t errlen)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        int kt = lua_type(L, -1);
        if (kt != LUA_TSTRING && kt != LUA_TNUMBER) {
            snprintf(err, errlen, "cannot encode a table key of type %s", lua_typename(L, kt));
            lua_pop(L, 1);
            return -1;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            struct okey *k = realloc(*out, cap * sizeof *k);
            if (!k) {
                lua_pop(L, 1);
                return -1;
            }
            *out = k;
        }
        struct okey *k = &(*out)[*n];
        k->is_num = kt == LUA_TNUMBER;
        k->is_int = lua_isinteger(L, -1);
        k->ikey = k->is_int ? lua_tointeger(L, -1) : 0;
        k->nkey = k->is_num ? lua_tonumber(L, -1) : 0;
        lua_pushvalue(L, -1); /* tostring on a copy: lua_next needs the original */
        const char *ks = lua_tolstring(L, -1, &k->len);
        if ((k->name = malloc(k->len + 1)))
            memcpy(k->name, ks, k->len + 1);
        lua_pop(L, 1);
        if (!k->name) {
            lua_pop(L, 1);
            return -1;
        }
        (*n)++;
    }
    return 0;
}

static int encode_object(lua_State *L, int idx, struct buf *out, int depth, char *err, size_t errlen)
{
    struct okey *keys;
    size_t n;
    int rc = collect_keys(L, idx, &keys, &n, err, errlen);
    if (!rc) {
        if (n)
            qsort(keys, n, sizeof *keys, key_cmp);
        rc = buf_put(out, "{", 1);
        for (size_t i = 0; i < n && !rc; i++) {
            if (i)
                rc |= buf_put(out, ",", 1);
            rc |= json_quote(out, keys[i].name, keys[i].len) | buf_put(out, ":", 1);
            if (keys[i].is_int)
                lua_rawgeti(L, idx, keys[i].ikey);
            else if (keys[i].is_num) {
                lua_pushnumber(L, keys[i].nkey);
                lua_rawget(L, idx);
            } else {
                lua_pushlstring(L, keys[i].name, keys[i].len);
                lua_gettable(L, idx);
            }
            rc = rc || encode(L, lua_gettop(L), out, depth + 1, err, errlen);
            lua_pop(L, 1);
        }
        rc = rc || buf_put(out, "}", 1);
    }
    for (size_t i = 0; i < n; i++)
        free(keys[i].name);
    free(keys);
    return rc ? -1 : 0;
}

static int encode(lua_State *L, int idx, struct buf *out, int depth, char *err, size_t errlen)
{
    if (out->len > enc_limit) {
        snprintf(err, errlen, "cannot encode: the JSON text is larger than script_memory has room for");
        return -1;
    }
    if (depth > MAX_DEPTH) {
        snprintf(err, errlen, "cannot encode: nested deeper than %d (a cycle?)", MAX_DEPTH);
        return -1;
    }
    if (!lua_checkstack(L, 8)) {
        snprintf(err, errlen, "cannot encode: out of Lua stack");
        return -1;
    }
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return buf_puts(out, "null");
    case LUA_TLIGHTUSERDATA:
        if (!lua_touserdata(L, idx))
            return buf_puts(out, "null");
        break;
    case LUA_TBOOLEAN:
        return buf_puts(out, lua_toboolean(L, idx) ? "true" : "false");
    case LUA_TNUMBER: {
        char num[64];
        if (lua_isinteger(L, idx))
            snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, idx));
        else {
            double d = lua_tonumber(L, idx);
            if (json_format_double(d, num, sizeof num)) {
                snprintf(err, errlen, "cannot encode %g as JSON", d);
                return -1;
            }
        }
        return buf_puts(out, num);
    }
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        return json_quote(out, s, n);
    }
    case LUA_TTABLE: {
        lua_Integer n;
        if (!table_is_array(L, idx, &n))
            return encode_object(L, idx, out, depth, err, errlen);
        if (buf_put(out, "[", 1))
            return -1;
        for (lua_Integer i = 1; i <= n; i++) {
            if (i > 1 && buf_put(out, ",", 1))
                return -1;
            lua_rawgeti(L, idx, i);
            int rc = encode(L, lua_gettop(L), out, depth + 1, err, errlen);
            lua_pop(L, 1);
            if (rc)
                return -1;
        }
        return buf_put(out, "]", 1);
    }
    case LUA_TUSERDATA:
        /* objects that know their JSON (events) carry __tojson */
        if (luaL_getmetafield(L, idx, "__tojson") != LUA_TNIL) {
            lua_pushvalue(L, idx);
            if (lua_pcall(L, 1, 1, 0) != LUA_OK) { /* the caller frees out: no longjmp past it */
                snprintf(err, errlen, "__tojson: %s",
                         lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error");
                lua_pop(L, 1);
                return -1;
            }
            size_t n;
            const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
            int rc = s ? buf_put(out, s, n) : -1;
            lua_pop(L, 1);
            if (!s)
                snprintf(err, errlen, "__tojson did not return a string");
            return rc;
        }
        break;
    default:
        break;
    }
    snprintf(err, errlen, "cannot encode a %s as JSON", luaL_typename(L, idx));
    return -1;
}

int json_encode_lua(lua_State *L, int idx, struct buf *out, char *err, size_t errlen)
{
    idx = lua_absindex(L, idx);
    out->len = 0;
    snprintf(err, errlen, "out of memory");
    if (buf_put(out, "", 0))
        return -1;
    size_t saved = enc_limit;
    enc_limit = room(L);
    int rc = encode(L, idx, out, 0, err, errlen);
    enc_limit = saved;
    return rc;
}

/*** @name luagate.json.encode(value)
 * JSON text of a Lua value: a table with only the keys 1..n (or carrying
 * json.array_mt) is an array, any other table an object with its keys
 * sorted; an event (or any table with `__tojson`) is written as its text.
 * @param value nil, a boolean, a number, a string (UTF-8), a table,
 * json.null, a json.number or an event
 * @return a string
 * @raise "json.encode: ..." naming the problem: a value with no JSON form (a
 * function, a coroutine ...), a table key that is not a string or a number,
 * NaN or infinity, nesting too deep (a cycle?), a text larger than
 * `script_memory` has room for; or the instruction budget
 */
static int l_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    struct jbox *x = jbox_new(L); /* frees the text if encoding raises */
    char err[160];
    if (json_encode_lua(L, 1, &x->a, err, sizeof err)) {
        buf_free(&x->a);
        return luaL_error(L, "json.encode: %s", err);
    }
    charge(L, x->a.len / 4);
    lua_pushlstring(L, x->a.p, x->a.len);
    buf_free(&x->a);
    return 1;
}

/*** @name luagate.json.decode(text)
 * The Lua value of a JSON text.
 * @param text a string
 * @return the value; or nil and a message for malformed JSON or a string that
 * is not UTF-8 (naming the byte), or a text too large for `script_memory`
 * @raise when text is not a string, or past the instruction budget
 */
static int l_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    return json_decode_lua(L, s, n);
}

/*** @name luagate.json.array(t)
 * Mark a table as a JSON array (json.array_mt), so that an empty one
 * encodes as `[]`.
 * @param t a table, or nil for a new one
 * @return t
 * @raise when t is neither a table nor nil
 */
static int l_array(lua_State *L)
{
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    else
        luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    json_push_array_mt(L);
    lua_setmetatable(L, 1);
    return 1;
}

/*** @name luagate.json.quote(s)
 * A string as a JSON string literal, quotes included, escaped as Go does.
 * @param s a string
 * @return a string
 * @raise when s is not a string
 */
static int l_quote(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    struct buf out = { 0 };
    if (json_quote(&out, s, n))
        return luaL_error(L, "out of memory");
    lua_pushlstring(L, out.p, out.len);
    buf_free(&out);
    return 1;
}

int luaopen_luagate_json(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "encode", l_encode }, { "decode", l_decode }, { "array", l_array },
        { "quote", l_quote },   { "number", l_number }, { NULL, NULL },
    };
    luaL_newlib(L, fns);
    json_push_null(L);
    lua_setfield(L, -2, "null");
    json_push_array_mt(L);
    lua_setfield(L, -2, "array_mt");
    return 1;
}
